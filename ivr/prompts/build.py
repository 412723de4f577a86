"""Speak every prompt of the manifest that has no studio recording, and only those whose text changed.

Files go to temporary names first and are renamed into place, and the build record is written after each prompt,
so a build stopped half-way leaves every prompt either as it was or fully regenerated and recorded.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from ivr.prompts import speech
from ivr.prompts.files import (
    Generated,
    Origin,
    language_folder,
    origin,
    paths,
    read_record,
    sha256,
    text_sha256,
    write_record,
)
from ivr.prompts.pinyin import to_pinyin
from ivr.rules.model import Prompt


@dataclass
class BuildReport:
    folder: Path
    generated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    studio: list[str] = field(default_factory=list)


def build_prompts(prompts: Mapping[str, Prompt], recordings: Path, force: bool = False) -> BuildReport:
    """Generate into recordings/zh/ what is missing or was generated from another text (or reading); with `force`,
    every generated prompt again (after an espeak-ng upgrade, say). espeak-ng and sox are needed only when
    something is generated. Raises speech.ToolError."""
    folder = language_folder(recordings)
    folder.mkdir(parents=True, exist_ok=True)
    record = read_record(folder)
    report = BuildReport(folder)
    tools = ""
    for name in sorted(prompts):
        entry = record.get(name)
        found = origin(folder, name, entry)
        if found is Origin.STUDIO:
            report.studio.append(name)
            continue
        text = prompts[name].text_zh
        pinyin = to_pinyin(text)
        wav, alaw = paths(folder, name)
        if (
            not force
            and entry is not None
            and found is Origin.GENERATED
            and (entry.text_sha256, entry.pinyin) == (text_sha256(text), pinyin)
            and wav.exists()
            and alaw.exists()
        ):
            report.unchanged.append(name)
            continue
        tools = tools or speech.tools()
        fallback = tuple(speech.fallbacks(pinyin))
        wav_sha256, alaw_sha256 = _speak(pinyin, wav, alaw)
        record[name] = Generated(text_sha256(text), pinyin, tools, wav_sha256, alaw_sha256, fallback)
        write_record(folder, record)
        report.generated.append(name)
    return report


def _speak(pinyin: str, wav: Path, alaw: Path) -> tuple[str, str]:
    """Write both files and return their hashes."""
    partial_wav, partial_alaw = (path.with_name(f".partial-{path.name}") for path in (wav, alaw))
    try:
        speech.speak(pinyin, partial_wav, partial_alaw)
        digests = sha256(partial_wav.read_bytes()), sha256(partial_alaw.read_bytes())
        os.replace(partial_wav, wav)
        os.replace(partial_alaw, alaw)
    finally:
        partial_wav.unlink(missing_ok=True)
        partial_alaw.unlink(missing_ok=True)
    return digests
