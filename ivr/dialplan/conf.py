"""Writing Asterisk configuration text: comments, sections, `exten =>` / `same =>` lines.

A `;` starts a comment anywhere in an Asterisk configuration line, so every `;` in application data is written
escaped (`\\;`); nothing else in what the generator writes is special to the parser.
"""

from __future__ import annotations


def escape(data: str) -> str:
    return data.replace(";", "\\;")


class Conf:
    """Lines of one configuration file, in the order they are added."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    def comment(self, text: str) -> None:
        self.lines.extend(f"; {part}" if part else ";" for part in text.split("\n"))

    def blank(self) -> None:
        if self.lines and self.lines[-1]:
            self.lines.append("")

    def section(self, name: str, comment: str = "", options: str = "") -> None:
        """`[name]`, or `[name](options)`: `!` for a template, a template's name to inherit it, `+` to add to an
        earlier section of the same name."""
        self.blank()
        if comment:
            self.comment(comment)
        self.lines.append(f"[{name}]({options})" if options else f"[{name}]")

    def setting(self, key: str, value: str | int, note: str = "") -> None:
        self.lines.append(f"{key} = {value}{_note(note)}")

    def raw(self, line: str) -> None:
        self.lines.append(line)

    def exten(self, name: str, app: str, label: str = "", note: str = "") -> None:
        """The first priority of an extension; `app` is `Name(data)`, `note` a comment at the end of the line."""
        self.lines.append(f"exten => {name},1{_label(label)},{escape(app)}{_note(note)}")

    def same(self, app: str, label: str = "", note: str = "") -> None:
        """The next priority of the extension above."""
        self.lines.append(f" same => n{_label(label)},{escape(app)}{_note(note)}")

    def text(self) -> str:
        return "\n".join(self.lines).rstrip("\n") + "\n"


def _label(label: str) -> str:
    return f"({label})" if label else ""


def _note(note: str) -> str:
    return f"  ; {note}" if note else ""
