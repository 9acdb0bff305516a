"""Nothing a model writes goes out unchecked: every sentence gets a verdict, cited or not."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from assistant.answer import Answerer
from assistant.config import LLMSettings, Settings
from assistant.ingest import ingest

from .openai_stub import StubServer

LSUV = (
    "Layer-sequential unit-variance (LSUV) initialization is a simple method for weight "
    "initialization for deep net learning. The method consists of two steps. First, "
    "pre-initialize weights of each convolution or inner-product layer with orthonormal "
    "matrices. Second, proceed from the first to the final layer, normalizing the variance of "
    "the output of each layer to be equal to one. Experiments show that very deep nets trained "
    "with LSUV match or beat complex schemes designed for very deep nets."
)
QUESTION = "How does LSUV initialization work?"


@pytest.fixture
def checked(settings: Settings, tmp_path: Path, llm_server: StubServer) -> Answerer:
    rows = [
        {"title": "All you need is a good init", "abstract": LSUV},
        {"title": "Wombat Burrows", "abstract": "We map wombat burrows with ground radar. " * 4},
        {"title": "Kangaroo Tails", "abstract": "We measure kangaroo tail forces in gait. " * 4},
    ]
    source = tmp_path / "papers.jsonl"
    source.write_text("\n".join(json.dumps(r) for r in rows))
    ingest([source], settings)
    llm = LLMSettings(base_url=llm_server.url, model="stub", max_retries=0, judge=False)
    return Answerer(settings.model_copy(update={"llm": llm}))


def test_grounding_uncited_sentences_get_the_citation_their_source_supports(
    checked: Answerer, llm_server: StubServer
) -> None:
    llm_server.script(
        "LSUV first pre-initializes the weights of each layer with orthonormal matrices. "
        "It then normalizes the variance of the output of each layer to be equal to one."
    )
    answer = checked.ask(QUESTION)
    assert [(c.support, c.citations, c.added) for c in answer.claims] == [
        ("supported", [1], True),
        ("supported", [1], True),
    ]
    assert answer.answer.count("[1]") == 2 and answer.receipt.added_citations == 2
    assert answer.grounded and answer.grounded_share == 1.0
    assert [c.n for c in answer.citations] == [1]


def test_grounding_half_marked_reply_gets_the_other_half_cited(
    checked: Answerer, llm_server: StubServer
) -> None:
    llm_server.script(
        "LSUV pre-initializes the weights of each layer with orthonormal matrices [1]. "
        "It then normalizes the variance of the output of each layer to be equal to one."
    )
    answer = checked.ask(QUESTION)
    assert [c.added for c in answer.claims] == [False, True]
    assert answer.receipt.added_citations == 1 and answer.grounded


def test_grounding_a_general_knowledge_sentence_is_uncited(
    checked: Answerer, llm_server: StubServer
) -> None:
    llm_server.script(
        "LSUV pre-initializes the weights of each layer with orthonormal matrices [1]. "
        "Python is a popular programming language created by Guido van Rossum in 1991. "
        "LSUV normalizes the variance of the output of each layer to be equal to one [1]."
    )
    answer = checked.ask(QUESTION)
    assert [c.support for c in answer.claims] == ["supported", "uncited", "supported"]
    assert answer.receipt.uncited_sentences == 1
    assert answer.grounded and answer.grounded_share == pytest.approx(0.667)


def test_grounding_a_marker_its_source_does_not_support_is_unsupported(
    checked: Answerer, llm_server: StubServer
) -> None:
    llm_server.script("Wombats dig their burrows with strong front claws in dry soil [1].")
    answer = checked.ask(QUESTION)
    assert [c.support for c in answer.claims] == ["unsupported"]
    assert not answer.grounded and answer.extracted
    # The answer extracted from the same sources, said to be so.
    assert answer.extracted.startswith("Extracted from the same abstracts:")
    assert "All you need is a good init" in answer.extracted and "[1]" in answer.extracted


def test_grounding_an_ungrounded_answer_is_not_passed_off_as_one(
    checked: Answerer, llm_server: StubServer
) -> None:
    llm_server.script(
        "Here is what I found: "
        "The Eiffel Tower in Paris was completed in 1889 for the World's Fair. "
        "The sources do not mention how long training takes."
    )
    answer = checked.ask(QUESTION)
    verdicts = {c.text: c.support for c in answer.claims}
    assert verdicts["The sources do not mention how long training takes."] is None
    assert "uncited" in verdicts.values() and answer.grounded_share == 0.0
    assert not answer.grounded and answer.extracted and "[1]" in answer.extracted
