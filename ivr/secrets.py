"""Secrets come from the environment or from a file the environment names, never from code, URLs or logs."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path


def secret_from_environment(name: str, environ: Mapping[str, str] | None = None) -> str:
    """`$NAME`, else the content of the file `$NAME_FILE` (stripped: a trailing newline is not part of it), else "".

    A file lets systemd's LoadCredential or a mode-600 file hold the secret instead of the environment, which
    every process of the same user can read."""
    env = os.environ if environ is None else environ
    value = env.get(name, "")
    if not value and env.get(f"{name}_FILE"):
        value = Path(env[f"{name}_FILE"]).read_text(encoding="utf-8").strip()
    return value
