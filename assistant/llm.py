"""The chat model behind any OpenAI-compatible server; the only module that imports openai."""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from assistant.config import LLMSettings
from assistant.errors import ConfigError, LLMResponseError, LLMUnavailableError

Message = dict[str, str]  # {"role": "system" | "user" | "assistant", "content": ...}

_OFFLINE_HINT = "or unset ASSISTANT_LLM__BASE_URL / OPENAI_API_KEY to answer offline (extractive)"


@dataclass
class Usage:
    """Token counts of one call, as the server reported them (None when it did not)."""

    prompt_tokens: int | None = None
    completion_tokens: int | None = None


@dataclass(frozen=True)
class Sampling:
    """What one caller asks of an answer's generation; None keeps the configured value."""

    temperature: float | None = None
    max_tokens: int | None = None


@dataclass
class ChatModel:
    """Streams chat completions from the configured server, with our errors instead of the SDK's.

    The openai SDK is used directly rather than llama-index's ``OpenAILike`` wrapper: we need
    the server's usage chunk, per-call timeouts and the SDK's own exception types to translate.
    """

    settings: LLMSettings
    base_url: str | None = None
    _client: Any = None
    _local: LocalServer | None = None

    def __post_init__(self) -> None:
        import openai

        if self.settings.gguf and not (self.base_url or self.settings.base_url):
            self._local = LocalServer(self.settings.gguf)
            self.base_url = self._local.url
        self.base_url = self.base_url or self.settings.base_url
        key = self.settings.api_key.get_secret_value() if self.settings.api_key else None
        self._client = openai.OpenAI(
            base_url=self.base_url,
            # Local servers (llama.cpp, Ollama, vLLM) accept any key; the SDK insists on one.
            api_key=key or "not-needed",
            timeout=self.settings.timeout_s,
            max_retries=self.settings.max_retries,
        )

    def close(self) -> None:
        """Stop the local llama.cpp server, if this model started one."""
        if self._local is not None:
            self._local.close()
            self._local = None

    @property
    def name(self) -> str:
        if self._local is not None:
            return self._local.model.name
        return self.settings.model

    @property
    def where(self) -> str:
        return self.base_url or "https://api.openai.com/v1"

    def stream(
        self, messages: list[Message], usage: Usage | None = None, sampling: Sampling | None = None
    ) -> Iterator[str]:
        """Yield the reply's text as it arrives; ``usage``, when given, is filled in with the
        server's token counts when the stream ends. ``sampling`` sets this call's temperature
        (0.1 otherwise) and a lower token limit than ASSISTANT_LLM__MAX_TOKENS (never a higher).

        The counts belong to the call, not to the model: one model serves concurrent requests.
        """
        import httpx
        import openai

        received = 0
        asked = sampling or Sampling()
        temperature = 0.1 if asked.temperature is None else asked.temperature
        limit = min(asked.max_tokens or self.settings.max_tokens, self.settings.max_tokens)
        try:
            stream = self._client.chat.completions.create(
                model=self.settings.model,
                messages=messages,
                stream=True,
                stream_options={"include_usage": True},
                temperature=temperature,
                max_tokens=limit,
            )
            for chunk in stream:
                if getattr(chunk, "usage", None) is not None and usage is not None:
                    usage.prompt_tokens = chunk.usage.prompt_tokens
                    usage.completion_tokens = chunk.usage.completion_tokens
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
                timed_out=True,
            ) from exc
        except openai.APIConnectionError as exc:
            if received:
                # Newer SDKs report a stream dropped mid-reply as a connection error too.
                raise _broke_off(self.where, received, exc) from exc
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
            raise _broke_off(self.where, received, exc) from exc

    def complete(self, messages: list[Message]) -> str:
        """The whole reply as one string."""
        return "".join(self.stream(messages))


def _broke_off(where: str, received: int, exc: Exception) -> LLMResponseError:
    return LLMResponseError(
        f"The reply from {where} broke off after {received} characters ({type(exc).__name__})",
        hint="ask again; if it keeps happening, check the server",
    )


class LocalServer:
    """llama.cpp's OpenAI-compatible server running in this process (the ``xllamacpp`` wheel),
    serving a GGUF model the user downloaded, on a free loopback port."""

    def __init__(self, model: Path, *, context: int = 4096, ready_s: float = 120.0) -> None:
        try:
            import xllamacpp
        except ImportError as exc:
            raise ConfigError(
                "ASSISTANT_LLM__GGUF is set but llama.cpp is not installed",
                hint="pip install 'assistant[local]' (the prebuilt xllamacpp wheel)",
            ) from exc
        if not model.is_file():
            raise ConfigError(
                f"The GGUF model {model} does not exist",
                hint="download a chat model in GGUF format and point ASSISTANT_LLM__GGUF at it",
            )
        self.model = model
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        params = xllamacpp.CommonParams()
        params.model.path = str(model)
        params.n_ctx = context
        params.n_parallel = 1
        threads = os.cpu_count() or 1
        params.cpuparams.n_threads = threads
        params.cpuparams_batch.n_threads = threads
        params.hostnames = ["127.0.0.1"]
        params.port = port
        params.offline = True
        params.warmup = False
        params.verbosity = -1
        self.url = f"http://127.0.0.1:{port}/v1"
        self._server: Any = xllamacpp.Server(params)
        self._wait_until_ready(ready_s)

    def _wait_until_ready(self, ready_s: float) -> None:
        import httpx

        deadline = time.monotonic() + ready_s
        while time.monotonic() < deadline:
            try:
                if httpx.get(self.url + "/models", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise LLMUnavailableError(
            f"The local model {self.model.name} did not start within {ready_s:g} s",
            hint="check that the file is a chat model in GGUF format and fits in memory",
        )

    def close(self) -> None:
        self._server = None  # the server stops when the object is released
