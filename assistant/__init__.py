"""Offline-first chat assistant over a collection of research-paper abstracts."""

import importlib
import sys
import types
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
    from assistant.ingest import ingest
    from assistant.parse import parse_file
    from assistant.retrieve import Retrieval, Retriever

# The pipeline's classes load llama-index, Chroma and onnxruntime (about 3 s): they are imported
# on first use, so that `assistant --help`, `config` and the CLI's early errors answer at once.
_LAZY = {
    "Answerer": "assistant.answer",
    "ingest": "assistant.ingest",
    "parse_file": "assistant.parse",
    "Retrieval": "assistant.retrieve",
    "Retriever": "assistant.retrieve",
}


def __getattr__(name: str) -> typing.Any:
    if name not in _LAZY:
        raise AttributeError(f"module 'assistant' has no attribute {name!r}")
    value = getattr(importlib.import_module(_LAZY[name]), name)
    globals()[name] = value
    return value


class _Package(types.ModuleType):
    """Keeps ``assistant.ingest`` the function. Importing the submodule of the same name binds
    the module over it; eager imports used to rebind the function afterwards."""

    def __setattr__(self, name: str, value: typing.Any) -> None:
        if name in _LAZY and isinstance(value, types.ModuleType):
            return  # the module stays reachable as sys.modules["assistant.ingest"]
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package

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
    "ingest",
    "parse_file",
]
