"""The routing diagram as a Graphviz graph (the `graphviz` package writes the DOT text and runs `dot` for SVG and
PNG). Colours tell modes and kinds of destination apart; fallbacks are dashed, so the first route stands out.
Labels are ASCII names and English: `dot` sizes boxes with the fonts of the machine that draws them, and Debian
has no Chinese font by default."""

from __future__ import annotations

from html import escape

import graphviz

from ivr.admin.graph import Diagram, Node

FONT = "Helvetica,Arial,sans-serif"

CLUSTER_COLOURS = {
    "main": "#e8f0fe",
    "absorbed": "#f1f3f4",
    "dual-transfer": "#fef7e0",
    "dual-merged": "#e6f4ea",
    "queue": "#ffffff",
    "seat": "#ffffff",
    "announcement": "#ffffff",
    "emergency": "#fce8e6",
}

NODE_STYLES = {
    "lines": {"shape": "box", "style": "rounded,filled", "fillcolor": "#ffffff"},
    "queue": {"shape": "box", "style": "rounded,filled", "fillcolor": "#d2e3fc"},
    "seat": {"shape": "box", "style": "rounded,filled", "fillcolor": "#feefc3"},
    "announcement": {"shape": "note", "style": "filled", "fillcolor": "#e8eaed"},
    "hangup": {"shape": "octagon", "style": "filled", "fillcolor": "#e8eaed"},
    "emergency": {"shape": "box", "style": "filled", "fillcolor": "#ffffff", "color": "#c5221f", "penwidth": "2"},
}

EDGE_STYLES = {
    "route": {"color": "#202124"},
    "after": {"color": "#5f6368", "fontcolor": "#5f6368"},
    "fallback": {"color": "#b06000", "fontcolor": "#b06000", "style": "dashed"},
}


def to_graphviz(picture: Diagram) -> graphviz.Digraph:
    graph = graphviz.Digraph(
        "routing",
        graph_attr={
            "rankdir": "LR",
            "label": picture.title,
            "labelloc": "t",
            "fontname": FONT,
            "fontsize": "16",
            "newrank": "true",
            "nodesep": "0.25",
            "ranksep": "0.9",
        },
        node_attr={"fontname": FONT, "fontsize": "11", "margin": "0.12,0.06"},
        edge_attr={"fontname": FONT, "fontsize": "10"},
    )
    for cluster in picture.clusters:
        with graph.subgraph(name=f"cluster_{cluster.id}") as sub:
            sub.attr(
                label=cluster.title,
                style="rounded,filled",
                fillcolor=CLUSTER_COLOURS[cluster.kind],
                color="#c5221f" if cluster.kind == "emergency" else "#9aa0a6",
                fontsize="12",
            )
            for node_id in cluster.nodes:
                node = picture.nodes[node_id]
                sub.node(node.id, _html(node), **NODE_STYLES[node.kind])
    for node in picture.nodes.values():
        if not any(node.id in cluster.nodes for cluster in picture.clusters):
            graph.node(node.id, _html(node), **NODE_STYLES[node.kind])
    with graph.subgraph() as column:
        # Every number on the left, however far its first destination is: the picture reads left to right.
        column.attr(rank="same")
        for node in picture.nodes.values():
            if node.kind in ("lines", "emergency"):
                column.node(node.id)
    for edge in picture.edges:
        graph.edge(edge.source, edge.target, label=escape(edge.label), **EDGE_STYLES[edge.kind])
    return graph


def _html(node: Node) -> str:
    """A Graphviz HTML-like label: the title in bold, then the text lines, then one row per department."""
    rows = []
    if node.title:
        rows.append(f'<tr><td colspan="2"><b>{escape(node.title)}</b></td></tr>')
    rows.extend(f'<tr><td colspan="2">{escape(text)}</td></tr>' for text in node.lines)
    rows.extend(
        f'<tr><td align="left"><b>{escape(row.numbers)}</b></td><td align="left">{escape(row.department)}</td></tr>'
        for row in node.rows
    )
    return f'<<table border="0" cellborder="0" cellspacing="0" cellpadding="1">{"".join(rows)}</table>>'
