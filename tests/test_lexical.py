"""The BM25 index rebuilt after a write from the index before it equals one built afresh."""

from __future__ import annotations

import numpy as np

from assistant.lexical import LexicalIndex, fingerprint
from assistant.records import Paper

TOPICS = [
    ("Layer pruning for large language models", "We prune whole layers of large language models."),
    ("Diffusion policies for robot manipulation", "A diffusion policy plans robot arm motions."),
    ("Shampoo with Adam in the eigenbasis", "SOAP runs Adam in Shampoo's preconditioner basis."),
    ("Wombat burrow mapping", "We map wombat burrows with ground-penetrating radar."),
    ("Glacier melt forecasting", "A graph network forecasts glacier melt from imagery."),
]
QUERIES = ["pruning layers of language models", "robot diffusion", "wombat radar", "Adam basis"]


def _papers(rows: list[tuple[str, str]]) -> list[Paper]:
    return [Paper.create(title, abstract) for title, abstract in rows]


def _same(a: LexicalIndex, b: LexicalIndex) -> None:
    assert a.fingerprint == b.fingerprint
    for query in QUERIES:
        found_a, found_b = a.search(query, 5), b.search(query, 5)
        assert [p.paper_id for p, _ in found_a] == [p.paper_id for p, _ in found_b], query
        assert np.allclose([s for _, s in found_a], [s for _, s in found_b]), query
        for paper in a.papers:
            assert a.coverage(query, paper) == b.coverage(query, paper)
            assert a.names(query, paper) == b.names(query, paper)


def test_a_rebuild_from_the_previous_index_equals_a_fresh_build() -> None:
    before = _papers(TOPICS[:4])
    previous = LexicalIndex.build(before)
    added = [*before, *_papers(TOPICS[4:])]
    _same(LexicalIndex.build(added, previous), LexicalIndex.build(added))
    # A changed abstract is tokenised again, not taken from the index before.
    changed = [*before[:3], Paper.create(TOPICS[3][0], "Wombats dig burrows; we count them.")]
    rebuilt = LexicalIndex.build(changed, previous)
    _same(rebuilt, LexicalIndex.build(changed))
    assert rebuilt.search("radar", 5) == []
    removed = before[1:]
    _same(LexicalIndex.build(removed, previous), LexicalIndex.build(removed))
    # Chained: each rebuild carries what the one before it tokenised.
    chained = LexicalIndex.build(removed, LexicalIndex.build(added, previous))
    _same(chained, LexicalIndex.build(removed))
    assert chained.fingerprint == fingerprint(removed)


def test_an_index_loaded_from_disk_rebuilds_from_scratch(tmp_path: object) -> None:
    from pathlib import Path

    folder = Path(str(tmp_path))
    papers = _papers(TOPICS)
    LexicalIndex.build(papers[:3]).save(folder)
    loaded = LexicalIndex.load(folder)
    assert loaded is not None
    _same(LexicalIndex.build(papers, loaded), LexicalIndex.build(papers))
