"""Prompt templates: read from the prompts folder and filled one way, with string.Template."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from string import Template

from assistant.config import Settings
from assistant.errors import PromptError

#: The placeholders each prompt is filled with. A template is checked against them when it is
#: read: one that leaves out ``$sources`` (or misspells it) would have the model answer from
#: nothing, silently.
PLACEHOLDERS: dict[str, frozenset[str]] = {
    "answer": frozenset({"sources"}),
    "compare": frozenset({"sources", "aspects"}),
    "condense": frozenset({"history", "question"}),
    "expand": frozenset({"question"}),
    "filters": frozenset({"fields", "venues", "question"}),
    "judge": frozenset({"claims"}),
}


@dataclass(frozen=True)
class Prompt:
    """One template file: its text, where it was read from and a short digest of it.

    >>> Prompt("expand", "Question: $question", "expand.txt", "").fill(question="Why?")
    'Question: Why?'
    """

    name: str
    text: str
    path: str
    digest: str

    def fill(self, **values: str) -> str:
        """The template with every ``$name`` replaced by ``values[name]``."""
        template = Template(self.text)
        _check(self.name, self.path, template, frozenset(values))
        return template.substitute(values)


def _check(name: str, path: str, template: Template, wanted: frozenset[str]) -> None:
    if not template.is_valid():
        raise PromptError(
            f"The prompt template {path} has a '$' that starts no placeholder",
            hint="write a literal dollar sign as '$$'",
        )
    used = frozenset(template.get_identifiers())
    expected = ", ".join(f"${n}" for n in sorted(wanted)) or "no placeholder"
    for unknown in sorted(used - wanted):
        raise PromptError(
            f"The prompt template {path} uses ${unknown}, which {name} is not filled with",
            hint=f"{name}.txt may use {expected}; write a literal dollar sign as '$$'",
        )
    for missing in sorted(wanted - used):
        raise PromptError(
            f"The prompt template {path} never uses ${missing}",
            hint=f"put ${missing} where {name}.txt should show it ({name}.txt uses {expected})",
        )


def load_prompt(settings: Settings, name: str) -> Prompt:
    """The template ``<prompts_dir>/<name>.txt``, checked against the placeholders it is filled
    with (PromptError naming the file and the placeholder otherwise)."""
    path = settings.prompts_dir / f"{name}.txt"
    try:
        text = path.read_text()
    except OSError as exc:
        raise PromptError(
            f"Cannot read the prompt template {path} ({exc.strerror})",
            hint="set ASSISTANT_PROMPTS_DIR to a folder holding the prompt templates, or "
            "reinstall the package (it ships them in assistant/prompts/)",
        ) from exc
    _check(name, str(path), Template(text), PLACEHOLDERS[name])
    return Prompt(name, text, str(path), hashlib.sha256(text.encode()).hexdigest()[:16])
