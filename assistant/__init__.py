"""Offline-first chat assistant over a collection of research-paper abstracts."""

import importlib
import typing

# Before anything imports onnxruntime, tiktoken, llama-index or gradio: a program that uses the
# package as a library has no CLI or server edge to do it, and tiktoken would try to download.
from assistant.config import apply_offline_environment as _apply_offline_environment

_apply_offline_environment()

from assistant.config import Settings
from assistant.errors import (
    AssistantError,
    ConfigError,
    EmbedderError,
    EmbedderMismatchError,
    LLMError,
    LLMResponseError,
    LLMUnavailableError,
    ParseError,
    PromptError,
    ResolutionError,
    StoreError,
    StoreLockedError,
    StoreMissingError,
    StoreWriteError,
    UnknownPaperError,
)
from assistant.records import Answer, Chunk, Filters, Hit, IngestReport, Paper, Turn

if typing.TYPE_CHECKING:
    from assistant.answer import Answerer
    from assistant.ingest import ingest as ingest_files
    from assistant.parse import parse_file
    from assistant.retrieve import Retrieval, Retriever

# The pipeline's classes load llama-index, Chroma and onnxruntime (about 3 s): they are imported
# on first use, so that `assistant --help`, `config` and the CLI's early errors answer at once.
# The ingest function is `ingest_files` here: `assistant.ingest` is the submodule, which the
# import system binds on the package whenever anything imports it.
_LAZY = {
    "Answerer": ("assistant.answer", "Answerer"),
    "ingest_files": ("assistant.ingest", "ingest"),
    "parse_file": ("assistant.parse", "parse_file"),
    "Retrieval": ("assistant.retrieve", "Retrieval"),
    "Retriever": ("assistant.retrieve", "Retriever"),
}


def __getattr__(name: str) -> typing.Any:
    if name not in _LAZY:
        raise AttributeError(f"module 'assistant' has no attribute {name!r}")
    module, attribute = _LAZY[name]
    value = getattr(importlib.import_module(module), attribute)
    globals()[name] = value
    return value


__all__ = [
    "Answer",
    "Answerer",
    "AssistantError",
    "Chunk",
    "ConfigError",
    "EmbedderError",
    "EmbedderMismatchError",
    "Filters",
    "Hit",
    "IngestReport",
    "LLMError",
    "LLMResponseError",
    "LLMUnavailableError",
    "Paper",
    "ParseError",
    "PromptError",
    "ResolutionError",
    "Retrieval",
    "Retriever",
    "Settings",
    "StoreError",
    "StoreLockedError",
    "StoreMissingError",
    "StoreWriteError",
    "Turn",
    "UnknownPaperError",
    "ingest_files",
    "parse_file",
]
