"""The long fuzzing pass: every target of tests/fuzz/ with 100,000 examples (or as many distinct inputs as it has).

The CI run gives each target hypothesis's default 100 examples; this sets IVR_FUZZ_EXAMPLES and runs each target
in its own pytest process, a few at a time, with hypothesis's statistics, then prints per target the examples
that passed, why it stopped (the count reached, or every distinct input tried) and how long it took. Exit code 1
if any target failed; its output is printed. Stops by itself: each example has the fuzz targets' hang guard.

    .venv/bin/python bench/fuzz_long.py [EXAMPLES] [--jobs N] [--only test_agi]
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PASSING = re.compile(r"during generate phase \(([\d.]+) seconds\):.*?- (\d+) passing, (\d+) failing", re.DOTALL)
STOPPED = re.compile(r"Stopped because (.+)")


@dataclass
class Result:
    target: str
    passed: int | None  # None: not a hypothesis target (a plain test in the folder)
    failed: int
    stopped: str
    seconds: float
    output: str
    ok: bool


def targets() -> list[str]:
    listing = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "tests/fuzz",
            "--collect-only",
            "-o",
            "addopts=",
            "-q",
            "-p",
            "no:cacheprovider",
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=True,
    ).stdout
    return [line for line in listing.splitlines() if "::" in line]


def run(target: str, examples: int) -> Result:
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "pytest", target, "-q", "-p", "no:cacheprovider", "--hypothesis-show-statistics"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, "IVR_FUZZ_EXAMPLES": str(examples)},
    )
    seconds = time.monotonic() - started
    passing = PASSING.search(done.stdout)
    stopped = STOPPED.search(done.stdout)
    return Result(
        target.removeprefix("tests/fuzz/"),
        int(passing[2]) if passing else None,
        int(passing[3]) if passing else 0,
        stopped[1].strip() if stopped else "-",
        seconds,
        done.stdout + done.stderr,
        done.returncode == 0,
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("examples", nargs="?", type=int, default=100_000)
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--only", default="", help="only the targets whose name holds this (e.g. test_agi)")
    args = parser.parse_args()
    started = time.monotonic()
    with ThreadPoolExecutor(args.jobs) as pool:
        results = list(pool.map(lambda target: run(target, args.examples), [t for t in targets() if args.only in t]))
    for result in results:
        if not result.ok:
            print(result.output)
    fuzzed = [result for result in results if result.passed is not None]
    width = max(len(result.target) for result in fuzzed)
    print(f"{'target':{width}}  {'passed':>8}  {'failed':>6}  {'seconds':>8}  stopped because")
    for r in fuzzed:
        print(f"{r.target:{width}}  {r.passed:8,}  {r.failed:6}  {r.seconds:8.0f}  {r.stopped}")
    total = sum(r.passed or 0 for r in fuzzed)
    print(f"{len(fuzzed)} targets, {total:,} examples, {time.monotonic() - started:.0f} s with {args.jobs} jobs")
    return 0 if all(result.ok for result in results) else 1


if __name__ == "__main__":
    sys.exit(main())
