"""The house rules that can be checked mechanically: who imports what, docstrings, exports."""

from __future__ import annotations

import ast
import types
from pathlib import Path

import assistant

PACKAGE = Path(assistant.__file__).parent
MODULES = sorted(PACKAGE.glob("*.py"))


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def test_only_store_imports_chromadb() -> None:
    users = {p.name for p in MODULES if any(n.split(".")[0] == "chromadb" for n in _imports(p))}
    assert users <= {"store.py"}


def test_only_llm_imports_llm_sdks() -> None:
    def is_llm(name: str) -> bool:
        return name.split(".")[0] == "openai" or name.startswith(
            ("llama_index.llms", "llama_index.core.llms")
        )

    users = {p.name for p in MODULES if any(is_llm(n) for n in _imports(p))}
    assert users <= {"llm.py"}


def test_only_config_reads_the_environment() -> None:
    readers = {
        p.name for p in MODULES if "os.environ" in p.read_text() or "getenv" in p.read_text()
    }
    assert readers <= {"config.py"}


def test_no_grab_bag_modules() -> None:
    assert not {p.stem for p in MODULES} & {"utils", "helpers", "manager", "misc"}


def test_every_module_starts_with_a_one_line_docstring() -> None:
    for path in MODULES:
        doc = ast.get_docstring(ast.parse(path.read_text()))
        assert doc, f"{path.name} has no docstring"
        assert len(doc.splitlines()[0]) <= 100, path.name


def test_all_lists_every_public_export() -> None:
    for name in assistant.__all__:  # the pipeline's names load on first use
        assert not isinstance(getattr(assistant, name), types.ModuleType), name
    public = {
        name
        for name, value in vars(assistant).items()
        if not name.startswith("_") and not isinstance(value, types.ModuleType)
    }
    assert set(assistant.__all__) == public
