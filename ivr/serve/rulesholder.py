"""The rules that new calls get, reloaded on SIGHUP or when the file changes.

A call keeps the rules (and so the plan) it started with. An invalid file never replaces valid rules: the old
ones stay, and the problems are logged once, not on every check of the file.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

from ivr.rules.loader import load_rules
from ivr.rules.yamlsource import RulesError
from ivr.serve.limits import Limits

log = logging.getLogger("ivr.serve")


class RulesHolder:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.limits = Limits.for_rules(load_rules(path))
        self._signature = self._stat()
        self._reported = ""

    def _stat(self) -> tuple[float, int, int]:
        """The rules file as it is on disk now. (The prompt manifest is read again on every reload, but only a
        change of the rules file itself, or SIGHUP, triggers one.)"""
        try:
            st = os.stat(self.path)
        except OSError:
            return (0.0, 0, 0)
        return (st.st_mtime, st.st_size, st.st_ino)

    def changed(self) -> bool:
        return self._stat() != self._signature

    def reload(self) -> bool:
        """Load the file again; True when new rules are now in use. Safe to run in a thread."""
        signature = self._stat()
        try:
            rules = load_rules(self.path)
        except RulesError as exc:
            self._signature = signature
            text = str(exc)
            if text != self._reported:
                self._reported = text
                log.error("rules reload refused, calls keep the previous rules: %d problem(s)", len(exc.problems))
                for problem in exc.problems:
                    log.error("%s", problem)
            return False
        self.limits = Limits.for_rules(rules)
        self._signature = signature
        self._reported = ""
        log.info("rules reloaded from %s: %d routable numbers", self.path, len(rules.lines))
        return True
