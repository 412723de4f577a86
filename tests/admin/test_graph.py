"""`ivr graph`: the mermaid and DOT text against golden files, the SVG and PNG as `dot` draws them, and the
picture in docs/ kept in step with the shipped rules.

The golden files are tests/admin/golden/{small,shipped}.{dot,mmd}. After a change to the diagram that is meant,
write them anew and read the difference before committing:  IVR_UPDATE_GOLDEN=1 .venv/bin/pytest tests/admin
(that also redraws docs/routing.svg).
"""

from __future__ import annotations

import html
import os
import re
import sys
from pathlib import Path

import pytest

from ivr.admin.dot import to_graphviz
from ivr.admin.graph import diagram
from ivr.admin.mermaid import to_mermaid
from ivr.rules.loader import load_rules
from ivr.rules.model import Rules
from tests.admin.command import ivr
from tests.conftest import ROOT, SHIPPED_RULES, SMALL_RULES, need_tools

GOLDEN = Path(__file__).parent / "golden"
DOCS_SVG = ROOT / "docs" / "routing.svg"
UPDATE = os.environ.get("IVR_UPDATE_GOLDEN") == "1"


@pytest.fixture
def dot() -> None:
    need_tools("dot", packages="graphviz")


def golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if UPDATE:
        path.write_text(text, encoding="utf-8")
    assert path.read_text(encoding="utf-8") == text, (
        f"{path.relative_to(ROOT)} differs; if the change is meant: IVR_UPDATE_GOLDEN=1 .venv/bin/pytest tests/admin"
    )


@pytest.fixture
def small(write_rules) -> Rules:
    return load_rules(write_rules())


@pytest.mark.parametrize("fmt", ["dot", "mmd"])
def test_small_rules_match_the_golden_file(small, fmt):
    picture = diagram(small)
    golden(f"small.{fmt}", to_graphviz(picture).source if fmt == "dot" else to_mermaid(picture))


@pytest.mark.parametrize("fmt", ["dot", "mmd"])
def test_shipped_rules_match_the_golden_file(shipped, fmt):
    picture = diagram(shipped)
    golden(f"shipped.{fmt}", to_graphviz(picture).source if fmt == "dot" else to_mermaid(picture))


@pytest.mark.parametrize(("fmt", "name"), [("dot", "shipped.dot"), ("mermaid", "shipped.mmd")])
def test_the_command_prints_the_text_formats(fmt, name):
    result = ivr("graph", "--format", fmt)
    assert result.returncode == 0, result.stderr
    assert result.stdout == (GOLDEN / name).read_text(encoding="utf-8")


def test_the_format_follows_the_suffix_of_out(tmp_path):
    out = tmp_path / "routing.mmd"
    assert ivr("graph", "--out", str(out)).returncode == 0
    assert out.read_text(encoding="utf-8") == (GOLDEN / "shipped.mmd").read_text(encoding="utf-8")


def test_lines_with_the_same_route_share_a_box_by_department(shipped):
    picture = diagram(shipped)
    absorbed = [node for node in picture.nodes.values() if node.title == "18 absorbed lines"]
    assert len(absorbed) == 1
    assert ("12330 12331 12358 12365", "market-regulation") in [(r.numbers, r.department) for r in absorbed[0].rows]
    labels = {edge.label for edge in picture.edges if edge.source == absorbed[0].id}
    assert labels == {
        "until 2021-12-01 00:00: play transition-NNNNN",
        "from 2021-12-01 00:00: play stopped-NNNNN, connecting-12345",
    }
    modes = [cluster.kind for cluster in picture.clusters][:4]
    assert modes == ["main", "absorbed", "dual-transfer", "dual-merged"]


def test_emergency_numbers_stand_apart_never_routed(shipped):
    picture = diagram(shipped)
    (box,) = [node for node in picture.nodes.values() if node.kind == "emergency"]
    assert box.title == "never routed"
    assert [row.numbers for row in box.rows] == ["110", "119", "120", "122"]
    assert not [edge for edge in picture.edges if box.id in (edge.source, edge.target)]


def test_an_absorbed_line_that_stops_connecting_ends_in_a_hang_up(small):
    picture = diagram(small)
    hangups = [node.id for node in picture.nodes.values() if node.kind == "hangup"]
    assert [(edge.label, edge.kind) for edge in picture.edges if edge.target in hangups] == [
        ("from 2021-12-01 00:00: play stopped-12396", "after")
    ]


def svg_texts(svg: str) -> list[str]:
    """Every text and title of an SVG drawn by dot, which say what is drawn whatever the fonts' sizes."""
    return [html.unescape(text) for text in re.findall(r"<(?:text|title)\b[^>]*>([^<]*)</(?:text|title)>", svg)]


def test_the_svg_renders_and_names_every_routable_number(dot, shipped, tmp_path):
    out = tmp_path / "routing.svg"
    result = ivr("graph", "--format", "svg", "--out", str(out))
    assert result.returncode == 0, result.stderr
    svg = out.read_text(encoding="utf-8")
    assert svg.startswith("<?xml") and svg.rstrip().endswith("</svg>")
    drawn = set(re.findall(r"\d+", " ".join(svg_texts(svg))))
    missing = [n for n in [*shipped.lines, *shipped.by_alias, *shipped.emergency.numbers] if n not in drawn]
    assert not missing
    assert "never routed" in " ".join(svg_texts(svg))


def test_png_renders(dot, tmp_path):
    out = tmp_path / "routing.png"
    assert ivr("graph", "--out", str(out)).returncode == 0
    assert out.read_bytes().startswith(b"\x89PNG\r\n\x1a\n") and out.stat().st_size > 10_000


def test_the_picture_in_docs_is_the_shipped_rules(dot):
    """Compared by its texts and titles: the coordinates depend on the fonts of the machine that drew it."""
    fresh = to_graphviz(diagram(load_rules(SHIPPED_RULES))).pipe(format="svg").decode()
    if UPDATE:
        DOCS_SVG.write_text(fresh, encoding="utf-8")
    assert svg_texts(DOCS_SVG.read_text(encoding="utf-8")) == svg_texts(fresh), (
        "docs/routing.svg is stale: ivr graph --out docs/routing.svg"
    )


def test_without_graphviz_svg_is_a_one_line_error_and_text_still_works(tmp_path):
    no_dot = str(Path(sys.executable).parent)
    result = ivr("graph", "--format", "svg", path=no_dot)
    assert result.returncode == 1 and result.stdout == ""
    assert result.stderr == "ivr graph: Graphviz's dot program is missing: apt-get install graphviz\n"
    assert ivr("graph", "--format", "mermaid", path=no_dot).returncode == 0


def test_an_unwritable_out_is_a_one_line_error(tmp_path):
    result = ivr("graph", "--format", "dot", "--out", str(tmp_path / "missing" / "routing.dot"))
    assert result.returncode == 2 and len(result.stderr.splitlines()) == 1 and "Traceback" not in result.stderr


def test_a_broken_rules_file_exits_1(write_rules):
    path = write_rules(SMALL_RULES.replace("version: 1", "version: 2"))
    result = ivr("graph", "--rules", str(path), "--format", "mermaid")
    assert result.returncode == 1 and result.stderr.startswith(f"{path}:")
