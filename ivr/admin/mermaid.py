"""The routing diagram as mermaid text, which GitHub, GitLab and many wikis draw without Graphviz."""

from __future__ import annotations

from ivr.admin.dot import CLUSTER_COLOURS
from ivr.admin.graph import Diagram, Node

ARROWS = {"route": "-->", "after": "-->", "fallback": "-.->"}

CLASSES = {
    "queue": "fill:#d2e3fc,stroke:#1a73e8",
    "seat": "fill:#feefc3,stroke:#b06000",
    "announcement": "fill:#e8eaed,stroke:#5f6368",
    "hangup": "fill:#e8eaed,stroke:#5f6368",
    "emergency": "fill:#fce8e6,stroke:#c5221f,stroke-width:2px",
}


def to_mermaid(picture: Diagram) -> str:
    title = picture.title.replace("\\", "\\\\").replace('"', '\\"')
    out = ["---", f'title: "{title}"', "---", "flowchart LR"]
    for cluster in picture.clusters:
        out.append(f'  subgraph {cluster.id}["{_text(cluster.title)}"]')
        out.extend(f"    {_node(picture.nodes[node_id])}" for node_id in cluster.nodes)
        out.append("  end")
        out.append(f"  style {cluster.id} fill:{CLUSTER_COLOURS[cluster.kind]}")
    clustered = {node_id for cluster in picture.clusters for node_id in cluster.nodes}
    out.extend(f"  {_node(node)}" for node in picture.nodes.values() if node.id not in clustered)
    for edge in picture.edges:
        arrow = ARROWS[edge.kind]
        label = f'|"{_text(edge.label)}"|' if edge.label else ""
        out.append(f"  {edge.source} {arrow}{label} {edge.target}")
    for kind, style in CLASSES.items():
        members = [node.id for node in picture.nodes.values() if node.kind == kind]
        if members:
            out.append(f"  classDef {kind} {style}")
            out.append(f"  class {','.join(members)} {kind}")
    return "\n".join(out) + "\n"


def _node(node: Node) -> str:
    parts = [f"<b>{_text(node.title)}</b>"] if node.title else []
    parts.extend(_text(text) for text in node.lines)
    parts.extend(f"<b>{_text(row.numbers)}</b> {_text(row.department)}" for row in node.rows)
    return f'{node.id}["{"<br/>".join(parts)}"]'


def _text(text: str) -> str:
    """Mermaid's entity codes for what would end a quoted label or read as markup."""
    return text.replace("&", "#amp;").replace('"', "#quot;").replace("<", "#lt;").replace(">", "#gt;")
