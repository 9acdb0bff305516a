"""The Chroma store (open with a write lock, upsert, query, list); the only chromadb importer."""

from __future__ import annotations

import contextlib
import fcntl
import functools
import logging
import os
import sqlite3
import threading
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any
from urllib.parse import urlparse

import chromadb
import chromadb.errors
import numpy as np
from chromadb.config import Settings as ChromaSettings

from assistant.config import StoreSettings
from assistant.errors import (
    AssistantError,
    EmbedderMismatchError,
    StoreError,
    StoreLockedError,
    StoreMissingError,
    StoreWriteError,
    disk_errors,
)
from assistant.records import Chunk, Paper

log = logging.getLogger("assistant")

LOCK_NAME = ".assistant.lock"
#: Suffix of the collection holding one vector per paper, of its whole title and abstract.
WHOLE_PAPERS = "-papers"
SERVING_NAME = ".assistant.serving"
#: Embedded stores this process serves (their serving lock's handle stays open until exit).
_served: dict[Path, IO[str]] = {}


@contextlib.contextmanager
def _chroma_errors(where: str, *, writing: bool = False) -> Iterator[None]:
    """Translate chromadb / SQLite failures into StoreError, most specific first; a failed
    write into StoreWriteError, whose next step is to resume rather than to rebuild."""
    try:
        yield
    except chromadb.errors.NotFoundError as exc:
        raise StoreMissingError(
            f"{where}: the collection does not exist ({exc})",
            hint="run `assistant ingest data/` to create it",
        ) from exc
    except (chromadb.errors.ChromaError, sqlite3.Error, OSError) as exc:
        if writing and not isinstance(exc, ConnectionError):
            raise StoreWriteError(where, f"{type(exc).__name__}: {exc}") from exc
        if isinstance(exc, OSError):
            raise StoreError(
                f"{where}: cannot reach the store ({exc})",
                hint="check ASSISTANT_STORE__PATH, or that the Chroma server at "
                "ASSISTANT_STORE__URL is running",
            ) from exc
        message = str(exc)
        if "readonly" in message.lower() or "read-only" in message.lower():
            raise StoreError(
                f"{where}: the store is read-only ({message})",
                hint="check the permissions and free space of the store directory",
            ) from exc
        raise StoreError(
            f"{where}: Chroma failed ({type(exc).__name__}: {message})",
            hint="if the store is damaged, move it aside and run `assistant ingest` again",
        ) from exc


@dataclass(frozen=True)
class StoredPaper:
    """What the store holds for one paper: enough to decide whether to re-embed it."""

    content_hash: str
    expected_chunks: int
    present_chunks: int
    whole: bool = True  # its vector of the whole title and abstract is stored

    @property
    def chunks_complete(self) -> bool:
        return self.expected_chunks == self.present_chunks

    @property
    def complete(self) -> bool:
        return self.chunks_complete and self.whole


_PROBED_CHUNKS = 4  # chunks looked up by id per paper before asking how many it has
_NAMED_CHUNKS = 16  # the same, when reading what is stored of papers named by id
_READ_BATCH = 1000  # chunks whose metadata one call reads when listing the collection


@dataclass(frozen=True)
class ChunkMatch:
    """One chunk returned by a vector query; ``text`` is empty when the query left it out."""

    chunk_id: str
    paper_id: str
    similarity: float
    text: str = ""


def _paper_id_of(chunk_id: str) -> str:
    """Chunk ids are ``paper_id:index``."""
    return chunk_id.rsplit(":", 1)[0]


def _scalar_metadata(paper: Paper) -> dict[str, str | int | float | bool]:
    """Paper fields flattened to the scalar values Chroma can filter on; the full record as JSON."""
    meta: dict[str, str | int | float | bool] = {
        "paper_id": paper.paper_id,
        "title": paper.title,
        "content_hash": paper.content_hash,
        "paper_json": paper.model_dump_json(),
    }
    for key in ("venue", "date", "year", "upvotes", "author_count", "organization"):
        value = getattr(paper, key)
        if value is not None:
            meta[key] = value
    if paper.authors:
        meta["authors"] = "; ".join(paper.authors)
    return meta


class Store:
    """An open Chroma collection of paper chunks, and beside it one of whole papers (one vector
    of each paper's title and abstract, found by paper id). Use :func:`open_store`."""

    def __init__(
        self,
        collection: Any,
        settings: StoreSettings,
        wholes: Any | None = None,
        client: Any | None = None,
    ) -> None:
        self._collection = collection
        self._wholes_found = wholes  # None: a store written before whole papers were kept
        self._client = client
        self.settings = settings

    @property
    def _wholes(self) -> Any | None:
        """The collection of whole papers; looked for again while missing, so that a server
        kept open on an older store uses it once a write creates it."""
        if self._wholes_found is None and self._client is not None:
            with _chroma_errors(self.location), contextlib.suppress(chromadb.errors.NotFoundError):
                self._wholes_found = self._client.get_collection(
                    f"{self.settings.collection}{WHOLE_PAPERS}", embedding_function=None
                )
        return self._wholes_found

    @property
    def location(self) -> str:
        return self.settings.url or str(self.settings.path)

    def warm(self) -> threading.Thread:
        """In a thread: read one stored vector and search with it, so that Chroma loads its
        vector index (0.7 s at 100k papers) while the server starts, rather than in the first
        answer. Problems are left for the first request to report."""

        def run() -> None:
            try:
                with _chroma_errors(self.location):
                    got = self._collection.get(limit=1, include=["embeddings"])
                    if len(got["ids"]):
                        vector = [float(x) for x in got["embeddings"][0]]
                        self._collection.query(query_embeddings=[vector], n_results=1, include=[])
            except AssistantError as exc:
                log.debug("the store's vector index was not loaded ahead: %s", exc.describe())

        thread = threading.Thread(target=run, name="warm-store", daemon=True)
        thread.start()
        return thread

    def count_chunks(self) -> int:
        with _chroma_errors(self.location):
            return int(self._collection.count())

    def count_papers(self) -> int:
        """How many papers are stored (their first chunks counted, ids only)."""
        with _chroma_errors(self.location):
            return len(self._collection.get(where={"chunk_index": 0}, include=[])["ids"])

    def _all_metadatas(
        self, where: dict[str, Any] | None = None
    ) -> Iterator[tuple[str, dict[str, Any]]]:
        """Every matching chunk's metadata, read by id a thousand at a time. Paging with an
        offset makes Chroma scan from the start each time (quadratic), and bigger pages leave
        more memory behind: at 100k papers, reading the records this way takes 9 s and 420 MB
        against 14 s and 610 MB in pages of 5,000 by offset."""
        with _chroma_errors(self.location):
            ids = list(self._collection.get(where=where, include=[])["ids"])
        for start in range(0, len(ids), _READ_BATCH):
            with _chroma_errors(self.location):
                got = self._collection.get(
                    ids=ids[start : start + _READ_BATCH], include=["metadatas"]
                )
            for chunk_id, meta in zip(got["ids"], got["metadatas"] or [], strict=False):
                yield chunk_id, dict(meta or {})

    def stored_papers(self, paper_ids: Sequence[str] | None = None) -> dict[str, StoredPaper]:
        """Per paper id: content hash, expected and present chunk counts; of every paper, or
        of those ``paper_ids`` names that are stored (what a small write reads)."""
        metadatas = self._all_metadatas() if paper_ids is None else self._named(paper_ids)
        seen: dict[str, tuple[set[str], int, int]] = {}
        for _, meta in metadatas:
            pid = str(meta.get("paper_id"))
            hashes, expected, present = seen.get(pid, (set(), 0, 0))
            hashes.add(str(meta.get("content_hash")))
            seen[pid] = (hashes, max(expected, int(meta.get("n_chunks", 0))), present + 1)
        whole = self._whole_ids(list(seen) if paper_ids is not None else None)
        return {
            pid: StoredPaper(
                # Chunks from two versions of a paper mean an interrupted replace: treat as stale.
                content_hash=next(iter(hashes)) if len(hashes) == 1 else "",
                expected_chunks=expected,
                present_chunks=present,
                whole=pid in whole,
            )
            for pid, (hashes, expected, present) in seen.items()
        }

    def _whole_ids(self, paper_ids: Sequence[str] | None) -> set[str]:
        """Which of these papers (None: of all) have their whole-paper vector stored."""
        if self._wholes is None:
            return set()
        with _chroma_errors(self.location):
            if paper_ids is None:
                return set(self._wholes.get(include=[])["ids"])
            found: set[str] = set()
            for start in range(0, len(paper_ids), _READ_BATCH):
                batch = list(paper_ids[start : start + _READ_BATCH])
                found.update(self._wholes.get(ids=batch, include=[])["ids"])
            return found

    def _named(self, paper_ids: Sequence[str]) -> Iterator[tuple[str, dict[str, Any]]]:
        """The chunk metadata of these papers, found by id (a filter on paper ids scans the
        metadata of the whole collection: 30 ms at 100k papers, against a few here). The
        first chunks of each are probed, and a paper that has them all is read whole."""
        wanted = list(dict.fromkeys(paper_ids))
        longer: list[str] = []
        step = _READ_BATCH // _NAMED_CHUNKS
        last = f":{_NAMED_CHUNKS - 1}"
        for start in range(0, len(wanted), step):
            probe = [
                f"{pid}:{i}" for pid in wanted[start : start + step] for i in range(_NAMED_CHUNKS)
            ]
            with _chroma_errors(self.location):
                got = self._collection.get(ids=probe, include=["metadatas"])
            for chunk_id, meta in zip(got["ids"], got["metadatas"] or [], strict=False):
                if chunk_id.endswith(last):
                    longer.append(_paper_id_of(chunk_id))
                yield chunk_id, dict(meta or {})
        for start in range(0, len(longer), _READ_BATCH):
            where = {"paper_id": {"$in": longer[start : start + _READ_BATCH]}}
            for chunk_id, meta in self._all_metadatas(where=where):
                if int(chunk_id.rsplit(":", 1)[1]) >= _NAMED_CHUNKS:
                    yield chunk_id, meta

    def papers(self) -> list[Paper]:
        """Every stored paper, in title order."""
        found = [
            Paper.stored(str(meta["paper_json"]))
            for _, meta in self._all_metadatas(where={"chunk_index": 0})
        ]
        return sorted(found, key=lambda p: p.title.lower())

    def get_paper(self, paper_id: str) -> Paper | None:
        """One stored paper by id, or None."""
        return self.get_papers([paper_id]).get(paper_id)

    def get_papers(self, paper_ids: Sequence[str]) -> dict[str, Paper]:
        """The stored papers among ``paper_ids``, by id, read in one call."""
        with _chroma_errors(self.location):
            got = self._collection.get(ids=[f"{pid}:0" for pid in paper_ids], include=["metadatas"])
        found = (Paper.stored(str(m["paper_json"])) for m in got["metadatas"] or [])
        return {p.paper_id: p for p in found}

    def write_papers(
        self,
        items: Sequence[tuple[Paper, list[Chunk], Sequence[Sequence[float]]]],
        previous_chunks: Mapping[str, int] | None = None,
        whole: Mapping[str, Sequence[float]] | None = None,
    ) -> None:
        """Store each paper's chunks and vectors in one upsert; then drop chunks it no longer has.

        Chunk ids are ``paper_id:index``, so a re-written paper overwrites its own chunks and
        never duplicates them. ``whole`` holds the vector of each paper's whole title and
        abstract, by paper id: written first, so that a paper whose chunks are all stored has
        it too (an interrupted write leaves the paper incomplete, re-embedded next time).
        """
        if whole:
            if self._wholes is None:
                raise TypeError("whole-paper vectors are written to a store opened for writing")
            with _chroma_errors(self.location, writing=True):
                self._wholes.upsert(
                    ids=list(whole), embeddings=[[float(x) for x in v] for v in whole.values()]
                )
        ids: list[str] = []
        documents: list[str] = []
        metadatas: list[dict[str, Any]] = []
        embeddings: list[list[float]] = []
        for paper, chunks, vectors in items:
            # The whole record goes on the first chunk only; the others carry what resuming
            # needs (paper id, content hash, chunk count): a third less disk at 2 chunks a paper.
            full = _scalar_metadata(paper)
            brief = {k: full[k] for k in ("paper_id", "content_hash")}
            for chunk, vector in zip(chunks, vectors, strict=True):
                ids.append(chunk.chunk_id)
                documents.append(chunk.text)
                metadatas.append(
                    {
                        **(full if chunk.index == 0 else brief),
                        "chunk_index": chunk.index,
                        "n_chunks": len(chunks),
                        "tokens": chunk.tokens,
                    }
                )
                embeddings.append([float(x) for x in vector])
        if not ids:
            return
        with _chroma_errors(self.location, writing=True):
            self._collection.upsert(
                ids=ids, documents=documents, metadatas=metadatas, embeddings=embeddings
            )
        previous_chunks = previous_chunks or {}
        stale = [
            f"{paper.paper_id}:{i}"
            for paper, chunks, _ in items
            for i in range(len(chunks), previous_chunks.get(paper.paper_id, 0))
        ]
        self.delete_chunks(stale)

    def chunk_ids(self, paper_ids: Sequence[str]) -> dict[str, list[str]]:
        """The ids of the stored chunks of each of these papers that is stored (found by id:
        a filter on paper ids scans the whole collection's metadata first)."""
        found: dict[str, list[str]] = {}
        for chunk_id, _ in self._named(paper_ids):
            found.setdefault(_paper_id_of(chunk_id), []).append(chunk_id)
        return found

    def delete_chunks(self, chunk_ids: Sequence[str]) -> None:
        """Remove these chunks (see :meth:`chunk_ids`); a paper's first chunk goes with the
        paper, and so does its whole-paper vector."""
        if chunk_ids:
            with _chroma_errors(self.location, writing=True):
                self._collection.delete(ids=list(chunk_ids))
                gone = [_paper_id_of(c) for c in chunk_ids if c.endswith(":0")]
                if gone and self._wholes is not None:
                    self._wholes.delete(ids=gone)

    def nearest_wholes(self, vector: Sequence[float], n: int) -> dict[str, float]:
        """The ``n`` papers whose whole-paper vectors are nearest to ``vector`` (cosine), by
        paper id, best first: one vector query, as cheap as the chunks' (200 in 2.7 ms on the
        sample, where reading 100 by id took 7 ms; 13 ms at 100,000 papers)."""
        if self._wholes is None:
            return {}
        with _chroma_errors(self.location):
            got = self._wholes.query(
                query_embeddings=[[float(x) for x in vector]],
                n_results=max(1, n),
                include=["distances"],
            )
        distances = (got["distances"] or [[]])[0]
        return {pid: 1.0 - float(d) for pid, d in zip(got["ids"][0], distances, strict=False)}

    def whole_similarities(
        self, vector: Sequence[float], paper_ids: Sequence[str]
    ) -> dict[str, float]:
        """Cosine similarity of ``vector`` to each of these papers' whole-paper vectors, by
        paper id (papers without one are left out). Read by id: 100 papers in 6.6 ms (p50)
        from a collection of 100,000 (bench/whole_papers.py)."""
        if self._wholes is None or not paper_ids:
            return {}
        with _chroma_errors(self.location):
            got = self._wholes.get(ids=list(paper_ids), include=["embeddings"])
        if not len(got["ids"]):
            return {}
        similarity = np.asarray(got["embeddings"], dtype=np.float32) @ np.asarray(
            vector, dtype=np.float32
        )
        return {pid: float(s) for pid, s in zip(got["ids"], similarity, strict=True)}

    def nearest_among(self, vector: Sequence[float], paper_ids: Sequence[str]) -> list[ChunkMatch]:
        """Every chunk of these papers, best first by exact cosine similarity to ``vector``
        (without texts: see :meth:`chunk_texts`).

        For up to a thousand papers this beats a filtered HNSW query, which Chroma answers by
        scanning the metadata of the whole collection (150-300 ms at 100k papers, against
        about 20 ms here for 300 papers). Chunks are found by id: the first few of each paper
        are probed, and a paper that has them all tells how many more it has.
        """
        if not paper_ids:
            return []
        with _chroma_errors(self.location):
            probe = [f"{pid}:{i}" for pid in paper_ids for i in range(_PROBED_CHUNKS)]
            present = list(self._collection.get(ids=probe, include=[])["ids"])
            last = f":{_PROBED_CHUNKS - 1}"
            longer = [chunk_id for chunk_id in present if chunk_id.endswith(last)]
            if longer:  # chunks after the first carry no record, so their metadata is small
                metas = self._collection.get(ids=longer, include=["metadatas"])["metadatas"]
                present += [
                    f"{meta['paper_id']}:{i}"
                    for meta in metas or []
                    for i in range(_PROBED_CHUNKS, int(meta.get("n_chunks", 0)))
                ]
            got = self._collection.get(ids=present, include=["embeddings"]) if present else None
        if got is None or not len(got["ids"]):
            return []
        ids = list(got["ids"])
        similarity = np.asarray(got["embeddings"], dtype=np.float32) @ np.asarray(
            vector, dtype=np.float32
        )
        return [
            ChunkMatch(ids[i], _paper_id_of(ids[i]), float(similarity[i]))
            for i in np.argsort(-similarity)
        ]

    def paper_vectors(self, paper_ids: Sequence[str]) -> dict[str, np.ndarray]:
        """The vector of each paper's first chunk (its title and the start of its abstract),
        by paper id; papers not stored are left out."""
        found: dict[str, np.ndarray] = {}
        with _chroma_errors(self.location):
            for start in range(0, len(paper_ids), _READ_BATCH):
                batch = [f"{pid}:0" for pid in paper_ids[start : start + _READ_BATCH]]
                got = self._collection.get(ids=batch, include=["embeddings"])
                for chunk_id, vector in zip(got["ids"], got["embeddings"], strict=True):
                    found[_paper_id_of(chunk_id)] = np.asarray(vector, dtype=np.float32)
        return found

    def query(
        self,
        vector: Sequence[float],
        n: int,
        where: dict[str, Any] | None = None,
        *,
        texts: bool = True,
    ) -> list[ChunkMatch]:
        """The ``n`` chunks nearest to ``vector`` (cosine), best first.

        ``texts=False`` returns ids and similarities only: Chroma then answers a query for
        1,250 chunks in about 10 ms instead of 85 ms (100k papers), so a retriever can fetch
        many candidates and read the texts of the few it keeps (:meth:`chunk_texts`).
        """
        include = ["documents", "metadatas", "distances"] if texts else ["distances"]
        with _chroma_errors(self.location):
            got = self._collection.query(
                query_embeddings=[[float(x) for x in vector]],
                n_results=max(1, n),  # more than the collection holds returns them all
                where=where,
                include=include,
            )
        ids = got["ids"][0]
        documents = (got["documents"] or [[""] * len(ids)])[0]
        distances = (got["distances"] or [[]])[0]
        return [
            ChunkMatch(chunk_id, _paper_id_of(chunk_id), 1.0 - float(distance), text or "")
            for chunk_id, text, distance in zip(ids, documents, distances, strict=False)
        ]

    def chunk_texts(self, chunk_ids: Sequence[str]) -> dict[str, str]:
        """The text of each of these chunks, by id (missing ids are left out)."""
        if not chunk_ids:
            return {}
        with _chroma_errors(self.location):
            got = self._collection.get(ids=list(chunk_ids), include=["documents"])
        return {
            chunk_id: text or ""
            for chunk_id, text in zip(got["ids"], got["documents"] or [], strict=False)
        }


@functools.cache
def _chroma_settings() -> Any:
    # Built once: a pydantic-settings model reads the environment, 25 ms a store opened (a
    # third of a one-paper write at 100k papers). Never handed out itself, see _client.
    return ChromaSettings(anonymized_telemetry=False)


def preload(settings: StoreSettings) -> None:
    """Open the store and have Chroma read its vector index in a thread (Store.warm) while
    the caller goes on: `serve` imports its API meanwhile (about 2 s). Chroma keeps one
    instance per store in a process, so the server's own opening finds the index read; it
    also reports any problem (a missing store, another embedder), which this leaves alone."""
    try:
        with open_store(settings, None) as store:
            store.warm()
    except AssistantError:
        return


def _client(settings: StoreSettings, create: bool) -> Any:
    # A copy for each client: Chroma's clients write their own fields into the settings object
    # they are given, so one shared between an HttpClient and a PersistentClient sends the
    # second to the first's server.
    telemetry = _chroma_settings().model_copy(deep=True)
    if settings.url:
        url = urlparse(settings.url)
        return chromadb.HttpClient(
            host=url.hostname or "127.0.0.1",
            port=url.port or 8000,
            ssl=url.scheme == "https",
            settings=telemetry,
        )
    path = settings.path
    if not create and not (path / "chroma.sqlite3").exists():
        raise StoreMissingError(
            f"No store at {path}", hint=f"run `assistant --store {path} ingest data/` first"
        )
    path.mkdir(parents=True, exist_ok=True)
    return chromadb.PersistentClient(path=str(path), settings=telemetry)


def _holder(handle: IO[str], mode: int) -> str | None:
    """Take the lock ``mode`` on an open lock file without waiting: None when taken (the file
    then names this process), else the pid that the process holding it wrote there."""
    try:
        fcntl.flock(handle, mode | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.seek(0)
        return handle.read().strip() or "unknown"
    if mode == fcntl.LOCK_EX:
        handle.seek(0)
        handle.truncate()
        handle.write(str(os.getpid()))
        handle.flush()
    return None


def hold_for_serving(settings: StoreSettings) -> None:
    """Mark an embedded store as served by this process until it exits.

    A server keeps the collection's vector index in memory: another process's writes would not
    reach it (new papers unfound, until a restart) and its own next write could overwrite
    theirs. So a second server on the store is refused, and so are other processes' writes
    (see ``_not_served_elsewhere``); the server itself adds and removes papers as usual.
    """
    if settings.url:  # a Chroma server is built for several clients
        return
    path = settings.path.resolve()
    with disk_errors(str(path)):
        path.mkdir(parents=True, exist_ok=True)
        handle = (path / SERVING_NAME).open("a+")
    holder = _holder(handle, fcntl.LOCK_EX)
    if holder is not None:
        handle.close()
        raise StoreLockedError(
            f"The store at {path} is already being served (pid {holder})",
            hint="use that server, stop it first, or serve another store (--store)",
        )
    _served[path] = handle


def _not_served_elsewhere(settings: StoreSettings) -> None:
    """Refuse to write to an embedded store that another process serves."""
    path = settings.path.resolve()
    marker = path / SERVING_NAME
    if settings.url or path in _served or not marker.exists():
        return
    with marker.open("a+") as handle:
        # A shared lock is granted unless a server holds the exclusive one.
        holder = _holder(handle, fcntl.LOCK_SH)
        if holder is not None:
            raise StoreLockedError(
                f"The store at {path} is being served by another process (pid {holder}): "
                "a change made from here would not reach it",
                hint="add or remove papers through that server (the Collection tab, POST "
                "/v1/papers/upload, DELETE /v1/papers/ID), or stop it first; to write beside a "
                "running server, use a Chroma server (ASSISTANT_STORE__URL)",
            )


@contextlib.contextmanager
def _write_lock(settings: StoreSettings) -> Iterator[None]:
    """One writer per store directory: Chroma's embedded SQLite files are not multi-process
    safe, and with a Chroma server the directory still holds the BM25 index and thresholds
    that every ingest rewrites."""
    _not_served_elsewhere(settings)
    with disk_errors(str(settings.path)):  # a read-only or full disk fails here first
        settings.path.mkdir(parents=True, exist_ok=True)
        handle = (settings.path / LOCK_NAME).open("a+")
    try:
        holder = _holder(handle, fcntl.LOCK_EX)
        if holder is not None:
            raise StoreLockedError(
                f"Another process (pid {holder}) is writing to the store at {settings.path}",
                hint="wait for it to finish, or stop it; for several writers use a Chroma server "
                "(ASSISTANT_STORE__URL)",
            )
        yield
    finally:
        handle.close()  # closing releases the flock


def _search_wide(collection: Any, ef: int) -> None:
    """Have the collection's vector index keep ``ef`` candidates while it searches.

    Chroma's default (100) is approximate, and its index is rebuilt from the log at each start
    until a thousand chunks are written since the last save, with threads racing to insert:
    the same question then finds different nearest chunks from one start to the next (up to
    3 of 434 questions on the sample lost their nearest chunk, different ones at each start).
    Asking for as many candidates as the collection holds makes a search exhaustive.
    """
    hnsw = (collection.configuration_json or {}).get("hnsw") or {}
    if hnsw.get("ef_search") != ef:
        collection.modify(configuration={"hnsw": {"ef_search": ef}})


@contextlib.contextmanager
def open_store(
    settings: StoreSettings, embedder: str | None, *, write: bool = False
) -> Iterator[Store]:
    """Open the collection; ``write=True`` creates it and takes the store's write lock.

    Raises StoreMissingError when reading a store that does not exist, and
    EmbedderMismatchError when the store was built by a different embedder (``embedder=None``
    reads without asking which, and cannot write).
    """
    if write and embedder is None:
        raise TypeError("a store is written by a named embedder")
    with contextlib.ExitStack() as stack:
        if write:
            stack.enter_context(_write_lock(settings))
        location = settings.url or str(settings.path)
        with _chroma_errors(location, writing=write):
            client = _client(settings, create=write)
            if write:
                collection = client.get_or_create_collection(
                    settings.collection,
                    metadata={"hnsw:space": "cosine", "embedder": embedder},
                    embedding_function=None,
                )
                _search_wide(collection, settings.search_ef)
                wholes = client.get_or_create_collection(
                    f"{settings.collection}{WHOLE_PAPERS}",
                    metadata={"hnsw:space": "cosine", "embedder": embedder},
                    embedding_function=None,
                )
                _search_wide(wholes, settings.search_ef)
            else:
                collection = client.get_collection(settings.collection, embedding_function=None)
                wholes = None  # found on first use (Store._wholes), missing in older stores
        built_with = (collection.metadata or {}).get("embedder")
        if embedder is not None and built_with != embedder:
            raise EmbedderMismatchError(
                f"The store at {location} was built with the embedder {built_with!r}, "
                f"but this assistant embeds with {embedder!r}",
                hint="re-index: move the store aside (or pick another --store) and run "
                "`assistant ingest` on your files again",
            )
        yield Store(collection, settings, wholes, client)
