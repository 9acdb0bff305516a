"""The AssistantError tree: every failure a user can meet, each with a next step.

Hierarchy, with the HTTP status each answers with (``status``)::

    AssistantError             422  a request that cannot be answered as asked
    ├── ConfigError            500  bad or contradictory settings
    ├── ParseError             400  an input file (or one of its records) cannot be read
    ├── UnknownPaperError      404  no paper by that id or title (or the name fits several)
    ├── ResolutionError        422  a comparison prompt names no paper we can identify
    ├── StoreError             503  the Chroma store cannot be used
    │   ├── StoreMissingError  503  no store yet at the configured path
    │   ├── StoreLockedError   409  another process is writing to the store
    │   ├── StoreWriteError    507  a write failed (disk full, read-only); committed papers are kept
    │   └── EmbedderMismatchError  503  the store was built with another embedder
    ├── EmbedderError          503  the bundled embedding model cannot be loaded
    ├── PromptError            500  a prompt file is missing or has unknown placeholders
    └── LLMError               502  the language model failed
        ├── LLMUnavailableError  502  unreachable, rate limited, bad key (504 when it timed out)
        └── LLMResponseError     502  it answered, but not usably

A fault of the server (its settings, disk, store, models) is a 5xx; only the request's own
problems are 4xx.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from assistant.records import Hit


class AssistantError(Exception):
    """Base of every error the assistant raises on purpose.

    Each error carries a ``hint``: the next step a user can take.

    >>> try:
    ...     raise StoreMissingError("No store at store/", hint="run `assistant ingest data/`")
    ... except AssistantError as exc:
    ...     print(exc, "-", exc.hint)
    No store at store/ - run `assistant ingest data/`
    """

    status = 422

    def __init__(self, message: str, *, hint: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return self.message

    def describe(self) -> str:
        """The message and its hint as one readable line."""
        return f"{self.message} — {self.hint}" if self.hint else self.message

    def wire(self) -> dict[str, Any]:
        """The error as the HTTP API sends it (see :func:`error_body`)."""
        return error_body(type(self).__name__, self.message, self.hint)


def error_body(kind: str, message: str, hint: str = "") -> dict[str, Any]:
    """The HTTP API's error shape: ``{"error": {"type", "message", "hint"}}``."""
    return {"error": {"type": kind, "message": message, "hint": hint}}


class ConfigError(AssistantError):
    """Settings that cannot work together or cannot be parsed."""

    status = 500


class ParseError(AssistantError):
    """An input file, or one record in it, cannot be read."""

    status = 400

    def __init__(self, message: str, *, path: str, line: int | None = None, hint: str = "") -> None:
        where = f"{path}:{line}" if line is not None else path
        super().__init__(f"{where}: {message}", hint=hint)
        self.path = path
        self.line = line
        self.reason = message


class StoreError(AssistantError):
    """The Chroma store cannot be opened, read or written."""

    status = 503


class StoreMissingError(StoreError):
    """There is no store at the configured path yet."""


class StoreWriteError(StoreError):
    """A write to the store failed part-way; what was committed before it is intact."""

    status = 507

    def __init__(self, where: str, reason: str) -> None:
        lowered = reason.lower()
        full = any(
            word in lowered
            for word in ("disk", "space", "full", "too large", "read-only", "readonly", "denied")
        )
        super().__init__(
            f"Writing to the store at {where} failed"
            + (" (is the disk full or read-only?)" if full else "")
            + f": {reason}",
            hint=f"free some space or fix the permissions of {where} (`df -h {where}`); papers "
            "committed before the failure are kept, so run the same ingest again to resume",
        )


@contextlib.contextmanager
def disk_errors(where: str) -> Iterator[None]:
    """Translate a failed file write (ENOSPC, EFBIG, EROFS, EACCES, ...) into StoreWriteError."""
    try:
        yield
    except OSError as exc:
        raise StoreWriteError(where, f"{type(exc).__name__}: {exc}") from exc


class StoreLockedError(StoreError):
    """Another process holds the store's write lock."""

    status = 409


class EmbedderMismatchError(StoreError):
    """The store's vectors come from a different embedder than the configured one."""


class UnknownPaperError(AssistantError):
    """A paper named by id or title is not in the collection, or the name fits several."""

    status = 404


class ResolutionError(AssistantError):
    """The prompt does not name papers we can identify unambiguously."""


class EmbedderError(AssistantError):
    """The bundled embedding model is missing or corrupt."""

    status = 503


class PromptError(AssistantError):
    """A prompt template is missing or cannot be rendered."""

    status = 500


class LLMError(AssistantError):
    """The language model failed. ``sources`` are the papers retrieved for the question before
    it did (the answerer sets them), so that the CLI, the API and the UI can still show them."""

    status = 502

    sources: Sequence[Hit] = ()


class LLMUnavailableError(LLMError):
    """The model server cannot be reached, timed out, refused the key or rate-limited us."""

    def __init__(self, message: str, *, hint: str = "", timed_out: bool = False) -> None:
        super().__init__(message, hint=hint)
        self.timed_out = timed_out
        if timed_out:
            self.status = 504


class LLMResponseError(LLMError):
    """The model answered, but the answer cannot be used."""
