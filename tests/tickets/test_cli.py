"""`ivr tickets`: callers masked unless --unmask, filters, show, CSV that Excel opens with the Chinese intact."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from dataclasses import replace
from datetime import timedelta

import pytest

from ivr.cli.main import main
from ivr.tickets.completion import CallEvent, EventKind
from ivr.tickets.sqlite import SqliteStore
from ivr.tickets.stub import StubOutcome
from tests.conftest import ROOT, SHIPPED_RULES
from tests.tickets.calls import NOW, call, numbered, stubs_of

CALLERS = {"13912345678": "139****5678", "+8613912345678": "+86139****5678", "0871-65123456": "0871-****3456"}


@pytest.fixture
def store_url(tmp_path):
    store = SqliteStore(tmp_path / "tickets.db")
    for n, caller in enumerate(CALLERS, start=1):
        _, closing = stubs_of(call(n, "96301", caller=caller), NOW + timedelta(minutes=n))
        store.put([numbered(closing, n)])
    _, withheld = stubs_of(call(9, "12333", caller="13800138000", callingpres=0x23), NOW + timedelta(minutes=9))
    store.put([numbered(withheld, 9)])
    store.close()
    return f"sqlite:///{tmp_path / 'tickets.db'}"


def run(capsys, *args):
    code = main(["tickets", *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_list_masks_every_form_of_caller_number_by_default(store_url, capsys):
    code, out, _ = run(capsys, "list", "--store", store_url)
    assert code == 0
    for number, masked in CALLERS.items():
        assert masked in out and number not in out
    assert "withheld" in out and "13800138000" not in out
    assert out.rstrip().endswith("4 ticket stubs")
    _, unmasked, _ = run(capsys, "list", "--store", store_url, "--unmask")
    assert all(number in unmasked for number in CALLERS)


def test_list_filters_and_json(store_url, capsys):
    rules = ["--rules", str(SHIPPED_RULES)]
    _, out, _ = run(
        capsys, "list", "--store", store_url, "--json", "--line", "96301", "--since", "2026-11-26 10:02", *rules
    )
    listed = json.loads(out)
    assert [s["id"] for s in listed] == ["12345-20261126-e1-000002", "12345-20261126-e1-000003"]
    assert listed[0]["caller"] == "+86139****5678"
    _, out, _ = run(capsys, "list", "--store", store_url, "--json", "--outcome", "transferred")
    assert [s["line"] for s in json.loads(out)] == ["12333"]
    _, out, _ = run(capsys, "list", "--store", store_url, "--until", "2026-11-26T10:02+08:00", "--json", *rules)
    assert len(json.loads(out)) == 1


def test_show_one_stub(store_url, capsys):
    code, out, _ = run(capsys, "show", "12345-20261126-e1-000003", "--store", store_url)
    assert code == 0
    assert "0871-****3456" in out and "65123456" not in out
    assert "96301 云南省旅游投诉电话" in out and "data link tourism-complaint-and-returns" in out
    assert "dispatch 2026-11-26 17:30" in out
    code, _, err = run(capsys, "show", "12345-20261126-e1-000099", "--store", store_url)
    assert code == 1 and "no ticket 12345-20261126-e1-000099" in err


def test_csv_export_opens_in_excel_with_chinese_and_masked_callers(store_url, tmp_path, capsys):
    target = tmp_path / "tickets.csv"
    assert run(capsys, "export", "--store", store_url, "--output", str(target))[0] == 0
    data = target.read_bytes()
    assert data.startswith(b"\xef\xbb\xbf"), "UTF-8 with a byte order mark, or Excel reads it as GBK"
    rows = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"), newline="")))
    assert b"\r\n" in data and len(rows) == 4
    assert rows[0]["line_name"] == "云南省旅游投诉电话" and rows[0]["department_name"] == "文化和旅游局"
    assert [r["caller"] for r in rows] == [*CALLERS.values(), "withheld"]
    assert rows[3]["outcome"] == "transferred" and rows[0]["dispatch"] == "2026-11-26 17:30"


def test_json_export_to_standard_output_unmasked_on_request(store_url, tmp_path):
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "ivr.cli.main",
            "tickets",
            "export",
            "--format",
            "json",
            "--unmask",
            "--store",
            store_url,
        ],
        capture_output=True,
        timeout=60,
        cwd=ROOT,
    )
    assert result.returncode == 0, result.stderr
    assert [s["caller"] for s in json.loads(result.stdout)] == [*CALLERS, "13800138000"]


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["list", "--store", "sqlite:///nowhere/tickets.db"], 1, "no ticket store there"),
        (["list", "--store", "redis://:pw@127.0.0.1/0"], 2, "not in the URL"),
        (["list", "--store", "postgres://x"], 2, "expected sqlite:///PATH, redis://HOST:PORT/DB or redis+sentinel://"),
    ],
)
def test_errors_are_one_line(args, code, message, capsys):
    try:
        got = main(["tickets", *args])
    except SystemExit as exited:  # the command line is wrong: argparse's exit
        got = exited.code
    assert got == code
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err and len(err.strip().splitlines()) == 1


def test_ratings_per_line_and_per_agent(tmp_path, capsys):
    store = SqliteStore(tmp_path / "tickets.db")
    calls = [
        (call(1, "12345", rating_keys=("1",)), "PJSIP/agent1"),
        (call(2, "12345", rating_keys=("", "3")), "PJSIP/agent1"),
        (call(3, "12396", rating_keys=("2",)), "PJSIP/agent2"),
        (call(4, "12396", rating_keys=("", "")), "PJSIP/agent2"),  # not rated: timed out twice
        (call(5, "12328"), None),  # a department seat answered: nobody asks
    ]
    for n, (simulated, agent) in enumerate(calls, start=1):
        closing = stubs_of(simulated, NOW + timedelta(minutes=n))[1]
        store.put([numbered(replace(closing, answered_by=agent or closing.answered_by), n)])
    store.close()
    url = f"sqlite:///{tmp_path / 'tickets.db'}"
    code, out, _ = run(capsys, "ratings", "--store", url, "--json")
    assert code == 0
    figures = json.loads(out)
    assert (figures["line"]["12345"]["asked"], figures["line"]["12345"]["satisfaction"]) == (2, 0.5)
    assert figures["line"]["12396"]["rated"] == 1 and figures["line"]["12396"]["satisfaction"] == 1.0
    assert set(figures["agent"]) == {"PJSIP/agent1", "PJSIP/agent2"}, "a seat's call is not in the ratings"
    assert figures["agent"]["PJSIP/agent1"]["satisfaction"] == 0.5
    _, text, _ = run(capsys, "ratings", "--store", url)
    assert "PJSIP/agent2  2      0          1          0             1          100%" in text
    _, listing, _ = run(capsys, "list", "--store", url)
    assert "not-rated (timed-out)" in listing


def test_callbacks_list_masks_numbers_and_done_takes_a_call_off_the_list(tmp_path, capsys):
    store = SqliteStore(tmp_path / "tickets.db")
    closing = numbered(stubs_of(call(1, "12345", caller="13912345678"), NOW)[1], 1)
    store.put([replace(closing, outcome=StubOutcome.ABANDONED)])
    store.add_events([CallEvent(closing.uniqueid, EventKind.ABANDONED, NOW, "hotline-12345", wait=75, position=2)])
    store.close()
    url = f"sqlite:///{tmp_path / 'tickets.db'}"
    assert main(["callbacks", "list", "--store", url, "--days", "3650"]) == 0
    listed = capsys.readouterr().out
    assert "139****5678" in listed and "13912345678" not in listed
    assert "abandoned in hotline-12345 at position 2 after 75 s" in listed and "due" in listed
    assert main(["callbacks", "done", closing.id, "--note", "called back by hand", "--store", url]) == 0
    capsys.readouterr()
    assert main(["callbacks", "list", "--store", url, "--days", "3650"]) == 0
    assert capsys.readouterr().out.rstrip().endswith("0 call-backs")
    assert main(["callbacks", "list", "--all", "--store", url, "--days", "3650"]) == 0
    assert "done: called back by hand" in capsys.readouterr().out
