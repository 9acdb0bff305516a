"""Scraped listing pages (four layouts) -> papers; and the builder every reader of a file fills.

The layouts, detected from a file's content (see parse.detect_format):

- ``scored``    title, optional "Last, First, ..." authors line, abstract, then ``- `` tag lines
                (regions and subject categories with scores), under a "venue year" header;
- ``daily``     title, abstract, "• N authors" or an organisation, a ``·`` line, then
                "Mon D[, YYYY] [upvotes]";
- ``authored``  blank-line separated blocks: title, authors, source/venue, abstract;
- ``alternating`` a title line, then its abstract line, repeated.

Anything that is not part of a record (navigation, banners, stray fragments) produces no paper;
a record that starts but cannot be completed is reported as :class:`Skipped` with its line.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from assistant.records import Paper, Skipped, normalize_title

#: The layouts a file can have: JSONL (ours, arXiv's or OpenAlex's), CSV, BibTeX and RIS records,
#: and four kinds of scraped listing.
Format = Literal[
    "jsonl", "json", "csv", "bibtex", "ris", "daily", "scored", "authored", "alternating"
]

Line = tuple[int, str]  # (1-based line number, text without trailing whitespace)

_MONTH_NAMES = "Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec"
_MONTHS = {m: i for i, m in enumerate(_MONTH_NAMES.split(), 1)}
_DATE = re.compile(
    r"^(?P<mon>Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)[a-z]*\.? (?P<day>\d{1,2})"
    r"(?:, (?P<year>\d{4}))?(?:\s+(?P<upvotes>\d+))?$"
)
_TAG = re.compile(r"^- (?P<path>.+?)(?: \((?P<score>\d+(?:\.\d+)?)\))?$")
_MORE = re.compile(r"^\(\d+ more\.*\)$")
_VENUE_HEADER = re.compile(r"^(?P<name>[A-Za-z][A-Za-z&.\- ]{1,40}?)\s+(?P<year>(?:19|20)\d{2})$")
_AUTHOR_COUNT = re.compile(r"^•\s*(?P<n>\d+)\s+authors?$")
_CONTINENTS = (
    "Africa", "Antarctica", "Asia", "Europe", "North America", "Oceania", "South America",
)  # fmt: skip
# Words a listing page glues in front of the first title ("SubscribeAlignIT: ...").
_GLUED_CHROME = re.compile(r"^(?:Subscribe|Upvote|New)(?=[A-Z0-9])")
_FILE_NAME = re.compile(r"\.(pdf|html?|docx?)$", re.I)


@dataclass
class ParsedFile:
    """The papers one file yielded, and what it had to skip."""

    path: str
    format: Format
    papers: list[Paper] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)


def _words(text: str) -> int:
    return len(text.split())


def _is_abstract(text: str) -> bool:
    # Shortest real abstract in the sample: 50 words; longest title: 20 words.
    return _words(text) >= 25 and len(text) >= 150 and not looks_like_authors(text)


def _is_title(text: str) -> bool:
    return 1 <= _words(text) <= 40 and len(text) <= 300 and not _is_abstract(text)


def _clean(text: str) -> str:
    return " ".join(text.split())


def looks_like_authors(text: str) -> bool:
    """Whether a line is a comma-separated author list such as "Fortuin, Vincent, Doe, J.".

    >>> looks_like_authors("Rochussen, Tommy, Fortuin, Vincent")
    True
    >>> looks_like_authors("When, Why and How Much? Adaptive Learning Rate Scheduling")
    False
    """
    parts = [p.strip() for p in text.split(",")]
    if len(parts) < 2 or any(not p for p in parts) or re.search(r"[\d:?!;()\[\]{}\"$]", text):
        return False
    words = [w for p in parts for w in p.split()]
    if any(_words(p) > 5 for p in parts) or not words:
        return False
    capitalised = sum(1 for w in words if w[0].isupper())
    return capitalised / len(words) >= 0.75


def split_authors(text: str) -> list[str]:
    """Turn "Last, First, Last, First" into ["First Last", "First Last"].

    >>> split_authors("Rochussen, Tommy, Fortuin, Vincent")
    ['Tommy Rochussen', 'Vincent Fortuin']
    """
    parts = [p.strip() for p in text.split(",") if p.strip()]
    if len(parts) % 2:
        return parts  # not in Last, First pairs: keep the names as written
    return [f"{first} {last}" for last, first in zip(parts[::2], parts[1::2], strict=True)]


def _parse_date(match: re.Match[str], listing_year: int | None) -> tuple[str, int | None]:
    month, day = _MONTHS[match["mon"][:3]], int(match["day"])
    year = int(match["year"]) if match["year"] else listing_year
    if year is None:
        return f"--{month:02d}-{day:02d}", None
    return f"{year:04d}-{month:02d}-{day:02d}", year


class Builder:
    """Collects the papers and skips of one file, for every layout's reader."""

    def __init__(self, path: str, fmt: Format) -> None:
        self.result = ParsedFile(path=path, format=fmt)

    def drain(self) -> Iterator[Paper | Skipped]:
        """The papers and skips collected so far, handed over and forgotten."""
        yield from self.result.papers
        yield from self.result.skipped
        self.result.papers, self.result.skipped = [], []

    def skip(self, line: int | None, reason: str) -> None:
        self.result.skipped.append(Skipped(path=self.result.path, line=line, reason=reason))

    def add(self, line: int, title: str, abstract: str, **meta: Any) -> None:
        title, abstract = _clean(title), _clean(abstract)
        if not normalize_title(title):
            self.skip(line, f"title {title!r} has no letters or digits")
            return
        if not abstract:
            self.skip(line, f"paper {title!r} has an empty abstract")
            return
        meta.setdefault("source_files", [Path(self.result.path).name])
        self.result.papers.append(Paper.create(title, abstract, **meta))


def listing_layout(texts: list[str]) -> Format | None:
    """Which scraped listing layout the file's non-blank lines have, or None."""
    if any(t == "·" for t in texts) and any(_DATE.match(t) for t in texts):
        return "daily"
    if sum(1 for t in texts if _TAG.match(t) and t.startswith("- ") and ">" in t) >= 1:
        return "scored"
    abstracts = [i for i, t in enumerate(texts) if _is_abstract(t)]
    if not abstracts:
        return None
    authored = sum(
        1
        for i in abstracts
        if i >= 3 and looks_like_authors(texts[i - 2]) and _is_title(texts[i - 3])
    )
    if authored * 2 >= len(abstracts):
        return "authored"
    return "alternating"


def read_scored(lines: list[Line], b: Builder) -> None:
    texts = [(n, t.strip()) for n, t in lines if t.strip()]
    venue: str | None = None
    year: int | None = None
    if texts and (m := _VENUE_HEADER.match(texts[0][1])):
        venue = f"{m['name'].upper() if len(m['name']) <= 6 else m['name']} {m['year']}"
        year = int(m["year"])
        texts = texts[1:]
    source = venue or "scored listing"
    title: Line | None = None
    authors: list[str] = []
    current: dict[str, Any] | None = None

    def flush() -> None:
        nonlocal current
        if current is not None:
            b.add(**current)
            current = None

    for number, text in texts:
        if text.startswith("- "):
            tag = _TAG.match(text)
            if current is None or tag is None or _MORE.match(tag["path"]):
                continue  # "(7 more...)" and tags with no paper are listing chrome
            path = tag["path"].strip()
            key = "regions" if path.startswith(_CONTINENTS) else "categories"
            current[key].append(path)
        elif _is_abstract(text):
            flush()
            if title is None:
                b.skip(number, "an abstract with no title line before it; record skipped")
                continue
            current = {
                "line": title[0],
                "title": title[1],
                "abstract": text,
                "authors": authors,
                "author_count": len(authors) or None,
                "venue": venue,
                "year": year,
                "date": str(year) if year else None,
                "sources": [source],
                "categories": [],
                "regions": [],
            }
            title, authors = None, []
        elif title is not None and not authors and looks_like_authors(text):
            authors = split_authors(text)
        else:
            flush()
            if title is not None:
                b.skip(title[0], f"title {title[1]!r} is not followed by an abstract")
            title, authors = (number, text), []
    flush()
    if title is not None:
        b.skip(title[0], f"title {title[1]!r} is not followed by an abstract")


def read_daily(lines: list[Line], b: Builder, listing_year: int | None) -> None:
    texts = [(n, t.strip()) for n, t in lines if t.strip()]
    if listing_year is None:
        # The listing omits the year for dates in its own year, so it is later than every
        # explicit year: one past the newest is the best offline guess (override with
        # listing_year when the scrape date is known).
        years = [int(m["year"]) for _, t in texts if (m := _DATE.match(t)) and m["year"]]
        listing_year = max(years) + 1 if years else None
    for i, (number, text) in enumerate(texts):
        if text != "·":
            continue
        if i < 3 or i + 1 >= len(texts):
            b.skip(number, "a '·' separator without title, abstract and date around it")
            continue
        (tn, title), (_, abstract), (_, meta) = texts[i - 3], texts[i - 2], texts[i - 1]
        date_match = _DATE.match(texts[i + 1][1])
        if not (_is_title(title) and _is_abstract(abstract)):
            b.skip(tn, "expected a title line then an abstract line before the author line")
            continue
        if date_match is None:
            b.skip(texts[i + 1][0], f"expected a date like 'Mar 23, 2025', got {texts[i + 1][1]!r}")
            continue
        date, year = _parse_date(date_match, listing_year)
        info: dict[str, Any] = {}
        if count := _AUTHOR_COUNT.match(meta):
            info["author_count"] = int(count["n"])
        else:
            # "OpenGVLab OpenGVLab", "Harvard Harvard University": handle, then display name.
            handle, _, name = meta.partition(" ")
            info["organization"] = name.strip() or handle
        b.add(
            tn,
            title,
            abstract,
            date=date,
            year=year,
            upvotes=int(date_match["upvotes"]) if date_match["upvotes"] else 0,
            sources=["Hugging Face Daily Papers"],
            **info,
        )


def read_authored(lines: list[Line], b: Builder) -> None:
    texts = [(n, t.strip()) for n, t in lines if t.strip()]
    for i, (number, text) in enumerate(texts):
        if not _is_abstract(text):
            continue
        if i < 3:
            b.skip(number, "an abstract without title, authors and source lines before it")
            continue
        (tn, title), (an, authors), (_, venue) = texts[i - 3], texts[i - 2], texts[i - 1]
        if not looks_like_authors(authors) or not _is_title(title):
            b.skip(
                an, "expected title, authors ('Last, First, ...') and source before this abstract"
            )
            continue
        b.add(
            tn,
            title,
            text,
            authors=split_authors(authors),
            author_count=len(split_authors(authors)),
            venue=venue,
            sources=[venue],
        )
    for number, text in texts:
        if _FILE_NAME.search(text) and _words(text) == 1:
            b.skip(number, f"{text!r} is a file name where a title was expected; block skipped")


def read_alternating(lines: list[Line], b: Builder) -> None:
    texts = [(n, t.strip()) for n, t in lines if t.strip()]
    title: Line | None = None
    for number, text in texts:
        if _is_abstract(text):
            if title is None:
                b.skip(number, "an abstract line with no title line before it; record skipped")
            else:
                b.add(
                    title[0], _GLUED_CHROME.sub("", title[1]), text, sources=["Hugging Face Papers"]
                )
            title = None
        else:
            title = (number, text)  # a title not followed by an abstract is page chrome
