"""The chat client against the OpenAI-compatible test server: what belongs to one call."""

from __future__ import annotations

from assistant.config import LLMSettings
from assistant.llm import ChatModel, Usage

from .openai_stub import StubServer


def test_llm_token_counts_belong_to_their_call_when_calls_overlap(
    llm_server: StubServer,
) -> None:
    """One model serves concurrent requests: a second call that starts and ends while the
    first is still streaming must not give the first its token counts (or reset them)."""
    model = ChatModel(LLMSettings(base_url=llm_server.url, model="stub", max_retries=0))
    llm_server.script("one two three four five six", "seven")
    first, second = Usage(), Usage()
    stream = model.stream([{"role": "user", "content": "a b"}], first)
    head = next(stream)
    assert "".join(model.stream([{"role": "user", "content": "c d e"}], second)) == "seven"
    assert head + "".join(stream) == "one two three four five six"
    assert (first.prompt_tokens, first.completion_tokens) == (2, 6)
    assert (second.prompt_tokens, second.completion_tokens) == (3, 1)


def test_llm_a_reply_that_breaks_off_is_a_response_error(llm_server: StubServer) -> None:
    """Whichever exception the SDK raises for a stream dropped mid-reply (newer ones raise a
    connection error), it is the reply that broke off, not a server out of reach."""
    import pytest

    from assistant.errors import LLMResponseError

    from .openai_stub import Reply

    model = ChatModel(LLMSettings(base_url=llm_server.url, model="stub", max_retries=0))
    llm_server.script(Reply(content="one two three four", cut_after=2))
    with pytest.raises(LLMResponseError, match="broke off"):
        "".join(model.stream([{"role": "user", "content": "q"}]))
