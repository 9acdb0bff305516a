"""Offline-first chat assistant over a collection of research-paper abstracts."""

# Before anything imports onnxruntime, tiktoken, llama-index or gradio: a program that uses the
# package as a library has no CLI or server edge to do it, and tiktoken would try to download.
from assistant.config import apply_offline_environment as _apply_offline_environment

_apply_offline_environment()

from assistant.answer import Answer, Answerer, Turn
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
    StoreError,
    StoreLockedError,
    StoreMissingError,
)
from assistant.ingest import ingest
from assistant.parse import parse_file
from assistant.records import Chunk, Filters, Hit, IngestReport, Paper
from assistant.retrieve import Retrieval, Retriever

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
    "Retrieval",
    "Retriever",
    "Settings",
    "StoreError",
    "StoreLockedError",
    "StoreMissingError",
    "Turn",
    "ingest",
    "parse_file",
]
