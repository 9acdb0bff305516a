"""Prompt templates: every shipped one loads and fills; a wrong placeholder names file and name."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.config import Settings
from assistant.errors import PromptError
from assistant.prompts import PLACEHOLDERS, load_prompt

from .conftest import ROOT


def test_prompts_every_shipped_template_fills_with_its_placeholders() -> None:
    settings = Settings(prompts_dir=ROOT / "prompts")
    assert {p.stem for p in (ROOT / "prompts").glob("*.txt")} == set(PLACEHOLDERS)
    for name, wanted in PLACEHOLDERS.items():
        prompt = load_prompt(settings, name)
        filled = prompt.fill(**{n: f"<<{n}>>" for n in wanted})
        assert all(f"<<{n}>>" in filled for n in wanted) and "$" not in filled, name
        assert len(prompt.digest) == 16


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("Question: $qestion", "uses $qestion, which expand is not filled with"),
        ("Question: none", "never uses $question"),
        ("Costs $5: $question", "has a '$' that starts no placeholder"),
    ],
)
def test_prompts_a_wrong_placeholder_names_the_file_and_the_name(
    tmp_path: Path, text: str, message: str
) -> None:
    (tmp_path / "expand.txt").write_text(text)
    with pytest.raises(PromptError) as caught:
        load_prompt(Settings(prompts_dir=tmp_path), "expand")
    assert message in str(caught.value) and str(tmp_path / "expand.txt") in str(caught.value)
    assert caught.value.hint


def test_prompts_a_literal_dollar_is_written_twice(tmp_path: Path) -> None:
    (tmp_path / "expand.txt").write_text("Budget: $$5. $question")
    prompt = load_prompt(Settings(prompts_dir=tmp_path), "expand")
    assert prompt.fill(question="Why?") == "Budget: $5. Why?"


def test_prompts_a_missing_file_says_where_to_point(tmp_path: Path) -> None:
    with pytest.raises(PromptError, match="Cannot read the prompt template") as caught:
        load_prompt(Settings(prompts_dir=tmp_path), "judge")
    assert "ASSISTANT_PROMPTS_DIR" in (caught.value.hint or "")
