"""Offline-first chat assistant over a collection of research-paper abstracts."""

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
from assistant.records import Chunk, Hit, IngestReport, Paper
from assistant.retrieve import Retriever

__all__ = [
    "AssistantError",
    "Chunk",
    "ConfigError",
    "EmbedderError",
    "EmbedderMismatchError",
    "Hit",
    "IngestReport",
    "LLMError",
    "LLMResponseError",
    "LLMUnavailableError",
    "Paper",
    "ParseError",
    "PromptError",
    "Retriever",
    "Settings",
    "StoreError",
    "StoreLockedError",
    "StoreMissingError",
    "ingest",
    "parse_file",
]
