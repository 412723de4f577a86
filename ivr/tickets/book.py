"""Where the engine's stubs go: numbered, then into the store, else into the local spool; the spool is replayed
into the store, in order, when the store is back. Blocking, thread-safe: the engine calls it from threads.

The durability point: `record()` returns an id only once the stub is committed to the store or fsynced to the
spool; only then does the engine set TICKET_ID on the channel and route on. When neither can take it (the
spool's disk refuses too), the call is still routed, without TICKET_ID, and an ALARM is logged: a caller never
waits in silence for a ticket. The stub written at the end of the call carries everything again, so it still
lands if the store or the disk is back by then.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping, Sequence
from contextlib import suppress
from pathlib import Path

from ivr.tickets.ids import Counter
from ivr.tickets.open import open_store
from ivr.tickets.spool import Spool
from ivr.tickets.store import StoreUnavailable, TicketStore
from ivr.tickets.stub import Stub

log = logging.getLogger("ivr.tickets")
ID_ATTEMPTS = 3  # an id taken by another call means two engines share an engine id: renumber, and say so
REPLAY_BATCH = 500


class TicketBook:
    @classmethod
    def open(
        cls, store_url: str, spool_folder: Path, engine: str, environ: Mapping[str, str] | None = None
    ) -> TicketBook:
        """ValueError for a bad URL or engine id; SpoolBusy when another engine holds the folder."""
        store = open_store(store_url, environ)
        counter = Counter(spool_folder, engine)
        return cls(store, Spool(spool_folder), counter)

    def __init__(self, store: TicketStore, spool: Spool, counter: Counter) -> None:
        self.store = store
        self.spool = spool
        self.counter = counter
        self._replaying = threading.Lock()
        self._down = threading.Event()  # the store failed and the spool has stubs for it: said once per outage

    def record(self, stubs: Sequence[Stub]) -> list[str | None]:
        """Make stubs durable, numbering those without an id. For each, the id its call has now (an earlier stub
        of the same call keeps its id), or None when it could not be written anywhere."""
        if stubs and all(stub.id for stub in stubs):  # closing stubs: no call waits for them
            self._upkeep(stubs[-1])
        ids: list[str | None] = [None] * len(stubs)
        todo = [(i, stub) for i, stub in enumerate(stubs)]
        for attempt in range(ID_ATTEMPTS):
            numbered = []
            for i, stub in todo:
                try:
                    numbered.append((i, self._numbered(stub, renumber=attempt > 0)))
                except OSError as exc:
                    log.error(
                        "ALARM ticket counter %s: %s: call %s goes on without a ticket",
                        self.counter.path,
                        exc,
                        stub.uniqueid,
                    )
            written = self._write([stub for _, stub in numbered])
            if written is None:
                return ids
            todo = []
            for (i, stub), stored in zip(numbered, written, strict=True):
                ids[i] = stored
                if stored is None:
                    self._id_taken(stub)
                    todo.append((i, stub))
            if not todo:
                break
        return ids

    def _upkeep(self, stub: Stub) -> None:
        """What no call waits for, done with the closing stubs (which no call waits for either) so that it does
        not fall on a new call's opening stub: the counter's next block, the store's upkeep. A failure here is met
        again where it matters, and said there."""
        with suppress(OSError):
            self.counter.reserve_ahead(stub.received.date())
        with suppress(StoreUnavailable):
            self.store.tidy()

    def replay(self) -> int:
        """Move the spool's stubs into the store, in order; how many moved. Stops at the first failure."""
        moved = 0
        with self._replaying:
            while self.spool.pending:
                stubs, end = self.spool.read(REPLAY_BATCH)
                try:
                    written = self.store.put(stubs)
                    for stub, stored in zip(stubs, written, strict=True):
                        if stored is None:
                            self._renumber_replayed(stub)
                except StoreUnavailable:
                    return moved
                self.spool.replayed(end)
                moved += len(stubs)
        if moved:
            self._down.clear()
            log.warning("ticket store %s is back: %d stubs replayed from the spool", self.store.name, moved)
        return moved

    def close(self) -> None:
        self.store.close()
        self.spool.close()

    def _numbered(self, stub: Stub, renumber: bool) -> Stub:
        if stub.id and not renumber:
            return stub
        return stub.evolve(id=self.counter.next_id(stub.received.date()))

    def _write(self, stubs: list[Stub]) -> list[str | None] | None:
        """Into the store while the spool is empty, else (or when the store fails) into the spool; None when
        neither could take them."""
        if not stubs:
            return []
        if not self.spool.pending:
            try:
                written = self.store.put(stubs)
            except StoreUnavailable as exc:
                if not self._down.is_set():
                    self._down.set()
                    log.error(
                        "ALARM ticket store unavailable: %s: stubs go to the spool %s until it is back",
                        exc,
                        self.spool.path,
                    )
            else:
                if self._down.is_set():
                    self._down.clear()
                    log.warning("ticket store %s is back", self.store.name)
                return written
        try:
            self.spool.append(stubs)
        except OSError as exc:
            log.error(
                "ALARM ticket spool %s: %s: %d stub(s) not written; calls go on without a ticket id",
                self.spool.path,
                exc,
                len(stubs),
            )
            return None
        return [stub.id for stub in stubs]

    def _renumber_replayed(self, stub: Stub) -> None:
        """A spooled stub whose id another call took in the store meanwhile: it gets a new one."""
        self._id_taken(stub)
        self.store.put([self._numbered(stub, renumber=True)])

    def _id_taken(self, stub: Stub) -> None:
        log.error(
            "ALARM ticket id %s belongs to another call: is engine id %s used by two engines?",
            stub.id,
            self.counter.engine,
        )
