"""The house's floors: every import under ivr/ goes down, never up nor sideways, and no modules import each other.

A module belongs to the most specific unit below that names it (a package or a module). A unit may import its own
modules and any unit on a lower floor; units on the same floor do not import each other. The floors, bottom first:

0. `ivr.privacy`, `ivr.secrets`, `ivr.hosts`, `ivr.rules`, and the wire parsers `ivr.agi.protocol`,
   `ivr.ami.protocol`: pure, they know nothing of calls being carried out.
1. `ivr.calendar`: the official working days, with the rules' overrides.
2. `ivr.router`: the route, which reads the rules and, for a seat's office hours, the working days.
3. `ivr.agi` (executor, outcome, rating, simulator, classic), `ivr.admin`, `ivr.prompts`: what a plan does, what
   an admin reads of the rules, the recordings.
4. `ivr.tickets`, `ivr.dialplan`: stubs and their stores (stubs come from the executor), the generated dialplan
   (follows the executor's stages and outcomes).
5. `ivr.runtime`: what every long-running command shares (reactor, signals, rules reload, systemd, logs).
6. the I/O edges `ivr.serve`, `ivr.ami`, `ivr.web`, `ivr.deliver`: each a service on its own, none leans on another.
7. `ivr.deploy`, `ivr.doctor`: the admin's one-shot jobs on a live Asterisk, which talk AMI and read the store.
8. `ivr.cli`: the commands, which may use all of the above.

Imports inside functions count as well: a deferred import is still a dependency.
"""

from __future__ import annotations

import ast
from pathlib import Path

IVR = Path(__file__).resolve().parents[1] / "ivr"

FLOORS: tuple[tuple[str, ...], ...] = (
    ("ivr.privacy", "ivr.secrets", "ivr.hosts", "ivr.rules", "ivr.agi.protocol", "ivr.ami.protocol"),
    ("ivr.calendar",),
    ("ivr.router",),
    ("ivr.agi", "ivr.admin", "ivr.prompts"),
    ("ivr.tickets", "ivr.dialplan"),
    ("ivr.runtime",),
    ("ivr.serve", "ivr.ami", "ivr.web", "ivr.deliver"),
    ("ivr.deploy", "ivr.doctor"),
    ("ivr.cli",),
)


def module_names() -> dict[str, Path]:
    names = {}
    for path in IVR.rglob("*.py"):
        parts = path.relative_to(IVR.parent).with_suffix("").parts
        names[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return names


def imports(path: Path, known: set[str]) -> set[str]:
    """The ivr modules a file imports anywhere in it; `from package import module` names the module."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:
                full = f"{node.module}.{alias.name}"
                found.add(full if full in known else node.module)
    return {name for name in found if name == "ivr" or name.startswith("ivr.")}


def graph() -> dict[str, set[str]]:
    names = module_names()
    return {name: imports(path, set(names)) for name, path in names.items()}


def unit_of(module: str) -> tuple[int, str] | None:
    """(floor, unit) of the most specific unit naming the module; None for the bare `ivr` package."""
    best: tuple[int, str] | None = None
    for floor, units in enumerate(FLOORS):
        for unit in units:
            if (module == unit or module.startswith(unit + ".")) and (best is None or len(unit) > len(best[1])):
                best = (floor, unit)
    return best


def test_every_module_has_a_floor() -> None:
    assert [name for name in graph() if name != "ivr" and unit_of(name) is None] == []


def test_no_import_goes_up_or_sideways() -> None:
    wrong = []
    for module, targets in sorted(graph().items()):
        here = unit_of(module)
        for target in sorted(targets):
            there = unit_of(target)
            if here is None or there is None or there[1] == here[1]:
                continue
            if there[0] >= here[0]:
                wrong.append(f"{module} (floor {here[0]}) imports {target} (floor {there[0]})")
    assert not wrong, "\n".join(wrong)


def test_no_import_circle() -> None:
    edges = graph()
    circles: list[list[str]] = []
    state: dict[str, str] = {}

    def visit(module: str, path: list[str]) -> None:
        state[module] = "open"
        for target in sorted(edges.get(module, ())):
            if state.get(target) == "open":
                circles.append([*path[path.index(target) :], target])
            elif target not in state:
                visit(target, [*path, target])
        state[module] = "done"

    for module in sorted(edges):
        if module not in state:
            visit(module, [module])
    assert not circles, "\n".join(" -> ".join(circle) for circle in circles)
