"""`ivr check` finds every recording a caller would hear wrong, one line naming the prompt and the file."""

from __future__ import annotations

import pytest

from ivr.cli.main import main
from tests.prompts.conftest import MANIFEST, NAMES, write_wav


def wav_cut_to(seconds):
    def cut(folder):
        data = (folder / "transition-12396.wav").read_bytes()
        (folder / "transition-12396.wav").write_bytes(data[: 44 + round(seconds * 16000)])
        return "transition-12396.wav"

    return cut


def replace(name, **wav):
    def write(folder):
        write_wav(folder / name, **wav)
        return name

    return write


def delete(name):
    def remove(folder):
        (folder / name).unlink()
        return name

    return remove


def alaw_of(data):
    def write(folder):
        (folder / "transition-12396.alaw").write_bytes(data(folder))
        return "transition-12396.alaw"

    return write


BREAKAGES = [
    pytest.param(delete("welcome.wav"), "missing", id="missing-wav"),
    pytest.param(delete("welcome.alaw"), "missing", id="missing-alaw"),
    pytest.param(replace("welcome.wav", seconds=2, rate=44100), "sampled at 44100 Hz, must be 8000 Hz", id="44.1kHz"),
    pytest.param(replace("welcome.wav", seconds=2, channels=2), "2 channels, must be mono", id="stereo"),
    pytest.param(replace("welcome.wav", seconds=2, amplitude=0), "silent (RMS 0 of 32767", id="silent-wav"),
    pytest.param(replace("welcome.wav", seconds=2, amplitude=60), "silent (RMS 42 of 32767", id="hum-below-threshold"),
    pytest.param(wav_cut_to(5.0), "5.00 s is too short for its text (at least 5.40 s expected)", id="cut-in-half"),
    pytest.param(alaw_of(lambda f: b"\xd5" * 8000 * 5), "silent (RMS 8 of 32767", id="silent-alaw"),
    pytest.param(
        alaw_of(lambda f: (f / "transition-12396.alaw").read_bytes()[:-8000]),
        "s long but the .wav is",
        id="alaw-shorter-than-wav",
    ),
    pytest.param(lambda f: (f / "welcome.wav").write_bytes(b"RIFF....") and "welcome.wav", "not a PCM .wav", id="junk"),
]


@pytest.mark.parametrize(("breakage", "message"), BREAKAGES)
def test_check_names_the_prompt_and_the_file(built, capsys, breakage, message):
    folder = built.parent / "zh"
    broken = breakage(folder)
    assert main(["check", str(built)]) == 1
    captured = capsys.readouterr()
    assert captured.out == "", "no table for rules whose recordings are broken"
    prompt = broken.rsplit(".", 1)[0]
    lines = [line for line in captured.err.splitlines() if line.startswith(f"{folder / broken}: prompt {prompt}: ")]
    assert any(message in line for line in lines), captured.err


def test_check_can_skip_the_recordings(built, capsys):
    (built.parent / "zh" / "welcome.wav").unlink()
    assert main(["check", str(built), "--no-recordings"]) == 0
    assert f"{len(NAMES)} prompts;" in capsys.readouterr().out


def test_text_changed_since_the_build_is_reported(built, capsys):
    (built.parent / "prompts.yaml").write_text(MANIFEST.replace("已停止", "已停止服务"), encoding="utf-8")
    assert main(["check", str(built)]) == 1
    wav = built.parent / "zh" / "stopped-12396.wav"
    expected = f"{wav}: prompt stopped-12396: speaks an older text of the manifest: run ivr prompts build"
    assert capsys.readouterr().err.splitlines() == [expected]


def test_english_fallback_in_the_phoneme_dump_fails_the_build_and_the_check(write_rules, capsys):
    rules = write_rules(manifest=MANIFEST.replace("{zh: 您好,", "{zh: 您好，请拨打hotline,"))
    assert main(["prompts", "build", "--rules", str(rules)]) == 1
    build_err = capsys.readouterr().err
    assert main(["check", str(rules)]) == 1
    check_err = capsys.readouterr().err
    wav = rules.parent / "zh" / "welcome.wav"
    for err in (build_err, check_err):
        [line] = err.splitlines()
        assert line.startswith(f"{wav}: prompt welcome: espeak-ng read part of it as another language, (en)")
        assert line.endswith(": write the text in Chinese")
