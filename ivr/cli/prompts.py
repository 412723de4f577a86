"""`ivr prompts build`: generate the Mandarin recordings of the prompt manifest, leaving studio recordings alone."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from ivr.prompts.checks import check_recordings
from ivr.prompts.speech import ToolError
from ivr.rules.loader import load_rules


def add_parser(commands: Any, default_rules: str) -> None:
    parser = commands.add_parser(
        "prompts",
        help="generate the prompt recordings",
        description="Work on the recordings of the prompts in the rules' prompt manifest.",
    )
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    build = actions.add_parser(
        "build",
        help="speak every prompt without a studio recording into DIR/zh/<name>.wav and .alaw",
        description="Speak each prompt of the manifest with espeak-ng (its text read as pinyin) and write it as "
        "8 kHz mono 16-bit .wav and raw A-law .alaw in DIR/zh/. Only prompts that are missing, or were generated "
        "from another text, are generated; a file the build did not write (a studio recording) is never touched. "
        "The build record DIR/zh/.generated.json says which files were generated. Then every recording is checked "
        "as `ivr check` does: exit code 1 when one has a problem.",
    )
    build.add_argument("--rules", default=default_rules, help=f"rules file (default: {default_rules})")
    build.add_argument(
        "--out", metavar="DIR", type=Path, help="recordings folder (default: the prompt manifest's folder)"
    )
    build.add_argument(
        "--force-generated",
        action="store_true",
        help="regenerate every generated prompt, even one whose text did not change (studio recordings stay)",
    )
    build.set_defaults(run=run_build)


def run_build(args: argparse.Namespace) -> int:
    # Imported here: pypinyin's dictionaries take a quarter of a second to load, which every other command would pay.
    from ivr.prompts.build import build_prompts

    rules = load_rules(args.rules)
    recordings = args.out or rules.recordings
    try:
        report = build_prompts(rules.prompts, recordings, force=args.force_generated)
    except (ToolError, OSError) as exc:  # OSError: the folder cannot be made or written
        print(f"ivr prompts build: {exc}", file=sys.stderr)
        return 1
    for name in report.generated:
        print(f"generated {name}")
    studio = f" ({', '.join(report.studio)})" if report.studio else ""
    print(
        f"{report.folder}: {len(report.generated)} generated, {len(report.unchanged)} unchanged, "
        f"{len(report.studio)} studio recordings kept{studio}"
    )
    problems = check_recordings(rules.prompts, recordings)
    for problem in problems:
        print(problem, file=sys.stderr)
    return 1 if problems else 0
