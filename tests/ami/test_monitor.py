"""`ivr monitor` end to end: a real engine routes the captured calls (its stubs), a real monitor follows the
loopback AMI peer replaying what Asterisk said about them, and `ivr queues` shows the outcome the transcripts
record. Nothing here writes a figure into the model: every figure comes from replayed Asterisk bytes."""

from __future__ import annotations

import json
import signal
import subprocess
import sys

import pytest

from ivr.agi.simulator import QueueBehaviour, SimulatedCall
from ivr.cli.queues import CLEAR
from ivr.serve.callclient import call_engine
from ivr.tickets.open import open_store
from tests.ami.monitor import queues, start_monitor, wait_for
from tests.ami.peer import LAB_SECRET, AmiPeer, captured_user_event, wire
from tests.serve.engine import copy_rules, save, start_engine

# The calls of the captures, as the engine saw them over AGI (agi-02, agi-07b, agi-08).
AMI_02 = SimulatedCall("12345", uniqueid="1795849801.5", linkedid="1795849801.4")
AMI_07B = SimulatedCall(
    "12345", uniqueid="1795849861.41", linkedid="1795849861.40", queues={"hotline-12345": QueueBehaviour.LEAVEEMPTY}
)
AMI_08 = SimulatedCall(
    "12345", uniqueid="1795849873.47", linkedid="1795849873.46", queues={"hotline-12345": QueueBehaviour.CALLER_HANGUP}
)


@pytest.fixture
def centre(tmp_path):
    """Engine and monitor sharing one SQLite store; yields (peer, monitor, store URL, rules)."""
    store, rules = routed(tmp_path, AMI_02, AMI_07B, AMI_08)
    with AmiPeer() as peer:
        monitor = start_monitor(tmp_path, peer.port, store, LAB_SECRET, rules)
        try:
            yield peer, monitor, store, rules
        finally:
            monitor.stop()


def routed(folder, *calls):
    """A real engine routes `calls` into a SQLite store in `folder`, then stops; gives (store URL, its rules)."""
    store = f"sqlite:///{folder / 'tickets.db'}"
    engine = start_engine(folder, "--store", store, "--spool", str(folder / "spool"))
    try:
        for call in calls:
            call_engine("127.0.0.1", engine.port, call)
    finally:
        engine.stop()
    return store, engine.rules


def queue(view, name):
    return next(q for q in view["queues"] if q["queue"] == name)


def test_the_model_matches_what_asterisk_did_in_every_captured_scenario(centre):
    peer, _, store, rules = centre
    peer.wait_actions("queuestatus", 1)
    view = wait_for("the board from the snapshot", lambda: (v := queues(store, rules))["warning"] == "" and v)
    assert queue(view, "hotline-12345")["staff"]["free"] == 1, "Agent One, from the captured QueueStatus"

    peer.play("ami-02-queue-connect.txt")
    answered = wait_for("ami-02 answered", lambda: queue(queues(store, rules), "hotline-12345")["today"]["answered"])
    assert answered == 1

    peer.play("ami-07b-queue-empty-leavewhenempty.txt")
    left = wait_for("ami-07b abandoned", lambda: _today(store, rules, "hotline-empty-leave"))
    assert (left["abandoned"], left["answered"]) == (1, 0), "left the empty queue without an agent"

    peer.play("ami-actions.txt")
    hung_up = wait_for("ami-08 abandoned", lambda: _today(store, rules, "hotline-empty-wait"))
    assert hung_up["abandoned"] == 1
    view = queues(store, rules)
    today = queue(view, "hotline-12345")["today"]
    assert (today["offered"], today["service_level"], today["connection_rate"]) == (1, 1.0, 1.0), (
        "the other two calls waited in the queues Asterisk names"
    )
    assert view["total"]["abandoned"] == 1, "only ami-08's caller gave up; 07b's call went on to the instruction"
    assert {line["line"]: line["offered"] for line in view["lines"]} == {"12345": 3}


def _today(store, rules, name):
    found = [q for q in queues(store, rules)["queues"] if q["queue"] == name]
    return found[0]["today"] if found and found[0]["today"]["offered"] else None


def test_asterisk_shutdown_shows_link_down_then_the_board_is_rebuilt(centre):
    peer, monitor, store, rules = centre
    wait_for("live", lambda: queues(store, rules)["warning"] == "")
    peer.shutdown()
    down = wait_for("link down on the board", lambda: "shut down" in (w := queues(store, rules)["warning"]) and w)
    assert down == "AMI link down: Asterisk shut down (Cleanly)"
    peer.come_back()
    peer.wait_logins(2)
    peer.wait_actions("queuestatus", 2)
    wait_for("live again", lambda: queues(store, rules)["warning"] == "")
    assert monitor.log_text().count("AMI link up as lab") == 2


def test_a_bad_secret_is_refused_logged_once_and_never_shown(tmp_path):
    store = f"sqlite:///{tmp_path / 'tickets.db'}"
    rules = copy_rules(tmp_path)
    with AmiPeer(secret="the-real-one") as peer:
        monitor = start_monitor(tmp_path, peer.port, store, "a-wrong-secret", rules)
        try:
            wait_for("two refused logins", lambda: peer.refusals >= 2, timeout=30)
            view = wait_for("a board", lambda: (v := queues(store, rules))["monitors"] and v)
        finally:
            assert monitor.stop() == 0, "SIGTERM stops the monitor cleanly"
    assert view["warning"] == "AMI link down: login refused: Authentication failed"
    log = monitor.log_text()
    assert log.count("AMI login as lab refused: Authentication failed") == 1
    assert "a-wrong-secret" not in log
    assert "denied" not in peer.actions, "nothing before Login"


def test_queues_watch_prints_again_until_interrupted(tmp_path):
    store = open_store(f"sqlite:///{tmp_path / 'tickets.db'}")
    store.put_board("m1", {"monitor": "m1", "updated": 0.0, "link": {"up": True, "since": 0.0, "why": ""},
                           "snapshots": 1, "queues": {}})  # fmt: skip
    rules = copy_rules(tmp_path)
    watch = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "ivr.cli.main",
            "queues",
            "--watch",
            "0.2",
            "--store",
            store.name,
            "--rules",
            str(rules),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    screens = ""
    for line in watch.stdout:
        screens += line
        if screens.count(CLEAR) == 2:
            break
    assert screens.count(CLEAR) == 2, "printed again"
    watch.send_signal(signal.SIGINT)
    assert watch.wait(timeout=10) == 0
    assert "WARNING: queue board not updated for" in screens, "a board from 1970 is stale"


def test_a_confirmed_abandon_is_called_back_over_ami(tmp_path):
    """ami-08's caller gave up in the queue; with automatic call-backs, the monitor originates the call-back once
    the snapshot shows Agent One free, the peer answers Originate as the capture does, and the citizen's answer
    (the generated dialplan's UserEvent) marks it done."""
    store, rules = routed(tmp_path, AMI_08)
    rules.write_text(automatic_at_any_hour(rules.read_text(encoding="utf-8")), encoding="utf-8")
    with AmiPeer() as peer:
        monitor = start_monitor(tmp_path, peer.port, store, LAB_SECRET, rules)
        try:
            peer.wait_actions("queuestatus", 1)
            peer.play("ami-actions.txt")  # scenario 8: Asterisk's own QueueCallerAbandon for the caller
            peer.wait_actions("originate", 1, timeout=30)
            originate = next(r for r in peer.received if r.get("Action") == ["Originate"])
            assert originate["Exten"] == ["13800138000"] and originate["Context"] == ["ivr-callback-dial"]
            ticket = next(v for v in originate["Variable"] if v.startswith("__TICKET_ID=")).split("=", 1)[1]
            peer.send(wire(captured_user_event("IvrCallback", [("Ticket", ticket), ("DialStatus", "ANSWER")])))
            done = wait_for("the call-back stored as done", lambda: _callbacks(store, rules) or None)
        finally:
            monitor.stop()
    assert [(c["ticket"], c["state"], [a["result"] for a in c["attempts"]]) for c in done] == [
        (ticket, "done", ["ANSWER"])
    ]
    assert "138****8000" in monitor.log_text() and "13800138000" not in monitor.log_text()


def automatic_at_any_hour(text):
    """The rules with automatic call-backs on and no hours: the test may run at any time of day."""
    text = text.replace("automatic: false", "automatic: true")
    return text.replace('    - {days: mon-fri, from: "09:00", to: "17:30"}\n', "").replace("  hours:\n", "")


def test_the_monitor_follows_the_rules_file_refuses_an_invalid_one_and_reloads_on_sighup(tmp_path):
    """An admin turns automatic call-backs on while the monitor runs. The first try has a typo: refused, logged
    once (a SIGHUP re-reading it stays silent), and the monitor goes on with the old rules; the corrected file is
    taken without a restart and the dialler rings ami-08's caller back. SIGHUP alone reloads an unchanged file."""
    store, rules = routed(tmp_path, AMI_08)
    (tmp_path / "view").mkdir()
    view_rules = copy_rules(tmp_path / "view")  # `ivr queues` reads its own copy: the monitor's is edited
    corrected = automatic_at_any_hour(rules.read_text(encoding="utf-8"))
    with AmiPeer() as peer:
        monitor = start_monitor(tmp_path, peer.port, store, LAB_SECRET, rules)
        try:
            peer.wait_actions("queuestatus", 1)
            save(rules, corrected.replace('  "12396":\n', '  "123x96":\n', 1))
            monitor.wait_for_log("rules reload refused")  # the file watch noticed it: no signal sent
            monitor.process.send_signal(signal.SIGHUP)  # the same invalid file read again
            peer.play("ami-actions.txt")  # scenario 8: Asterisk's QueueCallerAbandon for ami-08's caller
            wait_for("ami-08 abandoned, stored", lambda: _today(store, view_rules, "hotline-empty-wait"))
            save(rules, corrected)
            monitor.wait_for_log("automatic call-backs turned on by the reloaded rules")
            peer.wait_actions("originate", 1, timeout=30)
            monitor.process.send_signal(signal.SIGHUP)  # the file is as it was: the watch would not reload it
            wait_for("SIGHUP's reload", lambda: monitor.log_text().count("rules reloaded from") == 2)
        finally:
            assert monitor.stop() == 0
    log = monitor.log_text()
    assert "automatic call-backs off" in log, "the monitor started with the shipped rules"
    assert log.count("rules reload refused") == 1 and log.count("line number '123x96' must be digits only") == 1
    assert log.count("rules reloaded from") == 2, "the corrected file (file watch), the unchanged one (SIGHUP)"
    assert log.index("rules reloaded from") < log.index("call-back of"), "the old rules (off) held until then"


def _callbacks(store, rules):
    listed = subprocess.run(
        [sys.executable, "-m", "ivr.cli.main", "callbacks", "list", "--all", "--json", "--store", store,
         "--rules", str(rules)],
        capture_output=True, text=True, timeout=30,
    )  # fmt: skip
    found = json.loads(listed.stdout)
    return found if found and found[0]["attempts"] else []
