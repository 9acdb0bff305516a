"""parse -> chunk -> embed -> store: idempotent per paper, resumable, committed in batches."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path

from assistant.calibrate import calibrate
from assistant.chunk import chunk_paper
from assistant.config import Settings
from assistant.embed import OnnxEmbedding, embedder_name, load_embedder
from assistant.errors import ParseError, disk_errors
from assistant.lexical import DELTA_LIMIT, LexicalIndex, fingerprint
from assistant.parse import (
    EXPECTED_FORMATS,
    expand_paths,
    identity_keys,
    merge_papers,
    read_file,
)
from assistant.records import IngestReport, Paper, Skipped
from assistant.retrieve import Calibration, Retriever
from assistant.store import Store, StoredPaper, open_store

#: Called after each committed batch with (papers done, papers to embed).
ProgressFn = Callable[[int, int], None]
#: Called after each file is read, with its path and the report so far.
FileFn = Callable[[str, IngestReport], None]
#: Called with the BM25 index a write built and saved (a server searches with it at once).
IndexFn = Callable[[LexicalIndex], None]
#: Up to how many papers an ingest reads the stored state of by id, rather than all of it.
_NAMED_READ = 5_000
#: How many skipped records an ingest that found no paper names in its error.
_SKIPS_SAID = 3


def read_collection(
    paths: Iterable[Path], *, listing_year: int | None = None, on_file: FileFn | None = None
) -> tuple[list[Paper], IngestReport]:
    """Parse every file under ``paths`` and merge duplicates; unreadable files are reported.

    Files are read as streams and merged as they are read: memory holds the merged papers,
    not the files. Raises ParseError only when no file yields a paper.
    """
    report = IngestReport()
    errors: list[ParseError] = []

    def read() -> Iterator[Paper]:
        for path in expand_paths(paths):
            try:
                _, items = read_file(path, listing_year=listing_year)
            except ParseError as exc:
                errors.append(exc)
                report.skipped.append(Skipped(path=exc.path, line=exc.line, reason=exc.describe()))
                if on_file:
                    on_file(str(path), report)
                continue
            report.per_file[str(path)] = 0
            for item in items:
                if isinstance(item, Skipped):
                    report.skipped.append(item)
                else:
                    report.per_file[str(path)] += 1
                    report.records_read += 1
                    yield item
            if on_file:
                on_file(str(path), report)

    papers = merge_papers(read())
    if not papers:
        if len(errors) == 1 and len(report.skipped) == 1:  # one file, unreadable as a whole
            raise errors[0]
        # Why each file or record was skipped is said here: the report listing them is not shown.
        unread = {e.path for e in errors}
        reasons = [e.message for e in errors]
        reasons += [str(s) for s in report.skipped if s.path not in unread]
        said = "; ".join(reasons[:_SKIPS_SAID])
        more = len(reasons) - _SKIPS_SAID
        said += f"; and {more} more" if more > 0 else ""
        raise ParseError(
            "no papers found in any of the files",
            path=", ".join(sorted({e.path for e in errors} | set(report.per_file))) or "input",
            hint=f"skipped: {said}; {EXPECTED_FORMATS}" if said else EXPECTED_FORMATS,
        )
    return papers, report


def _join_stored(
    papers: list[Paper],
    stored: dict[str, StoredPaper],
    store: Store,
    collection: Sequence[Paper] | None = None,
) -> list[Paper]:
    """Papers whose DOI or arXiv id names a stored paper of another title (the published
    version of a stored preprint) merged into that paper, as they would be within one run.
    ``collection``: the stored papers, when the caller holds them (else they are read)."""
    if not any(p.paper_id not in stored and identity_keys(p) for p in papers):
        return papers
    if collection is None:
        collection = store.papers()
    known = {key: paper for paper in collection for key in identity_keys(paper)}
    joined = []
    for paper in papers:
        match = next((known[k] for k in identity_keys(paper) if k in known), None)
        if paper.paper_id not in stored and match is not None:
            paper = match.merge(paper)
        joined.append(paper)
    return merge_papers(joined)


def plan_ingest(
    papers: list[Paper], stored: dict[str, StoredPaper]
) -> tuple[list[Paper], list[Paper], list[Paper], int]:
    """Split papers into (new, changed-or-incomplete, lacking only their whole-paper vector,
    unchanged count)."""
    new: list[Paper] = []
    changed: list[Paper] = []
    wholeless: list[Paper] = []
    unchanged = 0
    for paper in papers:
        state = stored.get(paper.paper_id)
        if state is None:
            new.append(paper)
        elif state.content_hash != paper.content_hash:
            changed.append(paper)
        elif state.complete:
            unchanged += 1
        elif state.chunks_complete:
            wholeless.append(paper)  # stored before whole-paper vectors were kept
        else:
            changed.append(paper)
    return new, changed, wholeless, unchanged


def ingest(
    paths: Iterable[Path],
    settings: Settings,
    *,
    batch_papers: int = 32,
    listing_year: int | None = None,
    on_progress: ProgressFn | None = None,
    on_calibrate: ProgressFn | None = None,
    on_file: FileFn | None = None,
    on_index: IndexFn | None = None,
    searched: LexicalIndex | None = None,
    embedder: OnnxEmbedding | None = None,
    calibrate: bool = True,
) -> IngestReport:
    """Bring the store in step with the papers in ``paths``.

    Unchanged papers are neither re-chunked nor re-embedded. Each batch of papers is written in
    one upsert, so an interrupted run leaves whole papers behind and the next run resumes.
    When the collection changed, the BM25 index is rebuilt and the coverage threshold
    recalibrated on questions generated from the collection (``calibrate=False`` leaves that
    to the caller: a server does it in the background, see collection.py). ``on_file`` hears
    of each file once it is read, ``on_progress`` of each committed batch; an exception raised
    by either stops the run with whole papers written. ``searched`` is the BM25 index a
    server searches now: the rebuild then tokenises only the papers that changed.
    """
    started = time.perf_counter()
    papers, report = read_collection(paths, listing_year=listing_year, on_file=on_file)
    store_dir = settings.store.path
    with open_store(settings.store, embedder_name(settings.embed), write=True) as store:
        if searched is None:
            searched = LexicalIndex.load(store_dir)
        # The index of the store as it is, when at hand: the write then reads and indexes
        # only the papers it names (see _Follow), not the whole collection.
        index = searched if _in_step(settings, searched) else None
        if index is not None and len(papers) <= _NAMED_READ:
            named = {p.paper_id for p in papers}
            stored = store.stored_papers(list(named))
            papers = _join_stored(papers, stored, store, index.papers)
            joined = [p.paper_id for p in papers if p.paper_id not in named]
            if joined:  # merged into a stored paper of another title (its DOI or arXiv id)
                stored.update(store.stored_papers(joined))
        else:
            stored = store.stored_papers()
            papers = _join_stored(papers, stored, store)
        new, changed, wholeless, report.unchanged = plan_ingest(papers, stored)
        # Papers stored before whole-paper vectors were kept: only those are embedded.
        whole_only = {p.paper_id for p in wholeless}
        todo = new + changed + wholeless
        report.added, report.updated = len(new), len(changed)
        report.unchanged += len(wholeless)
        report.removed_partial = sum(1 for p in changed if not stored[p.paper_id].chunks_complete)
        del papers, new, changed, wholeless  # a large collection is held twice otherwise
        if todo:
            LexicalIndex.mark_changing(store_dir)
            if index is None and searched is not None:
                # A server's index that no longer matches the saved one: made to match once.
                index = LexicalIndex.build(store.papers(), searched)
        follow = _Follow(index, on_index) if index is not None else None
        if on_progress:
            on_progress(0, len(todo))
        if todo and embedder is None:
            embedder = load_embedder(settings.embed)
        finished = False
        try:
            for start in range(0, len(todo), batch_papers):
                batch = todo[start : start + batch_papers]
                chunked = [
                    (
                        paper,
                        [] if paper.paper_id in whole_only else chunk_paper(paper, settings.chunk),
                    )
                    for paper in batch
                ]
                texts = [c.embed_text(p.title) for p, chunks in chunked for c in chunks]
                # Each paper is also embedded whole (its title and abstract): a paper in one
                # chunk already is, by that chunk.
                longer = [
                    paper
                    for paper, chunks in chunked
                    if len(chunks) > 1 or paper.paper_id in whole_only
                ]
                assert embedder is not None
                vectors = embedder.embed_texts(texts + [f"{p.title}\n{p.abstract}" for p in longer])
                whole = dict(zip((p.paper_id for p in longer), vectors[len(texts) :], strict=True))
                items = []
                offset = 0
                for paper, chunks in chunked:
                    if paper.paper_id in whole_only:
                        continue  # its chunks are stored as they are
                    items.append((paper, chunks, vectors[offset : offset + len(chunks)]))
                    whole.setdefault(paper.paper_id, vectors[offset])
                    offset += len(chunks)
                store.write_papers(
                    items,
                    previous_chunks={
                        p.paper_id: max(
                            stored[p.paper_id].expected_chunks, stored[p.paper_id].present_chunks
                        )
                        for p in batch
                        if p.paper_id in stored
                    },
                    whole=whole,
                )
                report.embedded_chunks += len(texts)
                report.embedded_whole += len(longer)
                if follow is not None:
                    follow.written(batch)
                if on_progress:
                    on_progress(start + len(batch), len(todo))
            finished = True
        finally:
            # Whole papers written before an interruption are searchable by words too.
            if follow is not None and todo:
                # Without a server to build it again in the background, built here once due.
                index = follow.saved(store_dir, compact=calibrate and finished)
        del todo, stored
        if index is None:
            index = _rebuild_lexical(settings, store.papers())
        if on_index:
            on_index(index)
        # Still under the write lock: no other writer can change the collection between the
        # index and its thresholds (a crash here leaves thresholds that do not match, which
        # answers treat as "no verdict", and a server rebuilds at start).
        if calibrate:
            report.coverage_threshold = _recalibrate(settings, index, embedder, on_calibrate)
    report.seconds = time.perf_counter() - started
    return report


class _Follow:
    """The BM25 index following an ingest's writes: the papers of each committed batch are
    added to it (tokenised alone), handed to ``on_index`` each time the papers written grew
    by half (so that the O(collection) bookkeeping of a new index stays a small multiple of
    one, whatever the collection's size), and saved at the end."""

    def __init__(self, index: LexicalIndex, on_index: IndexFn | None) -> None:
        self.index = index
        self.on_index = on_index
        self.waiting: list[Paper] = []
        self.shown = 0

    def written(self, batch: Sequence[Paper]) -> None:
        self.waiting.extend(batch)
        done = self.shown + len(self.waiting)
        if self.on_index is not None and done >= max(self.shown * 1.5, self.shown + 1):
            self._apply()
            self.on_index(self.index)

    def _apply(self) -> None:
        if self.waiting:
            self.shown += len(self.waiting)
            self.index = self.index.with_changes(self.waiting)
            if self.index.pending > DELTA_LIMIT:
                self.index = self.index.compacted()
            self.waiting = []

    def saved(self, store_dir: Path, compact: bool) -> LexicalIndex:
        self._apply()
        if compact and self.index.worth_compacting:
            self.index = self.index.compacted()
        with disk_errors(str(store_dir)):
            self.index.save_changes(store_dir)
        return self.index


def _in_step(settings: Settings, index: LexicalIndex | None) -> bool:
    """Whether ``index`` holds the collection the saved index says the store holds."""
    return (
        index is not None
        and LexicalIndex.saved_fingerprint(settings.store.path) == index.fingerprint
    )


def create_store(settings: Settings) -> None:
    """Create the (empty) store if there is none yet, so that a server can start serving
    before its first ingest has written anything."""
    with open_store(settings.store, embedder_name(settings.embed), write=True) as store:
        if LexicalIndex.saved_fingerprint(settings.store.path) is None and not store.count_chunks():
            # Saved empty, so that the first ingest follows it batch by batch.
            with disk_errors(str(settings.store.path)):
                LexicalIndex.build([]).save(settings.store.path)


def reindex(settings: Settings, on_index: IndexFn | None = None) -> None:
    """Bring the saved BM25 index in step with the store (after a write stopped half-way:
    its whole papers are in the store, but the index was not rebuilt)."""
    with open_store(settings.store, embedder_name(settings.embed), write=True) as store:
        index = _rebuild_lexical(settings, store.papers())
        if on_index:
            on_index(index)


def remove(
    paper_ids: Iterable[str],
    settings: Settings,
    embedder: OnnxEmbedding | None = None,
    on_calibrate: ProgressFn | None = None,
    calibrate: bool = True,
    on_index: IndexFn | None = None,
    searched: LexicalIndex | None = None,
) -> int:
    """Delete papers from the store and bring the indexes in step; returns how many existed.
    (``calibrate=False``: the coverage thresholds are left to the caller; ``searched`` the
    index a server searches now, as in ingest.)"""
    wanted = set(paper_ids)
    store_dir = settings.store.path
    with open_store(settings.store, embedder_name(settings.embed), write=True) as store:
        chunks = store.chunk_ids(sorted(wanted))
        present = sorted(chunks)
        in_step = searched is not None and _in_step(settings, searched)
        if present:
            LexicalIndex.mark_changing(store_dir)
        store.delete_chunks([chunk_id for pid in present for chunk_id in chunks[pid]])
        if searched is not None and in_step:
            # The index the last write saved, by whichever writer: these papers leave it,
            # without reading every paper back from the store.
            index = searched.with_changes(removed=present)
            with disk_errors(str(store_dir)):
                index.save_changes(store_dir)
        else:
            index = _rebuild_lexical(settings, store.papers(), previous=searched)
        if on_index:
            on_index(index)
        if calibrate:
            _recalibrate(settings, index, embedder, on_calibrate)
    return len(present)


def recalibrate(
    settings: Settings,
    embedder: OnnxEmbedding | None = None,
    on_calibrate: ProgressFn | None = None,
    index: LexicalIndex | None = None,
) -> float | None:
    """Bring the coverage thresholds in step with the collection (after an interrupted write,
    or a write that left them to later); the new threshold, or None when they already were.
    ``index``: the collection's BM25 index, when the caller holds it (a server does).

    The store is only read, and the saved BM25 index is left alone (a collection that moved on
    since is indexed in memory): a server's writes, which save it, do not wait for this, and
    nothing else writes it meanwhile. The thresholds are saved whole, for the collection as read.
    """
    if index is None:
        with open_store(settings.store, embedder_name(settings.embed)) as store:
            current = store.papers()
        index = _rebuild_lexical(settings, current, save=False)
    return _recalibrate(settings, index, embedder, on_calibrate)


def _rebuild_lexical(
    settings: Settings,
    current: list[Paper],
    *,
    save: bool = True,
    previous: LexicalIndex | None = None,
) -> LexicalIndex:
    """The BM25 index, rebuilt from the store itself so that it follows every add, replace and
    delete; an unchanged collection keeps its index. ``save=False``: a rebuilt one stays in
    memory (for a reader that must not write the saved one); ``previous``: an index of the
    collection before, whose tokens are reused."""
    if LexicalIndex.saved_fingerprint(settings.store.path) == fingerprint(current):
        index = LexicalIndex.load(settings.store.path, current)
        if index is not None:
            return index
    index = LexicalIndex.build(current, previous)
    if save:
        with disk_errors(str(settings.store.path)):
            index.save(settings.store.path)
    return index


def _recalibrate(
    settings: Settings,
    index: LexicalIndex,
    embedder: OnnxEmbedding | None,
    on_calibrate: ProgressFn | None,
) -> float | None:
    """Recompute the coverage thresholds when the collection changed; the new threshold."""
    saved = Calibration.load(settings.store.path)
    if not index.papers or (saved is not None and saved.fingerprint == index.fingerprint):
        return None
    with Retriever(settings, embedder) as retriever:
        retriever.use_index(index)
        return calibrate(retriever, index.fingerprint, on_progress=on_calibrate).threshold
