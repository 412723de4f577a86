"""The shipped routing_rules.yaml agrees with the merge list annex, line by line."""

from __future__ import annotations

from collections import Counter

import pytest

from ivr.rules.model import Mode, Queue, Seat
from tests.merge_list import MERGE_ROWS, MergeRow


def test_the_annex_has_28_lines_in_three_modes():
    assert len(MERGE_ROWS) == 28
    assert Counter(r.mode for r in MERGE_ROWS) == {"absorbed": 18, "dual-transfer": 5, "dual-merged": 5}


def test_shipped_rules_have_29_routable_numbers(shipped):
    assert len(shipped.lines) == 29
    assert shipped.main.number == "12345"
    assert set(shipped.lines) == {r.number for r in MERGE_ROWS} | {"12345"}
    assert set(shipped.emergency.numbers) == {"110", "119", "120", "122"}
    assert str(shipped.timezone) == "Asia/Shanghai"


@pytest.mark.parametrize("row", MERGE_ROWS, ids=lambda r: r.number)
def test_line_agrees_with_the_annex(shipped, row: MergeRow):
    line = shipped.lines[row.number]
    assert line.mode.value == row.mode
    assert (line.name_zh, line.name_en) == (row.hotline_zh, row.hotline_en)
    assert (line.department.name_zh, line.department.name_en) == (row.department_zh, row.department_en)
    assert (line.data_link.id if line.data_link else None) == row.data_link
    if row.notes:
        assert line.note == row.notes
    destination = shipped.destination(line.destination)
    if line.mode is Mode.DUAL_TRANSFER:
        assert isinstance(destination, Seat)
        assert destination.hours.always, "retained seats default to 7x24"
        fallback = shipped.destination(destination.fallback)
        assert isinstance(fallback, Queue)
        # Expert seats inside 12345 exist exactly for the lines the annex marks.
        assert (fallback.name != "hotline-12345") == row.expert_seat
    else:
        assert destination == shipped.queues["hotline-12345"]
    if line.mode is Mode.ABSORBED:
        assert line.transition is not None
        assert line.transition.ends.isoformat() == "2021-12-01T00:00:00+08:00", "stops at the end of November 2021"
        assert line.transition.after.connect, "the shipped file connects after the transition too"
        texts = [shipped.prompts[p].text_zh for p in line.transition.after.prompts]
        assert "停止服务" in texts[0] and "幺二三四五" in texts[0]
    else:
        assert line.transition is None


def test_every_prompt_reads_numbers_digit_by_digit(shipped):
    for prompt in shipped.prompts.values():
        assert not any(ch.isdigit() for ch in prompt.text_zh), prompt
