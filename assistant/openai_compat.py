"""The OpenAI-compatible /v1/models and /v1/chat/completions: any OpenAI client chats with the
collection, citations and coverage riding on the response beside the text."""

from __future__ import annotations

import functools
import json
import re
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

from fastapi import APIRouter
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, ConfigDict, Field

from assistant.answer import Delta, Event, Final, check_references
from assistant.collection import Collection
from assistant.compare import Comparer, Comparison, compared_turn, is_comparison
from assistant.config import Settings
from assistant.errors import AssistantError, ResolutionError
from assistant.llm import Sampling
from assistant.markup import ChatMarkdownStream, chat_markdown, chat_text, inert_markers
from assistant.records import Answer, Turn

MODEL_ID = "assistant"


class ChatMessage(BaseModel):
    role: str
    content: str | list[dict[str, Any]] | None = None


class ChatRequest(BaseModel):
    # Other OpenAI parameters are accepted, and named back as not honoured.
    model_config = ConfigDict(extra="allow")

    model: str = MODEL_ID
    messages: list[ChatMessage] = Field(min_length=1, max_length=200)
    stream: bool = False
    temperature: float | None = Field(None, ge=0, le=2)
    max_tokens: int | None = Field(None, ge=1)
    max_completion_tokens: int | None = Field(None, ge=1)

    def sampling(self) -> Sampling:
        return Sampling(self.temperature, self.max_completion_tokens or self.max_tokens)

    def unhonoured(self, settings: Settings) -> list[str]:
        """What of the request the answer does not follow, and why, for the response to say."""
        notes = []
        if self.model not in (MODEL_ID, ""):
            notes.append(f"model: answers come from {MODEL_ID!r}, whatever the request names")
        if any(m.role in ("system", "developer") for m in self.messages):
            notes.append(
                "system messages: the assistant's own instructions keep answers to the papers"
            )
        asked = self.sampling()
        if not settings.llm.configured and (asked.temperature, asked.max_tokens) != (None, None):
            notes.append("temperature, max_tokens: no model is configured; answers are extracted")
        elif asked.max_tokens and asked.max_tokens > settings.llm.max_tokens:
            notes.append(
                f"max_tokens: capped at ASSISTANT_LLM__MAX_TOKENS ({settings.llm.max_tokens})"
            )
        passed_over = sorted(set(self.model_extra or {}) - {"stream_options", "user"})
        if passed_over:
            notes.append(f"{', '.join(passed_over)}: not supported")
        return notes


def openai_router(service: Collection) -> APIRouter:
    """The OpenAI-compatible /v1/models and /v1/chat/completions."""
    router = APIRouter()
    settings = service.settings

    @router.get("/v1/models", tags=["openai"])
    def models() -> dict[str, Any]:
        """OpenAI-compatible model list: one model, the assistant."""
        return {
            "object": "list",
            "data": [{"id": MODEL_ID, "object": "model", "created": 0, "owned_by": "assistant"}],
        }

    @router.post("/v1/chat/completions", tags=["openai"], response_model=None)
    def chat_completions(body: ChatRequest) -> dict[str, Any] | StreamingResponse:
        """OpenAI-compatible chat: the last user message is the question, earlier turns the
        history. Citations are [n] markers in the text and a "citations" field on the response
        (on the final chunk when streaming)."""
        comparer = Comparer.beside(service.answerer)
        question, history = _conversation(body.messages, comparer.asked)
        if len(question) > settings.api.max_question_chars:
            raise AssistantError(
                f"The question has {len(question)} characters; the limit is "
                f"{settings.api.max_question_chars}",
                hint="shorten it, or raise ASSISTANT_API__MAX_QUESTION_CHARS",
            )
        history = service.answerer.restored(history)
        completion = f"chatcmpl-{uuid.uuid4().hex[:24]}"
        ignored = body.unhonoured(settings)
        try:
            if comparer.asked(question, history):  # as the page's and the CLI's chat: a table
                table = comparer.compare(question, history=history)
                return _compared(table, completion, ignored, stream=body.stream)
            check_references(question, history)  # "the second one" of an answer citing one
        except ResolutionError as exc:  # said in the chat, as the page does: ask again
            return _unresolved(exc, completion, ignored, stream=body.stream)
        if not body.stream:
            answer = service.answerer.ask(question, history, sampling=body.sampling())
            return _completion(
                completion,
                chat_markdown(answer.answer + _afterword(answer)),
                usage=_usage(answer),
                **_extras(answer),
                ignored_parameters=ignored,
            )
        events = service.answerer.stream(question, history, sampling=body.sampling())
        return StreamingResponse(
            _openai_sse(events, completion, ignored), media_type="text/event-stream"
        )

    return router


def _compared(
    table: Comparison, completion: str, ignored: list[str], *, stream: bool
) -> dict[str, Any] | StreamingResponse:
    """A comparison as an OpenAI response: the table in Markdown as the text, with its papers
    named after it (as an answer's sources are), and the whole table as ``comparison``."""
    numbered = list(enumerate(table.papers, 1))
    # The table's cells are escaped by ``Comparison.markdown``; the sources line here.
    text = table.markdown() + chat_markdown(_sources_after([(n, p["title"]) for n, p in numbered]))
    extras = {
        "citations": [
            {"n": n, "paper_id": p["paper_id"], "title": p["title"]} for n, p in numbered
        ],
        "refused": False,
        "comparison": table.model_dump(mode="json"),
    }
    return _whole(text, completion, ignored, extras, stream=stream)


def _unresolved(
    exc: ResolutionError, completion: str, ignored: list[str], *, stream: bool
) -> dict[str, Any] | StreamingResponse:
    """A comparison or question whose papers could not be told apart or found, said as the
    chat's answer (the client keeps the conversation, the user names the paper again), the
    error beside it."""
    text = chat_markdown(f"⚠ {exc.describe()}")
    extras = {"citations": [], "refused": False, **exc.wire()}
    return _whole(text, completion, ignored, extras, stream=stream)


def _whole(
    text: str, completion: str, ignored: list[str], extras: dict[str, Any], *, stream: bool
) -> dict[str, Any] | StreamingResponse:
    """A text made whole before it is sent (a table, a message) as an OpenAI response, or as
    one streamed chunk."""
    extras = {
        "usage": {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0},
        **extras,
        "ignored_parameters": ignored,
    }
    if not stream:
        return _completion(completion, text, **extras)
    chunks = [
        _chunk(completion, {"role": "assistant", "content": ""}),
        _chunk(completion, {"content": text}),
        _chunk(completion, {}, "stop", **extras),
        "data: [DONE]\n\n",
    ]
    return StreamingResponse(iter(chunks), media_type="text/event-stream")


def _completion(completion: str, content: str, **extra: Any) -> dict[str, Any]:
    """A whole (not streamed) chat completion of ``content``, with ``extra`` fields."""
    message = {"role": "assistant", "content": content}
    return {
        "id": completion,
        "object": "chat.completion",
        "created": int(time.time()),
        "model": MODEL_ID,
        "choices": [{"index": 0, "message": message, "finish_reason": "stop"}],
        **extra,
    }


def _chunk(completion: str, delta: dict[str, Any], finish: str | None = None, **extra: Any) -> str:
    """One server-sent chunk of a streamed chat completion."""
    body = {
        "id": completion,
        "object": "chat.completion.chunk",
        "created": int(time.time()),
        "model": MODEL_ID,
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
        **extra,
    }
    return f"data: {json.dumps(body)}\n\n"


def _conversation(
    messages: list[ChatMessage],
    asked: Callable[[str, list[Turn]], bool] = lambda question, _: is_comparison(question),
) -> tuple[str, list[Turn]]:
    """The question and the turns before it; a user message ``asked`` reads as a comparison
    (after the turns before it: "add Shampoo") and the reply's sources make a comparison's
    turn."""

    def text(message: ChatMessage) -> str:
        if isinstance(message.content, list):
            return " ".join(str(part.get("text", "")) for part in message.content)
        return message.content or ""

    turns = [m for m in messages if m.role in ("user", "assistant")]
    if not turns or turns[-1].role != "user":
        raise AssistantError(
            "The last message must come from the user",
            hint='end "messages" with {"role": "user", "content": "your question"}',
        )
    history: list[Turn] = []
    pending: str | None = None
    for message in turns[:-1]:
        if message.role == "user":
            pending = text(message)
        elif pending is not None:
            said = text(message)
            sources = _sources(said)
            if asked(pending, history) and sources:  # its papers, as the table numbered them
                history.append(compared_turn(pending, said, [sources[n] for n in sorted(sources)]))
            else:
                history.append(Turn(question=pending, answer=said, sources=sources))
            pending = None
    return text(turns[-1]), history


def _usage(answer: Answer) -> dict[str, int]:
    prompt = answer.receipt.prompt_tokens or 0
    completion = answer.receipt.completion_tokens or 0
    return {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
    }


def _extras(answer: Answer) -> dict[str, Any]:
    """The structured fields an OpenAI response carries besides the text."""
    return {
        "citations": [c.model_dump(mode="json") for c in answer.citations],
        "refused": answer.refused,
        "grounded": answer.grounded,
        "grounded_share": answer.grounded_share,
        # An answer too little of which its sources support comes with the one extracted
        # from the same sources (None otherwise).
        "extracted": answer.extracted,
        "coverage": answer.coverage.model_dump(mode="json"),
        "receipt": answer.receipt.model_dump(mode="json"),
    }


def _afterword(answer: Answer) -> str:
    """What follows the text of an answer, for the clients that show only the text (most chat
    clients ignore the extra fields): the titles its [n] markers cite, the caveat of an answer
    the collection may not cover
    (the CLI's UNCERTAIN line, the page's banner), and for an answer its sources do not
    support, the warning the CLI prints, then the answer extracted from the same sources."""
    caveat = f"\n\nNote: {answer.coverage.caveat}" if answer.coverage.caveat else ""
    # The sources line: a chat client sends the text back as the conversation, from which the
    # next question's "it" and "the second one" are read (see :func:`_conversation`).
    caveat = _sources_after([(c.n, c.title) for c in answer.citations]) + caveat
    if answer.grounded:
        return caveat
    return f"{caveat}\n\nNot grounded: {answer.ungrounded_notice()}\n\n{answer.extracted or ''}"


#: The last line of an answer's text that names its sources: "Sources: [1] Title; [2] Title".
_SOURCES = re.compile(r"^Sources: (?P<listed>\[\d+\] .*)$", re.MULTILINE)
_SOURCE = re.compile(r"\[(?P<n>\d+)\] (?P<title>.*?)(?=; \[\d+\] |$)")


def _sources_after(numbered: list[tuple[int, str]]) -> str:
    """ "Sources: [1] Title; [2] Title" after a text, the titles' own "[n]" made inert; "" for
    no source."""
    if not numbered:
        return ""
    return "\n\nSources: " + "; ".join(f"[{n}] {inert_markers(title)}" for n, title in numbered)


def _sources(text: str) -> dict[int, str]:
    r"""The titles an earlier answer's text names for its [n] markers (its sources line), as
    they were before ``chat_markdown`` escaped them.

    >>> _sources("SOAP runs Adam [1].\n\nSources: [1] SOAP: Improving; [2] MARS \\[v2] (2024)")
    {1: 'SOAP: Improving', 2: 'MARS [v2] (2024)'}
    """
    found = list(_SOURCES.finditer(text))
    if not found:
        return {}
    listed = found[-1]["listed"]
    return {int(m["n"]): chat_text(m["title"]) for m in _SOURCE.finditer(listed)}


def _openai_sse(events: Iterator[Event], completion: str, ignored: list[str]) -> Iterator[str]:
    chunk = functools.partial(_chunk, completion)
    # Chat clients render the text as Markdown: what it quotes stays text (markup.py).
    inert = ChatMarkdownStream()
    yield chunk({"role": "assistant", "content": ""})
    try:
        for event in events:
            match event:
                case Final(answer=answer):
                    if rest := inert.feed(_afterword(answer)) + inert.end():
                        yield chunk({"content": rest})
                    extras = _extras(answer)
                    yield chunk(
                        {}, "stop", usage=_usage(answer), **extras, ignored_parameters=ignored
                    )
                case Delta(text=text):
                    if sent := inert.feed(text):
                        yield chunk({"content": sent})
    except AssistantError as exc:
        if held := inert.end():
            yield chunk({"content": held})
        yield f"data: {json.dumps(exc.wire())}\n\n"
    yield "data: [DONE]\n\n"
