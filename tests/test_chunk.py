"""Chunking invariants: within budget, non-empty, in order, covering the text, stable ids."""

from __future__ import annotations

import re
from collections import Counter

from hypothesis import given, settings
from hypothesis import strategies as st

from assistant.chunk import chunk_paper, count_tokens
from assistant.config import ChunkSettings
from assistant.parse import expand_paths, parse_file
from assistant.records import Paper

from .conftest import DATA

_word = st.one_of(
    st.sampled_from(
        [
            "attention",
            "model",
            "data",
            "we",
            "show",
            "learning",
            "the",
            "of",
            "results",
            "3.5",
            "x-ray",
            "naïve",
            "e.g.",
            "et al.",
        ]
    ),
    st.text(st.characters(whitelist_categories=("L", "N")), min_size=1, max_size=15),
)
_sentence = st.lists(_word, min_size=3, max_size=40).map(lambda ws: " ".join(ws) + ".")
# Distinct sentences: with a repeated sentence, where a chunk "came from" is ambiguous.
_abstract = st.lists(_sentence, min_size=1, max_size=25, unique=True).map(" ".join)


def _invariants(paper: Paper, budget: ChunkSettings) -> None:
    chunks = chunk_paper(paper, budget)
    assert chunks, "every paper has at least one chunk"
    assert [c.chunk_id for c in chunks] == [f"{paper.paper_id}:{i}" for i in range(len(chunks))]
    position = 0
    for chunk in chunks:
        assert chunk.text.strip()
        assert chunk.tokens == count_tokens(chunk.text) <= budget.size
        found = paper.abstract.find(chunk.text, position)
        assert found >= 0, "a chunk is a verbatim piece of the abstract, after the one before"
        position = found
    # Nothing is dropped: every visible character of the abstract is in the chunks at least as
    # often (overlap repeats some; a long word may be cut between two chunks).
    visible = Counter(ch for ch in paper.abstract if not ch.isspace())
    kept = Counter(ch for c in chunks for ch in c.text if not ch.isspace())
    assert not visible - kept


@settings(max_examples=60, deadline=None)
@given(_abstract, st.sampled_from([(200, 20), (64, 8), (120, 0)]))
def test_chunk_paper_invariants_hold(abstract: str, budget: tuple[int, int]) -> None:
    paper = Paper.create("A title", abstract)
    _invariants(paper, ChunkSettings(size=budget[0], overlap=budget[1]))


@settings(max_examples=30, deadline=None)
@given(_abstract)
def test_chunk_paper_is_deterministic(abstract: str) -> None:
    paper = Paper.create("A title", abstract)
    assert chunk_paper(paper, ChunkSettings()) == chunk_paper(paper, ChunkSettings())


def test_chunk_real_long_abstract_splits_within_budget() -> None:
    abstract = ("Transformers model long sequences with attention and we study how. " * 40).strip()
    chunks = chunk_paper(Paper.create("Long", abstract), ChunkSettings())
    assert len(chunks) >= 3 and all(c.tokens <= 200 for c in chunks)


def test_chunk_word_cut_at_a_boundary_is_still_covered() -> None:
    abstract = "attention " * 17 + "3.5 x-ray 0Ò0Ò0Òࠂ 0A0A0AÅÒÒࠂ𐀀𐀀𠂀."
    _invariants(Paper.create("A title", abstract), ChunkSettings(size=64, overlap=8))


def test_chunks_of_the_sample_collection_do_not_end_at_an_abbreviation() -> None:
    papers = [p for f in expand_paths([DATA]) for p in parse_file(f).papers]
    budget = ChunkSettings(size=96, overlap=8)  # small chunks: many sentence boundaries
    ends = [c.text[-12:] for p in papers for c in chunk_paper(p, budget)]
    assert len(ends) > 1000
    assert [e for e in ends if re.search(r"\b(e\.g|i\.e|al|St|vs|cf)\.$", e)] == []
