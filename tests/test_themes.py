"""The collection's themes: papers grouped by meaning, each group named by its own words."""

from __future__ import annotations

import numpy as np

from assistant.records import Paper
from assistant.themes import themes

_WOMBATS = [
    "Wombat burrows in dry forests",
    "Burrow depth of wombat colonies",
    "Wombat diet across seasons",
    "Night foraging of the wombat",
    "Wombat burrows and soil moisture",
    "How wombat colonies share burrows",
]
_ANNEALING = [
    "Quantum annealing for scheduling",
    "Noise in quantum annealing hardware",
    "Quantum annealing of spin glasses",
    "Embedding graphs for quantum annealing",
    "Quantum annealing schedules compared",
    "Reverse quantum annealing in practice",
]


def _papers() -> tuple[list[Paper], dict[str, np.ndarray]]:
    rng = np.random.default_rng(7)
    papers: list[Paper] = []
    vectors: dict[str, np.ndarray] = {}
    for axis, titles in enumerate((_WOMBATS, _ANNEALING)):
        # ten of each: the six, and four of them again (a word both groups use names neither)
        for i, title in enumerate(titles + [f"{t}, revisited" for t in titles[:4]]):
            paper = Paper(
                paper_id=f"{axis}-{i}",
                title=title,
                abstract=f"We study {title.lower()}. Our results hold in the field.",
            )
            vector = np.zeros(16, dtype=np.float32)
            vector[axis] = 1.0
            papers.append(paper)
            vectors[paper.paper_id] = vector + rng.normal(0, 0.05, 16).astype(np.float32)
    return papers, vectors


def test_papers_close_in_meaning_form_a_theme_named_by_their_own_words() -> None:
    papers, vectors = _papers()
    found = themes(papers, vectors)
    assert [theme.size for theme in found] == [10, 10]
    by_group = {theme.papers[0][0]: theme for theme in found}
    # Each theme holds only its own papers, and is named by what they share and the others
    # do not ("study", "results" and "field" are in every abstract, "revisited" in both).
    assert all(pid.startswith("0-") for pid in by_group["0"].papers)
    assert all(pid.startswith("1-") for pid in by_group["1"].papers)
    assert "quantum annealing" in by_group["1"].words
    assert any("wombat" in word for word in by_group["0"].words)
    assert not {"study", "results", "field", "revisited"} & {w for t in found for w in t.words}
    # The same papers in another order give the same themes.
    again = themes(list(reversed(papers)), vectors)
    assert {tuple(t.words) for t in again} == {tuple(t.words) for t in found}


def test_too_few_papers_have_no_themes() -> None:
    papers, vectors = _papers()
    assert themes(papers[:19], vectors) == []
    # Papers without a vector are not grouped.
    assert themes(papers, {}) == []
