"""Typed records that flow through the pipeline: papers, chunks, hits, reports, answers; no I/O."""

from __future__ import annotations

import difflib
import functools
import hashlib
import json
import re
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from itertools import pairwise
from typing import Any, Literal
from urllib.parse import quote

from pydantic import BaseModel, Field, ValidationInfo, field_validator

#: Month names and their usual abbreviations, lower-case, to month numbers ("sept": 9).
MONTHS: dict[str, int] = {
    name: number
    for number, names in enumerate(
        [
            ("january", "jan"),
            ("february", "feb"),
            ("march", "mar"),
            ("april", "apr"),
            ("may",),
            ("june", "jun"),
            ("july", "jul"),
            ("august", "aug"),
            ("september", "sep", "sept"),
            ("october", "oct"),
            ("november", "nov"),
            ("december", "dec"),
        ],
        1,
    )
    for name in names
}


def iso_date(year: int, month: int | None = None, day: int | None = None) -> str:
    """YYYY, YYYY-MM or YYYY-MM-DD, as precise as the parts given (a day needs its month)."""
    if day and month:
        return f"{year:04d}-{month:02d}-{day:02d}"
    return f"{year:04d}-{month:02d}" if month else f"{year:04d}"


_NON_ALNUM = re.compile(r"[^0-9a-z]+")
#: Characters no paper text needs and a terminal or a log would act on: C0 and C1 controls
#: (ESC starts terminal escape sequences; CR overwrites a line), DEL, bidirectional overrides
#: (which reorder what a reader sees), and lone surrogates (which no encoder accepts).
_INERT_CONTROLS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
_LONE_SURROGATE = re.compile(r"[\ud800-\udfff]")


def clean_text(text: str) -> str:
    r"""``text`` without control characters (tab and newline kept, CR made a space) and with
    lone surrogates replaced by U+FFFD: what a terminal, a log or an encoder can take as it is.

    >>> clean_text("Title\x1b[31m red\r\ud800")
    'Title[31m red �'
    """
    text = _LONE_SURROGATE.sub("\ufffd", text.replace("\r", " "))
    return _INERT_CONTROLS.sub("", text)


#: What opens a sentence before a word: the text's start, a full stop, colon or quote. A word
#: after it is capitalised as a sentence's first, not as a name ("Haoli" further on is one).
SENTENCE_START = re.compile(r"(?:^|[.!?:;]\s*|[\"'(\u201c]\s*)$")


#: A name with a number raised in it, in LaTeX or plain ("E$^3$-Pruner", "Met^2Net", "Pro^2"),
#: as its letters, the number and what follows.
RAISED = re.compile(r"(?<![\w^$])([A-Za-z]+)\$?\^\{?(\d{1,2})\}?\$?([A-Za-z]*)")


def unraised(text: str) -> str:
    """``text`` with each name that has a number raised in it written as people type it.

    >>> unraised("E$^3$-Pruner, Met^2Net and VLM-R^3, not 10^5 or R^d")
    'E3-Pruner, Met2Net and VLM-R3, not 10^5 or R^d'
    """
    return RAISED.sub(lambda m: "".join(m.group(1, 2, 3)), text)


def accent_free(text: str) -> str:
    """``text`` without its accents, and without any other letter beyond ASCII: 'Lévy' -> 'Levy'."""
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()


@functools.lru_cache(maxsize=1 << 16)  # a collection's author names repeat across papers
def fold(text: str) -> str:
    """Lower-case, accent-free, punctuation as spaces: 'Suárez-Fariñas' -> 'suarez farinas'."""
    ascii_text = accent_free(text).lower()
    return " ".join(re.sub(r"[^a-z0-9]+", " ", ascii_text).split())


def title_name(title: str) -> str:
    """What a title names its paper by, before its first colon or bracket.

    >>> title_name("SOAP: Improving and Stabilizing Shampoo using Adam"), title_name("LSUV (init)")
    ('SOAP', 'LSUV')
    """
    return re.split(r"[:(]", title)[0].strip()


def normalize_title(title: str) -> str:
    """The key under which the same paper from different listings merges.

    >>> normalize_title("E$^3$-Pruner: Towards  Efficient")
    'e3prunertowardsefficient'
    """
    return _NON_ALNUM.sub("", accent_free(title).lower())


def papers_named(reference: str, papers: Sequence[Paper]) -> list[Paper]:
    """The papers ``reference`` names: the one with that id, else those whose title it is
    (case, accents and punctuation aside), else every one whose title contains it."""
    wanted = reference.strip()
    by_id = [p for p in papers if p.paper_id == wanted]
    key = normalize_title(wanted)
    if by_id or not key:
        return by_id
    whole = [p for p in papers if normalize_title(p.title) == key]
    return whole or [p for p in papers if _holds_words(p.title, key)]


def _holds_words(title: str, key: str) -> bool:
    """Whether normalised ``key`` is in ``title`` from a word's start to a word's end: "R-learning"
    is in "The Connection Between R-Learning and ...", not in "... Reward for Learning".

    >>> [_holds_words("E$^3$-Pruner: Towards", k) for k in ("e3pruner", "pruner", "runer")]
    [True, True, False]
    """
    folded = accent_free(title).lower()
    starts, ends, at = set(), set(), 0
    for run in re.findall(r"[a-z0-9]+", folded):
        starts.add(at)
        at += len(run)
        ends.add(at)
    normal = normalize_title(title)
    return any(
        start in starts and start + len(key) in ends
        for start in (m.start() for m in re.finditer(f"(?={re.escape(key)})", normal))
    )


def similar_titles(reference: str, papers: Sequence[Paper], n: int, cutoff: float) -> list[Paper]:
    """Up to ``n`` papers whose normalised titles resemble ``reference``'s (difflib ratio at
    least ``cutoff``), closest first: for misspelt names."""
    titles = {normalize_title(p.title): p for p in papers}
    close = difflib.get_close_matches(normalize_title(reference), list(titles), n, cutoff)
    return [titles[t] for t in close]


def paper_id_for(title: str) -> str:
    """A stable, short paper id derived from the normalised title."""
    return hashlib.sha1(normalize_title(title).encode()).hexdigest()[:12]


_STORED: dict[str, bool] = {"stored": True}  # the validation context of Paper.stored


class Paper(BaseModel):
    """One paper: its abstract and whatever metadata its listings carried."""

    paper_id: str
    title: str
    abstract: str
    authors: list[str] = Field(default_factory=list)
    author_count: int | None = None
    organization: str | None = None
    venue: str | None = None
    date: str | None = Field(None, description="ISO date, YYYY-MM-DD, YYYY-MM or YYYY.")
    year: int | None = None
    upvotes: int | None = None
    categories: list[str] = Field(default_factory=list)
    regions: list[str] = Field(default_factory=list)
    url: str | None = None
    doi: str | None = Field(None, description="DOI, lower-cased (10.1234/...).")
    arxiv_id: str | None = Field(None, description="arXiv identifier, no version (2401.01234).")
    sources: list[str] = Field(default_factory=list, description="Listings the paper came from.")
    source_files: list[str] = Field(default_factory=list)

    @field_validator(
        "title",
        "abstract",
        "authors",
        "organization",
        "venue",
        "date",
        "url",
        "categories",
        "regions",
        "sources",
        "source_files",
    )
    @classmethod
    def _clean(cls, value: str | list[str] | None, info: ValidationInfo) -> str | list[str] | None:
        # Scraped text: whatever reaches a store, a terminal or a log is free of controls.
        if info.context is _STORED:
            return value  # cleaned when it was made, before it was stored
        if isinstance(value, str):
            return clean_text(value)
        if isinstance(value, list):
            return [clean_text(v) for v in value]
        return value

    @classmethod
    def stored(cls, record: str) -> Paper:
        """A paper from the JSON of one this project stored (in the store or the word index):
        its text was cleaned when the paper was made, and is not cleaned again (half of the
        6 s that reading 100k records took)."""
        return cls.model_validate_json(record, context=_STORED)

    @classmethod
    def create(cls, title: str, abstract: str, **metadata: object) -> Paper:
        """Build a paper whose id is derived from its title."""
        return cls.model_validate(
            {"paper_id": paper_id_for(title), "title": title, "abstract": abstract, **metadata}
        )

    @property
    def content_hash(self) -> str:
        """Hash of everything stored about the paper except where it was read from.

        A changed hash means the stored chunks are stale and must be replaced.
        """
        body = self.model_dump(exclude={"source_files"})
        for later in ("doi", "arxiv_id"):  # papers stored before these fields keep their hash
            if body[later] is None:
                del body[later]
        return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()[:16]

    def merge(self, other: Paper) -> Paper:
        """Union of two records of the same paper (same normalised title)."""

        def union(a: list[str], b: list[str]) -> list[str]:
            return a + [x for x in b if x not in a]

        mine, theirs = self.model_dump(), other.model_dump()
        merged = dict(mine)
        for key, value in theirs.items():
            if isinstance(value, list):
                merged[key] = union(mine[key], value)
            elif mine[key] is None:
                merged[key] = value
        merged["authors"] = max(self.authors, other.authors, key=len)
        merged["abstract"] = max(self.abstract, other.abstract, key=len)
        if other.date and (not self.date or len(other.date) > len(self.date)):
            merged["date"] = other.date
        return Paper.model_validate(merged)

    @property
    def links(self) -> dict[str, str]:
        """Its DOI and arXiv pages ("doi", "arxiv"), the identifier percent-encoded: it is
        scraped text, and nothing in it may end the URL or the attribute it is written in."""
        pages = (
            ("doi", "https://doi.org/", self.doi),
            ("arxiv", "https://arxiv.org/abs/", self.arxiv_id),
        )
        return {kind: base + quote(value, safe="/") for kind, base, value in pages if value}

    @property
    def link(self) -> str:
        """Its page: the DOI or arXiv page, else its URL when that is a web address ("" if
        none; a scraped "javascript:..." is none).

        >>> [Paper(paper_id="p", title="T", abstract="a", url=u).link
        ...  for u in ("https://x.org/p", "javascript:alert(1)")]
        ['https://x.org/p', '']
        """
        url = self.url or ""
        return next(iter(self.links.values()), url if re.match(r"https?://", url, re.I) else "")

    @property
    def listings(self) -> list[str]:
        """Its venue and the listings it came from, as given."""
        return [v for v in [self.venue or "", *self.sources] if v]

    @property
    def listed_in(self) -> str:
        """Where the paper appeared: its venue, else the listings it came from ("" if neither)."""
        return self.venue or ", ".join(self.sources)


class Chunk(BaseModel):
    """A piece of one paper's abstract, sized for the embedder."""

    chunk_id: str
    paper_id: str
    index: int
    text: str
    tokens: int

    def embed_text(self, title: str) -> str:
        """The text the embedder sees: the title travels with every chunk."""
        return f"{title}\n{self.text}"


class Hit(BaseModel):
    """One paper found for a query, with its best matching chunks."""

    paper: Paper
    score: float
    rank: int
    similarity: float | None = Field(None, description="Best chunk's cosine similarity.")
    chunks: list[str] = Field(default_factory=list)


class Question(BaseModel):
    """One evaluation question, in the format of the dev question file."""

    qid: str = ""
    type: str = "lookup"
    question: str
    gold_titles: list[str] = Field(default_factory=list)
    answer_notes: str = ""
    must_refuse: bool = False


class Skipped(BaseModel):
    """A record that was not ingested, and why."""

    path: str
    line: int | None
    reason: str

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line is not None else self.path
        return f"{where}: {self.reason}"


class IngestReport(BaseModel):
    """What one ingest run did."""

    added: int = 0
    updated: int = 0
    unchanged: int = 0
    removed_partial: int = 0
    embedded_chunks: int = 0
    embedded_whole: int = Field(0, description="Papers of several chunks also embedded whole.")
    records_read: int = 0
    per_file: dict[str, int] = Field(default_factory=dict)
    skipped: list[Skipped] = Field(default_factory=list)
    coverage_threshold: float | None = Field(None, description="Set when it was recalibrated.")
    seconds: float = 0.0


class FileStatus(BaseModel):
    """One file of an ingest job, as far as the job got with it."""

    name: str = Field(description="The file's name as given (an upload's own name).")
    state: Literal["waiting", "read", "failed"] = Field(
        "waiting", description="waiting (not read yet), read (its papers are queued), failed."
    )
    records: int = Field(0, description="Papers read from it.")
    skipped: int = Field(0, description="Lines or records of it that were skipped.")
    problem: str | None = Field(None, description="Why it failed, or the first skip's reason.")


class IngestJob(BaseModel):
    """An ingest running inside the server: what it has done, and what is left."""

    id: str
    state: Literal["queued", "reading", "embedding", "done", "failed", "cancelled"] = Field(
        "queued",
        description="queued (behind another write), reading the files, embedding the papers "
        "(searchable batch by batch), done, failed (see error), or cancelled (the papers "
        "embedded so far stay; adding the files again resumes).",
    )
    files: list[FileStatus]
    done: int = Field(0, description="Papers embedded and searchable so far.")
    total: int | None = Field(None, description="Papers to embed (known once files are read).")
    unchanged: int = Field(0, description="Papers already in the store as they are.")
    started: str = Field(description="When the job was created (UTC, ISO 8601).")
    seconds: float = Field(0.0, description="Time since the job started, or that it took.")
    eta_s: float | None = Field(None, description="Estimated seconds left while embedding.")
    error: dict[str, Any] | None = Field(None, description="Why it failed ({type, message, hint}).")
    report: IngestReport | None = Field(None, description="The whole report, once done.")
    stopping: bool = Field(
        False, description="Cancelled while running: it stops after the batch being embedded."
    )

    @property
    def running(self) -> bool:
        return self.state in ("queued", "reading", "embedding")

    def summary(self) -> str:
        """One line a person reads: "indexing 120 of 318 papers, about 1 min left"."""
        if self.stopping and self.running:
            return f"stopping after the batch being embedded ({self.done} papers written)"
        if self.state == "queued":
            return f"{len(self.files)} file(s) queued behind another change to the collection"
        if self.state == "cancelled":
            if not self.total:
                return "cancelled before any paper was written"
            return f"cancelled after {self.done} of {self.total} papers"
        if self.state == "failed":
            message = (self.error or {}).get("message", "")
            return f"failed: {message}" if message else "failed"
        if self.state == "reading" or self.total is None:
            read = sum(f.state != "waiting" for f in self.files)
            return f"reading files ({read} of {len(self.files)})"
        if self.state == "embedding":
            left = f", about {_duration(self.eta_s)} left" if self.eta_s is not None else ""
            return f"indexing {self.done} of {self.total} papers{left}"
        return f"indexed {self.done} papers in {_duration(self.seconds)}"


def _duration(seconds: float | None) -> str:
    """ "12 s", "3 min" (rounded up: an estimate should not promise too little)."""
    seconds = max(seconds or 0.0, 0.0)
    return f"{seconds:.0f} s" if seconds < 90 else f"{-(-seconds // 60):.0f} min"


@functools.lru_cache(maxsize=4096)
def date_key(value: str) -> tuple[int, ...]:
    """A date's year, month and day, as far as it gives them: "2024-06" is (2024, 6)."""
    parts = value.lstrip("-").split("-")
    return tuple(int(p) for p in parts if p.isdigit())


def _truncate(key: tuple[int, ...], other: str | tuple[int, ...]) -> tuple[int, ...]:
    """``key`` cut to the precision of ``other`` (a date string or key)."""
    width = len(date_key(other)) if isinstance(other, str) else len(other)
    return key[:width]


#: A date a filter takes: YYYY, YYYY-MM or YYYY-MM-DD (a year of 5,000 digits is not one).
DATE_PATTERN = r"^\d{1,4}(-\d{1,2}){0,2}$"


#: What says an abstract gives its code (see :func:`code_given`): a word for code, then within
#: its sentence (80 characters) a word for its being available; or "we release ... code".
_CODE_WORD = re.compile(r"\b(?:source\s+)?(?:codes?|codebase|implementations?)\b")
_AVAILABLE = re.compile(
    r"\b(?:available|released?|open[- ]?sourced?|can\s+be\s+found|publicly|provided)\b"
)
_WE_RELEASE = re.compile(
    r"\bwe\s+(?:release|provide|open[- ]source|share|publish)\s+(?:\w+\s+){0,3}?(?:code"
    r"|implementations?)\b"
)


@functools.lru_cache(maxsize=1 << 18)
def code_given(abstract: str) -> bool:
    """Whether an abstract gives its code: a link to GitHub, GitLab or Bitbucket, or a sentence
    saying that the code or an implementation is (or will be) available, released or
    open-sourced. It holds for 62 of the sample's 318 papers; the 5 without a code host's link
    were read: each gives code. Words are looked for before any pattern runs, and each abstract
    is read once: one pattern over the whole text took 7.6 s at 100k papers, this 1.5 s the
    first time and 0.16 s after.

    >>> [code_given(a) for a in ("Code is available at https://github.com/x.",
    ...     "The source code will be made available.", "It takes a few lines of code.")]
    [True, True, False]
    """
    low = abstract.lower()
    if "github" in low or "gitlab" in low or "bitbucket" in low:
        return True
    if "code" not in low and "implementation" not in low:
        return False
    for word in _CODE_WORD.finditer(low):
        stop = low.find(".", word.end())
        stop = min(len(low) if stop < 0 else stop, word.end() + 81)
        if _AVAILABLE.search(low, word.end(), stop):
            return True
    return bool(_WE_RELEASE.search(low))


MissingField = Literal[
    "authors",
    "date",
    "upvotes",
    "categories",
    "venue",
    "organization",
    "regions",
    "doi",
    "arxiv_id",
    "code",
]


class Filters(BaseModel):
    """Metadata constraints on which papers may be returned; empty fields do not constrain."""

    author: str | None = Field(None, description="Substring of an author's name, any case.")
    authors: list[str] = Field(
        default_factory=list, description="Every one of these must be among the authors."
    )
    any_author: list[str] = Field(
        default_factory=list, description="At least one of these must be among the authors."
    )
    since: str | None = Field(
        None, description="Earliest date: YYYY, YYYY-MM or YYYY-MM-DD.", pattern=DATE_PATTERN
    )
    until: str | None = Field(
        None, description="Latest date: YYYY, YYYY-MM or YYYY-MM-DD.", pattern=DATE_PATTERN
    )
    years: list[int] = Field(
        default_factory=list,
        description="Years the paper is dated in, any one of them (for years not in a row; "
        "a span is since and until).",
    )
    venue: str | None = Field(None, description="Substring of the venue or listing, any case.")
    venues: list[str] = Field(
        default_factory=list,
        description="Venues or listings the paper appears in, every one of them (substrings).",
    )
    any_venue: list[str] = Field(
        default_factory=list,
        description="Venues or listings the paper appears in, at least one of them (substrings).",
    )
    min_listings: int | None = Field(
        None, ge=0, description="At least this many different venues or listings."
    )
    max_listings: int | None = Field(
        None, ge=0, description="At most this many different venues or listings."
    )
    category: str | None = Field(None, description="Substring of a subject category, any case.")
    min_authors: int | None = Field(None, ge=0, description="At least this many authors.")
    max_authors: int | None = Field(None, ge=0, description="At most this many authors.")
    min_upvotes: int | None = Field(None, ge=0, description="At least this many upvotes.")
    max_upvotes: int | None = Field(None, ge=0, description="At most this many upvotes.")
    organization: str | None = Field(None, description="Substring of the organization, any case.")
    region: str | None = Field(None, description="Substring of a region (place), any case.")
    regions: list[str] = Field(
        default_factory=list,
        description="Regions (places) the paper's authors come from, every one of them.",
    )
    any_region: list[str] = Field(
        default_factory=list,
        description="Regions (places) the paper's authors come from, at least one of them.",
    )
    missing: list[MissingField] = Field(
        default_factory=list, description="Fields the paper must not have (e.g. authors, date)."
    )
    present: list[MissingField] = Field(
        default_factory=list, description="Fields the paper must have (e.g. a DOI, a date)."
    )
    doi: str | None = Field(None, description="The paper's DOI (10.1234/...), any case.")
    arxiv_id: str | None = Field(
        None, description="The paper's arXiv identifier (2401.01234), without a version."
    )
    titled: list[str] = Field(
        default_factory=list,
        description='Words or phrases the paper\'s title must say ("transformer"; any case, '
        "singular or plural).",
    )
    title_opens: str | None = Field(
        None, description='Words the paper\'s title opens with ("Towards"; whole words, any case).'
    )
    excluding: list[str] = Field(
        default_factory=list,
        description="Words or names the paper must not mention in its title or abstract, nor "
        'carry as its venue, a listing or a category ("LLM", "arXiv"; any case, singular or '
        "plural).",
    )

    @property
    def empty(self) -> bool:
        return not any(v is not None and v != [] for v in self.model_dump().values())

    def merged(self, other: Filters) -> Filters:
        """These filters, with every field ``other`` sets taking precedence."""
        return self.model_copy(update=other.model_dump(exclude_defaults=True))

    def accepts(self, paper: Paper) -> bool:
        """Whether ``paper`` satisfies every constraint (missing metadata fails its constraint)."""
        return all(check(paper) for check in self._checks())

    def passing(self, papers: Iterable[Paper]) -> list[Paper]:
        """The ``papers`` that satisfy every constraint, as :meth:`accepts` tells, with the
        checks of the constraints set made once: at 100k papers, checking every field of each
        paper took 0.3-0.4 s for a filter of dates or authors."""
        checks = self._checks()
        return [paper for paper in papers if all(check(paper) for check in checks)]

    def _checks(self) -> list[Callable[[Paper], bool]]:
        """One test per constraint set, cheapest and most selective first."""
        checks: list[Callable[[Paper], bool]] = []
        if self.since or self.until:
            checks.append(functools.partial(_dated, since=self.since, until=self.until))
        if self.years:
            checks.append(functools.partial(_in_years, years=frozenset(self.years)))
        if self.doi:
            doi = self.doi.lower()
            checks.append(lambda paper: (paper.doi or "").lower() == doi)
        if self.arxiv_id:
            arxiv_id = self.arxiv_id.lower()
            checks.append(lambda paper: (paper.arxiv_id or "").lower() == arxiv_id)
        if self.titled:
            titled = list(self.titled)
            checks.append(lambda paper: all(mentions(paper.title, said) for said in titled))
        if self.title_opens:
            opening = re.compile(rf"\W*{re.escape(self.title_opens)}\b", re.IGNORECASE)
            checks.append(lambda paper: opening.match(paper.title) is not None)
        if self.author:  # "contains", as the UI's box says
            needle = normalize_title(self.author)
            checks.append(lambda paper: any(needle in normalize_title(a) for a in paper.authors))
        if self.authors or self.any_author:  # whole words ("Yang" is not "Xuyang")
            wanted, either = (
                [re.compile(f" {INITIALS.join(fold(a).split())} ") for a in names]
                for names in (self.authors, self.any_author)
            )
            checks.append(functools.partial(_named, wanted=wanted, either=either))
        if self.venue:
            venue = self.venue.lower()
            checks.append(lambda paper: any(venue in v.lower() for v in paper.listings))
        if self.venues or self.any_venue:
            checks.append(_holding(lambda paper: paper.listings, self.venues, self.any_venue))
        if self.min_listings is not None or self.max_listings is not None:
            least, most = self.min_listings, self.max_listings
            checks.append(
                lambda paper: within(len({v.lower() for v in paper.listings}), least, most)
            )
        if self.category:
            category = self.category.lower()
            checks.append(lambda paper: any(category in c.lower() for c in paper.categories))
        if self.organization:
            organization = self.organization.lower()
            checks.append(lambda paper: organization in (paper.organization or "").lower())
        if self.region:
            region = self.region.lower()
            checks.append(lambda paper: any(region in v.lower() for v in paper.regions))
        if self.regions or self.any_region:
            checks.append(_holding(lambda paper: paper.regions, self.regions, self.any_region))
        if self.missing:
            missing = list(self.missing)
            checks.append(lambda paper: not any(_has(paper, name) for name in missing))
        if self.present:
            present = list(self.present)
            checks.append(lambda paper: all(_has(paper, name) for name in present))
        if self.min_authors is not None or self.max_authors is not None:
            least_authors, most_authors = self.min_authors, self.max_authors
            checks.append(lambda paper: within(author_count(paper), least_authors, most_authors))
        if self.min_upvotes is not None or self.max_upvotes is not None:
            least_upvotes, most_upvotes = self.min_upvotes, self.max_upvotes
            checks.append(lambda paper: within(paper.upvotes, least_upvotes, most_upvotes))
        if self.excluding:
            checks.append(functools.partial(_excluded_from, phrases=self.excluding))
        return checks


#: Plurals that add "es" to their singular ("processes", "boxes", "searches", "wishes").
_ES_PLURAL = re.compile(r"(?:ss|x|zz|ch|sh)es$", re.IGNORECASE)


def singular(word: str) -> str:
    """``word`` without a plural ending; a word ending in "ss", "us" or "is" is singular
    already, unless a capital comes before its "s" ("GPUs").

    >>> words = "studies processes boxes LLMs GPUs causes days analysis class bus corpus"
    >>> " ".join(singular(w) for w in words.split())
    'study process box LLM GPU cause day analysis class bus corpus'
    """
    lower = word.lower()
    if len(word) > 4 and lower.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 4 and _ES_PLURAL.search(word):
        return word[:-2]
    singular_already = lower.endswith(("ss", "us", "is")) and word[-2].islower()
    if len(word) > 3 and lower.endswith("s") and not singular_already:
        return word[:-1]
    return word


def plural_pattern(word: str) -> str:
    """A regex for ``word`` singular or plural; read the ending of "-ses" either way, since
    "biases" is "bias" and "causes" is "cause".

    >>> found = [re.fullmatch(plural_pattern(w), v) is not None for w, v in (
    ...     ("study", "studies"), ("studies", "study"), ("day", "days"), ("biases", "bias"),
    ...     ("causes", "cause"), ("box", "boxes"), ("use", "us"))]
    >>> found
    [True, True, True, True, True, True, False]
    """
    one = singular(word)
    if len(one) > 2 and one[-1] in "yY" and one[-2].lower() not in "aeiou":
        return re.escape(one[:-1]) + "(?:y|ies)"
    if len(one) > 4 and one.lower().endswith("se"):
        return re.escape(one[:-1]) + "(?:es?|s)?"
    return re.escape(one) + "(?:e?s)?"


def mentions(text: str, phrase: str) -> bool:
    """Whether ``text`` holds ``phrase`` as whole words: any case, hyphens or spaces or nothing
    between its words, singular or plural.

    >>> said = "We prune LLM layers on arXiv."
    >>> [mentions(said, p) for p in ("LLMs", "llm", "arxiv", "prune layer")]
    [True, True, True, False]
    >>> mentions("Layer-pruning of language models", "layer pruning language model")
    False
    >>> mentions("Layer-pruning of language models", "language model")
    True
    >>> [mentions("An adversarial example", p) for p in ("adversarial examples", "exampl")]
    [True, False]
    >>> [mentions("a box, two searches", p) for p in ("boxes", "search")]
    [True, True]
    >>> [mentions("Qwen2.5-Math Technical Report", p) for p in ("qwen2.5-math", "qwen2 5")]
    [True, False]
    >>> [mentions("LLMs' Reasoning", p) for p in ("LLMs reasoning", "LLMs' reasons")]
    [True, False]
    >>> [mentions("Two case studies of one cause", p) for p in ("case study", "causes")]
    [True, True]
    """
    pattern = mention_pattern(phrase)
    return pattern is not None and pattern.search(text) is not None


@functools.lru_cache(maxsize=256)
def mention_pattern(phrase: str) -> re.Pattern[str] | None:
    """The pattern ``mentions`` looks for ``phrase`` by (None for a phrase without words),
    compiled once: a count within a topic reads thousands of abstracts with it."""
    found = list(re.finditer(r"[^\W_]+", phrase))
    if not found:
        return None
    words = [m.group(0) for m in found]
    # A point within a name stays one ("Qwen2.5-Math"); other gaps may be hyphens, spaces,
    # a possessive's apostrophe ("LLMs' reasoning") or nothing.
    gaps = [
        r"\." if phrase[a.end() : b.start()] == "." else r"(?:'|\u2019)?[-\s]*"
        for a, b in pairwise(found)
    ]
    # The last word singular or plural: "LLMs" is "LLM" or "LLMs"; "boxes", "box".
    patterns = [*(re.escape(w) for w in words[:-1]), plural_pattern(words[-1])]
    loose = patterns[0] + "".join(g + w for g, w in zip(gaps, patterns[1:], strict=True))
    return re.compile(rf"(?<![^\W_]){loose}(?![^\W_])", re.IGNORECASE)


def _has(paper: Paper, name: MissingField) -> bool:
    """Whether ``paper`` carries the field ``name`` (a count of authors is authors too; none
    of 0 upvotes: "daily papers without upvotes" are those with 0, which no listing tells from
    an unstated count)."""
    if name == "upvotes":
        return bool(paper.upvotes)
    if name == "authors":
        return author_count(paper) is not None
    if name == "code":
        return code_given(paper.abstract)
    value = {
        "date": paper.date,
        "upvotes": paper.upvotes,
        "categories": paper.categories,
        "venue": paper.venue,
        "organization": paper.organization,
        "regions": paper.regions,
        "doi": paper.doi,
        "arxiv_id": paper.arxiv_id,
    }[name]
    return value is not None and value != []


def counted(n: int, noun: str) -> str:
    """``n`` and ``noun``, plural unless ``n`` is 1: "1 author", "12 authors"."""
    return f"{n} {noun}{'' if n == 1 else 's'}"


def author_count(paper: Paper) -> int | None:
    """How many authors the paper has: the listed count, else the names we have, else unknown."""
    if paper.author_count is not None:
        return paper.author_count
    return len(paper.authors) or None


def count_of(paper: Paper, field: Literal["authors", "upvotes"]) -> int | None:
    """The paper's number of authors or of upvotes, or None when it gives none."""
    return author_count(paper) if field == "authors" else paper.upvotes


def _holds(held: set[str], every: list[str], either: list[str]) -> bool:
    """Whether the values ``held`` (lower case) hold each of ``every`` and, if any are given,
    one of ``either`` (substrings, any case): venues or listings, places."""
    if not all(any(w.lower() in v for v in held) for w in every):
        return False
    return not either or any(w.lower() in v for w in either for v in held)


def _dated(paper: Paper, since: str | None, until: str | None) -> bool:
    """Whether ``paper`` is dated within ``since`` and ``until`` (an undated one is not)."""
    mine = date_key(paper.date or "")
    if not mine:
        return False
    # Compare at the coarser of the two precisions: a paper dated 2026 is "since 2025-06".
    if since and _truncate(mine, since) < _truncate(date_key(since), mine):
        return False
    return not (until and _truncate(mine, until) > _truncate(date_key(until), mine))


#: What may stand between two words of a name read from a question, in a folded name: a space,
#: and up to two initials the question left out ("Michael Albergo" is "Michael S. Albergo").
INITIALS = " (?:[a-z] ){0,2}"


def _in_years(paper: Paper, years: frozenset[int]) -> bool:
    """Whether ``paper`` is dated in one of ``years`` (an undated one is not)."""
    key = date_key(paper.date or "")
    return bool(key) and key[0] in years


def _named(paper: Paper, wanted: list[re.Pattern[str]], either: list[re.Pattern[str]]) -> bool:
    """Whether each of the ``wanted`` names (folded words, joined by :data:`INITIALS`, in
    spaces) is words of one author's, and one of ``either`` is, when it names any.
    (A search narrows the papers by name first: see ``retrieve._Columns``.)"""
    names = [f" {fold(a)} " for a in paper.authors]

    def holds(words: re.Pattern[str]) -> bool:
        return any(words.search(name) for name in names)

    return all(map(holds, wanted)) and (not either or any(map(holds, either)))


def _excluded_from(paper: Paper, phrases: list[str]) -> bool:
    """Whether ``paper`` says none of ``phrases`` in its title, abstract, venue or listings."""
    said = "\n".join(
        [paper.title, paper.abstract, paper.venue or "", *paper.sources, *paper.categories]
    )
    return not any(mentions(said, phrase) for phrase in phrases)


def _holding(
    values: Callable[[Paper], list[str]], every: list[str], either: list[str]
) -> Callable[[Paper], bool]:
    """A test that a paper's ``values`` (its listings, its places) hold ``every`` and one of
    ``either`` (see :func:`_holds`)."""
    return lambda paper: _holds({v.lower() for v in values(paper)}, every, either)


def within(value: int | None, low: int | None, high: int | None) -> bool:
    """Whether ``value`` lies between ``low`` and ``high`` (either open); a missing value
    lies within no bound."""
    if low is None and high is None:
        return True
    if value is None:
        return False
    return (low is None or value >= low) and (high is None or value <= high)


# -- answers ---------------------------------------------------------------------------------

Verdict = Literal["supported", "weak", "unsupported"]
#: How a verdict reads beside a source, in the terminal and on the page alike.
SUPPORT_LABELS: dict[Verdict, str] = {
    "supported": "supported",
    "weak": "weakly supported",
    "unsupported": "NOT supported",
}


class Citation(BaseModel):
    """A source number used in the answer, the paper behind it, and how well it is supported."""

    n: int
    paper_id: str
    title: str
    supported: bool = Field(description="False when a claim citing it is unsupported.")
    support: Verdict
    evidence: str = Field(description="The abstract's sentence closest to the claims citing it.")
    spans: list[tuple[int, int]] = Field(
        default_factory=list, description="[start, end) of each answer sentence citing it."
    )


class Claim(BaseModel):
    """One sentence of the answer, the sources it cites, and whether they support it."""

    text: str
    citations: list[int]
    support: Verdict | Literal["uncited"] | None = Field(
        None,
        description="How well what it cites supports it; 'uncited' for a model's sentence that "
        "cites nothing and that no retrieved abstract supports; None for a sentence that is not "
        "a claim (our own notes, a restated question, 'the sources do not say').",
    )
    added: bool = Field(
        False, description="Its citation was added by the checker: the model cited nothing."
    )
    span: tuple[int, int] | None = Field(None, description="[start, end) in the answer text.")
    score: float | None = Field(None, description="The offline checker's score (0-1).")
    offline_support: Verdict | None = Field(
        None, description="The offline checker's verdict, when the model's was used instead."
    )


class Coverage(BaseModel):
    """Whether the collection covers the question, and what is near it."""

    covered: bool
    verdict: Literal["covered", "uncertain", "not_covered"] = Field(
        "covered",
        description="covered; uncertain (answered, but the signals sit between those of "
        "answerable and absent questions: see caveat); not_covered (refused).",
    )
    caveat: str | None = Field(
        None, description="What an uncertain answer is shown with: the closest papers."
    )
    decided_by: Literal["threshold", "model"] = Field(
        "threshold",
        description="The similarity threshold, or the model reading the sources (with a model "
        "configured, the threshold's verdict is then only advisory).",
    )
    threshold_verdict: bool | None = Field(
        None, description="What the similarity threshold said, when the model decided."
    )
    relevance: float | None
    threshold: float | None
    lexical_coverage: float | None = Field(
        None,
        description="The most of the question's term weight (IDF) one of the papers BM25 ranks "
        "first holds.",
    )
    lexical_threshold: float | None = None
    matching: int = Field(description="Papers passing the question's metadata constraints.")
    partial: str | None = Field(
        None,
        description="Set while the server is still indexing papers (how far it got): the "
        "answer may miss papers not yet searchable. The caveat says so too.",
    )
    nearest: list[dict[str, Any]] = Field(default_factory=list)
    available: bool = Field(
        True,
        description="False while the collection's thresholds are being rebuilt: no verdict, "
        "so nothing was refused for lack of coverage.",
    )


class Receipt(BaseModel):
    """How the answer was made: what was retrieved, with which prompt and model, how long."""

    question: str
    rewritten_query: str
    expansion: str | None = Field(
        None, description="What the model wrote in a matching paper's terms, searched too."
    )
    expand_error: str | None = Field(None, description="Why the expansion was not used.")
    constraints_by: Literal["rules", "model"] = Field(
        "rules", description="Who read the question's constraints into filters."
    )
    read_error: str | None = Field(
        None, description="Why the model's reading of the constraints was not used."
    )
    recognised: list[str] = Field(default_factory=list)
    unread: list[str] = Field(
        default_factory=list,
        description="Constraints the question states that no filter could use.",
    )
    corrected: dict[str, str] = Field(
        default_factory=dict,
        description="Misspelt words of the question and the collection's words they were read as.",
    )
    retrieved: list[dict[str, Any]] = Field(default_factory=list)
    model: str
    prompt_file: str | None = None
    prompt_sha256: str | None = None
    stage_ms: dict[str, float] = Field(default_factory=dict)
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    token_source: Literal["server", "tiktoken", "none"] = "none"
    invalid_citations: int = Field(0, description="Markers citing no source, removed.")
    uncited_sentences: int = Field(
        0, description="A model's claims that cite nothing and that no retrieved abstract supports."
    )
    added_citations: int = Field(
        0, description="A model's uncited claims that a retrieved abstract supports, now cited."
    )
    support_checker: Literal["offline", "model", "none"] = Field(
        "none", description="Who judged the claims: the model (prompts/judge.txt) or offline."
    )
    judge_error: str | None = Field(
        None, description="Why the model could not judge, when it was asked to and failed."
    )


class Answer(BaseModel):
    """The assistant's reply to one question."""

    question: str
    answer: str = Field(description="Text with [n] citation markers.")
    extractive: bool
    refused: bool
    citations: list[Citation] = Field(default_factory=list)
    claims: list[Claim] = Field(default_factory=list)
    coverage: Coverage
    receipt: Receipt
    grounded: bool = Field(
        True,
        description="False when too few of the answer's claims are supported by what they cite "
        "(llm.grounded_at): it is then not passed off as an answer, and `extracted` holds the "
        "answer extracted from the same sources.",
    )
    grounded_share: float | None = Field(
        None, description="Share of the claims supported (or weakly) by what they cite."
    )
    extracted: str | None = Field(
        None, description="The extracted answer from the same sources, for an ungrounded one."
    )

    def held_claims(self) -> tuple[int, int]:
        """(claims supported or weakly supported by what they cite, claims judged at all)."""
        judged = [c.support for c in self.claims if c.support is not None]
        return sum(v in ("supported", "weak") for v in judged), len(judged)

    def ungrounded_notice(self) -> str:
        """What the CLI and the OpenAI-compatible text say after an ungrounded answer, before
        the extracted one (the page says it with counts, see ui.render_answer)."""
        return (
            f"only {self.grounded_share or 0:.0%} of the claims above are supported by the "
            "sources. The answer extracted from the same sources:"
        )


class Turn(BaseModel):
    """One earlier exchange of a conversation."""

    question: str
    answer: str
    rewritten_query: str = ""
    sources: dict[int, str] = Field(
        default_factory=dict,
        description="The title behind each source number the answer cites ([1] and [3] may be "
        "all it cites).",
    )

    @property
    def cited_titles(self) -> list[str]:
        """The cited papers' titles, in the order of their numbers."""
        return [self.sources[n] for n in sorted(self.sources)]

    @classmethod
    def of(cls, answer: Answer) -> Turn:
        sources = {c.n: c.title for c in answer.citations}
        if not sources and not answer.refused:
            # "Convergence of Muon with Newton-Schulz: its abstract states no limitation." names
            # the paper it has nothing to quote from: "compare it with SOAP" is about that one.
            sources = {
                int(r["n"]): str(r["title"])
                for r in answer.receipt.retrieved
                if str(r.get("title", "")) in answer.answer
            }
        return cls(
            question=answer.question,
            answer=answer.answer,
            rewritten_query=answer.receipt.rewritten_query,
            sources=sources,
        )
