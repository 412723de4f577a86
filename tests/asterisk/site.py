"""One site for a test module: the rules an admin of this site would write (the shipped file, with the seats and
the carrier reached over Local channels instead of PJSIP, which this Asterisk is built without), `ivr dialplan
build --engine` pointing at the test's engine port, `ivr serve` on that port with a SQLite store, and a real
Asterisk running the generated files. Calls are placed and judged through the switch's own AMI."""

from __future__ import annotations

import itertools
import json
import re
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ivr.ami.protocol import Message
from ivr.rules.loader import load_rules
from tests.ami.monitor import start_monitor
from tests.asterisk.ami import Ami
from tests.asterisk.switch import MONITOR, Switch
from tests.asterisk.world import world
from tests.conftest import ROOT, SHIPPED_RULES
from tests.serve.engine import Engine, restart_engine
from tests.tickets.redisserver import free_port

CALLER = "13800138000"
_calls = itertools.count(1)


def site_rules(text: str) -> str:
    """The shipped rules as this site's admin writes them: the same routing, endpoints that exist here."""
    return re.sub(r"\bPJSIP/", "Local/", text)


@dataclass
class Call:
    """A citizen's call: `citizen` is the phone (Local ;1), `inbound` the call the engine and dialplan handle (;2)."""

    number: str
    citizen: str
    inbound: str
    heard: Path | None
    since: int
    originate: str  # the Originate's ActionID: its OriginateResponse says whether Asterisk placed the call


@dataclass
class Site:
    folder: Path
    prefix: Path
    edit: Any = None  # rules text -> rules text: a site's own variant (transition dates, seat hours)
    deployed: bool = True  # False: an Asterisk with the admin's own files only, for `ivr deploy`
    engine_port: int = field(default_factory=free_port)
    engine: Engine | None = None
    switch: Switch | None = None
    monitor: Engine | None = None  # `ivr monitor`, when a module starts it (start_monitor)
    shared_store: str = ""  # a store several sites share (a Redis URL), else the site's own SQLite file
    # Ports of more engines the dialplan tries after the site's own, in order (engine.agi_url as a list); the test
    # runs them itself.
    backups: tuple[int, ...] = ()

    @property
    def rules(self) -> Path:
        return self.folder / "routing_rules.yaml"

    @property
    def store(self) -> str:
        return self.shared_store or f"sqlite:///{self.folder / 'tickets.db'}"

    @property
    def ami(self) -> Ami:
        assert self.switch is not None and self.switch.ami is not None, "Asterisk is not running"
        return self.switch.ami

    def build(self) -> None:
        text = site_rules(SHIPPED_RULES.read_text(encoding="utf-8"))
        if self.edit is not None:
            text = self.edit(text)
        self.rules.write_text(text, encoding="utf-8")
        (self.folder / "recordings").mkdir(exist_ok=True)
        (self.folder / "recordings" / "prompts.yaml").write_bytes((ROOT / "recordings" / "prompts.yaml").read_bytes())
        generated = self.folder / "generated"
        self.ivr(
            "dialplan",
            "build",
            "--rules",
            str(self.rules),
            "--out",
            str(generated),
            *(
                option
                for port in (self.engine_port, *self.backups)
                for option in ("--engine", f"agi://127.0.0.1:{port}")
            ),
        )
        rules = load_rules(self.rules)
        contexts = [seat.dial.split("@", 1)[1] for seat in rules.seats.values()]
        self.switch = Switch(
            self.prefix, generated, ROOT / "recordings" / "zh", world(contexts), deployed=self.deployed
        )
        self.switch.configure()

    def start(self) -> None:
        self.start_engine()
        assert self.switch is not None
        self.switch.start()

    def start_engine(self, *extra: str) -> Engine:
        """(Re)start the engine on the same port, store and spool; `extra`: more `ivr serve` options, e.g. `--allow`
        for an engine that refuses Asterisk."""
        self.engine = restart_engine(
            self.folder,
            self.engine_port,
            "--store",
            self.store,
            "--spool",
            str(self.folder / "spool"),
            "--drain-seconds",
            "2",
            *extra,
            rules=self.rules,
        )
        return self.engine

    def start_monitor(self, *extra: str) -> Engine:
        """`ivr monitor` as an admin sets it up: the generated AMI user, its secret from a file only it reads (the
        same secret the switch's ivr-ami-secret.conf holds), the site's rules and store, the switch's queue_log;
        `extra`: more `ivr monitor` options."""
        assert self.switch is not None
        secret = self.folder / "ami-secret"
        secret.write_text(self.switch.monitor_secret + "\n", encoding="utf-8")
        secret.chmod(0o600)
        login = {
            "IVR_AMI_USER": MONITOR,
            "IVR_AMI_SECRET_FILE": str(secret),
            "IVR_QUEUE_LOG": str(self.switch.folder / "log" / "queue_log"),  # on the Asterisk host, as by default
        }
        self.monitor = start_monitor(self.folder, self.switch.ami_port, self.store, "", self.rules, login, extra)
        return self.monitor

    def stop(self) -> None:
        if self.monitor is not None:
            self.monitor.stop()
        if self.switch is not None:
            self.switch.stop()
        if self.engine is not None:
            self.engine.stop()

    def ivr(self, *args: str) -> str:
        result = subprocess.run(
            [sys.executable, "-m", "ivr.cli.main", *args], capture_output=True, text=True, cwd=self.folder, timeout=60
        )
        if result.returncode != 0:
            raise AssertionError(f"ivr {' '.join(args)} exited {result.returncode}: {result.stdout}{result.stderr}")
        return result.stdout

    # The world: globals the world's phones read (world.py).
    def world(self, name: str, value: str) -> None:
        response = self.ami.action("Setvar", Variable=name, Value=value)
        assert response.response == "Success", response

    def agent(self, queue: str, agent: str, does: str, paused: bool = False) -> str:
        """An agent logs in to a queue as a dynamic member (QueueAdd, as a phone's login key does)."""
        self.world(f"AGENT_{agent}", does)
        interface = f"Local/{agent}@agents/n"
        response = self.ami.action(
            "QueueAdd", Queue=queue, Interface=interface, MemberName=f"agent {agent}", Paused=str(paused).lower()
        )
        assert response.response == "Success", response
        return interface

    def pick_up(self, called: Message, seconds: int = 2) -> None:
        """The agent whose phone rings (an `AgentCalled`) answers now and hangs up `seconds` later: the ringing
        phone (the ;2 half of its Local channel, in [agent-ring]) is sent to [agent-answer]. No timing: the answer
        comes when the test says so."""
        phone = (called.get("DestChannel") or "").removesuffix(";1") + ";2"
        assert self.ami.action("Setvar", Channel=phone, Variable="DO", Value=f"answer:{seconds}").response == "Success"
        redirect = self.ami.action("Redirect", Channel=phone, Context="agent-answer", Exten="s", Priority="1")
        assert redirect.response == "Success", redirect

    def logoff(self, queue: str, interface: str) -> None:
        response = self.ami.action("QueueRemove", Queue=queue, Interface=interface)
        assert response.response == "Success", response

    def call(
        self,
        number: str,
        hold: int = 60,
        heard: bool = False,
        caller: str = CALLER,
        context: str = "ivr-inbound",
        n: int | None = None,
    ) -> Call:
        """A citizen dials `number` from `caller`; the citizen hangs up `hold` s after the call is answered.
        `context`: the inbound context the carrier delivers to (`ivr-inbound-TRUNK` for a trunk of the rules).
        `n`: the number in the call's channel ids (default: the next of the run): two switches given the same one
        hand out the same uniqueids, as two fresh Asterisk servers do."""
        # Fixed width: Asterisk finds a channel by uniqueid *prefix* (channelstorage_ao2_legacy.c, by_uniqueid_cb),
        # so an Originate asking for citizen-1 while citizen-13 is up is refused as a duplicate id.
        n = next(_calls) if n is None else n
        citizen, inbound = f"citizen-{n:05d}", f"inbound-{n:05d}"
        assert self.switch is not None
        recording = self.switch.spy / f"{citizen}.wav" if heard else None
        since = self.ami.mark()
        variables = [f"CITIZEN_HOLD={hold}"] + ([f"CITIZEN_HEARD={recording}"] if recording else [])
        response = self.ami.action(
            "Originate",
            Channel=f"Local/{number}@{context}",
            Context="citizen",
            Exten="s",
            Priority="1",
            CallerID=f'"{caller}" <{caller}>',
            Timeout="60000",
            Async="true",
            ChannelId=citizen,
            OtherChannelId=inbound,
            Variable=",".join(variables),
        )
        assert response.response == "Success", response
        return Call(number, citizen, inbound, recording, since, response.action_id or "")

    def hung_up(self, call: Call, timeout: float = 120) -> Message:
        """Both halves of the call have hung up (the Hangup of the inbound half). A call Asterisk could not place
        fails at once with its OriginateResponse, not after `timeout`."""
        self.ami.wait_hangup(call.citizen, timeout, call.since, call.originate)
        return self.ami.wait_event("Hangup", timeout, call.since, Uniqueid=call.inbound)

    def recording(self, call: Call, timeout: float = 120) -> Path:
        """The file of what the citizen heard, once Asterisk has closed it: the MixMonitorStop of the citizen's
        half, which StopMixMonitor (world.py's hangup handler) raises after closing the file. MixMonitor's own
        thread would close it some time after the Hangup (apps/app_mixmonitor.c)."""
        assert call.heard is not None, f"{call.citizen} was placed without heard=True"
        self.ami.wait_event("MixMonitorStop", timeout, call.since, Uniqueid=call.citizen)
        return call.heard

    def hang_up(self, call: Call) -> None:
        """The citizen puts the phone down now, at a moment an AMI event chose (not after CITIZEN_HOLD): an AMI
        Hangup of the citizen's half with cause 16 (normal clearing), as a phone's hang-up arrives."""
        channel = self.ami.wait_event("Newchannel", 10, call.since, Uniqueid=call.citizen).get("Channel") or ""
        response = self.ami.action("Hangup", Channel=channel, Cause="16")
        assert response.response == "Success", response

    def events(self, call: Call, event: str, **fields: str) -> list[Message]:
        """Every event of this call (all channels Asterisk linked to it: agents, seats, transfers)."""
        return [m for m in self.ami.select(event, call.since, **fields) if m.get("Linkedid") == call.citizen]

    # What the project says.
    def callbacks(self) -> list[dict[str, Any]]:
        """`ivr callbacks list --json`: the call-back list a lead reads."""
        return json.loads(self.ivr("callbacks", "list", "--json", "--store", self.store, "--rules", str(self.rules)))

    def ticket_of(self, call: Call, timeout: float = 20) -> dict[str, Any]:
        """The stub for this call as `ivr tickets show --json` reads it, once the engine has closed it."""
        deadline = time.monotonic() + timeout
        while True:
            listed = json.loads(self.ivr("tickets", "list", "--json", "--store", self.store, "--unmask"))
            found = [s for s in listed if s["uniqueid"] == call.inbound]
            if found and found[0]["outcome"] != "in-progress":
                shown = json.loads(self.ivr("tickets", "show", found[0]["id"], "--json", "--store", self.store))
                assert len(found) == 1, f"{len(found)} stubs for one call"
                return shown
            if time.monotonic() > deadline:
                raise AssertionError(f"no closed stub for {call.inbound}: {found}")
            time.sleep(0.2)

    def call_line(self, call: Call) -> dict[str, str]:
        """The engine's `call` log line for this call, as key=value pairs."""
        assert self.engine is not None
        for line in self.engine.log_text().splitlines():
            if " call " in line and f" uniqueid={call.inbound} " in line:  # the whole id, never a prefix
                return dict(part.split("=", 1) for part in line.split(" call ", 1)[1].split() if "=" in part)
        raise AssertionError(f"no call line for {call.inbound} in the engine log:\n{self.engine.log_text()[-3000:]}")
