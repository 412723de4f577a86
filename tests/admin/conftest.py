"""Pairs of small rules files for `ivr diff`."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import SMALL_MANIFEST, SMALL_RULES


@pytest.fixture
def rules_pair(tmp_path: Path):
    """Write OLD and NEW rules files (the small manifest beside them) and return their paths."""

    def write(new: str, old: str = SMALL_RULES) -> tuple[Path, Path]:
        (tmp_path / "prompts.yaml").write_text(SMALL_MANIFEST, encoding="utf-8")
        paths = tmp_path / "old.yaml", tmp_path / "new.yaml"
        for path, text in zip(paths, (old, new), strict=True):
            path.write_text(text, encoding="utf-8")
        return paths

    return write
