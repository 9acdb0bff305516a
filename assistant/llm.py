"""The chat model behind any OpenAI-compatible server; the only module that imports openai."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from assistant.config import LLMSettings
from assistant.errors import LLMResponseError, LLMUnavailableError

Message = dict[str, str]  # {"role": "system" | "user" | "assistant", "content": ...}

_OFFLINE_HINT = "or unset ASSISTANT_LLM__BASE_URL / OPENAI_API_KEY to answer offline (extractive)"


@dataclass
class Usage:
    """Token counts of one call, as the server reported them (None when it did not)."""

    prompt_tokens: int | None = None
    completion_tokens: int | None = None


@dataclass
class ChatModel:
    """Streams chat completions from the configured server, with our errors instead of the SDK's.

    The openai SDK is used directly rather than llama-index's ``OpenAILike`` wrapper: we need
    the server's usage chunk, per-call timeouts and the SDK's own exception types to translate.
    """

    settings: LLMSettings
    base_url: str | None = None
    usage: Usage = field(default_factory=Usage)
    _client: Any = None

    def __post_init__(self) -> None:
        import openai

        self.base_url = self.base_url or self.settings.base_url
        key = self.settings.api_key.get_secret_value() if self.settings.api_key else None
        self._client = openai.OpenAI(
            base_url=self.base_url,
            # Local servers (llama.cpp, Ollama, vLLM) accept any key; the SDK insists on one.
            api_key=key or "not-needed",
            timeout=self.settings.timeout_s,
            max_retries=self.settings.max_retries,
        )

    @property
    def name(self) -> str:
        return self.settings.model

    @property
    def where(self) -> str:
        return self.base_url or "https://api.openai.com/v1"

    def stream(self, messages: list[Message]) -> Iterator[str]:
        """Yield the reply's text as it arrives; ``self.usage`` is set when the stream ends."""
        import httpx
        import openai

        self.usage = Usage()
        received = 0
        try:
            stream = self._client.chat.completions.create(
                model=self.settings.model,
                messages=messages,
                stream=True,
                stream_options={"include_usage": True},
                temperature=0.1,
            )
            for chunk in stream:
                if getattr(chunk, "usage", None) is not None:
                    self.usage = Usage(chunk.usage.prompt_tokens, chunk.usage.completion_tokens)
                for choice in chunk.choices or []:
                    text = choice.delta.content if choice.delta else None
                    if text:
                        received += len(text)
                        yield text
        except openai.APITimeoutError as exc:
            raise LLMUnavailableError(
                f"The model server at {self.where} did not answer within "
                f"{self.settings.timeout_s:g} s",
                hint=f"raise ASSISTANT_LLM__TIMEOUT_S, use a smaller model, {_OFFLINE_HINT}",
            ) from exc
        except openai.APIConnectionError as exc:
            raise LLMUnavailableError(
                f"Cannot reach the model server at {self.where}",
                hint=f"start the server or fix ASSISTANT_LLM__BASE_URL, {_OFFLINE_HINT}",
            ) from exc
        except openai.AuthenticationError as exc:
            raise LLMUnavailableError(
                f"The model server at {self.where} refused the API key",
                hint="check ASSISTANT_LLM__API_KEY (or OPENAI_API_KEY)",
            ) from exc
        except openai.RateLimitError as exc:
            raise LLMUnavailableError(
                f"The model server at {self.where} is rate-limiting requests",
                hint="wait a minute and ask again, or raise your quota with the provider",
            ) from exc
        except openai.NotFoundError as exc:
            raise LLMUnavailableError(
                f"The model server at {self.where} does not know the model {self.settings.model!r}",
                hint="set ASSISTANT_LLM__MODEL to one the server lists at /v1/models",
            ) from exc
        except openai.APIStatusError as exc:
            raise LLMUnavailableError(
                f"The model server at {self.where} failed with HTTP {exc.status_code}",
                hint=f"look at the server's log and ask again, {_OFFLINE_HINT}",
            ) from exc
        except (httpx.HTTPError, openai.APIError, ValueError) as exc:
            # Connection dropped mid-stream, or a chunk that is not valid JSON.
            raise LLMResponseError(
                f"The reply from {self.where} broke off after {received} characters "
                f"({type(exc).__name__})",
                hint="ask again; if it keeps happening, check the server",
            ) from exc

    def complete(self, messages: list[Message]) -> str:
        """The whole reply as one string."""
        return "".join(self.stream(messages))
