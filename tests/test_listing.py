"""Questions that only list papers by metadata show every match, or say how many were left out."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from assistant.answer import Answerer
from assistant.cli import main
from assistant.config import RetrievalSettings, Settings
from assistant.ingest import ingest

ANIMALS = ["wombat", "quokka", "emu", "dingo", "numbat", "bilby", "echidna", "platypus"]
ANIMALS += ["possum", "kookaburra", "cassowary", "dugong"]


@pytest.fixture
def venue_store(settings: Settings, tmp_path: Path) -> Settings:
    rows = [
        {
            "title": f"{animal.title()} Behaviour in the Wild",
            "abstract": f"We study how the {animal} behaves in the wild with field cameras. " * 3,
            "venue": "ICLR 2026",
            "date": f"2026-01-{i + 1:02d}",
        }
        for i, animal in enumerate(ANIMALS)
    ]
    rows += [
        {
            "title": f"{name} Dynamics",
            "abstract": f"We model {name.lower()} dynamics with differential equations. " * 3,
            "venue": "NeurIPS 2025",
            "date": "2025-12-01",
        }
        for name in ("Glacier", "Dune", "Tide")
    ]
    source = tmp_path / "papers.jsonl"
    source.write_text("\n".join(json.dumps(r) for r in rows))
    ingest([source], settings)
    return settings


def test_listing_answer_shows_every_match(venue_store: Settings) -> None:
    answer = Answerer(venue_store).ask("Which papers are from ICLR 2026?")
    assert "12 papers match" in answer.answer and "all are listed" in answer.answer
    assert sorted(c.n for c in answer.citations) == list(range(1, 13))


def test_listing_answer_says_how_many_it_left_out(venue_store: Settings) -> None:
    capped = venue_store.model_copy(update={"retrieval": RetrievalSettings(list_max=5)})
    answer = Answerer(capped).ask("Which papers are from ICLR 2026?")
    assert "12 papers match" in answer.answer and "5 are listed" in answer.answer
    assert len(answer.citations) == 5


def test_listing_search_in_the_cli_lists_all_without_fake_scores(venue_store: Settings) -> None:
    store = ["--store", str(venue_store.store.path)]
    env = {"ASSISTANT_EMBED__MODEL": "minilm"}
    shown = CliRunner().invoke(
        main, [*store, "search", "Which papers are from ICLR 2026?"], env=env
    )
    assert shown.exit_code == 0, shown.output
    assert "12 papers match; 12 listed." in shown.output and "0.000" not in shown.output
    cut = CliRunner().invoke(
        main, [*store, "search", "-k", "3", "Which papers are from ICLR 2026?"], env=env
    )
    assert "12 papers match; 3 listed (-k 12 shows them all)." in cut.output
