"""The open collection a server holds: one answerer over it, and one writer for it."""

from __future__ import annotations

import logging
import re
import shutil
import tempfile
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TypeVar

from assistant.answer import Answerer
from assistant.config import Settings
from assistant.errors import AssistantError
from assistant.ingest import ProgressFn, ingest, recalibrate, remove
from assistant.records import IngestReport, Paper, clean_text
from assistant.retrieve import Retriever

log = logging.getLogger("assistant")
_T = TypeVar("_T")

_NAME_CHARS = re.compile(r"[^\w.+-]+")
_LONGEST_NAME = 120


def upload_name(name: str | None) -> str:
    """A file name safe to write in a folder of our own, from the name a client gave.

    Only the base name is kept, characters other than letters, digits, ``._+-`` become ``_``,
    the name is cut to 120 characters keeping its suffix (which tells the layout), and a name
    that is empty or only dots becomes ``upload.txt``.

    >>> upload_name("../../etc/passwd"), upload_name(".."), upload_name("my papers.jsonl")
    ('passwd', 'upload.txt', 'my_papers.jsonl')
    """
    base = clean_text(name or "").replace("\\", "/").rsplit("/", 1)[-1]
    base = _NAME_CHARS.sub("_", base).strip("_")
    if not base.strip("."):
        return "upload.txt"
    if len(base) > _LONGEST_NAME:
        stem, dot, suffix = base.rpartition(".")
        suffix = suffix[:16] if dot and stem else ""
        base = base[: _LONGEST_NAME - len(suffix) - 1].rstrip(".") + (
            f".{suffix}" if suffix else ""
        )
    return base


class Collection:
    """What a server's routes and pages share: one answerer (and its open store), and one lock
    that every write takes, whether it comes from the API or from the browser.

    A write returns once its papers are searchable: the coverage thresholds are rebuilt behind
    it by one background worker (12-25 s on two cores), and until they are ready the ones in
    force before the write keep deciding coverage. Writes made meanwhile are folded into the
    worker's next round.
    """

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.answerer = Answerer(settings)
        self.writing = threading.Lock()
        self._pending = threading.Condition()
        self._dirty = False
        self._closing = False
        self._worker: threading.Thread | None = None
        # Loaded now rather than by the first request, which would wait seconds for MPNet.
        self.retriever.embedder  # noqa: B018

    @property
    def retriever(self) -> Retriever:
        return self.answerer.retriever

    def papers(self) -> list[Paper]:
        """Every paper in the collection as it is now."""
        return list(self.retriever.lexical().papers)

    def add_bytes(
        self, data: bytes, name: str | None, on_progress: ProgressFn | None = None
    ) -> IngestReport:
        """Add the papers in an uploaded file's bytes (a same-title paper is replaced)."""
        with tempfile.TemporaryDirectory(prefix="upload-") as folder:
            path = Path(folder) / upload_name(name)
            path.write_bytes(data)
            return self._add(path, folder, on_progress)

    def add_file(
        self, source: Path, name: str | None = None, on_progress: ProgressFn | None = None
    ) -> IngestReport:
        """Add the papers in a file the server already holds (a browser upload)."""
        with tempfile.TemporaryDirectory(prefix="upload-") as folder:
            path = Path(folder) / upload_name(name or source.name)
            shutil.copyfile(source, path)
            return self._add(path, folder, on_progress)

    def _add(self, path: Path, folder: str, on_progress: ProgressFn | None) -> IngestReport:
        report = self._write(
            lambda: ingest(
                [path],
                self.settings,
                embedder=self.retriever.embedder,
                on_progress=on_progress,
                calibrate=False,
            )
        )
        for skipped in report.skipped:  # the temporary folder means nothing to the sender
            skipped.path = skipped.path.replace(folder + "/", "")
        return report

    def remove(self, paper_ids: Sequence[str]) -> int:
        """Remove papers by id; how many were there."""
        return self._write(
            lambda: remove(paper_ids, self.settings, self.retriever.embedder, calibrate=False)
        )

    def _write(self, change: Callable[[], _T]) -> _T:
        with self.writing:
            # The thresholds in force now serve until the worker has rebuilt them (the latest
            # ones stay in reserve after that, for the next write).
            self.retriever.interim = self.retriever.calibration()
            try:
                return change()
            finally:
                self.retriever.refresh()
                self._recalibrate_later()

    def settle(self) -> threading.Thread | None:
        """Rebuild the coverage thresholds in the background when they do not match the
        collection (a write was interrupted before they were saved); meanwhile answers carry
        no coverage verdict. Returns the thread doing it, or None when nothing is to do."""
        if not self.papers() or self.retriever.calibration() is not None:
            return None
        log.warning("coverage thresholds do not match the collection: rebuilding them")
        return self._recalibrate_later()

    def thresholds(self) -> str:
        """ "rebuilding" (after a write; the previous thresholds decide meanwhile), "current",
        or "missing" (answers carry no coverage verdict until they are rebuilt)."""
        with self._pending:
            if self._worker is not None:
                return "rebuilding"
        return "current" if self.retriever.saved_calibration() is not None else "missing"

    def wait_calibrated(self) -> None:
        """Until the coverage thresholds match the collection (tests and benchmarks)."""
        with self._pending:
            self._pending.wait_for(lambda: self._worker is None)

    def _recalibrate_later(self) -> threading.Thread:
        with self._pending:
            self._dirty = True
            if self._worker is None:
                # Not a daemon: the interpreter waits for it at exit instead of stopping it
                # inside the embedder's native code (which brings the process down).
                self._worker = threading.Thread(target=self._recalibrate, name="recalibrate")
                self._worker.start()
            return self._worker

    def _recalibrate(self) -> None:
        while True:
            with self._pending:
                if not self._dirty or self._closing:
                    self._worker = None
                    self._pending.notify_all()
                    return
                self._dirty = False
            try:
                recalibrate(self.settings, self.retriever.embedder, on_calibrate=self._go_on)
            except AssistantError as exc:  # the thresholds in force stay; the log says why
                log.warning("coverage thresholds not rebuilt: %s", exc.describe())
            except _Closing:
                continue  # the loop's next check ends the worker
            self.retriever.refresh()

    def _go_on(self, done: int, total: int) -> None:
        """Between two calibration questions: stop if the collection is closing (a thread
        still inside the embedder when the interpreter exits brings the process down)."""
        if self._closing:
            raise _Closing

    def close(self) -> None:
        """Stop the threshold worker (its thresholds are not saved; the next start rebuilds
        them), then release the store and the model."""
        with self._pending:
            self._closing = True
            self._pending.wait_for(lambda: self._worker is None)
        self.answerer.close()


class _Closing(Exception):
    """Raised inside the threshold worker when the collection closes."""
