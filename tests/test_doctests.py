"""The worked examples in the package's docstrings hold (each module's doctests)."""

from __future__ import annotations

import doctest
import importlib
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "assistant"
MODULES = sorted(p.stem for p in PACKAGE.glob("*.py") if p.stem not in {"__init__", "__main__"})


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples_hold(name: str) -> None:
    module = importlib.import_module(f"assistant.{name}")
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert result.failed == 0, f"{result.failed} of {result.attempted} examples in {name} fail"


def test_the_examples_are_found() -> None:
    """A module whose examples stopped being collected would pass the test above silently."""
    found = sum(
        doctest.testmod(importlib.import_module(f"assistant.{n}"), report=False).attempted
        for n in ("markup", "records", "console", "prompts", "bibliography")
    )
    assert found >= 10
