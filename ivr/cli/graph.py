"""`ivr graph`: every route of the rules on one picture (SVG or PNG by Graphviz's `dot`, or DOT or mermaid text)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import graphviz

from ivr.admin.dot import to_graphviz
from ivr.admin.graph import diagram
from ivr.admin.mermaid import to_mermaid
from ivr.cli.route import UsageError
from ivr.rules.loader import load_rules

FORMATS = ("svg", "png", "dot", "mermaid")
SUFFIXES = {".svg": "svg", ".png": "png", ".dot": "dot", ".gv": "dot", ".mmd": "mermaid", ".mermaid": "mermaid"}


def add_parser(commands: Any, default_rules: str) -> None:
    parser = commands.add_parser(
        "graph",
        help="draw every number's route: prompts, seat or queue, fallbacks",
        description="One diagram of the rules: every number (lines with the same route share a box, a row per "
        "department), grouped by mode, then the seats, queues and final announcements with their fallbacks; the "
        "emergency numbers apart, never routed. SVG and PNG need Graphviz (apt-get install graphviz); DOT and "
        "mermaid are text and need nothing.",
    )
    parser.add_argument("--rules", default=default_rules, help=f"rules file (default: {default_rules})")
    parser.add_argument(
        "--format",
        choices=FORMATS,
        help="svg, png, dot or mermaid (default: from --out's suffix: .svg .png .dot .gv .mmd .mermaid; else svg)",
    )
    parser.add_argument("--out", metavar="FILE", help="write to FILE (default: standard output)")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    rules = load_rules(args.rules)
    chosen = args.format or (SUFFIXES.get(Path(args.out).suffix.lower()) if args.out else None) or "svg"
    if chosen == "png" and args.out is None and sys.stdout.isatty():
        raise UsageError("--format png writes binary data: give --out FILE, or redirect standard output")
    picture = diagram(rules)
    if chosen == "mermaid":
        body = to_mermaid(picture).encode()
    elif chosen == "dot":
        body = to_graphviz(picture).source.encode()
    else:
        try:
            body = to_graphviz(picture).pipe(format=chosen)
        except graphviz.ExecutableNotFound:
            print("ivr graph: Graphviz's dot program is missing: apt-get install graphviz", file=sys.stderr)
            return 1
        except graphviz.CalledProcessError as exc:
            print(f"ivr graph: dot failed: {exc.stderr.decode(errors='replace').strip()}", file=sys.stderr)
            return 1
    if args.out is None:
        sys.stdout.buffer.write(body)
        sys.stdout.buffer.flush()
        return 0
    try:
        Path(args.out).write_bytes(body)
    except OSError as exc:
        raise UsageError(f"--out {args.out}: {exc.strerror or exc}") from None
    return 0
