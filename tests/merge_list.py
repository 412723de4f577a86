"""The merge list annex (tests/data/merge-list.tsv, a copy of shared/merge-list.tsv) as rows for table tests."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

TSV = Path(__file__).resolve().parent / "data" / "merge-list.tsv"


@dataclass(frozen=True)
class MergeRow:
    number: str
    mode: str
    hotline_zh: str
    hotline_en: str
    department_zh: str
    department_en: str
    expert_seat: bool
    data_link: str | None
    notes: str | None


def merge_rows() -> list[MergeRow]:
    with TSV.open(encoding="utf-8") as handle:
        rows = [r for r in csv.reader(handle, delimiter="\t") if r and not r[0].startswith("#")]
    return [
        MergeRow(
            r[1],
            r[2],
            r[3],
            r[4],
            r[5],
            r[6],
            r[7] == "yes",
            None if r[8] == "-" else r[8],
            None if r[9] == "-" else r[9],
        )
        for r in rows
    ]


MERGE_ROWS = merge_rows()
