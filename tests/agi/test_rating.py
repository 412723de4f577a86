"""The satisfaction rating after a 12345 agent hangs up, through the simulator (captured reply lines): every key,
timeouts, an invalid key, a hang-up during the question, the caller hanging up in the conversation, the agent's
transfer, and the lines and destinations that are never asked."""

from __future__ import annotations

from dataclasses import replace

import pytest

from ivr.agi.protocol import AgiParser
from ivr.agi.rating import NotRated, Rating, read
from ivr.agi.simulator import HANG_UP, DialBehaviour, QueueBehaviour, SimulatedCall, simulate
from ivr.tickets.completion import CallEvent, EventKind, completed
from tests.agi.test_executor import NOW, RULES, UNRATED
from tests.tickets.calls import stubs_of
from tests.transcripts import read_transcript

QUESTION = "GET DATA rating 5000 1"
THANKS = 'STREAM FILE rating-thanks ""'


@pytest.mark.parametrize(
    ("keys", "rating", "questions"),
    [
        (("1",), (Rating.SATISFIED, None), 1),
        (("2",), (Rating.BASICALLY_SATISFIED, None), 1),
        (("3",), (Rating.DISSATISFIED, None), 1),
        (("", "3"), (Rating.DISSATISFIED, None), 2),  # nothing pressed: asked once more
        (("7", "1"), (Rating.SATISFIED, None), 2),  # an invalid key: asked once more
        (("", ""), (Rating.NOT_RATED, NotRated.TIMED_OUT), 2),
        (("", "9"), (Rating.NOT_RATED, NotRated.INVALID), 2),
        ((HANG_UP,), (Rating.NOT_RATED, NotRated.CALLER_HUNG_UP), 1),
        (("", HANG_UP), (Rating.NOT_RATED, NotRated.CALLER_HUNG_UP), 2),
    ],
)
def test_rating_table(keys, rating, questions):
    sim = simulate(RULES, SimulatedCall("12396", rating_keys=keys), NOW)
    assert sim.executor.rating == rating
    assert sim.commands.count(QUESTION) == questions
    hung_up = HANG_UP in keys
    assert (THANKS in sim.commands) is not hung_up, "thanks, unless the caller has gone"
    assert sim.commands.index("SET VARIABLE IVR_STAGE done") < sim.commands.index(QUESTION), (
        "the person part is over: an engine gone during the rating never sends the caller back to a queue"
    )


def test_the_agent_hanging_up_brings_the_caller_back_with_continue_as_in_agi_02b():
    sim = simulate(RULES, SimulatedCall("12345", rating_keys=("1",)), NOW)
    assert "EXEC Queue hotline-12345,tc,,,600" in sim.commands
    assert ("<<", "200 result=1 (CONTINUE)") in sim.wire


def test_a_caller_who_hangs_up_in_the_conversation_is_not_asked():
    """CONTINUE is reported then too; the HANGUP right after the Queue's reply tells the two apart."""
    queue_reply = simulate(RULES, SimulatedCall("12345"), NOW).commands.index("EXEC Queue hotline-12345,tc,,,600") + 1
    sim = simulate(RULES, SimulatedCall("12345", hangup_after_replies=queue_reply), NOW)
    assert sim.executor.rating == (Rating.NOT_RATED, NotRated.CALLER_HUNG_UP)
    assert QUESTION not in sim.commands


def test_an_agents_transfer_is_not_rated_and_says_why():
    _, closing = stubs_of(SimulatedCall("12345", queues={"hotline-12345": QueueBehaviour.CALLER_HANGUP}))
    answered = replace(closing, rating="not-rated", rating_reason="caller-hung-up")
    transfer = CallEvent(closing.uniqueid, EventKind.TRANSFERRED, NOW, detail="blind to 12396@ivr-linkage")
    assert completed(answered, [transfer]).rating_reason == "transferred"


@pytest.mark.parametrize(
    ("rules", "call"),
    [
        (UNRATED, SimulatedCall("12345")),  # rating: false on the line
        (RULES, SimulatedCall("12328")),  # the department's retained seat answered: not a 12345 agent
        (RULES, SimulatedCall("12345", queues={"hotline-12345": QueueBehaviour.TIMEOUT})),  # nobody answered
    ],
)
def test_calls_that_are_never_asked(rules, call):
    sim = simulate(rules, call, NOW)
    assert sim.executor.rating is None
    assert QUESTION not in sim.commands


def test_the_stub_holds_the_rating():
    _, closing = stubs_of(SimulatedCall("12345", rating_keys=("", "2")))
    assert (closing.rating, closing.rating_reason) == ("basically-satisfied", "")


@pytest.mark.parametrize(
    ("capture", "line", "meaning"),
    [
        ("agi-01b-dtmf.txt", b"200 result=12", NotRated.INVALID),  # two keys: not one of 1, 2, 3
        ("agi-01b-dtmf.txt", b"200 result= (timeout)", NotRated.TIMED_OUT),
        (
            "agi-04a-caller-hangup-during-stream.txt",
            b"511 Command Not Permitted on a dead channel or intercept routine",
            NotRated.CALLER_HUNG_UP,
        ),
    ],
)
def test_captured_get_data_replies_read_as_asterisk_meant_them(capture, line, meaning):
    assert line in [text for _, text in read_transcript(capture)]
    (reply,) = _replies(line)
    assert read(reply) is meaning


def _replies(line: bytes):
    parser = AgiParser()
    parser.feed(b"agi_network: yes\n\n")
    return parser.feed(line + b"\n")


def test_a_seat_answer_keeps_dial_untouched():
    sim = simulate(
        RULES, SimulatedCall("12333", seats={"PJSIP/12333@dept-hr-social-security": DialBehaviour.ANSWER}), NOW
    )
    assert sim.executor.rating is None
