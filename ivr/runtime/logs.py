"""The log of every long-running command (`ivr serve`, `ivr monitor`, `ivr web`): one option for its level and one
line format. Times carry their UTC offset: the tickets are in the rules' zone (Asia/Shanghai), the machine's may
be UTC, and an operator matching a log line to a ticket must not have to guess which clock wrote it."""

from __future__ import annotations

import argparse
import logging
import os
from datetime import datetime

LEVELS = ("DEBUG", "INFO", "WARNING")


def add_log_level_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--log-level",
        default=os.environ.get("IVR_LOG_LEVEL", "INFO"),
        choices=LEVELS,
        help="how much to log (default: INFO, or IVR_LOG_LEVEL)",
    )


class _ZonedFormatter(logging.Formatter):
    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        return datetime.fromtimestamp(record.created).astimezone().isoformat(sep=" ", timespec="milliseconds")


def configure_logging(level: str) -> None:
    """`2026-12-07 08:15:17.276+08:00 INFO ivr.serve …` on standard error."""
    handler = logging.StreamHandler()
    handler.setFormatter(_ZonedFormatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    logging.basicConfig(level=level, handlers=[handler])
