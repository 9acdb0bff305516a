"""Citation rules on hand-made papers: markers, the offline check, added citations, spans."""

from __future__ import annotations

import numpy as np
import pytest

from assistant.chunk import split_sentences
from assistant.cite import (
    SUPPORTED_AT,
    WEAK_AT,
    SentenceBank,
    add_marker,
    check_answer,
    grade,
    parse_markers,
    strip_citations,
)
from assistant.embed import load_embedder
from assistant.records import Hit, Paper

from .conftest import FAST_EMBED

SOAP = Paper(
    paper_id="soap",
    title="SOAP: Improving and Stabilizing Shampoo using Adam",
    abstract=(
        "We propose SOAP, an optimizer that runs Adam in the eigenbasis of Shampoo's "
        "preconditioner. SOAP reduces the number of iterations by over 40% compared to AdamW "
        "when training language models."
    ),
)
PRUNE = Paper(
    paper_id="prune",
    title="The Unreasonable Ineffectiveness of the Deeper Layers",
    abstract=(
        "We study a simple layer-pruning strategy for popular open-weight pretrained LLMs. "
        "We find minimal degradation of performance until after a large fraction of the layers "
        "are removed."
    ),
)
HITS = [Hit(paper=SOAP, score=1.0, rank=1), Hit(paper=PRUNE, score=0.5, rank=2)]


@pytest.fixture(scope="module")
def bank() -> SentenceBank:
    return SentenceBank(load_embedder(FAST_EMBED))


def test_cite_sentences_embedded_together_are_those_embedded_a_paper_at_a_time(
    bank: SentenceBank,
) -> None:
    # An answer embeds its papers' sentences in one pass sorted by length: each vector must
    # still land on its own sentence of its own paper.
    together = SentenceBank(bank.embedder)
    together.prefetch([PRUNE, SOAP, PRUNE])
    for paper in (SOAP, PRUNE):
        sentences, vectors = together.sentences(paper)
        assert sentences == split_sentences(paper.abstract)
        np.testing.assert_allclose(vectors, bank.embedder.embed_batch(sentences), atol=1e-5)


def test_cite_markers_naming_no_source_are_removed_and_counted() -> None:
    text, removed = parse_markers("SOAP runs Adam [1] [7]. Layers go [2, 3] .", sources=2)
    assert (text, removed) == ("SOAP runs Adam [1]. Layers go [2].", 2)
    assert strip_citations(text) == "SOAP runs Adam. Layers go."


def test_cite_an_abstracts_own_brackets_are_not_read_as_markers() -> None:
    assert add_marker("As shown in [2019], it works.", 3) == "As shown in (2019), it works [3]."
    assert add_marker("No stop at the end", 1) == "No stop at the end [1]"


def test_cite_grades_follow_the_thresholds() -> None:
    assert grade(SUPPORTED_AT) == "supported"
    assert grade((SUPPORTED_AT + WEAK_AT) / 2) == "weak"
    assert grade(WEAK_AT - 0.01) == "unsupported"


def test_cite_a_claim_is_checked_against_what_it_cites(bank: SentenceBank) -> None:
    text = (
        "SOAP runs Adam in the eigenbasis of Shampoo's preconditioner [1]. "
        "Removing a large fraction of layers barely hurts LLMs [1]."
    )
    checked = check_answer(text, HITS, bank, generated=True)
    assert [c.support for c in checked.claims] == ["supported", "unsupported"]
    # A source is as supported as the weakest claim citing it.
    (source,) = checked.citations
    assert (source.n, source.support, source.supported) == (1, "unsupported", False)
    assert len(source.spans) == 2 and "eigenbasis" in source.evidence


def test_cite_an_uncited_claim_gets_the_source_that_supports_it(bank: SentenceBank) -> None:
    text = (
        "Here is what the papers say. Pretrained LLMs show minimal degradation until a large "
        "fraction of the layers are removed. Quantum gravity unifies the forces of nature."
    )
    checked = check_answer(text, HITS, bank, question="What do the papers say?", generated=True)
    lead, pruning, stray = checked.claims
    assert lead.support is None  # a lead-in claims nothing
    assert (pruning.citations, pruning.added, pruning.support) == ([2], True, "supported")
    assert (stray.citations, stray.support) == ([], "uncited")
    assert (checked.added, checked.uncited, checked.checker) == (1, 1, "offline")
    assert "are removed [2]." in checked.text
    for claim in checked.claims:  # spans point into the text as it is returned
        assert claim.span is not None
        assert checked.text[claim.span[0] : claim.span[1]] == claim.text


def test_cite_a_marker_opening_a_line_belongs_to_the_sentence_before(bank: SentenceBank) -> None:
    text = "Label:\n- **SOAP**: SOAP runs Adam in the eigenbasis of Shampoo's preconditioner.\n[1]."
    checked = check_answer(text, HITS, bank, preamble="Label:")
    cited = [c for c in checked.claims if c.citations]
    assert len(cited) == 1 and cited[0].text.endswith("[1].")
    assert cited[0].support == "supported"
    # An extracted answer's uncited lines are its own notes, not claims.
    plain = check_answer("Label:\n2 papers match; all are listed.", HITS, bank, preamble="Label:")
    assert [c.support for c in plain.claims] == [None] and plain.checker == "none"
