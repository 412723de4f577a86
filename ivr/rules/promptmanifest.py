"""The prompt manifest the rules file names (`prompt_manifest`): every prompt's name and its Chinese and English
text. Its own file, read with its own Reader so its problems carry its own name; they join the rules file's list, so
one report holds both files' problems."""

from __future__ import annotations

from pathlib import Path

from yaml.nodes import Node

from ivr.rules.fields import NAME
from ivr.rules.model import Prompt
from ivr.rules.yamlsource import Problems, Reader, RulesError, read_yaml


class PromptManifest:
    """`recordings` is the folder the recordings are in: the manifest's own, or the rules file's when none is named."""

    def __init__(self, reader: Reader, rules_path: Path) -> None:
        self.r = reader
        self.rules_path = rules_path
        self.recordings = rules_path.parent

    def read(self, node: Node | None) -> dict[str, Prompt]:
        if node is None:
            return {}
        relative = self.r.text(node, "prompt_manifest")
        if relative is None:
            return {}
        manifest = self.rules_path.parent / relative
        self.recordings = manifest.parent
        try:
            root = read_yaml(manifest)
        except RulesError as exc:
            self.r.problems.items.extend(exc.problems)
            return {}
        reader = Reader(Problems(str(manifest)))
        prompts: dict[str, Prompt] = {}
        top = reader.fields(root, "prompt manifest", required=("prompts",))
        if top and "prompts" in top:
            for name, key_node, body in reader.entries(top["prompts"], "prompts"):
                if not NAME.match(name):
                    reader.problems.add(key_node, f"prompt name {name!r} must be lower-case letters, digits, - and _")
                fields = reader.fields(body, f"prompt {name!r}", required=("zh", "en"))
                if fields and "zh" in fields and "en" in fields:
                    zh, en = reader.text(fields["zh"], "zh"), reader.text(fields["en"], "en")
                    if zh and en:
                        prompts[name] = Prompt(name, zh.strip(), en.strip())
        self.r.problems.items.extend(reader.problems.items)
        return prompts
