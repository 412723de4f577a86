"""The shared store: Redis, for several engines on several hosts, and the delivery of stubs to departments.

Keys (all under `ivr:`): `ticket:ID` (a hash: the stub as JSON, its revision and outcome), `uniqueid:CALL`
(the id of a call's stub; CALL is the call key of ivr.hosts, a local call's bare uniqueid), indexes by day, line
and outcome (sorted sets scored by the time of receipt in microseconds: `day:YYYYMMDD`, with the set `days`;
`line:NUMBER`; `outcome:OUTCOME`, the engine's own outcome), the monitor's facts about each call (`events:CALL`, a
hash: fact key -> JSON), the monitors' live queue boards (`boards`, a hash: monitor name -> JSON), and streams:
`stream:all` and one per data link (`stream:12348-system`, ...), each entry `event` (created or updated), `id`, `line`,
`revision` and `stub`. Each stream gets a consumer group named after its data link (`all` for `stream:all`)
when it is created, starting at its first entry, so a department system that connects late still receives every
stub, once, with XREADGROUP and XACK. Streams keep about the last STREAM_LENGTH entries.

One stub is written by one Lua script, atomically: a replay or a retry never doubles it, and two engines never
interleave half-written stubs. The script builds its keys itself, so this is for one Redis primary, not Redis
Cluster. Through Sentinel (`redis+sentinel://`), every new connection asks the sentinels which server is the
primary now: after a failover the first command fails on the old connection (the store is unavailable, the engine
spools), and the next connection goes to the new primary.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry
from redis.sentinel import Sentinel

from ivr.tickets.completion import CallEvent, completed
from ivr.tickets.redisoutbox import RedisOutbox
from ivr.tickets.redisurl import RedisAddress
from ivr.tickets.store import Query, StoreUnavailable, micros
from ivr.tickets.stub import Stub

PREFIX = "ivr:"
STREAM_LENGTH = 1_000_000
# The call waits (ringing) for its stub: a server that does not answer sends it to the spool well within the
# session's STORE_SECONDS. A broken connection (Redis restarted) is retried once at once, on a new connection;
# a timeout is not retried. Every write is idempotent, so a retry never doubles one.
CONNECT_SECONDS = 1.0
COMMAND_SECONDS = 2.0
T = TypeVar("T")

# ARGV: prefix, id, call key, revision, score, day, line, outcome, data link, stub JSON, stream length.
# Returns {status, id}: created, updated, kept (an older or equal revision), moved (the call has another id:
# write again under it), taken (the id is another call's: nothing written).
PUT = """
local p, id, uid, rev, score = ARGV[1], ARGV[2], ARGV[3], tonumber(ARGV[4]), ARGV[5]
local day, line, outcome, link, stub, length = ARGV[6], ARGV[7], ARGV[8], ARGV[9], ARGV[10], ARGV[11]
local event = 'created'
local known = redis.call('GET', p .. 'uniqueid:' .. uid)
if known then
  if known ~= id then
    local old = tonumber(redis.call('HGET', p .. 'ticket:' .. known, 'revision'))
    return {old < rev and 'moved' or 'kept', known}
  end
  local old = redis.call('HMGET', p .. 'ticket:' .. id, 'revision', 'outcome')
  if tonumber(old[1]) >= rev then return {'kept', id} end
  redis.call('ZREM', p .. 'outcome:' .. old[2], id)
  event = 'updated'
elseif redis.call('EXISTS', p .. 'ticket:' .. id) == 1 then
  return {'taken', id}
end
redis.call('SET', p .. 'uniqueid:' .. uid, id)
redis.call('HSET', p .. 'ticket:' .. id, 'stub', stub, 'revision', rev, 'outcome', outcome)
redis.call('ZADD', p .. 'day:' .. day, score, id)
redis.call('SADD', p .. 'days', day)
redis.call('ZADD', p .. 'line:' .. line, score, id)
redis.call('ZADD', p .. 'outcome:' .. outcome, score, id)
local streams = {{p .. 'stream:all', 'all'}}
if link ~= '' then streams[2] = {p .. 'stream:' .. link, link} end
for _, stream in ipairs(streams) do
  if redis.call('EXISTS', stream[1]) == 0 then
    redis.call('XGROUP', 'CREATE', stream[1], stream[2], '0', 'MKSTREAM')
  end
  redis.call('XADD', stream[1], 'MAXLEN', '~', length, '*',
    'event', event, 'id', id, 'line', line, 'revision', rev, 'stub', stub)
end
return {event, id}
"""


def stream_key(link: str) -> str:
    """The stream of one data link's stubs (or of all, for `all`); its consumer group is named `link`."""
    return f"{PREFIX}stream:{link}"


class RedisStore:
    def __init__(self, address: RedisAddress, password: str | None, sentinel_password: str | None = None) -> None:
        """`password`: the Redis servers'; `sentinel_password`: the sentinels' own, when they require one."""
        self.name = address.name
        settings: dict[str, Any] = {
            "password": password,
            "db": address.db,
            "decode_responses": True,
            "socket_connect_timeout": CONNECT_SECONDS,
            "socket_timeout": COMMAND_SECONDS,
            "retry": Retry(NoBackoff(), 1, supported_errors=(redis.ConnectionError,)),
        }
        if address.service:
            sentinels = Sentinel(
                list(address.hosts),
                sentinel_kwargs={
                    "password": sentinel_password,
                    "socket_connect_timeout": CONNECT_SECONDS,
                    "socket_timeout": CONNECT_SECONDS,
                },
            )
            self.client = sentinels.master_for(address.service, **settings)
        else:
            (host, port), *_ = address.hosts
            self.client = redis.Redis(host=host, port=port, **settings)
        self._put_script = self.client.register_script(PUT)

    def put(self, stubs: Sequence[Stub]) -> list[str | None]:
        results = self._run(stubs)
        for i, (status, stored) in enumerate(results):
            if status == "moved":  # rare: a second session of the same call, numbered anew
                results[i] = self._run([stubs[i].evolve(id=stored)])[0]
        return [None if status == "taken" else stored for status, stored in results]

    def get(self, ticket_id: str) -> Stub | None:
        found = self._call(lambda: self.client.hget(f"{PREFIX}ticket:{ticket_id}", "stub"))
        return self._completed([found])[0] if found else None

    def find(self, query: Query) -> list[Stub]:
        low = micros(query.since) if query.since else "-inf"
        high = f"({micros(query.until)}" if query.until else "+inf"
        if query.line is not None:
            indexes = [f"{PREFIX}line:{query.line}"]
        else:
            days = self._call(lambda: self.client.smembers(f"{PREFIX}days"))
            indexes = [f"{PREFIX}day:{day}" for day in sorted(days)]

        def read() -> list[str]:
            pipe = self.client.pipeline(transaction=False)
            for index in indexes:
                pipe.zrangebyscore(index, low, high)
            ids = [ticket for found in pipe.execute() for ticket in found]
            for ticket in ids:
                pipe.hget(f"{PREFIX}ticket:{ticket}", "stub")
            return [text for text in pipe.execute() if text]

        stubs = self._completed(self._call(read))
        return sorted((s for s in stubs if query.matches(s)), key=lambda s: (s.received, s.id))

    def add_events(self, events: Sequence[CallEvent]) -> None:
        def add() -> None:
            pipe = self.client.pipeline(transaction=False)
            for event in events:
                pipe.hsetnx(f"{PREFIX}events:{event.call}", event.key, json.dumps(event.as_json()))
            pipe.execute()

        self._call(add)

    def put_board(self, name: str, board: dict[str, Any]) -> None:
        self._call(lambda: self.client.hset(f"{PREFIX}boards", name, json.dumps(board, ensure_ascii=False)))

    def boards(self) -> dict[str, dict[str, Any]]:
        found = self._call(lambda: self.client.hgetall(f"{PREFIX}boards"))
        return {name: json.loads(text) for name, text in found.items()}

    def check_writable(self) -> None:
        self._call(lambda: self.client.hdel(f"{PREFIX}boards", "\0"))  # no monitor has this name

    def tidy(self) -> None:
        """Nothing: Redis keeps its own house (its persistence runs in its own process)."""

    def deliveries(self) -> RedisOutbox:
        return RedisOutbox(self.client, PREFIX, self._call)

    def close(self) -> None:
        self.client.close()

    def _run(self, stubs: Sequence[Stub]) -> list[tuple[str, str]]:
        def run() -> list[tuple[str, str]]:
            if len(stubs) == 1:  # the opening stub: one round trip (a pipeline first asks if the script is loaded)
                replies = [self._put_script(args=self._arguments(stubs[0]))]
            else:
                pipe = self.client.pipeline(transaction=False)
                for stub in stubs:
                    self._put_script(args=self._arguments(stub), client=pipe)
                replies = pipe.execute()
            return [(str(status), str(stored)) for status, stored in replies]

        return self._call(run)

    def _arguments(self, stub: Stub) -> list[str | int]:
        text = json.dumps(stub.as_json(), ensure_ascii=False)
        return [
            PREFIX,
            stub.id,
            stub.call,
            stub.revision,
            micros(stub.received),
            stub.day,
            stub.line,
            stub.outcome.value,
            stub.data_link,
            text,
            STREAM_LENGTH,
        ]

    def _completed(self, texts: list[str]) -> list[Stub]:
        """Stubs with their calls' stored events applied (one round trip for all)."""
        stubs = [Stub.from_json(json.loads(text)) for text in texts]

        def read() -> list[dict[str, str]]:
            pipe = self.client.pipeline(transaction=False)
            for stub in stubs:
                pipe.hgetall(f"{PREFIX}events:{stub.call}")
            return list(pipe.execute())

        found = self._call(read) if stubs else []
        return [
            completed(stub, [CallEvent.from_json(json.loads(text)) for text in events.values()])
            for stub, events in zip(stubs, found, strict=True)
        ]

    def _call(self, operation: Callable[[], T]) -> T:
        try:
            return operation()
        except redis.RedisError as exc:
            raise StoreUnavailable(f"{self.name}: {exc}") from None
