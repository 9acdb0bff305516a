"""The open collection a server holds: one answerer over it, and one writer for it."""

from __future__ import annotations

import datetime
import itertools
import logging
import re
import shutil
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import BinaryIO, TypeVar

from assistant.answer import Answerer
from assistant.chunk import prepare
from assistant.config import Settings
from assistant.errors import AssistantError, disk_errors
from assistant.ingest import IndexFn, ProgressFn, ingest, recalibrate, reindex, remove
from assistant.lexical import LexicalIndex
from assistant.parse import expand_paths
from assistant.records import FileStatus, IngestJob, IngestReport, Paper, clean_text
from assistant.retrieve import Retriever

log = logging.getLogger("assistant")
_T = TypeVar("_T")

#: How long writes must pause before the threshold worker starts a round (seconds).
_QUIET_S = 1.0
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
        # Loaded beside the embedders rather than in the first request: Chroma's vector index
        # (0.7 s at 100k papers; `serve` began it already, see store.preload), the sentence
        # splitter that answers need, then the tokeniser that writes need (about 0.7 s).
        retriever = Retriever(settings)
        retriever.store().warm()
        threading.Thread(target=prepare, name="prepare", daemon=True).start()
        self.answerer = Answerer(settings, retriever)
        self.writing = threading.Lock()
        self._pending = threading.Condition()
        self._dirty = False
        self._closing = False
        self._worker: threading.Thread | None = None
        self._jobs: dict[str, IngestJob] = {}
        self._job_threads: dict[str, threading.Thread] = {}
        self._job_clock: dict[str, float] = {}
        self._cancelled: set[str] = set()
        self._job_numbers = itertools.count(1)
        self._written_at = 0.0
        # Loaded now rather than by the first request, which would wait seconds for MPNet and
        # share the cores with the threads that load the word index and build the page.
        self.retriever.embedder  # noqa: B018

    @property
    def retriever(self) -> Retriever:
        return self.answerer.retriever

    def papers(self) -> list[Paper]:
        """Every paper in the collection as it is now."""
        return list(self.retriever.lexical().papers)

    def add_file(
        self, stream: BinaryIO, name: str | None, on_progress: ProgressFn | None = None
    ) -> IngestReport:
        """Add the papers in a file a client sends (a same-title paper is replaced), and
        return once they are searchable; the file is copied to disk in pieces, as for
        :meth:`start_upload`."""
        folder, path = _received(stream, name)
        try:
            return self._add(path, folder, on_progress)
        finally:
            shutil.rmtree(folder, ignore_errors=True)

    def _add(self, path: Path, folder: str, on_progress: ProgressFn | None) -> IngestReport:
        report = self._write(
            lambda keep: ingest(
                [path],
                self.settings,
                embedder=self.retriever.embedder,
                on_progress=on_progress,
                on_index=keep,
                searched=self.retriever.lexical(),
                calibrate=False,
            )
        )
        for skipped in report.skipped:  # the temporary folder means nothing to the sender
            skipped.path = skipped.path.replace(folder + "/", "")
        return report

    def remove(self, paper_ids: Sequence[str]) -> int:
        """Remove papers by id; how many were there."""
        return self._write(
            lambda keep: remove(
                paper_ids,
                self.settings,
                self.retriever.embedder,
                calibrate=False,
                on_index=keep,
                searched=self.retriever.lexical(),
            )
        )

    def _write(self, change: Callable[[IndexFn], _T]) -> _T:
        """Run ``change`` as the one writer; the retriever searches each BM25 index it hands
        on at once (reading the saved one back would validate every paper again)."""
        built: list[LexicalIndex] = []

        def keep(index: LexicalIndex) -> None:
            built.append(index)
            self.retriever.use_index(index)

        with self.writing:
            # The thresholds in force now serve until the worker has rebuilt them (the latest
            # ones stay in reserve after that, for the next write).
            self.retriever.interim = self.retriever.calibration()
            try:
                return change(keep)
            finally:
                if not built:
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
        """ "rebuilding" (after a write, here or by another process; the previous thresholds
        decide meanwhile), "current", or "missing" (answers carry no coverage verdict until
        they are rebuilt)."""
        with self._pending:
            if self._worker is not None:
                return "rebuilding"
        if self.retriever.saved_calibration() is not None:
            return "current"
        # Another process wrote (another worker, a CLI ingest): its thresholds are on the way.
        return "rebuilding" if self.retriever.interim is not None else "missing"

    def wait_calibrated(self) -> None:
        """Until the coverage thresholds match the collection (tests and benchmarks)."""
        with self._pending:
            self._pending.wait_for(lambda: self._worker is None)

    def _recalibrate_later(self) -> threading.Thread:
        with self._pending:
            self._dirty = True
            self._written_at = time.monotonic()
            if self._worker is None:
                # Not a daemon: the interpreter waits for it at exit instead of stopping it
                # inside the embedder's native code (which brings the process down).
                self._worker = threading.Thread(target=self._recalibrate, name="recalibrate")
                self._worker.start()
            return self._worker

    def _recalibrate(self) -> None:
        while True:
            with self._pending:
                # A round starts once writes paused for a moment: the searches that follow a
                # write do not share the two cores with it, and writes in a row share a round.
                while not self._closing and (
                    (quiet := time.monotonic() - self._written_at) < _QUIET_S
                ):
                    self._pending.wait(_QUIET_S - quiet)
                if not self._dirty or self._closing:
                    self._worker = None
                    self._pending.notify_all()
                    return
                self._dirty = False
            try:
                index = self._compact()
                recalibrate(
                    self.settings, self.retriever.embedder, on_calibrate=self._go_on, index=index
                )
            except AssistantError as exc:  # the thresholds in force stay; the log says why
                log.warning("coverage thresholds not rebuilt: %s", exc.describe())
            except _Closing:
                continue  # the loop's next check ends the worker
            self.retriever.forget_calibration()

    def _compact(self) -> LexicalIndex:
        """Fold the papers written since the BM25 index's last build into a new one once
        they are worth it (LexicalIndex.worth_compacting): built outside the write lock, then
        saved and swapped in unless a write came meanwhile (the next round then folds in
        both). Returns the index searched now."""
        index = self.retriever.lexical()
        if index.worth_compacting:
            whole = index.compacted()
            with self.writing:
                if self.retriever.lexical() is index:
                    with disk_errors(str(self.settings.store.path)):
                        whole.save(self.settings.store.path)
                    self.retriever.use_index(whole, same=True)
            return self.retriever.lexical()
        return index

    def _go_on(self, done: int, total: int) -> None:
        """Between two calibration questions: stop if the collection is closing (a thread
        still inside the embedder when the interpreter exits brings the process down)."""
        if self._closing:
            raise _Closing

    # -- ingest jobs: files indexed in the background, searchable batch by batch ------------

    def start_ingest(
        self,
        paths: Sequence[Path],
        names: Sequence[str] | None = None,
        *,
        scratch: str | None = None,
    ) -> IngestJob:
        """Index the papers in ``paths`` (files or folders) in the background and return the
        job at once; :meth:`job` tells how far it got. ``names`` are the files' names to show
        (an upload's own name rather than where it was saved); ``scratch`` is a folder of ours
        holding them, removed when the job ends. Raises ParseError at once for a path that
        does not exist."""
        files = expand_paths(paths)
        shown = list(names) if names is not None else [str(f) for f in files]
        with self._pending:
            job = IngestJob(
                id=f"ingest-{next(self._job_numbers)}",
                files=[FileStatus(name=name) for name in shown],
                started=datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
            )
            self._jobs[job.id] = job
            self._job_clock[job.id] = time.monotonic()
            thread = threading.Thread(target=self._run_job, args=(job, files, scratch), name=job.id)
            self._job_threads[job.id] = thread
        self._update(job)
        thread.start()
        return self.job(job.id)

    def start_upload(self, stream: BinaryIO, name: str | None) -> IngestJob:
        """:meth:`start_ingest` for a file a client sends: copied in pieces to a folder of
        ours under a safe name (``upload_name``), shown under that name, removed afterwards."""
        scratch, path = _received(stream, name)
        return self.start_ingest([path], [path.name], scratch=scratch)

    def job(self, job_id: str) -> IngestJob:
        """A copy of the job as it is now; KeyError for an unknown id."""
        with self._pending:
            job = self._jobs[job_id]
            if job.running:
                job.seconds = round(time.monotonic() - self._job_clock[job_id], 1)
            return job.model_copy(deep=True)

    def jobs(self) -> list[IngestJob]:
        """Every job of this server, oldest first."""
        with self._pending:
            ids = list(self._jobs)
        return [self.job(job_id) for job_id in ids]

    def indexing(self) -> IngestJob | None:
        """The job running now (one at a time: jobs take the write lock), else the last one to
        have started, or None."""
        jobs = self.jobs()
        return _running(jobs) or (jobs[-1] if jobs else None)

    def cancel(self, job_id: str) -> IngestJob:
        """Stop a job after the batch it is embedding (papers written so far stay searchable;
        adding the same files again resumes). KeyError for an unknown id."""
        with self._pending:
            if job_id not in self._jobs:
                raise KeyError(job_id)
            self._cancelled.add(job_id)
            if self._jobs[job_id].running:
                self._jobs[job_id].stopping = True
        return self.job(job_id)

    def wait_job(self, job_id: str) -> IngestJob:
        """Until the job has ended (tests, benchmarks, and `serve` at exit)."""
        with self._pending:
            thread = self._job_threads[job_id]
        thread.join()
        return self.job(job_id)

    def _run_job(self, job: IngestJob, files: list[Path], scratch: str | None) -> None:
        position = {str(path): n for n, path in enumerate(files)}
        watch = _JobWatch(self, job, scratch)
        try:
            report = self._write(
                lambda keep: ingest(
                    files,
                    self.settings,
                    # Small batches: searchable sooner, and a cancel (or Ctrl-C) waits for
                    # about 5 s of MPNet instead of 20 s; an upsert costs about 50 ms.
                    batch_papers=8,
                    embedder=self.retriever.embedder,
                    on_file=lambda path, report: watch.read(position[path], path, report),
                    on_progress=watch.embedded,
                    on_index=keep,
                    searched=self.retriever.lexical(),
                    calibrate=False,
                )
            )
        except _Cancelled:
            self._update(job, state="cancelled")
            if LexicalIndex.saved_fingerprint(self.settings.store.path) is None:
                # The index was not saved after the papers written so far: rebuilt.
                self._write(lambda keep: reindex(self.settings, on_index=keep))
        except AssistantError as exc:
            log.warning("%s failed: %s", job.id, exc.describe())
            error = {k: watch.shown(v) for k, v in exc.wire()["error"].items()}
            self._update(job, state="failed", error=error)
        except Exception as exc:  # a bug: the job says so instead of dying unseen
            log.exception("%s failed", job.id)
            self._update(job, state="failed", error={"type": type(exc).__name__, "message": ""})
        else:
            for skipped in report.skipped:
                skipped.path, skipped.reason = (
                    watch.shown(skipped.path),
                    watch.shown(skipped.reason),
                )
            self._update(
                job,
                state="done",
                report=report,
                done=report.added + report.updated,
                total=report.added + report.updated,
                unchanged=report.unchanged,
                eta_s=None,
            )
        finally:
            self._update(job, seconds=round(time.monotonic() - self._job_clock[job.id], 1))
            if scratch is not None:
                shutil.rmtree(scratch, ignore_errors=True)

    def _update(self, job: IngestJob, **fields: object) -> None:
        with self._pending:
            for name, value in fields.items():
                setattr(job, name, value)
            if job.running:
                job.seconds = round(time.monotonic() - self._job_clock[job.id], 1)
            # Answers and searches given meanwhile say how far indexing got.
            running = _running(self._jobs.values())
            self.retriever.indexing = running.summary() if running is not None else None

    def close(self) -> None:
        """Stop running ingest jobs and the threshold worker (thresholds are not saved; the
        next start rebuilds them, and the next ingest of the same files resumes), then
        release the store and the model."""
        with self._pending:
            self._cancelled.update(self._jobs)
            threads = list(self._job_threads.values())
            running = _running(self._jobs.values())
        if running is not None and running.state == "embedding":
            log.warning(
                "stopping %s after the batch it is embedding: the papers written so far stay, "
                "and adding the same files again resumes",
                running.id,
            )
        for thread in threads:
            thread.join()
        with self._pending:
            self._closing = True
            self._pending.notify_all()
            self._pending.wait_for(lambda: self._worker is None)
        self.answerer.close()


def _received(stream: BinaryIO, name: str | None) -> tuple[str, Path]:
    """A sent file copied in pieces to a new folder of ours, under a safe name (upload_name):
    the folder, and the file's path."""
    folder = tempfile.mkdtemp(prefix="upload-")
    path = Path(folder) / upload_name(name)
    with path.open("wb") as handle:
        shutil.copyfileobj(stream, handle)
    return folder, path


def _running(jobs: Iterable[IngestJob]) -> IngestJob | None:
    """The job indexing now: the one holding the write lock before any queued behind it."""
    running = [j for j in jobs if j.running]
    return min(running, key=lambda j: j.state == "queued") if running else None


class _JobWatch:
    """What a running ingest job hears from ingest: files read, batches committed. It keeps
    the job's record current, makes new papers searchable by words as well as by meaning
    while the job runs, and stops the job when it is cancelled or the server closes."""

    def __init__(self, collection: Collection, job: IngestJob, scratch: str | None) -> None:
        self.collection = collection
        self.job = job
        self.scratch = scratch
        self.embedding_since: float | None = None

    def shown(self, text: str) -> str:
        """``text`` without the folder of ours an upload was saved in (it means nothing to the
        sender, and is not theirs to know)."""
        return text.replace(self.scratch + "/", "") if self.scratch else text

    def read(self, n: int, path: str, report: IngestReport) -> None:
        self._stop_if_cancelled()
        skips = [s for s in report.skipped if s.path == path]
        failed = path not in report.per_file
        status = self.job.files[n].model_copy(
            update={
                "state": "failed" if failed else "read",
                "records": report.per_file.get(path, 0),
                "skipped": len(skips),
                "problem": self.shown(skips[0].reason) if skips else None,
            }
        )
        files = list(self.job.files)
        files[n] = status
        self.collection._update(self.job, state="reading", files=files)

    def embedded(self, done: int, total: int) -> None:
        now = time.monotonic()
        if self.embedding_since is None:
            self.embedding_since = now
        rate = (now - self.embedding_since) / done if done else None
        eta = round(rate * (total - done), 1) if rate is not None else None
        self.collection._update(self.job, state="embedding", done=done, total=total, eta_s=eta)
        self._stop_if_cancelled()

    def _stop_if_cancelled(self) -> None:
        with self.collection._pending:
            if self.job.id in self.collection._cancelled:
                raise _Cancelled


class _Cancelled(Exception):
    """Raised inside an ingest job's callbacks to stop it."""


class _Closing(Exception):
    """Raised inside the threshold worker when the collection closes."""
