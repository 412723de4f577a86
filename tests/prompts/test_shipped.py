"""The shipped manifest is written for a caller, and the shipped recordings of it are ready to deploy."""

from __future__ import annotations

import re

from ivr.prompts.checks import check_recordings
from ivr.rules.model import RATING_PROMPTS, Mode

SPOKEN_DIGITS = str.maketrans("0123456789", "零幺二三四五六七八九")


def test_shipped_recordings_pass_every_check(shipped):
    assert check_recordings(shipped.prompts, shipped.recordings) == []


def test_each_absorbed_line_names_its_number_as_spoken_before_and_after_the_transition(shipped):
    for line in shipped.lines.values():
        if line.mode is not Mode.ABSORBED:
            continue
        spoken = line.number.translate(SPOKEN_DIGITS)
        for name in (*line.prompts, *line.transition.after.prompts[:1]):
            assert spoken in shipped.prompts[name].text_zh, (name, spoken)
        assert "幺二三四五" in shipped.prompts[line.transition.after.prompts[0]].text_zh, (
            "tells the caller what to dial"
        )


def test_prompts_have_no_menu_and_no_number_in_figures(shipped):
    """The one question with keys is the rating, asked after the conversation: it routes nobody anywhere."""
    for prompt in shipped.prompts.values():
        assert not re.search(r"\d", prompt.text_zh), f"{prompt.name}: numbers are written as they are spoken"
        if prompt.name != RATING_PROMPTS[0]:
            assert "请按" not in prompt.text_zh, f"{prompt.name}: no IVR menus (GB/T 33358-2016)"


def test_the_queues_comfort_message_is_in_the_manifest(shipped):
    assert "排队" in shipped.prompts["queue-comfort"].text_zh
