"""First audio on a real Asterisk 22: how long a caller waits from the answer to the first prompt, the engine beside
the generated dialplan alone, in one run, by Asterisk's own clock.

A throwaway Asterisk (the test fixture's: tests/asterisk/site.py, the prefix from `sh bin/asterisk`) runs the files
of `ivr dialplan build` with the engine (`ivr serve`, SQLite store) on their AGI port. Each call is a citizen
dialling 12345 (the phone sends its first media frame when answered, as a real phone's first RTP, and hangs up
after `--hold` s); nobody needs to be logged in, the welcome comes first.

- engine: from the inbound half's Newstate Up (the engine's AGI ANSWER) to the AGIExecStart of the engine's first
  STREAM FILE;
- dialplan alone: the engine stopped, so Asterisk's AGI connect is refused and the line's fallback runs Answer()
  then Playback(welcome): from Newstate Up to the Newexten of that Playback (each such call is checked to have
  fallen back: UserEvent IvrFallback with AgiStatus FAILURE);
- engine's part: from the AGIExecEnd of the engine's ANSWER to the AGIExecStart of its STREAM FILE. The rest of
  the engine's figure is Asterisk's own ANSWER, which waits for the caller's first media frame (up to 500 ms,
  main/channel.c __ast_answer), as Answer() does in the dialplan alone.

Times are the Timestamp field Asterisk puts on every AMI event (manager.conf timestampevents), so the judge's own
AMI delay is not in them. `--calls` calls per side, `--concurrent` of them placed at once (then waited for, then
the next wave), after `--warmup` calls per side that are not counted. The Asterisk and the engine are stopped and
their folders removed at the end, also on Ctrl-C or an error.

    .venv/bin/python bench/first_audio.py [--calls N] [--concurrent K] [--hold S] [--warmup W]

Absolute figures depend on the machine and on whatever else runs on it: compare the two sides only within one run.
"""

from __future__ import annotations

import argparse
import math
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from types import FrameType

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.asterisk import audio
from tests.asterisk.site import Call, Site
from tests.asterisk.timing import FirstPrompt, answer_to_first_prompt, answer_to_playback

ROOT = Path(__file__).resolve().parents[1]
NUMBER = "12345"
CALL_SECONDS = 30.0  # an awaited event that has not come by then fails the run, rather than hang it

Measure = Callable[[Site, Call, float], FirstPrompt]


def asterisk_prefix() -> Path:
    """Where bin/asterisk built (or finds) Asterisk, as the tests' fixture asks it."""
    found = subprocess.run(["sh", str(ROOT / "bin" / "asterisk")], capture_output=True, text=True)
    if found.returncode != 0:
        raise SystemExit(f"no real Asterisk: {found.stderr.strip()}")
    return Path(found.stdout.strip())


def fell_back(site: Site, call: Call, timeout: float) -> FirstPrompt:
    """The dialplan alone's figure for a call, once Asterisk says the engine was not reached."""
    site.ami.wait_event(
        "UserEvent", timeout, call.since, Uniqueid=call.inbound, UserEvent="IvrFallback", AgiStatus="FAILURE"
    )
    return answer_to_playback(site, call, timeout)


def measure(site: Site, how: Measure, calls: int, concurrent: int, hold: int) -> list[FirstPrompt]:
    """`calls` calls in waves of `concurrent` placed at once; each wave has hung up before the next starts."""
    results: list[FirstPrompt] = []
    while len(results) < calls:
        wave = [site.call(NUMBER, hold=hold, heard=True) for _ in range(min(concurrent, calls - len(results)))]
        results.extend(how(site, call, CALL_SECONDS) for call in wave)
        for call in wave:
            site.hung_up(call, timeout=CALL_SECONDS + hold)
    others = sorted({r.prompt for r in results} - {"welcome"})
    if others:
        raise SystemExit(f"the first prompt was {others}, not the welcome")
    return results


def percentile(values: list[float], p: float) -> float:
    """Nearest rank: the smallest value with at least p of them at or below it."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p * len(ordered)) - 1)]


def figures(values: list[float]) -> tuple[float, float, float]:
    return statistics.median(values), percentile(values, 0.9), max(values)


def report(engine: list[FirstPrompt], alone: list[FirstPrompt], concurrent: int, version: str, lead_in: float) -> None:
    rows = {
        "engine: answer to first STREAM FILE": figures([r.total for r in engine]),
        "dialplan alone: answer to Playback": figures([r.total for r in alone]),
        "engine's part: ANSWER reply to STREAM FILE": figures([r.engine for r in engine]),
    }
    at_once = "one at a time" if concurrent == 1 else f"{concurrent} at once"
    print(f"\nfirst audio, {len(engine)} calls a side to {NUMBER}, {at_once}; {version}")
    print(f"{'':<44}{'p50':>9}{'p90':>9}{'max':>9}   (ms)")
    for name, values in rows.items():
        print(f"{name:<44}" + "".join(f"{v * 1000:9.1f}" for v in values))
    engine_row, alone_row = rows["engine: answer to first STREAM FILE"], rows["dialplan alone: answer to Playback"]
    ratios = [e / a if a > 0 else math.inf for e, a in zip(engine_row, alone_row, strict=True)]
    print(f"{'ratio engine / dialplan alone':<44}" + "".join(f"{r:9.2f}" for r in ratios))
    print(f"(then the welcome's own {lead_in:.2f} s of silence before its first syllable, on both sides)")


def run(args: argparse.Namespace) -> None:
    folder = Path(tempfile.mkdtemp(prefix="first-audio-"))
    site = Site(folder, asterisk_prefix())
    try:
        site.build()
        site.start()
        assert site.switch is not None and site.engine is not None
        version = site.switch.cli("core show version").stdout.split(" built ")[0].strip()
        sides: dict[str, list[FirstPrompt]] = {}
        for side, how in (("engine", answer_to_first_prompt), ("alone", fell_back)):
            if side == "alone":
                site.engine.stop()
            measure(site, how, args.warmup, args.concurrent, args.hold)
            sides[side] = measure(site, how, args.calls, args.concurrent, args.hold)
        welcome = audio.read_wav(ROOT / "recordings" / "zh" / "welcome.wav")
        report(sides["engine"], sides["alone"], args.concurrent, version, audio.first_sound(welcome) / audio.RATE)
    finally:
        site.stop()
        if site.switch is not None:
            site.switch.remove()
        shutil.rmtree(folder, ignore_errors=True)


def stop_on_term(signum: int, frame: FrameType | None) -> None:
    """SIGTERM ends the run as Ctrl-C does: through the cleanup."""
    raise SystemExit(128 + signum)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--calls", type=int, default=20, help="calls measured per side")
    parser.add_argument("--concurrent", type=int, default=1, help="calls placed at once (1: one at a time)")
    parser.add_argument("--hold", type=int, default=2, help="seconds before each citizen hangs up")
    parser.add_argument("--warmup", type=int, default=1, help="calls per side before the measured ones, not counted")
    args = parser.parse_args()
    if args.calls < 1 or args.concurrent < 1 or args.hold < 1 or args.warmup < 0:
        parser.error("--calls, --concurrent and --hold must be at least 1, --warmup at least 0")
    signal.signal(signal.SIGTERM, stop_on_term)
    try:
        run(args)
    except KeyboardInterrupt:
        raise SystemExit("interrupted: the Asterisk and the engine are stopped") from None


if __name__ == "__main__":
    main()
