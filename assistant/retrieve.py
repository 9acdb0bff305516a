"""question -> Retrieval: metadata parsed, BM25 + dense fused per paper, with a coverage verdict."""

from __future__ import annotations

import contextlib
import json
import logging
import os
import re
import statistics
import sys
import threading
import unicodedata
import weakref
from collections import ChainMap, OrderedDict
from collections.abc import Callable, Iterator, Mapping, MutableMapping, Sequence
from pathlib import Path
from typing import Literal, cast

import numpy as np
from pydantic import BaseModel, Field

from assistant import names, spelling
from assistant.config import Settings
from assistant.embed import OnnxEmbedding, embedder_name, load_embedder
from assistant.errors import AssistantError, disk_errors
from assistant.fusion import fuse, lexical_share
from assistant.lexical import DISTINCT_NAME, LexicalIndex
from assistant.markup import inert_markers
from assistant.query import (
    ASKED_FOR,
    Query,
    QueryParser,
    Reading,
    Sort,
    Tally,
    Vocabulary,
    asks,
    asks_for_papers,
    social,
    sort_papers,
    sort_value,
    tally_papers,
    title_words,
)
from assistant.records import (
    Filters,
    Hit,
    Paper,
    clean_text,
    count_of,
    counted,
    date_key,
    fold,
    mentions,
    title_name,
)
from assistant.store import ChunkMatch, Store, open_store
from assistant.themes import Theme, evenly, themes

log = logging.getLogger("assistant")

_FILTER_CACHE = 32  # filters whose passing papers are remembered
_PAST_YEARS = 10_000  # a year after any a filter takes (records.DATE_PATTERN)
#: Words that end a topic without narrowing it ("Bayesian methods", "pruning approaches").
_GENERIC_HEADS = frozenset(
    {"method", "methods", "approach", "approaches", "technique", "techniques"}
    | {"work", "works", "research", "ideas"}
)
#: Words of a question's subject beyond which two of them in a row no longer name a paper
#: (a description of twenty words shares a pair with some title by chance).
_NAMING_WORDS = 4
_SUBJECT_HELD = 0.5  # share of a filtered question's topic a paper must hold to be about it
#: The share of the best score a paper must hold to be on an ordered question's topic
#: ("the newest paper on X"): those are sorted, the others follow by relevance.
_ON_TOPIC = 0.6
_ORDERED_POOL = 40  # the papers an ordered topic question ranks before it sorts those on topic
#: BM25's first papers, the most of a question's term weight any of them holds is the verdict's
#: term share: the share credits an acronym a paper writes out ("offline RL"), BM25 does not.
_SHARE_OF = 3
_VECTOR_CACHE = 512  # query vectors remembered
_GIVE_WAY_S = 0.5  # the longest a loading word index waits for answers at a time
_BACKGROUND_NICE = 15  # added to a background thread's nice value (19 at most)
# From this many papers, the word index loads at a lower priority (see ``Retriever.warm``).
_BACKGROUND_FROM = 10_000


def in_background() -> None:
    """Lower the calling thread's CPU priority, for work that answers must not wait for (the
    page's build, the word index's load). On two cores they would otherwise take half the
    CPU from the first answers: at 100k papers the first answer came 2.1-4 s after the port
    opened beside them, 1.5 s with them lowered. Linux gives each thread its own nice value;
    elsewhere this does nothing."""
    if sys.platform != "linux":
        return
    thread = threading.get_native_id()
    with contextlib.suppress(OSError):
        now = os.getpriority(os.PRIO_PROCESS, thread)
        os.setpriority(os.PRIO_PROCESS, thread, min(19, now + _BACKGROUND_NICE))


#: What a retrieval answered while the word index loads says (see ``Retriever.warm``).
WORDS_LOADING = "its word index is still loading: papers were found by meaning alone"
CALIBRATION_FILE = "relevance.json"


#: How the thresholds are chosen and the signals they bound are computed: a file saved by an
#: earlier way is rebuilt (by ingest, or a server at start), not used (2: refusal at the 10th
#: percentile; the fusion's and the term share's changes of the same release; 3: the term
#: share of BM25's first paper, not of the fused first; 4: of BM25's first three, covering
#: from its 90th percentile).
SCORING = 4


class Calibration(BaseModel):
    """Where the collection's own questions put the line between covered and not covered."""

    fingerprint: str
    scoring: int = Field(description="The way they were chosen (SCORING when they were saved).")
    threshold: float = Field(
        description="Best dense similarity from which a question is covered (whatever its "
        "lexical coverage)."
    )
    lexical_threshold: float = Field(
        description="Share of the question's term weight in the top paper that also covers it."
    )
    refusal_threshold: float = Field(
        description="Best dense similarity below which (with lexical coverage below "
        "refusal_lexical_threshold) a question is refused rather than answered with a caveat."
    )
    refusal_lexical_threshold: float
    questions: int
    covered_median: float = Field(description="Median best similarity, source paper present.")
    absent_median: float = Field(description="Median best similarity, source paper removed.")

    def save(self, store_dir: Path) -> None:
        """Write the thresholds next to the store, atomically (a crash keeps the old file)."""
        staging = store_dir / (CALIBRATION_FILE + ".tmp")
        with disk_errors(str(store_dir)):
            staging.write_text(self.model_dump_json(indent=2))
            staging.replace(store_dir / CALIBRATION_FILE)

    @classmethod
    def load(cls, store_dir: Path) -> Calibration | None:
        path = store_dir / CALIBRATION_FILE
        try:
            saved = cls.model_validate(json.loads(path.read_text()))
        except (OSError, ValueError):
            return None
        return saved if saved.scoring == SCORING else None


_WHAT_TO_ASK = (
    "Ask about a topic, a paper or the papers' metadata, e.g. \"Which papers prune LLM "
    'layers?", "What is SOAP?" or "How many papers are there?".'
)
#: What a question whose words only frame one ("most", "Which papers?") is told.
NOTHING_ASKED = f"The question names nothing to search for. {_WHAT_TO_ASK}"
#: ... and a message that asks nothing of the papers, by what it says (``query.social``).
_SOCIAL_REPLIES = {
    "hello": f"Hello. {_WHAT_TO_ASK}",
    "thanks": f"You're welcome. {_WHAT_TO_ASK}",
    "help": (
        "I answer from the abstracts of this collection's papers and cite each paper I quote. "
        'Ask about a topic ("Which papers prune LLM layers?"), a paper ("What is SOAP?") or '
        'the papers\' metadata ("How many papers are from 2025?"), ask for a comparison '
        '("compare SOAP with MARS"), then follow up ("Who wrote it?", "give me 2 more", '
        '"Which of them is newer?").'
    ),
    # "how do I add my own papers?", "which model are you?": asked as a search, the first had
    # been refused and the second answered with a paper on "what you can control"
    "usage": (
        "Papers are added with `assistant ingest FILES` (BibTeX, RIS, CSL JSON, arXiv or "
        "OpenAlex metadata, JSONL, CSV), on the page's Collection tab, or with POST "
        "/v1/papers/upload. "
        "Without a language model configured, answers are extracted from the abstracts; with "
        "OPENAI_API_KEY or ASSISTANT_LLM__BASE_URL set, that model writes them, and each "
        "answer's receipt names the model."
    ),
}


class Retrieval(BaseModel):
    """What one search found, and whether the collection covers the question at all."""

    query: Query
    hits: list[Hit]
    covered: bool = Field(description="False when the collection does not cover the question.")
    relevance: float | None = Field(None, description="Best dense similarity of any paper.")
    lexical_coverage: float | None = Field(
        None,
        description="The most of the question's term weight (IDF) one of the papers BM25 ranks "
        "first holds (whatever the fusion ranks first, so that the verdict does not move with "
        "the dense side).",
    )
    threshold: float | None = Field(None, description="The calibrated coverage threshold.")
    lexical_threshold: float | None = Field(
        None, description="The calibrated threshold on lexical_coverage."
    )
    absent_median: float | None = Field(
        None,
        description="The median best similarity of calibration questions whose paper was removed: "
        "a paper below it is no closer than an absent topic's best match usually is.",
    )
    uncertain: bool = Field(
        False,
        description="Covered only by the weak band: answered, with a caveat that the collection "
        "may not cover the question.",
    )
    matching: int = Field(description="Papers passing the question's metadata constraints.")
    verdict: bool = Field(
        True,
        description="False when the collection's coverage thresholds do not match it (an "
        "interrupted write; a server rebuilds them at start): covered then says only that "
        "something was found.",
    )
    partial: str | None = Field(
        None,
        description="Set while the server is still indexing papers: how far it got, so that "
        "what was found may be missing papers.",
    )
    doubt: str | None = Field(
        None,
        description="Why the question may not be covered whatever the scores say: a name no "
        "paper mentions, or one the papers found use but none introduces (then uncertain).",
    )
    aside: str | None = Field(
        None,
        description="What the answer says first whatever its verdict: that none of the papers "
        "a follow-up names mentions what it asks of them, so others are answered from.",
    )
    counts: list[tuple[str, int]] = Field(
        default_factory=list,
        description="For a count of papers per value (query.tally): the values it asks for "
        "and how many papers give each, largest first; the hits are those values' papers.",
    )
    counted: int = Field(0, description="Papers giving a value, that the counts were taken over.")
    themes: list[Theme] = Field(
        default_factory=list,
        description='For a count that asks for themes ("What topics are covered?"): the '
        "counted papers grouped by meaning, largest first; the hits are their typical papers.",
    )
    grouped: int = Field(0, description="How many papers the themes were taken from.")
    average: Average | None = Field(
        None, description="For a mean asked for: of the papers matching, over those giving it."
    )
    total: int = Field(
        0,
        description='For a share asked for ("What proportion of papers have code?"): the '
        "papers in the collection.",
    )
    within: int = Field(
        0,
        description='For a count within a topic ("the most papers on diffusion models"): '
        "the papers whose title or abstract mentions it, of which counted give a value.",
    )
    tied: int = Field(
        0,
        description='For one paper asked for by an order ("the newest paper"): how many share '
        "the first's value; the hits are those.",
    )
    quoted: list[str] = Field(
        default_factory=list,
        description="The ids of the papers whose whole titles the question quotes ('summarize "
        '"Conformal Risk Control"\', as a follow-up about cited papers is rewritten): first, '
        "and what an extracted answer quotes alone.",
    )

    @property
    def coverage_verdict(self) -> Literal["covered", "uncertain", "not_covered"]:
        """covered, uncertain (covered only by the weak band) or not_covered (refused)."""
        if not self.covered:
            return "not_covered"
        return "uncertain" if self.uncertain else "covered"

    @property
    def unread_note(self) -> str | None:
        """What an answer or a search says of how it read the question: the constraints it
        states that no filter could use, with why, and the misspelt words it searched as the
        collection spells them."""
        reasons: dict[str, list[str]] = {}
        for phrase in self.query.unread:
            why = self.query.unread_reasons.get(phrase, "no field of the papers holds it")
            reasons.setdefault(why, []).append(f"'{phrase}'")
        notes = [
            f"I could not use {', '.join(p)} as a filter ({why})." for why, p in reasons.items()
        ]
        # an aside read as nothing ("btw") is not worth a note
        read = ", ".join(
            f"'{typo}' as '{word}'" for typo, word in self.query.corrected.items() if word
        )
        if read:
            notes.append(f"I read {read}, as the papers spell it.")
        return " ".join(notes) or None


class HitOut(BaseModel):
    """One found paper as search answers it (API and `assistant search --format json`)."""

    rank: int
    score: float
    similarity: float | None
    paper: Paper
    chunks: list[str]
    links: dict[str, str] = Field(
        default_factory=dict, description='The paper\'s DOI and arXiv pages ("doi", "arxiv").'
    )

    @classmethod
    def of(cls, hit: Hit) -> HitOut:
        ranked = hit.model_dump(include={"rank", "score", "similarity", "chunks"})
        return cls(**ranked, paper=hit.paper, links=hit.paper.links)


class Average(BaseModel):
    """A mean asked for ("What is the average number of authors?"), over the papers giving the
    field among those the question matched."""

    field: Literal["authors", "upvotes"]
    mean: float | None = None
    median: float | None = None
    low: int | None = None
    high: int | None = None
    giving: int = Field(0, description="The papers giving the field, that it was taken over.")

    @classmethod
    def of(cls, papers: Sequence[Paper], field: Literal["authors", "upvotes"]) -> Average:
        values = sorted(v for v in (count_of(p, field) for p in papers) if v is not None)
        if not values:
            return cls(field=field)
        return cls(
            field=field,
            mean=statistics.fmean(values),
            median=statistics.median(values),
            low=values[0],
            high=values[-1],
            giving=len(values),
        )


class SearchResponse(BaseModel):
    """A search's JSON body, the same over HTTP and on the command line."""

    covered: bool
    relevance: float | None
    threshold: float | None
    lexical_coverage: float | None
    lexical_threshold: float | None
    matching: int
    partial: str | None = Field(None, description="Set while papers are still being indexed.")
    verdict: Literal["covered", "uncertain", "not_covered"] = Field(
        "covered", description="covered; uncertain (answered with a caveat); not_covered."
    )
    doubt: str | None = Field(
        None, description="Why it may not be covered whatever the scores say (see Retrieval)."
    )
    recognised: list[str]
    unread_note: str | None = Field(
        None, description="The constraints the question states that no filter could use, and why."
    )
    topic: str = Field(description="What is left of the question once metadata is read.")
    counts: list[tuple[str, int]] = Field(
        default_factory=list,
        description='A count of papers per value the question asked for ("Which author has '
        'the most papers?"): each value and its papers, largest first; hits are their papers.',
    )
    counted: int = Field(0, description="Papers giving a value, that counts were taken over.")
    within: int = Field(
        0, description="For a count within a topic: the papers mentioning it (see Retrieval)."
    )
    themes: list[Theme] = Field(
        default_factory=list,
        description='For "What topics are covered?": the papers grouped by meaning, each group '
        "named by its words; the hits are their most typical papers, in the same order.",
    )
    grouped: int = Field(0, description="How many papers the themes were taken from.")
    average: Average | None = Field(None, description="For a mean asked for (see Retrieval).")
    hits: list[HitOut]

    @classmethod
    def of(cls, found: Retrieval) -> SearchResponse:
        verdict = found.model_dump(include=_VERDICT_FIELDS)
        return cls(
            **verdict,
            verdict=found.coverage_verdict,
            recognised=found.query.recognised,
            unread_note=found.unread_note,
            topic=found.query.topic,
            counts=found.counts,
            counted=found.counted,
            within=found.within,
            themes=found.themes,
            grouped=found.grouped,
            average=found.average,
            hits=[HitOut.of(h) for h in found.hits],
        )


#: What a search says about coverage, under the same names in a Retrieval and a SearchResponse.
_VERDICT_FIELDS = {
    "covered",
    "relevance",
    "threshold",
    "lexical_coverage",
    "lexical_threshold",
    "matching",
    "partial",
    "doubt",
}


class Retriever:
    """Hybrid retrieval over the store.

    Keeps the embedder, the lexical index and one open store between queries (opening Chroma
    costs more than a query); ``close()``, or use it as a context manager, to release them.
    """

    def __init__(self, settings: Settings, embedder: OnnxEmbedding | None = None) -> None:
        self.settings = settings
        self._embedder = embedder
        self._lexical: LexicalIndex | None = None
        self._stamp: int | None = None
        self._parser: QueryParser | None = None
        self._calibration: Calibration | None = None
        #: Thresholds a server keeps in force while it rebuilds them after its own write (a
        #: collection one write away); None elsewhere, where thresholds that do not match the
        #: collection (an interrupted write) give no verdict.
        self.interim: Calibration | None = None
        #: While a server indexes papers in the background, how far it got ("indexing 120 of
        #: 318 papers"); every retrieval carries it as ``partial``.
        self.indexing: str | None = None
        self._warming: threading.Thread | None = None  # what ``warm()`` started
        self._counted: int | None = None  # the collection's size while it loads
        self._answering = 0  # questions being answered (see ``answering``)
        self._calm = threading.Condition()
        self._resources = contextlib.ExitStack()
        self._store: Store | None = None
        self._filtered: dict[str, frozenset[str]] = {}
        self._columns: _Columns | None = None
        self._vectors: OrderedDict[str, np.ndarray] = OrderedDict()
        # The last themes found: the word index they were taken under (a write makes a new
        # one), the papers grouped, the themes and how many had a vector.
        self._grouped: tuple[weakref.ref[LexicalIndex], list[str], list[Theme], int] | None = None
        # Guards lazy opening; a server calls one retriever from many threads.
        self._opening = threading.RLock()
        # One loader of the word index at a time, apart from ``_opening``: loading takes
        # seconds on a big collection, and the store and embedder serve meanwhile.
        self.loading = threading.Lock()

    def __enter__(self) -> Retriever:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the store this retriever opened."""
        self._resources.close()
        self._store = None

    def store(self) -> Store:
        """The store, opened for reading on first use and kept open."""
        with self._opening:  # Chroma fails when two threads open one store at once
            if self._store is None:
                self._store = self._resources.enter_context(
                    open_store(self.settings.store, embedder_name(self.settings.embed))
                )
            return self._store

    @property
    def embedder(self) -> OnnxEmbedding:
        with self._opening:
            if self._embedder is None:
                self._embedder = load_embedder(self.settings.embed)
            return self._embedder

    def query_vector(self, text: str) -> list[float]:
        """The embedding of a query: one that ``prime`` embedded, else embedded now."""
        with self._opening:
            found = self._vectors.get(text)
        if found is not None:
            return [float(x) for x in found]
        return self.embedder.get_query_embedding(text)

    def prime(
        self, texts: Sequence[str], known: Mapping[str, np.ndarray] | None = None
    ) -> dict[str, np.ndarray]:
        """Embed many queries at once, in batches, for ``query_vector`` to find (calibration
        searches 200 questions twice: one model call each took 20 s with MPNet); vectors in
        ``known`` are taken as they are. The most recent 512 are kept. Returns every text's
        vector."""
        with self._opening:
            for text, vector in (known or {}).items():
                self._vectors[text] = np.asarray(vector, dtype=np.float32)
            todo = list(dict.fromkeys(t for t in texts if t not in self._vectors))
        vectors = np.asarray(self.embedder.embed_texts(todo), dtype=np.float32)
        with self._opening:
            self._vectors.update(zip(todo, vectors, strict=True))
            while len(self._vectors) > _VECTOR_CACHE:
                self._vectors.popitem(last=False)
            return {t: self._vectors[t] for t in texts if t in self._vectors}

    def lexical(self, *, between: Callable[[], object] | None = None) -> LexicalIndex:
        """The BM25 index saved at ingest; rebuilt in memory from the store if it is missing.

        Reloaded when another process (another server worker, a CLI ingest) saved a new one.
        ``between``: see ``LexicalIndex.load``.
        """
        stamp = LexicalIndex.stamp(self.settings.store.path)
        with self._opening:
            if self._lexical is not None and stamp is not None and stamp != self._stamp:
                self.refresh()
            if self._lexical is not None:
                return self._lexical
        with self.loading:
            with self._opening:
                if self._lexical is not None:  # loaded (or handed on) while this one waited
                    return self._lexical
            index = LexicalIndex.load(self.settings.store.path, between=between)
            if index is None:
                index = LexicalIndex.build(self.store().papers())
            with self._opening:
                if self._lexical is None:
                    self._lexical, self._stamp = index, stamp
                return self._lexical

    def warm(self, then: Callable[[], object] | None = None) -> threading.Thread:
        """In a thread: load the word index and the question parser (5 s at 100k papers),
        giving way to answers (see ``answering``), then call ``then``. Until they are loaded,
        plain questions are answered by meaning alone, marked partial (see ``retrieve``),
        instead of waiting for them."""

        def load() -> None:
            # A small index (318 papers: a few hundredths of a second) loads at full priority,
            # or it waits behind the embedders' load and the first answer comes without it.
            saved = LexicalIndex.saved_size(self.settings.store.path)
            if saved is None or saved >= _BACKGROUND_FROM:
                in_background()
            try:
                index = self.lexical(between=self._give_way)
                vocab = Vocabulary()
                papers = index.papers
                for start in range(0, len(papers), 5000):
                    vocab = vocab.extended(papers[start : start + 5000])
                    self._give_way()
                with self._opening:
                    if self._parser is None and self._lexical is index:
                        self._parser = QueryParser([], vocab)
                if self.settings.retrieval.spelling:
                    spelling.prepare()
                if then is not None:
                    then()
            except AssistantError as exc:  # the first request that needs them says it again
                log.warning("the word index was not loaded: %s", exc.describe())

        self._warming = threading.Thread(target=load, name="load-words", daemon=True)
        self._warming.start()
        return self._warming

    @contextlib.contextmanager
    def answering(self) -> Iterator[None]:
        """While a question is answered, ``warm()``'s loader gives way (see ``_give_way``)."""
        with self._calm:
            self._answering += 1
        try:
            yield
        finally:
            with self._calm:
                self._answering -= 1
                self._calm.notify_all()

    def _give_way(self) -> None:
        """Between two pieces of the word index's load: wait while questions are answered
        (the loader and an answer share two cores and one interpreter), at most
        ``_GIVE_WAY_S`` each time, so that steady traffic slows the load but never stops it."""
        with self._calm:
            self._calm.wait_for(lambda: self._answering == 0, timeout=_GIVE_WAY_S)

    def wait_loaded(self) -> None:
        """Until ``warm()`` has loaded the word index and the parser (tests and benchmarks)."""
        if self._warming is not None:
            self._warming.join()

    @property
    def loading_words(self) -> bool:
        """Whether ``warm()`` is still loading the word index or the question parser."""
        return self._warming is not None and self._warming.is_alive()

    def size(self) -> int:
        """How many papers the collection holds; while ``warm()`` loads the word index, as it
        was saved (a count that needs no load)."""
        if self.loading_words:
            with self._opening:
                if self._counted is None:  # counting in the store takes a second at 100k
                    saved = LexicalIndex.saved_size(self.settings.store.path)
                    self._counted = saved if saved is not None else self.store().count_papers()
                return self._counted
        return len(self.lexical())

    def refresh(self) -> None:
        """Forget the cached index, filters and thresholds (after the collection changed).

        The thresholds that were in force stay ``interim``: when another process wrote (a
        server worker, a CLI ingest), they decide coverage until that process has saved the
        new ones, as the writer's own ones do in it, instead of no verdict."""
        if self._calibration is not None:
            self.interim = self._calibration
        self._lexical, self._parser, self._calibration = None, None, None
        self._filtered.clear()

    def use_index(self, index: LexicalIndex, *, same: bool = False) -> None:
        """Search with ``index`` (one just built) instead of loading the saved one; ``same``:
        it holds the same papers as the one searched before (built again, not changed)."""
        with self._opening:
            written = index.written_since(self._lexical) if self._lexical is not None else None
            self._lexical = index
            self._stamp = LexicalIndex.stamp(self.settings.store.path)
            if not same:
                self._calibration = None
                self._filtered.clear()
                if written is not None and self._parser is not None:
                    if written:  # a removal leaves names the parser knows: harmless
                        self._parser = self._parser.extended(written)
                else:
                    self._parser = None

    def forget_calibration(self) -> None:
        """Read the coverage thresholds again (after they were rebuilt)."""
        self._calibration = None

    def parser(self) -> QueryParser:
        if self._parser is None:
            self._parser = QueryParser(self.lexical().papers)
        return self._parser

    def calibration(self) -> Calibration | None:
        """The coverage thresholds for this collection (see :meth:`saved_calibration`); while
        a server rebuilds them after its own write, the ones in force before it (``interim``)."""
        return self.saved_calibration() or self.interim

    def saved_calibration(self) -> Calibration | None:
        """The coverage thresholds ingest saved for this collection (None if it has not yet:
        run `assistant ingest` again, which calibrates an unchanged collection too)."""
        if self._calibration is None:
            saved = Calibration.load(self.settings.store.path)
            if saved is not None and saved.fingerprint == self._fingerprint():
                self._calibration = saved
        return self._calibration

    def _fingerprint(self) -> str:
        """The collection's fingerprint; while ``warm()`` loads the word index, the saved one's."""
        if self.loading_words and self._lexical is None:
            saved = LexicalIndex.saved_fingerprint(self.settings.store.path)
            if saved is not None:
                return saved
        return self.lexical().fingerprint

    def search(
        self, question: str, k: int | None = None, filters: Filters | None = None
    ) -> list[Hit]:
        """The ``k`` papers that best match ``question`` and pass ``filters``, best first."""
        return self.retrieve(question, k, filters).hits

    def retrieve(
        self,
        question: str,
        k: int | None = None,
        filters: Filters | None = None,
        *,
        parse: bool = True,
        exclude: frozenset[str] = frozenset(),
        judge: bool = True,
        expansion: str = "",
        listing_k: int | None = None,
        reading: Reading | None = None,
        paging: bool = False,
    ) -> Retrieval:
        """Search for ``question``; constraints it states in prose are applied as filters.

        ``filters`` given explicitly take precedence over those read from the question;
        ``parse=False`` searches the text as it is. ``exclude`` hides papers by id (used to
        calibrate the coverage threshold on questions whose paper is removed); ``judge=False``
        skips the coverage verdict (``covered`` is then True whenever something was found).
        ``expansion`` (text a model wrote in a matching paper's terms) is searched along with
        the question; the coverage signals stay those of the question alone, as calibrated.
        ``listing_k`` is how many papers a question that only lists by metadata may return
        (``k`` when not given); ``matching`` says how many there are in all. A ``reading`` (a
        model's reading of the question's constraints) replaces the rules' parse.
        ``paging`` returns ``k`` papers whatever number the question asks for ("Give me 5
        papers on X" again, for the papers after the five shown).
        """
        question = clean_text(question)
        if not question.strip():
            raise AssistantError(
                "The question is empty", hint='type what you are looking for, e.g. "layer pruning"'
            )
        k = k or self.settings.retrieval.top_k
        plain = reading is None and (filters is None or filters.empty) and not exclude
        if plain and self.loading_words and self._parser is None:
            return self._by_meaning(question, k, judge=judge, expansion=expansion)
        index = self.lexical()
        chat = social(question) if parse else None  # as typed: "thx" is no misspelt word
        misspelt: dict[str, str] = {}
        if parse:  # "rl for llms": the acronyms as the papers write them, "RL for LLMs"
            question = index.cased(question)
        if reading is None and parse and self.settings.retrieval.spelling:
            # "How does the rotaton trik work?" is read "... rotation trick ...", and "Which
            # papwrs ..." as "Which papers ...", before its constraints are read.
            misspelt = index.corrections(question, self.parser().words)
            if misspelt:  # ... and a name misspelt, as the papers write it: "sofstep" "SoftStep"
                question = index.cased(spelling.corrected(question, misspelt))
        if reading is not None:
            query = reading.query(question)
            if query.sort is None:  # how many papers it asks for is the rules' to read
                query.count = self.parser().parse(question).count
        elif parse:
            query = self.parser().parse(question, usage=index.papers_writing)
        else:
            query = Query(text=question, topic=question)
        query.corrected = misspelt
        if filters is not None:
            query.filters = query.filters.merged(filters)
        if chat or (parse and query.bare and not (query.listing or query.unread or exclude)):
            # "Hi!", "thanks", "most", "Which papers?": nothing to search for, and any paper
            # holding one of those words would be "found".
            return Retrieval(
                query=query,
                hits=[],
                covered=False,
                matching=0,
                partial=self.indexing,
                doubt=_SOCIAL_REPLIES.get(chat or "", NOTHING_ASKED),
            )
        if query.filters.excluding:  # "not about LLMs" leaves out "large language models" too
            query.filters.excluding = _long_forms(query.filters.excluding, index)
        allowed: set[str] | None = None
        if not query.filters.empty:
            allowed = set(self._passing(query.filters))
        if exclude:
            allowed = (allowed or {p.paper_id for p in index.papers}) - exclude
        matching = len(index) if allowed is None else len(allowed)
        asked = query.sort.count if query.sort is not None and not paging else None
        if query.count is not None and query.sort is None and not paging:
            # "give me 3 papers on bandits": that many, up to what a listing may hold.
            k = asked = min(query.count, max(k, listing_k or 0))
        mention: list[Paper] | None = None
        if (query.tally is not None or query.average) and query.subject:  # a count on a topic
            mention = _mentioning(index, query.mentioned, allowed)
            if not mention and allowed != set():
                # "How many of those are from 2025?": none of those it keeps says it, where
                # other papers may
                within = None if allowed is None else len(allowed)
                _uncounted(query, within if _mentioning(index, query.mentioned, None) else None)
        if query.listing:
            papers = [p for p in index.papers if allowed is None or p.paper_id in allowed]
            within = 0
            if mention:  # over the papers mentioning the topic
                papers, matching, within = mention, len(mention), len(mention)
            average = Average.of(papers, query.average) if query.average else None
            counts: list[tuple[str, int]] = []
            giving = 0
            if query.tally is not None:
                # "Which author has the most papers?": the papers of the values it asks for.
                counts, giving, tallied = _tallied(papers, query.tally)
                papers = tallied or papers  # none gives the field: all are listed, so said
                matching = len(papers)
            if not query.tally:
                papers = sort_papers(papers, query.sort)
            themed: list[Theme] = []
            grouped = 0
            if query.tally is not None and query.tally.themes:
                themed, grouped, typical = self._themes(papers, index)
                if typical:
                    papers, asked = typical, len(typical)
            tied = 0
            if query.sort is not None and query.sort.first:
                # "Which paper has the most authors?": the first, and those tied with it.
                leaders = _tied_with_first(papers, query.sort)
                if leaders is not None:
                    papers, tied = leaders, len(leaders)
            if query.sort is not None and query.sort.place:
                papers = _placed(papers, query.sort)  # "the second newest paper"
            hits = [
                Hit(paper=paper, score=0.0, rank=rank, chunks=[paper.abstract])
                for rank, paper in enumerate(papers[: asked or max(k, listing_k or 0)], 1)
            ]
            return Retrieval(
                query=query,
                hits=hits,
                covered=bool(hits),
                matching=matching,
                counts=counts,
                counted=giving,
                within=within,
                tied=tied,
                themes=themed,
                grouped=grouped,
                average=average,
                total=len(index) if query.share else 0,
                partial=self.indexing,
            )
        if (allowed is not None and not allowed) or (query.unread and query.bare):
            # Nothing matches, or all it asks for is a constraint no filter can use ("Which
            # papers appeared at NeurIPS?" where no paper gives a venue of that name).
            return Retrieval(query=query, hits=[], covered=False, matching=0, partial=self.indexing)
        text = query.searched
        hits, relevance, spelled, overlap = self._hybrid(
            text,
            max(k, asked or 0, _ORDERED_POOL) if query.sort else k,
            allowed,
            expansion.strip(),
            index=index,
        )
        if query.sort is not None:
            hits = _in_order(
                hits, _placed(_on_topic_first(hits, query.sort), query.sort), asked or k
            )
        found = [h.paper for h in hits]
        saved = self.calibration() if judge else None
        # The first paper, and those closer than an absent topic's best match usually is.
        floor = saved.absent_median if saved is not None else 0.0
        close = {h.paper.paper_id for h in hits if h is hits[0] or (h.similarity or 0.0) >= floor}
        verdict = names.judge(
            text,
            found,
            index.papers_using,
            lambda name: [p for p, _ in index.search(name, names.RARE, allowed)],
            index.expansions,
            lambda paper: paper.paper_id in close,
            asks_use=names.asks_use(query.text),
            # Those still searched: a capitalised author or month read as a filter is not.
            words=[w for w in names.proper(query.text) if re.search(rf"\b{w}\b", text)],
            about=names.subject(query.text),
        )
        if verdict.makers and not query.sort:
            # The paper a rare name of the question comes from is what it asks about, whatever
            # the fusion ranked above it ("How does CoLSTIM work?") or left out.
            hits = _in_order(
                hits, names.named_first(text, found, verdict.makers, index.expansions), k
            )
        # A paper whose title the question writes out ("What does 'Old Optimizer, New Norm'
        # argue?") is what it asks about, however far the question's other words are from it.
        # ... or names it by its title's head, capitalised ("the Distribution Transformer
        # paper"), wherever the rankers put it.
        quoted = _quoted(
            query.text, found, lambda title: [p for p, _ in index.search(title, 3, allowed)]
        )
        titled = (
            quoted
            or index.titled(query.text, found)
            or index.headed(query.text, allowed)
            or _typed_head(query.subject, found[:10])
        )
        if not titled:
            # ... or describes it by words of its title, in any order ("the Muon convergence
            # paper": "Convergence of Muon with Newton-Schulz"), among the first three found.
            words = title_words(query.text)
            titled = [p for p in found[:3] if index.title_uses(p, words)]
        if not titled and found and index.restates(query.text, found[0]):
            # ... or restates the first paper's title in other order ("Is a tighter
            # variational bound always better?").
            titled = found[:1]
        placed = True  # a paper the question names by its title comes first
        if not titled and len(query.subject.split()) <= _NAMING_WORDS:
            # ... or, asking about little else, by two words of its title in a row that no
            # other paper's title holds ("who wrote the rotation trick"), among the first ten.
            titled = index.title_phrase(query.subject, found[:10], query.searched)
            # Where papers are asked for, such a title covers the question ("research on layer
            # pruning for LLMs") but names no one paper to put first ("Which papers fix
            # codebook collapse in VQ models?" had put "... Coupled VQ-Model" first).
            placed = not asks_for_papers(query.text)
        if quoted and query.sort is None:
            # Titles written out whole are what it asks about, before any name's maker.
            first = {p.paper_id: p for p in [*quoted, *found]}
            hits = _in_order(hits, list(first.values()), max(k, len(quoted)))
        elif len(titled) == 1 and not verdict.makers and not query.sort and placed:
            first = {p.paper_id: p for p in [*titled, *found]}
            hits = _in_order(hits, list(first.values()), k)
        elif len(titled) == 1 and not query.sort and placed:
            # Named both ways ("Ra-DPO vs Tapered Off-Policy REINFORCE: how do they ...?"): the
            # paper its rare name comes from and the one its title heads come first, before
            # papers that only mention a name it uses ("REINFORCE").
            makers = {p.paper_id for p in [*verdict.makers, *titled]}
            ranked = [h.paper for h in hits] + [p for p in titled if p not in found]
            named = [p for p in ranked if p.paper_id in makers]
            hits = _in_order(hits, [*named, *(p for p in ranked if p.paper_id not in makers)], k)
        elif quoted and query.sort is not None:
            # "Which of them is newer?" asked of papers named by their whole titles, as a
            # follow-up after a comparison is rewritten: those papers, in that order.
            hits = _in_order(hits, _sorted_only(quoted, query.sort), len(quoted))
        none_named = None
        if not query.filters.empty and _QUOTE.search(query.text):
            # 'which one has code? (about: "A" and "B")': of the papers it names, those that
            # pass; others that pass the constraints alone are bystanders.
            named = _quoted(query.text, (), lambda title: [p for p, _ in index.search(title, 3)])
            kept = {p.paper_id for p in quoted}
            if named:
                hits = [
                    hit.model_copy(update={"rank": rank})
                    for rank, hit in enumerate((h for h in hits if h.paper.paper_id in kept), 1)
                ]
            if named and not hits:
                f = query.filters
                # "Is it from 2025?" asked of a paper from 2026: say when and where it is from.
                placed_in_time = bool(
                    f.since or f.until or f.years or f.venue or f.venues or f.any_venue
                )
                titles = ", ".join(
                    f'"{inert_markers(p.title)}"'
                    + (f" ({inert_markers(_when_where(p))})" if placed_in_time else "")
                    for p in named
                )
                none_named = (
                    f"None of the papers the question names ({titles}) matches its "
                    f"constraints ({'; '.join(query.constraints)})."
                )
        overlap = overlap if hits else 0.0
        covered, uncertain = bool(hits), False
        threshold = lexical_threshold = doubt = None
        # A question whose metadata constraints matched papers is about those papers.
        judged = judge and bool(hits) and query.filters.empty
        calibration = saved if judged else None
        if calibration is not None:
            threshold, lexical_threshold = calibration.threshold, calibration.lexical_threshold
            covered, uncertain = judge_coverage(relevance, overlap, calibration, spelled)
            if uncertain and (
                _titles_name(query.subject, found[:3]) or _titles_share_name(text, found, index)
            ):
                # "Which papers are about pruning?": a short question is far from any chunk
                # by meaning, and its frame ("which papers are about") holds a third of its
                # term weight; a paper titled on what it asks about covers it.
                uncertain = False
            phrase = _short_phrase(text)
            if (
                covered
                and not uncertain
                and relevance < calibration.threshold
                and phrase
                and not _said(phrase, hits, index, allowed)
            ):
                # A topic of a few words ("spiking neural networks") is covered by its words
                # alone when each is common ("spikes", "neural networks"): unless a paper says
                # it as a phrase, that is a guess.
                uncertain = True
            best = hits[0].paper
            about = query.subject.split()  # "what's shampoo?": a word five titles use
            if not covered and (
                index.names(text, best)
                or index.names(query.text, best)
                or (len(about) <= 2 and index.title_uses(best, about))
            ):
                # It names the top paper by a rare title word ("the limitations of SOAP"), by a
                # name its title writes, or asks about no more than words of its title: about
                # that paper, though maybe not about what its abstract says.
                covered, uncertain = True, True
            if (
                not covered
                and len(about) <= 2
                and index.coverage(query.subject, best) >= calibration.lexical_threshold
            ):
                # Asks about a word or two the top paper holds as a keyword search would be
                # covered ("What is grokking?", "Which papers mention grokking?": the frame's
                # rare words, "what" and "mention", weighed against it): about that paper's
                # words, though maybe not about what the question asks of them.
                covered, uncertain = True, True
            if not covered and query.unread:
                # A constraint it could not use is said so, not turned into a refusal.
                covered, uncertain = True, True
            if (not covered or uncertain) and not (verdict.makers or titled or query.sort):
                hits, carried = self._carried_first(query, hits, found, k, index)
                covered, uncertain = (True, False) if carried else (covered, uncertain)
            if verdict.makers or titled:
                covered, uncertain = True, False
            doubt = verdict.doubt
            uncertain = uncertain or (covered and doubt is not None)
        elif judge and hits and not query.filters.empty:
            doubt = self._off_topic(query, hits, relevance, index, matching, saved, allowed)
            if doubt is not None and not (titled or query.sort):
                hits, carried = self._carried_first(query, hits, found, k, index)
                doubt = None if carried else doubt
            uncertain = doubt is not None
        doubt = none_named or doubt
        return Retrieval(
            partial=self.indexing,
            absent_median=calibration.absent_median if calibration else None,
            uncertain=uncertain,
            doubt=doubt,
            verdict=calibration is not None or not judged,
            query=query,
            hits=hits,
            quoted=[p.paper_id for p in quoted] if not query.sort else [],
            covered=covered,
            relevance=relevance,
            lexical_coverage=overlap,
            threshold=threshold,
            lexical_threshold=lexical_threshold,
            matching=matching,
        )

    @staticmethod
    def _off_topic(
        query: Query,
        hits: list[Hit],
        relevance: float,
        index: LexicalIndex,
        matching: int,
        calibration: Calibration | None,
        allowed: set[str] | None,
    ) -> str | None:
        """Why the papers its constraints matched may not be about a question's topic, or None;
        with the papers outside them that say the topic, if any, as the next place to look.

        Such a question is answered from them whatever the scores (it is about those papers),
        but "Which papers from 2024 are about protein folding?" where none of them is gets a
        caveat: when the best of them is not as close as the coverage threshold, and none of
        the first three holds half the term weight (IDF) of the topic's own words (the frame,
        "Which papers are about", left out). On topics drawn from the titles of the papers
        that pass a filter, the best of three held 0.57-1.00 of it; on topics no such paper
        covers, at most 0.44 (chosen on questions generated from the collection).
        """
        # Words of what was recognised are not the topic ("Machine Learning" of a venue).
        recognised = set(fold(" ".join(query.constraints)).split())
        words = _headless([w for w in query.subject.split() if fold(w) not in recognised])
        subject = " ".join(words)
        if calibration is None or not subject or relevance >= calibration.threshold:
            return None
        # ... or its acronyms spelled out ("LLMs": a paper on "large language models")
        forms = dict.fromkeys([subject, index.spelled(subject)])
        held = max(index.coverage(f, h.paper) for f in forms for h in hits[:3]) >= _SUBJECT_HELD
        phrase = _short_phrase(_as_written(words, query.topic))
        # A topic of a few words none of them says as a phrase is held by its rarest word
        # alone ("protein folding": a paper on "protein" design).
        found = {h.paper.paper_id for h in hits}
        if (
            held
            and (
                phrase is None
                or any(index.mentioning(form, found) for form in _long_forms([phrase], index))
                # ... or, of two words or more, in other forms of them ("Robotic Manipulation"),
                # among the first three (one word in another form, "prunes" for "pruning", may be
                # all a paper has of the topic)
                or (" " in phrase and index.says(phrase, [h.paper for h in hits[:3]]))
            )
        ):
            return None
        # (an order says which come first, not which match: "sorted by upvotes")
        stated = "; ".join(c for c in query.constraints if not c.startswith("sort by"))
        stated = stated or "its constraints"
        doubt = f"None of the {matching} papers matching {stated} seems to be about '{subject}'."
        # "... from 2024 about model merging": the papers that say it may simply be undated.
        inside = allowed if allowed is not None else found
        outside = [p for p in index.mentioning(phrase or subject) if p.paper_id not in inside]
        if not outside:
            return doubt
        named = "; ".join(
            f'"{inert_markers(p.title)}" ({inert_markers(_when_where(p))})'
            for p in _title_first(outside, phrase or subject)[:3]
        )
        more = f"; and {counted(len(outside) - 3, 'other')}" if len(outside) > 3 else ""
        say = "says" if len(outside) == 1 else "say"
        return f"{doubt} Outside them, {counted(len(outside), 'paper')} {say} it: {named}{more}."

    def _by_meaning(self, question: str, k: int, *, judge: bool, expansion: str) -> Retrieval:
        """A retrieval while ``warm()`` still loads the word index: the question searched as
        written (its constraints unread), by meaning alone, marked partial. The coverage
        verdict has only the dense signal: below the threshold it is uncertain, not refused."""
        query = Query(text=question, topic=question)
        hits, relevance, *_ = self._hybrid(query.searched, k, None, expansion.strip(), index=None)
        calibration = self.calibration() if judge and hits else None
        covered, uncertain = bool(hits), False
        if calibration is not None:
            uncertain = relevance < calibration.threshold
        return Retrieval(
            partial=WORDS_LOADING,
            absent_median=calibration.absent_median if calibration else None,
            uncertain=uncertain,
            verdict=calibration is not None or not (judge and hits),
            query=query,
            hits=hits,
            covered=covered,
            relevance=relevance,
            threshold=calibration.threshold if calibration else None,
            matching=self.size(),
        )

    def _carried_first(
        self, query: Query, hits: list[Hit], found: Sequence[Paper], k: int, index: LexicalIndex
    ) -> tuple[list[Hit], bool]:
        """``hits`` with the papers that carry the category label ``query``'s topic is first
        (those passing its filters; see QueryParser.category_named), and whether any does.

        Asked only of a topic the papers' words do not cover: "Which papers are about
        neurology?" was refused and "Which ICLR papers are on imaging?" doubted, where a paper
        carries the category "Neurology" or "Imaging" and its abstract says neither word. A
        topic the words cover ("reasoning", a side of "Representation & Reasoning") keeps its
        ranking.
        """
        label = self.parser().category_named(query.subject) if query.subject else None
        if label is None:
            return hits, False
        ids = self._passing(query.filters.model_copy(update={"category": label}))
        ranked = [p for p in found if p.paper_id in ids]
        catalogue = index.catalogue  # the snapshot the question was ranked on
        rest = [catalogue[i] for i in sorted(ids - {p.paper_id for p in ranked}) if i in catalogue]
        carried = ranked + rest
        if not carried:
            return hits, False
        # Said with the constraints, so the answer gives each paper's categories.
        query.recognised.append(f"category: {label} (its papers first)")
        first = {p.paper_id: p for p in [*carried, *found]}
        return _in_order(hits, list(first.values()), k), True

    def _themes(
        self, papers: Sequence[Paper], index: LexicalIndex
    ) -> tuple[list[Theme], int, list[Paper]]:
        """The themes of ``papers`` (of an even share of them, for a large collection), how
        many papers they were taken from, and the most typical paper of each. The same papers
        under the same word index are grouped once (0.3 s for 318 papers, 1.6 s at the cap)."""
        by_id = {paper.paper_id: paper for paper in papers}
        taken = evenly(sorted(by_id))  # in id order: the same papers, the same themes
        last = self._grouped
        if last is not None and last[0]() is index and last[1] == taken:
            found, grouped = last[2], last[3]
        else:
            vectors = self.store().paper_vectors(taken)
            found = themes([by_id[paper_id] for paper_id in taken], vectors)
            grouped = len(vectors)
            self._grouped = (weakref.ref(index), taken, found, grouped)
        return found, grouped, [by_id[theme.papers[0]] for theme in found]

    def _passing(self, filters: Filters) -> frozenset[str]:
        """Ids of the papers ``filters`` accepts; the last few filters' answers are kept, since
        checking every paper costs up to 1 ms per thousand papers (see :class:`_Columns`)."""
        key = filters.model_dump_json()
        if key not in self._filtered:
            if len(self._filtered) >= _FILTER_CACHE:
                self._filtered.pop(next(iter(self._filtered)))
            papers = self.lexical().papers
            if self._columns is None or self._columns.papers is not papers:
                self._columns = _Columns(papers)
            self._filtered[key] = frozenset(p.paper_id for p in self._columns.passing(filters))
        return self._filtered[key]

    def _hybrid(
        self,
        text: str,
        k: int,
        allowed: set[str] | None,
        expansion: str,
        *,
        index: LexicalIndex | None,
    ) -> tuple[list[Hit], float, float, float]:
        """The fused top ``k`` papers, the best dense similarity of any allowed chunk to
        ``text``, the same with its acronyms spelled out (see LexicalIndex.spelled), and the
        most of ``text``'s term weight one of BM25's first papers holds (LexicalIndex.coverage).
        With an ``expansion``, both rankers search with the question and the expansion
        together (the dense side with the mean of their vectors). ``index`` is the word index
        searched (None: by meaning alone, while it loads)."""
        depth = max(self.settings.retrieval.candidates, k)
        # A paper has about two chunks: ask for enough chunks to rank ``depth`` papers.
        fetch = depth * 2
        # A filter reaches the dense side the cheapest way (times at 100k papers, 2 cores):
        # a few papers' vectors by id (~20 ms for 300); else the nearest chunk ids, fetched
        # in proportion to the filter's share and kept when they pass (~30 ms for 5,000);
        # else Chroma's own filter, which scans the metadata of every chunk (150-300 ms).
        where = None
        config = self.settings.retrieval
        exact = allowed is not None and len(allowed) <= config.exact_filter_papers
        if allowed is not None and index is not None and not exact:
            share = len(allowed) / max(len(index), 1)
            fetch = int(fetch / max(share, 1e-9))
            if fetch > config.post_filter_chunks:
                fetch, where = depth * 2, {"paper_id": {"$in": sorted(allowed)}}
        store = self.store()

        def nearest(vector: list[float]) -> list[ChunkMatch]:
            if allowed is not None and exact:
                found = store.nearest_among(vector, sorted(allowed))
            else:
                found = store.query(vector, fetch, where=where, texts=False)
            return [m for m in found if allowed is None or m.paper_id in allowed]

        question = searched = self.query_vector(text)
        matches = nearest(question)
        relevance = spelled_relevance = round(matches[0].similarity, 4) if matches else 0.0
        spelled = index.spelled(text) if index is not None else text
        if spelled != text:
            # The embedder reads "offline RL" poorly (0.23 from the nearest chunk) and
            # "offline reinforcement learning (RL)" well (0.53): papers are ranked by the
            # latter. The thresholds stay those of the question as written: spelled, the
            # collection's own questions with their paper removed rise as much (+0.08 on
            # average), so the spelled similarity only keeps a question from refusal.
            question = searched = self.query_vector(spelled)
            matches = nearest(question)
            spelled_relevance = round(matches[0].similarity, 4) if matches else 0.0
        if expansion:
            mean = np.add(question, self.query_vector(expansion))
            searched = [float(x) for x in mean / (np.linalg.norm(mean) or 1.0)]
            matches = nearest(searched)
        lexical: list[tuple[Paper, float]] = []
        known: Mapping[str, Paper] = {}
        named = held = 0.0
        if index is not None:
            lexical = index.search(f"{text}\n{expansion}" if expansion else text, depth, allowed)
            known = index.catalogue
            shares = [index.coverage(text, paper) for paper, _ in lexical[:_SHARE_OF]]
            named, held = (shares[0], max(shares)) if shares else (0.0, 0.0)
        below = None
        if allowed is not None:
            # A filter's papers: the whole-paper vectors of those ranked, read by id (100 in
            # 7 ms at 100k papers; the nearest whole papers would pass the filter by chance).
            ranked = list(dict.fromkeys(m.paper_id for m in matches))[:depth]
            whole = store.whole_similarities(searched, ranked)
        else:
            whole = store.nearest_wholes(searched, fetch)
            # A paper outside the nearest is at most as close as the last of them.
            below = min(whole.values(), default=None) if len(whole) >= fetch else None
        catalogue: Mapping[str, Paper] = known
        unknown = list(
            dict.fromkeys(m.paper_id for m in matches[: depth * 2] if m.paper_id not in known)
        )
        if unknown:  # stored after the word index was loaded (or it is loading): read them
            # Read only: a ChainMap's later maps are never written to.
            later = cast("MutableMapping[str, Paper]", known)
            catalogue = ChainMap(store.get_papers(unknown), later)
        hits = fuse(
            matches,
            lexical,
            k,
            1 - lexical_share(named, config.lexical_weights, config.lexical_ramp),
            depth,
            catalogue,
            texts=store.chunk_texts,
            pool=len(allowed) if allowed is not None else len(index or ()),
            whole=whole,
            whole_floor=below,
        )
        return hits, relevance, spelled_relevance, round(held, 4)


class _Columns:
    """The years and author names of a list of papers, each built on first use, to narrow a
    filter to the papers that can pass it before :meth:`Filters.passing` checks each of them:
    at 100k papers, checking them all took 0.15-0.2 s for a filter on dates or authors."""

    def __init__(self, papers: Sequence[Paper]) -> None:
        self.papers = papers
        self._years: np.ndarray | None = None
        self._authors: tuple[bytes, np.ndarray] | None = None

    def passing(self, filters: Filters) -> list[Paper]:
        keep = np.ones(len(self.papers), dtype=bool)
        if filters.since or filters.until:
            # A paper whose year is outside the span's years is outside it at any precision.
            years = self.years()
            keep &= years >= 0
            if filters.since:
                keep &= years >= date_key(filters.since)[0]
            if filters.until:
                keep &= years <= date_key(filters.until)[0]
        if filters.years:
            keep &= np.isin(self.years(), filters.years)
        for name in filters.authors:
            keep &= self.holding(name)
        if filters.any_author:  # "by the same authors": one of them
            keep &= np.logical_or.reduce([self.holding(name) for name in filters.any_author])
        return filters.passing([self.papers[i] for i in np.flatnonzero(keep).tolist()])

    def holding(self, name: str) -> np.ndarray:
        """Which papers may list the author ``name`` (a name with no letter or digit to look
        for: all of them, each then checked)."""
        folded = fold(name)
        if not folded:
            return np.ones(len(self.papers), dtype=bool)
        text, starts = self.authors()
        held = np.zeros(len(self.papers), dtype=bool)
        held[np.searchsorted(starts, _starts_of(folded, text), side="right") - 1] = True
        return held

    def years(self) -> np.ndarray:
        """Each paper's year, -1 for an undated one; a year past any a filter takes (four
        digits) is held as 10,000, which compares with those as it does."""
        if self._years is None:
            keys = (date_key(p.date or "") for p in self.papers)
            years = [min(key[0], _PAST_YEARS) if key else -1 for key in keys]
            self._years = np.array(years, dtype=np.int64)
        return self._years

    def authors(self) -> tuple[bytes, np.ndarray]:
        """Each paper's authors in lower case without accents, a line a paper, and where each
        paper's line starts: a name is looked for in all of them by one search."""
        if self._authors is None:
            # Folded all at once (as :func:`fold` does, punctuation aside): a fold a paper took
            # 0.4 s at 100k papers.
            lines = "\n".join(" ".join(p.authors).replace("\n", " ") for p in self.papers)
            plain = unicodedata.normalize("NFKD", lines).encode("ascii", "ignore").lower()
            ends = np.flatnonzero(np.frombuffer(plain, dtype=np.uint8) == ord("\n"))
            self._authors = (plain, np.concatenate([[0], ends + 1]).astype(np.int64))
        return self._authors


def _starts_of(name: str, text: bytes) -> list[int]:
    r"""Where the words of ``name`` (folded) start in ``text`` as whole words, with anything but
    a letter or digit between them, and up to two initials (as :data:`records.INITIALS`).

    >>> _starts_of("lu hou", b"xlu hou, lu-hou\nlu houx lu hou")
    [9, 24]
    >>> _starts_of("michael albergo", b"michael s. albergo, michael albergo, michael sa albergo")
    [0, 20]
    >>> _starts_of("", b"ab, c")  # no words: each empty match once, and the search ends
    [3]
    """
    words = [re.escape(word.encode()) for word in name.split()]
    # Opening with the name's first letters, not a test of what precedes them, lets the
    # search skip ahead (5 ms over 100k papers' authors, against 70 ms).
    between = rb"[^a-z0-9\n]+(?:[a-z][^a-z0-9\n]+){0,2}"
    pattern = re.compile(between.join(words) + rb"(?![a-z0-9])")
    found: list[int] = []
    at = 0
    while at <= len(text) and (match := pattern.search(text, at)) is not None:
        start = match.start()
        if not text[start - 1 : start].isalnum():
            found.append(start)
        at = start + 1
    return found


def _mentioning(
    index: LexicalIndex, sides: list[list[str]], allowed: set[str] | None
) -> list[Paper]:
    """The papers (of ``allowed``) mentioning every phrase of one of ``sides`` (see
    query.subject_parts: "RL for LLMs" is both, "pruning or quantization" either), in paper id
    order."""
    found: dict[str, Paper] = {}
    for parts in sides:
        passing = allowed
        for part in parts:
            passing = {p.paper_id for p in index.mentioning(part, passing)}
        found.update((paper_id, index.catalogue[paper_id]) for paper_id in passing or ())
    return [found[paper_id] for paper_id in sorted(found)]


def _uncounted(query: Query, among: int | None = None) -> None:
    """Turn a count within a topic that no paper mentions as written ("the most papers on
    making models reason better": a description, not a name) into a search of the topic, with
    a note that nothing was counted; ``among``: none of that many papers its constraints keep
    does, though others do. So is a mean ("the average number of authors of papers about
    koalas"), whose note says that nothing was averaged."""
    if query.tally is None:
        assert query.average is not None
        asked = f"the average number of {query.average}"
        label = f"{ASKED_FOR}: {asked}"
        query.average = None
    else:
        asked = "how many papers" if query.tally.mode == "total" else query.tally.phrase()
        label = f"count: {query.tally.phrase()}"
    query.recognised = [
        r for r in query.recognised if r != label and not r.startswith("mentioning:")
    ]
    query.unread.append(asked)
    which = (
        "no paper's title or abstract"
        if among is None
        else f"the title or abstract of none of the {counted(among, 'paper')} its constraints keep"
    )
    done = "nothing was counted" if query.tally is not None else "no average was taken"
    query.unread_reasons[asked] = (
        f"{which} mentions {query.mentioned_said} as written, so {done}; the "
        "papers closest to it are ranked instead"
    )
    query.tally = None


def _on_topic_first(hits: list[Hit], sort: Sort) -> list[Paper]:
    """Papers of ``hits`` for an ordered question on a topic: those on it (``_ON_TOPIC`` of
    the best score) in the order asked, the ones without the value it sorts by after them,
    then the rest by relevance. Sorting all of them put a dated bystander ("A Tutorial on
    Bayesian Optimization") above the undated papers a question was about ("the newest
    work on the Shampoo optimizer"); most listings give no date.
    """
    bar = _ON_TOPIC * max((h.score for h in hits), default=0.0)
    on = [h.paper for h in hits if h.score >= bar]  # by relevance, as the hits are
    known = [p for p in on if sort_value(p, sort) is not None]
    unknown = [p for p in on if sort_value(p, sort) is None]
    return sort_papers(known, sort) + unknown + [h.paper for h in hits if h.score < bar]


def _sorted_only(papers: Sequence[Paper], sort: Sort) -> list[Paper]:
    """``papers`` in the order ``sort`` asks, those without its value last (as given); for one
    paper asked for (``sort.first``), the first and those tied with it."""
    known = sort_papers([p for p in papers if sort_value(p, sort) is not None], sort)
    ordered = known + [p for p in papers if sort_value(p, sort) is None]
    return (_tied_with_first(ordered, sort) if sort.first else None) or ordered


def _placed(papers: Sequence[Paper], sort: Sort) -> list[Paper]:
    """For the paper at one place asked for (``sort.place``: "the second newest"), that paper
    among those of ``papers`` (in ``sort``'s order) giving the value; else ``papers``."""
    known = [p for p in papers if sort_value(p, sort) is not None]
    if sort.place is None or len(known) < sort.place:
        return list(papers)
    return [known[sort.place - 1]]


def _tied_with_first(papers: Sequence[Paper], sort: Sort) -> list[Paper] | None:
    """The first of ``papers`` (in ``sort``'s order) and those sharing its value, or None
    when the first gives none."""
    top = sort_value(papers[0], sort) if papers else None
    if top is None:
        return None
    return [p for p in papers if sort_value(p, sort) == top]


def _long_forms(phrases: list[str], index: LexicalIndex) -> list[str]:
    """``phrases``, and the long forms the collection defines their acronyms by."""
    forms = [f for p in phrases for a in names.acronyms(p) for f in index.expansions(a)]
    return list(dict.fromkeys([*phrases, *forms]))


#: A word that is a name, not a word of the language: a capital inside it ("NegMerge",
#: "DivControl"), two capitals ("SOAP", "ATM") or a digit.
_NAME_LIKE = re.compile(r"[\w-]*(?:[a-z][A-Z]|[A-Z]{2}|\d)[\w-]*")


def _typed_head(subject: str, papers: Sequence[Paper]) -> list[Paper]:
    """The paper of ``papers`` whose title opens with a name, before a colon, that ``subject``
    is, written in any case: "whats negmerge" asks about "NegMerge: Sign-Consensual Weight
    Merging ...", as "What is NegMerge?" does. A head written as a plain word is a name when
    the papers' abstracts write it capitalised in mid-sentence, every time ("we propose
    Shampoo", never "shampoo"): "Pruning: ..." opens with no name.

    >>> papers = [Paper(paper_id="p", title="NegMerge: Sign-Consensual Merging", abstract="")]
    >>> [len(_typed_head(s, papers)) for s in ("negmerge", "NEGMERGE", "neg merge", "sign")]
    [1, 1, 0, 0]
    >>> said = [Paper(paper_id="s", title="Shampoo: Tensor", abstract="We study Shampoo."),
    ...         Paper(paper_id="p", title="Pruning: Weights", abstract="Pruning. We use pruning.")]
    >>> [len(_typed_head(s, said)) for s in ("shampoo", "pruning")]
    [1, 0]
    """
    if not subject or " " in subject.strip():
        return []
    return [
        paper
        for paper in papers
        if ":" in paper.title
        and (head := paper.title.split(":")[0].strip()).lower() == subject.strip().lower()
        and (_NAME_LIKE.fullmatch(head) or _written_as_name(head, papers))
    ]


def _written_as_name(word: str, papers: Sequence[Paper]) -> bool:
    """Whether the abstracts of ``papers`` write ``word`` in mid-sentence, and always
    capitalised there (a name, not a word of the language)."""
    text = " ".join(p.abstract for p in papers)
    # After a lowercase letter, a comma or a semicolon and a space: not a sentence's start.
    written = re.findall(rf"(?<=[a-z,;] )({re.escape(word)})\b", text, re.IGNORECASE)
    return bool(written) and all(w[0].isupper() for w in written)


def _titles_name(subject: str, papers: Sequence[Paper], longest: int = 4) -> bool:
    """Whether a title of ``papers`` names ``subject``, a topic of at most ``longest`` words,
    as a phrase ("Which papers are about vector quantization?": "Restructuring Vector
    Quantization with the Rotation Trick"). A long subject describes rather than names.

    >>> paper = Paper(paper_id="p", title="LGV: Boosting Adversarial Example Transfer", abstract="")
    >>> [_titles_name(s, [paper]) for s in ("adversarial examples", "examples", "boosting lgv")]
    [True, True, False]
    """
    words = subject.split()
    return 0 < len(words) <= longest and any(mentions(p.title, subject) for p in papers)


def _titles_share_name(text: str, papers: Sequence[Paper], index: LexicalIndex) -> bool:
    """Whether a distinctive name of ``text`` (capitalised where no sentence opens, used by
    at most DISTINCT_NAME papers) is in the titles of two of the first five ``papers``:
    "Which papers build on the Shampoo optimizer to make it cheaper, more stable or better
    understood?" asks about the papers titled on Shampoo, though its many other words put
    every one of them far from it by meaning."""
    titles = [p.title for p in papers[:5]]
    return any(
        0 < index.papers_using(name) <= DISTINCT_NAME
        and sum(names.mentioned(title, name) for title in titles) >= 2
        for name in names.proper(text)
    )


#: Words before a topic that are not part of it: an article, or what the papers do with it
#: ("papers that use Shampoo").
_OPENERS_TEXT = """
    the a an use uses using apply applies study studies propose proposes address addresses
    discuss discusses mention mentions cover covers on about regarding concerning
    """
_PHRASE_OPENERS = frozenset(_OPENERS_TEXT.split())


def _as_written(words: Sequence[str], topic: str) -> str:
    """``words`` of a subject as ``topic`` writes them, with the small words between them that
    the subject leaves out, or else joined by spaces.

    >>> _as_written(["edge", "stability"], "Which papers are about the edge of stability?")
    'edge of stability'
    """
    small = r"\s+(?:(?:of|the|in|for|on|to|a|an|and|with|from|by)\s+)*"
    written = re.search(rf"(?<!\w){small.join(map(re.escape, words))}(?!\w)", topic, re.I)
    return written.group(0) if written else " ".join(words)


def _quoted(
    text: str,
    papers: Sequence[Paper],
    search: Callable[[str], Sequence[Paper]] = lambda title: (),
) -> list[Paper]:
    """The papers whose whole titles ``text`` quotes, in the order it quotes them ('summarize
    "Conformal Risk Control"', 'tell me about "A" and "B"', as a follow-up about cited papers
    is rewritten), though other titles and abstracts hold a title as a phrase of the field.
    Each is looked for among ``papers`` (those found), else among what ``search`` finds for
    its title.

    >>> papers = [Paper(paper_id=i, title=t, abstract="") for i, t in (("a", "Risk Control"),
    ...           ("b", "Non-Exchangeable Risk Control"))]
    >>> [p.paper_id for p in _quoted('summarize "risk control"', papers)]
    ['a']
    >>> [p.paper_id for p in _quoted('"Non-Exchangeable Risk Control" and "Risk Control"', papers)]
    ['b', 'a']
    >>> headed = [Paper(paper_id="c", title="The Curse of Conditions: Analyzing OT", abstract="")]
    >>> [p.paper_id for p in _quoted('what is "the curse of conditions" about?', headed)]
    ['c']
    """
    chosen: dict[str, Paper] = {}
    for title in dict.fromkeys(fold(" ".join(q.split())) for q in _QUOTE.findall(text)):
        for pool in (papers, search(title)):
            paper = next((p for p in pool if fold(" ".join(p.title.split())) == title), None)
            # ... or its head, before the title's colon: 'what is "the curse of conditions"
            # about?' had been refused
            paper = paper or next((p for p in pool if _head_folded(p.title) == title), None)
            if paper is not None:
                chosen.setdefault(paper.paper_id, paper)
                break
    return list(chosen.values())


def _head_folded(title: str) -> str | None:
    """A title's head before its colon or bracket, folded; None for a title without one."""
    head = title_name(title)
    return fold(head) if head != title.strip() else None


_QUOTE = re.compile(r'"([^"]{3,300})"')


def _when_where(paper: Paper) -> str:
    """ "2024-06-14, ICLR 2026", or "no date" for a paper that gives none."""
    return ", ".join(filter(None, [paper.date or "no date", paper.venue]))


def _title_first(papers: Sequence[Paper], phrase: str) -> list[Paper]:
    """``papers``, those whose title says ``phrase`` first, then the dated, newest first."""

    def key(paper: Paper) -> tuple[bool, bool, list[int]]:
        newest = [-part for part in date_key(paper.date or "")]
        return not mentions(paper.title, phrase), paper.date is None, newest

    return sorted(papers, key=key)


def _short_phrase(text: str, longest: int = 4) -> str | None:
    """``text`` as a phrase to look for when it is a topic of at most ``longest`` words ("the
    edge of stability?": "edge of stability"), else None. A generic head noun ending it is
    no part of the topic: no paper need say "RLHF work" to be on RLHF.

    >>> [_short_phrase(t) for t in ("the edge of stability?", "use Qwen2.5-Math", "How do we act",
    ...                             "RLHF work", "on RLHF?")]
    ['edge of stability', 'Qwen2.5-Math', None, 'RLHF', 'RLHF']
    """
    if asks(text):
        return None  # a question, not a topic
    words = [w for w in (w.strip("\"'()[],;:!?.") for w in text.split()) if w]  # "Qwen2.5-Math"
    if words and words[0].lower() in _PHRASE_OPENERS:
        words = words[1:]
    words = _headless(words)
    return " ".join(words) if 0 < len(words) <= longest else None


def _headless(words: Sequence[str]) -> list[str]:
    """``words`` of a topic without the generic head nouns ending it ("Bayesian methods",
    "RLHF work"): no paper need say them to be about it."""
    kept = list(words)
    while len(kept) > 1 and kept[-1].lower() in _GENERIC_HEADS:
        kept.pop()
    return kept


def _said(phrase: str, hits: Sequence[Hit], index: LexicalIndex, allowed: set[str] | None) -> bool:
    """Whether a paper of ``allowed`` says ``phrase`` (see LexicalIndex.mentioning). The papers
    found are asked first: one of them usually does, and reading them is a regex each, where
    the whole collection's candidates for common words may number thousands."""
    found = {h.paper.paper_id for h in hits}
    if index.mentioning(phrase, found if allowed is None else found & allowed):
        return True
    return bool(index.mentioning(phrase, allowed))


def _in_order(hits: list[Hit], papers: Sequence[Paper], k: int) -> list[Hit]:
    """The hits of ``papers`` in their order, ranked anew and cut to ``k`` (a paper not among
    ``hits`` gets its abstract as its chunk and no score)."""
    found = {h.paper.paper_id: h for h in hits}
    ranked = [
        found.get(p.paper_id) or Hit(paper=p, score=0.0, rank=0, chunks=[p.abstract])
        for p in papers
    ][:k]
    for rank, hit in enumerate(ranked, 1):
        hit.rank = rank
    return ranked


def judge_coverage(
    relevance: float, overlap: float, calibration: Calibration, spelled: float | None = None
) -> tuple[bool, bool]:
    """(covered, uncertain) for a question's best dense similarity and lexical coverage.

    Covered when either signal is as strong as it rarely is for a question whose paper is
    missing: the dense one for descriptions, the lexical one for keywords. Refused (not covered)
    only when both sit as low as they do for most such questions, and so does the similarity
    with its acronyms ``spelled`` out; uncertain in between.
    """
    if relevance >= calibration.threshold or overlap >= calibration.lexical_threshold:
        return True, False
    if (
        max(relevance, spelled or 0.0) < calibration.refusal_threshold
        and overlap < calibration.refusal_lexical_threshold
    ):
        return False, False
    return True, True


def _tallied(
    papers: Sequence[Paper], tally: Tally
) -> tuple[list[tuple[str, int]], int, list[Paper]]:
    """The values ``tally`` asks for with their paper counts, how many papers give a value,
    and the values' papers in that order.

    "The most" is every value as large as the largest, "the fewest" as small as the smallest
    (or the first ``count`` either way: "the top 5 authors"); "at least n"
    falls back to the largest when none has n, so that "authors with more than one paper"
    says the most any has. "Each" counts every value and lists the largest's papers; "total"
    lists every paper.
    """
    groups = tally_papers(papers, tally.key)
    giving = len({p.paper_id for _, members in groups for p in members})
    if tally.mode == "total":  # every paper, newest first; the listings say where they are
        return (
            [(name, len(members)) for name, members in groups],
            len(papers),
            sort_papers(papers, None),
        )
    if tally.mode == "each":
        if tally.key in ("year", "month"):  # in order of time
            groups.sort(key=lambda group: group[0])
        largest = max(groups, key=lambda group: len(group[1]), default=None)
        listed = [largest] if largest else []
    elif tally.count:  # "the top 5 authors": five, tied or not
        if tally.mode == "fewest":
            groups.sort(key=lambda group: len(group[1]))  # stable: as large, in name order
        groups = listed = groups[: tally.count]
    elif tally.mode == "fewest":
        bottom = len(groups[-1][1]) if groups else 0
        groups = listed = [g for g in groups if len(g[1]) == bottom]
    else:
        top = len(groups[0][1]) if groups else 0
        least = tally.least if tally.mode == "at_least" else top
        groups = listed = [g for g in groups if len(g[1]) >= min(least, top)]
    listed_papers = list({p.paper_id: p for _, members in listed for p in members}.values())
    return [(name, len(members)) for name, members in groups], giving, listed_papers
