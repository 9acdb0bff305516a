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


#: Each room's floor: a room imports only rooms on lower floors, so the pipeline never reaches up
#: into an edge (the CLI, the API, the UI and their plumbing) and no import cycle can form.
FLOORS = {
    0: {"config", "records", "markup"},
    1: {"errors", "bibliography", "aspects", "listings", "names", "spelling", "themes"},
    2: {"prompts", "parse", "chunk", "mpnet", "llm", "store", "lexical", "query"},
    3: {"embed", "fusion"},
    4: {"retrieve", "cite"},
    5: {"calibrate", "extract", "conversation"},
    6: {"ingest", "answer"},
    7: {"compare", "evaluate", "collection", "gate"},
    8: {"ui", "console", "openai_compat"},
    9: {"api"},
    10: {"server"},
    11: {"cli"},
    12: {"__main__", "__init__"},
}


def _ours(path: Path) -> set[str]:
    """The package's rooms that ``path`` imports (``from assistant import mpnet`` included)."""
    tree = ast.parse(path.read_text())
    rooms: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module == "assistant":
            rooms.update(
                alias.name for alias in node.names if (PACKAGE / f"{alias.name}.py").exists()
            )
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("assistant."):
            rooms.add(node.module.split(".")[1])  # type: ignore[union-attr]
        elif isinstance(node, ast.Import):
            rooms.update(
                a.name.split(".")[1] for a in node.names if a.name.startswith("assistant.")
            )
    return rooms


def test_every_room_imports_only_rooms_below_it() -> None:
    floor = {room: level for level, rooms in FLOORS.items() for room in rooms}
    rooms = [*MODULES, PACKAGE.parent / "ui.py"]
    assert {p.stem for p in rooms} == set(floor), "a room was added or removed: give it a floor"
    upward = [
        f"{path.stem} (floor {floor[path.stem]}) imports {room} (floor {floor[room]})"
        for path in rooms
        for room in sorted(_ours(path))
        if floor[room] >= floor[path.stem] and path.stem != "__init__"
    ]
    assert not upward, upward


def test_the_ui_talks_to_a_collection_not_to_the_store_or_the_sdks() -> None:
    imported = _imports(PACKAGE.parent / "ui.py")
    assert not {n for n in imported if n.split(".")[0] in {"chromadb", "openai", "llama_index"}}
    assert not {"assistant.store", "assistant.ingest", "assistant.llm"} & imported
