"""Settings for every part of the assistant; the only module that reads environment variables."""

from __future__ import annotations

import importlib.util
import json
import os
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

#: Environment the offline stack needs before onnxruntime, tiktoken, llama-index or gradio load.
#: Values the user already set win.
_OFFLINE_DEFAULTS = {
    "ORT_DISABLE_TELEMETRY": "1",  # onnxruntime's Python switch does not work; only the env does
    "GRADIO_ANALYTICS_ENABLED": "False",
    "HF_HUB_OFFLINE": "1",
    "ANONYMIZED_TELEMETRY": "False",
    "TOKENIZERS_PARALLELISM": "false",
}


def apply_offline_environment() -> None:
    """Set the environment that keeps third-party libraries from phoning home.

    tiktoken would download its BPE files on first use; llama-index ships them, so point
    tiktoken's cache at that copy.
    """
    for key, value in _OFFLINE_DEFAULTS.items():
        os.environ.setdefault(key, value)
    if "TIKTOKEN_CACHE_DIR" not in os.environ:
        spec = importlib.util.find_spec("llama_index.core")
        if spec is not None and spec.submodule_search_locations:
            cache = Path(next(iter(spec.submodule_search_locations))) / "_static" / "tiktoken_cache"
            os.environ["TIKTOKEN_CACHE_DIR"] = str(cache)


def _bundled_prompts() -> Path:
    """The prompt templates: inside the installed package (assistant/prompts/, where the wheel
    puts them), else the checkout's top-level prompts/ folder."""
    here = Path(__file__).resolve().parent
    installed = here / "prompts"
    return installed if (installed / "answer.txt").is_file() else here.parent / "prompts"


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


class LLMSettings(_Section):
    """How to reach an OpenAI-compatible model; unset means the offline extractive answerer."""

    base_url: str | None = Field(
        None, description="OpenAI-compatible base URL, e.g. http://127.0.0.1:8080/v1."
    )
    api_key: SecretStr | None = Field(
        None, description="API key; OPENAI_API_KEY is used when this is unset."
    )
    model: str = Field("gpt-4o-mini", description="Chat model name sent to the server.")
    timeout_s: float = Field(60.0, gt=0, description="Seconds to wait for a response.")
    max_retries: int = Field(2, ge=0, le=10, description="Retries on transient failures.")
    max_tokens: int = Field(800, ge=16, le=32000, description="Longest answer, in tokens.")
    gguf: Path | None = Field(
        None, description="A local GGUF model to serve in-process with llama.cpp (extra [local])."
    )
    coverage: Literal["model", "threshold"] = Field(
        "model",
        description="Who decides that the sources do not answer a question: the model, which "
        "reads them (the similarity verdict is advisory), or the similarity threshold alone "
        "(no model call for such questions).",
    )
    expand: bool = Field(
        False,
        description="Before retrieving, ask the model for the abstract a matching paper would "
        "have (prompts/expand.txt) and search with it too; one more call before answering.",
    )
    read_filters: bool = Field(
        True,
        description="Ask the model to read the constraints (authors, dates, venue...) of a "
        "question that may state some into filters (prompts/filters.txt): one short call before "
        "retrieving. The rules are the fallback when its reply does not check out.",
    )
    grounded_at: float = Field(
        0.5,
        ge=0,
        le=1,
        description="Share of a model answer's claims that must be supported by what they cite "
        "(citations the checker added included) for it to count as grounded; below it, the "
        "answer is marked ungrounded and the extracted answer is shown beside it.",
    )
    judge: bool = Field(
        True,
        description="Also ask the model whether each cited sentence is supported, and each "
        "uncited one by its closest abstract (one more call per answer); false keeps only the "
        "offline checker.",
    )

    @property
    def configured(self) -> bool:
        """Whether a generative model is configured (else answers are extractive)."""
        return bool(self.base_url or self.api_key or self.gguf)


class StoreSettings(_Section):
    """Where the Chroma store lives."""

    path: Path = Field(Path("store"), description="Directory of the embedded Chroma store.")
    collection: str = Field("papers", description="Chroma collection name.")
    url: str | None = Field(
        None, description="URL of a Chroma server (chroma run); overrides path when set."
    )
    search_ef: int = Field(
        1000,
        ge=10,
        le=100_000,
        description="Candidates Chroma's vector index keeps while it searches (hnsw ef_search); "
        "set on the collection whenever the store is written. At Chroma's 100, up to 3 of 434 "
        "questions on the sample collection missed their nearest chunk, different ones at each "
        "start. A collection of fewer chunks than this is searched exhaustively.",
    )


EmbedderName = Literal["mpnet", "minilm"]


class EmbedSettings(_Section):
    """The bundled embedding model."""

    model: EmbedderName = Field(
        "mpnet",
        description="mpnet: all-mpnet-base-v2 (finds papers described in other words far more "
        "often); minilm: all-MiniLM-L6-v2 (embeds about 4x faster: for collections of 100k+ "
        "papers). A store embedded with one must be re-ingested to use the other.",
    )
    cache: Path = Field(
        Path.home() / ".cache" / "assistant",
        description="Where mpnet's ONNX graph is kept after it is first built (435 MB).",
    )
    batch_size: int = Field(8, ge=1, le=256, description="Texts embedded per model call.")
    threads: int = Field(0, ge=0, description="onnxruntime threads; 0 uses every core.")
    spin: bool = Field(
        False,
        description="Let mpnet's onnxruntime threads busy-wait between calls: bulk embedding "
        "runs about 5 % faster, but the idle threads take the cores from the rest of the process "
        "(a server's first token came 40 ms later). `assistant ingest` turns it on unless set.",
    )


class ChunkSettings(_Section):
    """How abstracts are cut into chunks before embedding."""

    size: int = Field(
        200, ge=32, le=2000, description="Chunk size in cl100k tokens (MiniLM reads 256 pieces)."
    )
    overlap: int = Field(20, ge=0, le=500, description="Tokens shared by neighbouring chunks.")

    @model_validator(mode="after")
    def _overlap_below_size(self) -> ChunkSettings:
        if self.overlap >= self.size:
            raise ValueError(f"chunk overlap ({self.overlap}) must be below size ({self.size})")
        return self


class RetrievalSettings(_Section):
    """How many papers a search returns."""

    top_k: int = Field(5, ge=1, le=100, description="Papers returned per search.")
    list_max: int = Field(
        30,
        ge=1,
        le=1000,
        description='A question that only lists papers by metadata ("Which papers are from '
        'ICLR 2026?") is answered with up to this many matches, not top_k; past it the answer '
        "says how many it left out.",
    )
    candidates: int = Field(
        100, ge=10, le=2000, description="Candidates each ranker passes to fusion."
    )
    lexical_weights: tuple[float, float] = Field(
        (0.25, 0.7),
        description="Share of BM25 in fusion (the rest is dense) for a question that shares "
        "few of a paper's words, and for one that names a paper's terms; in between it ramps "
        "with lexical_ramp.",
    )
    lexical_ramp: tuple[float, float] = Field(
        (0.35, 0.55),
        description="Share of the question's term weight (IDF) held by the best BM25 paper "
        "where the BM25 share starts to rise from its low value, and where it reaches its high.",
    )
    exact_filter_papers: int = Field(
        1000,
        ge=0,
        description="A filter passing up to this many papers compares their chunks exactly.",
    )
    post_filter_chunks: int = Field(
        10_000,
        ge=0,
        description="A broader filter fetches up to this many nearest chunks and keeps the "
        "papers it passes; past that, Chroma filters (slower: it scans all metadata).",
    )
    spelling: bool = Field(
        True,
        description="Search a misspelt word of a question (one neither English nor the "
        "collection knows) as the collection's word one edit away, and say so in the answer.",
    )

    @model_validator(mode="after")
    def _weights_are_shares(self) -> RetrievalSettings:
        low, high = self.lexical_ramp
        if not all(0 <= w <= 1 for w in (*self.lexical_weights, low, high)) or low >= high:
            raise ValueError(
                "lexical_weights and lexical_ramp are shares between 0 and 1, and the ramp's "
                f"start must be below its end (got {self.lexical_weights}, {self.lexical_ramp})"
            )
        return self


class ApiSettings(_Section):
    """The HTTP server: where it listens, who may call it, how much it accepts."""

    host: str = Field("127.0.0.1", description="Address to listen on.")
    port: int = Field(8000, ge=0, le=65535, description="Port to listen on.")
    token: SecretStr | None = Field(
        None,
        description="When set, every route but /healthz (the browser UI included) needs "
        "'Authorization: Bearer <token>' or the session cookie of the login page at /login.",
    )
    allowed_hosts: list[str] = Field(
        default_factory=list,
        description="Host names the server answers to (the Host header). Empty: loopback names "
        "only when listening on loopback (against DNS rebinding), any name otherwise; '*': any.",
    )
    allow_remote: bool = Field(
        False, description="Allow a non-loopback host without a token (not recommended)."
    )
    max_body_mb: float = Field(20.0, gt=0, description="Largest request body, in MB.")
    max_question_chars: int = Field(2000, ge=10, description="Longest question accepted.")
    header_timeout_s: float = Field(
        10.0, gt=0, description="Seconds a client has to send a request's headers (slowloris)."
    )
    workers: int = Field(
        1,
        ge=1,
        le=64,
        description="Server processes; more than 1 needs a Chroma server (store.url).",
    )

    @field_validator("token")
    @classmethod
    def _token_not_blank(cls, token: SecretStr | None) -> SecretStr | None:
        # An empty ASSISTANT_API__TOKEN= would otherwise read as "no token" in one place and
        # as "a token is set" in another: refuse it outright.
        if token is not None and not token.get_secret_value().strip():
            raise ValueError(
                "the token is empty: set ASSISTANT_API__TOKEN to a long random value "
                "(e.g. `python -c 'import secrets; print(secrets.token_urlsafe())'`) or unset it"
            )
        return token


class Settings(BaseSettings):
    """Every setting, read from ASSISTANT_* environment variables (nested with __)."""

    model_config = SettingsConfigDict(
        env_prefix="ASSISTANT_", env_nested_delimiter="__", extra="forbid"
    )

    llm: LLMSettings = Field(default_factory=LLMSettings, description="Language model.")
    store: StoreSettings = Field(default_factory=StoreSettings, description="Vector store.")
    embed: EmbedSettings = Field(default_factory=EmbedSettings, description="Embedder.")
    chunk: ChunkSettings = Field(default_factory=ChunkSettings, description="Chunking.")
    retrieval: RetrievalSettings = Field(
        default_factory=RetrievalSettings, description="Retrieval."
    )
    api: ApiSettings = Field(default_factory=ApiSettings, description="HTTP API and UI server.")
    prompts_dir: Path = Field(
        default_factory=_bundled_prompts,
        description="Directory of prompt templates (answer.txt, condense.txt).",
    )
    data_dir: Path = Field(Path("data"), description="The sample collection `make run` ingests.")

    @model_validator(mode="before")
    @classmethod
    def _openai_fallbacks(cls, data: Any) -> Any:
        # OPENAI_API_KEY / OPENAI_BASE_URL are the conventions every OpenAI client honours.
        if not isinstance(data, dict):
            return data
        llm = data.get("llm")
        llm = dict(llm) if isinstance(llm, dict) else ({} if llm is None else llm)
        if isinstance(llm, dict):
            if llm.get("api_key") is None and os.environ.get("OPENAI_API_KEY"):
                llm["api_key"] = os.environ["OPENAI_API_KEY"]
            if llm.get("base_url") is None and os.environ.get("OPENAI_BASE_URL"):
                llm["base_url"] = os.environ["OPENAI_BASE_URL"]
            if llm:
                data = {**data, "llm": llm}
        return data

    def export_environment(self) -> None:
        """Write these settings to ASSISTANT_* variables, so that the worker processes a server
        spawns build the same settings as this one."""
        for name in type(self).model_fields:
            value = getattr(self, name)
            fields = (
                {f"{name}__{k}": getattr(value, k) for k in type(value).model_fields}
                if isinstance(value, BaseModel)
                else {name: value}
            )
            for key, item in fields.items():
                variable = f"ASSISTANT_{key.upper()}"
                if item is None:
                    os.environ.pop(variable, None)
                    continue
                if isinstance(item, SecretStr):
                    item = item.get_secret_value()
                if isinstance(item, list | tuple | dict):  # read back as JSON
                    os.environ[variable] = json.dumps(item)
                else:
                    os.environ[variable] = (
                        str(item).lower() if isinstance(item, bool) else str(item)
                    )

    def masked(self) -> dict[str, Any]:
        """The effective settings as plain data, secrets masked."""
        return self.model_dump(mode="json")
