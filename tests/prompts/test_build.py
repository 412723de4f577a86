"""`ivr prompts build` with the real espeak-ng and sox: the formats Asterisk plays, studio recordings never
touched, only changed texts spoken again, one-line errors."""

from __future__ import annotations

import json
import wave

from ivr.cli.main import main
from ivr.prompts.files import RECORD
from ivr.prompts.pinyin import to_pinyin
from tests.conftest import SMALL_MANIFEST
from tests.prompts.conftest import MANIFEST, NAMES, write_studio


def snapshot(folder):
    return {path.name: (path.read_bytes(), path.stat().st_mtime_ns) for path in folder.iterdir() if path.name != RECORD}


def test_every_prompt_becomes_8khz_mono_16bit_wav_and_alaw_of_the_same_length(built):
    folder = built.parent / "zh"
    for name in NAMES:
        with wave.open(str(folder / f"{name}.wav"), "rb") as audio:
            assert (audio.getframerate(), audio.getnchannels(), audio.getsampwidth()) == (8000, 1, 2)
            assert audio.getcomptype() == "NONE"
            frames = audio.getnframes()
        assert frames > 8000 * 0.5, "speech, not a click"
        assert (folder / f"{name}.alaw").stat().st_size == frames, "one A-law byte per sample: the same recording"
    assert main(["check", str(built)]) == 0


def test_build_record_says_what_was_spoken(built):
    record = json.loads((built.parent / "zh" / RECORD).read_text(encoding="utf-8"))["prompts"]
    assert sorted(record) == sorted(NAMES)
    assert record["welcome"]["pinyin"] == to_pinyin("您好") == "nin2 hao3"
    assert record["welcome"]["fallback"] == []
    assert "espeak-ng" in record["welcome"]["tools"] and "sox" in record["welcome"]["tools"]


def test_a_second_build_changes_nothing(built, capsys):
    before = snapshot(built.parent / "zh")
    assert main(["prompts", "build", "--rules", str(built)]) == 0
    assert f"0 generated, {len(NAMES)} unchanged, 0 studio" in capsys.readouterr().out
    assert snapshot(built.parent / "zh") == before


def test_changed_text_regenerates_that_prompt_only(built, capsys):
    folder = built.parent / "zh"
    before = snapshot(folder)
    manifest = built.parent / "prompts.yaml"
    manifest.write_text(MANIFEST.replace("{zh: 全忙,", "{zh: 很抱歉，目前话务繁忙，请您稍后再拨。,"), encoding="utf-8")
    assert main(["prompts", "build", "--rules", str(built)]) == 0
    out = capsys.readouterr().out
    assert [line for line in out.splitlines() if line.startswith("generated")] == ["generated all-busy"]
    after = snapshot(folder)
    changed = {name for name in after if after[name] != before[name]}
    assert changed == {"all-busy.wav", "all-busy.alaw"}
    assert len(after["all-busy.wav"][0]) > 3 * len(before["all-busy.wav"][0]), "the longer text is spoken"


def test_studio_recording_dropped_in_before_the_first_build_is_never_touched(write_rules, capsys):
    rules = write_rules()
    folder = rules.parent / "zh"
    write_studio(folder, "welcome")
    studio = snapshot(folder)
    assert main(["prompts", "build", "--rules", str(rules)]) == 0
    assert f"{len(NAMES) - 1} generated, 0 unchanged, 1 studio recordings kept (welcome)" in capsys.readouterr().out
    (rules.parent / "prompts.yaml").write_text(SMALL_MANIFEST.replace("您好", "您好，欢迎致电"), encoding="utf-8")
    assert main(["prompts", "build", "--rules", str(rules), "--force-generated"]) == 0
    out = capsys.readouterr().out
    assert "generated welcome" not in out and "generated all-busy" in out
    assert {name: snapshot(folder)[name] for name in studio} == studio
    assert "welcome" not in json.loads((folder / RECORD).read_text(encoding="utf-8"))["prompts"]


def test_studio_recording_dropped_over_a_generated_one_wins(built, capsys):
    folder = built.parent / "zh"
    write_studio(folder, "welcome", seconds=3.0)
    studio = {name: snapshot(folder)[name] for name in ("welcome.wav", "welcome.alaw")}
    (built.parent / "prompts.yaml").write_text(MANIFEST.replace("您好", "您好，欢迎致电"), encoding="utf-8")
    assert main(["prompts", "build", "--rules", str(built), "--force-generated"]) == 0
    assert "1 studio recordings kept (welcome)" in capsys.readouterr().out
    assert {name: snapshot(folder)[name] for name in studio} == studio


def test_half_replaced_prompt_is_reported_not_repaired(built, capsys):
    folder = built.parent / "zh"
    generated_alaw = (folder / "welcome.alaw").read_bytes()
    write_studio(folder, "welcome")
    (folder / "welcome.alaw").write_bytes(generated_alaw)
    assert main(["prompts", "build", "--rules", str(built)]) == 1
    err = capsys.readouterr().err.splitlines()
    alaw = folder / "welcome.alaw"
    assert f"{alaw}: prompt welcome: still the generated voice beside a studio recording: replace both files" in err
    assert (folder / "welcome.alaw").read_bytes() == generated_alaw


def test_missing_programs_are_one_line_and_exit_1(write_rules, capsys, monkeypatch, tmp_path):
    rules = write_rules()
    monkeypatch.setenv("PATH", str(tmp_path / "no-programs-here"))
    assert main(["prompts", "build", "--rules", str(rules)]) == 1
    err = capsys.readouterr().err
    assert err == "ivr prompts build: espeak-ng is not installed (apt-get install -y espeak-ng sox)\n"
    assert not (rules.parent / "zh" / "welcome.wav").exists()


def test_unreadable_build_record_stops_the_build_and_the_check(built, capsys):
    record = built.parent / "zh" / RECORD
    record.write_text('{\n  "prompts": {', encoding="utf-8")
    before = snapshot(built.parent / "zh")
    for command in (["prompts", "build", "--rules", str(built)], ["check", str(built)]):
        assert main(command) == 1
        err = capsys.readouterr().err.splitlines()
        assert len(err) == 1 and err[0].startswith(f"{record}:2:")
        assert "the prompt build record is unreadable" in err[0]
    assert snapshot(built.parent / "zh") == before


def test_unwritable_out_folder_is_one_line_and_exit_1(write_rules, capsys, tmp_path):
    not_a_folder = tmp_path / "recordings"
    not_a_folder.write_text("a file", encoding="utf-8")
    assert main(["prompts", "build", "--rules", str(write_rules()), "--out", str(not_a_folder)]) == 1
    [line] = capsys.readouterr().err.splitlines()
    assert line.startswith("ivr prompts build: ") and str(not_a_folder) in line
