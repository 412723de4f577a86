"""The queue board replayed from the captured AMI sessions: the figures are what Asterisk did, not what a test
wrote into the model."""

from __future__ import annotations

from ivr.ami.board import Abandoned, Answered, Caller, MemberState, QueueBoard
from ivr.ami.protocol import AmiParser, Message
from tests.transcripts import ASTERISK, read_transcript


def messages(name: str) -> list[Message]:
    data = b"".join(text + b"\r\n" for d, text in read_transcript(name) if d == ASTERISK)
    return [item for item in AmiParser().feed(data) if isinstance(item, Message)]


def replay(board: QueueBoard, name: str, watch=None):
    """Feed a session in order, as the monitor does: a QueueStatus list rebuilds the board."""
    facts = []
    for i, message in enumerate(messages(name)):
        if message.list_state == "start" and (message.action_id or "").startswith("queuestatus"):
            board.begin_snapshot()
        facts += board.apply(message, now=float(i))
        if message.event == "QueueStatusComplete":
            board.finish_snapshot()
        if watch:
            watch(message, board)
    return facts


def test_ami_02_one_call_answered_by_agent_one():
    board = QueueBoard()
    facts = replay(board, "ami-02-queue-connect.txt")
    assert facts == [Answered("1795849801.5", "hotline-12345", "Local/agent1@agents", "Agent One", 0)]
    assert board.callers == {}
    assert board.staff("hotline-12345")[MemberState.FREE] == 1


def test_ami_07b_one_abandoned_on_an_empty_queue():
    board = QueueBoard()
    facts = replay(board, "ami-07b-queue-empty-leavewhenempty.txt")
    assert [type(f) for f in facts] == [Abandoned]
    assert facts[0].queue == "hotline-empty-leave" and facts[0].position == 1
    assert board.callers == {}


def test_ami_actions_caller_waits_then_hangs_up_and_snapshot_agrees():
    board = QueueBoard()
    seen_waiting: list[list[Caller]] = []

    def watch(message, b):
        if message.event == "QueueStatusComplete" and message.action_id == "queuestatus-10":
            seen_waiting.append(b.waiting("hotline-empty-wait"))

    facts = replay(board, "ami-actions.txt", watch)
    (snapshot,) = seen_waiting
    assert [(c.uniqueid, c.position) for c in snapshot] == [("1795849873.47", 1)], "rebuilt from QueueEntry"
    assert facts == [Abandoned("1795849873.47", "hotline-empty-wait", 1, 0)], "hung up while waiting (ami-08)"
    assert board.callers == {}
    assert board.staff("hotline-12345")[MemberState.FREE] == 1, "Agent One from the QueueMember snapshot"


def test_snapshot_replaces_what_an_outage_left_behind():
    board = QueueBoard()
    board.callers["stale"] = Caller("stale", "hotline-12345", 1, 0.0, "12396")
    replay(board, "ami-actions.txt")
    assert "stale" not in board.callers


def test_shutdown_capture_leaves_nobody_waiting():
    board = QueueBoard()
    replay(board, "ami-shutdown.txt")
    assert board.callers == {}


def test_positions_close_up_when_a_caller_leaves():
    board = QueueBoard()
    for uid, pos in (("a", 1), ("b", 2), ("c", 3)):
        board.apply(
            Message(
                (
                    ("Event", "QueueCallerJoin"),
                    ("Uniqueid", uid),
                    ("Queue", "q"),
                    ("Position", str(pos)),
                    ("ChanVariable", "TICKET_ID=12345-20261128-e1-000001"),
                    ("ChanVariable", "IVR_LINE=12396"),
                )
            ),
            now=10.0,
        )
    board.apply(Message((("Event", "QueueCallerLeave"), ("Uniqueid", "a"), ("Queue", "q"), ("Position", "1"))), 20.0)
    assert [(c.uniqueid, c.position, c.line) for c in board.waiting("q")] == [("b", 1, "12396"), ("c", 2, "12396")]
    assert board.longest_wait("q", now=25.0) == 15.0


def test_a_caller_known_from_a_snapshot_learns_the_line_its_channel_holds():
    """QueueStatus's entries carry no channel variables (a real Asterisk 22): the monitor asks for IVR_LINE."""
    board = QueueBoard()
    entry = (("Event", "QueueEntry"), ("Queue", "q"), ("Position", "1"), ("Uniqueid", "a"), ("Wait", "3"))
    joined = (("Event", "QueueCallerJoin"), ("Uniqueid", "b"), ("Queue", "q"), ("Position", "2"))
    board.apply(Message(entry), now=10.0)
    board.apply(Message((*joined, ("ChanVariable", "IVR_LINE=12396"))), now=10.0)
    board.learn_line("a", "12369")
    board.learn_line("b", "12345")  # its own event said 12396
    board.learn_line("gone", "12345")
    assert [(c.uniqueid, c.line) for c in board.waiting("q")] == [("a", "12369"), ("b", "12396")]


def test_paused_and_unavailable_members():
    board = QueueBoard()
    base = (("Event", "QueueMemberStatus"), ("Queue", "q"), ("MemberName", "A"))
    board.apply(Message((*base, ("Interface", "PJSIP/1"), ("Status", "1"), ("Paused", "1"))), 0.0)
    board.apply(Message((*base, ("Interface", "PJSIP/2"), ("Status", "5"), ("Paused", "0"))), 0.0)
    board.apply(Message((*base, ("Interface", "PJSIP/3"), ("Status", "2"), ("Paused", "0"))), 0.0)
    assert board.staff("q") == {
        MemberState.FREE: 0,
        MemberState.BUSY: 1,
        MemberState.PAUSED: 1,
        MemberState.UNAVAILABLE: 1,
    }


def test_an_agent_complete_without_the_callers_fields_names_no_call():
    """Asterisk 22 left the caller's fields out of an AgentComplete whose caller was gone before app_queue's
    stasis handler ran (the real switch, under load): a transfer then cannot be pinned on any call, and is not
    pinned on an empty one."""
    fields = (("Event", "AgentComplete"), ("Queue", "hotline-12345"), ("MemberName", "agent 8002"))
    board = QueueBoard()
    assert board.apply(Message((*fields, ("Reason", "transfer"))), 0.0) == []
    named = board.apply(Message((*fields, ("Uniqueid", "inbound-00001"), ("Reason", "transfer"))), 0.0)
    assert [fact.uniqueid for fact in named] == ["inbound-00001"]
