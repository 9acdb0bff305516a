"""Bibliographic records in and out: BibTeX, RIS, CSL JSON, arXiv and OpenAlex read; BibTeX out."""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from typing import Any

import rispy
from bibtexparser import middlewares
from bibtexparser.entrypoint import parse_string
from pylatexenc.latex2text import LatexNodes2Text

from assistant.records import MONTHS, Paper, accent_free, iso_date

#: A BibTeX entry starts with "@type{" (comments and @string/@preamble blocks aside).
BIBTEX_ENTRY = re.compile(r"^\s*@\s*[A-Za-z]+\s*[{(]", re.MULTILINE)
#: A RIS line: a two-character tag, two spaces, a dash ("TY  - JOUR").
RIS_LINE = re.compile(r"^([A-Z][A-Z0-9])  -(?: (.*))?$")
_ARXIV_ID = re.compile(
    r"(?:arxiv[:/ ]\s*|abs/)?(\d{4}\.\d{4,5}|[a-z-]+(?:\.[A-Z]{2})?/\d{7})(v\d+)?", re.I
)
_DOI = re.compile(r"(10\.\d{4,9}/\S+)")
#: Decodes LaTeX in author names as bibtexparser's middleware decodes the other fields.
_NAMES = LatexNodes2Text(keep_braced_groups=False, math_mode="verbatim")


@dataclass
class Record:
    """One entry of a reference file: title, abstract and what else it states."""

    line: int
    title: str
    abstract: str
    meta: dict[str, Any] = field(default_factory=dict)


@dataclass
class Broken:
    """An entry that could not be read, with its line and why."""

    line: int
    reason: str


def doi_of(text: str | None) -> str | None:
    """The DOI in ``text`` (a bare DOI, "doi:..." or a doi.org URL), lower-cased.

    >>> doi_of("https://doi.org/10.48550/arXiv.2401.01234")
    '10.48550/arxiv.2401.01234'
    """
    found = _DOI.search(text or "")
    return found.group(1).rstrip(".,;").lower() if found else None


def arxiv_id_of(text: str | None) -> str | None:
    """The arXiv identifier in ``text`` ("arXiv:2401.01234v2", an abs/ URL, "hep-th/9901001"),
    without its version.

    >>> arxiv_id_of("https://arxiv.org/abs/2401.01234v3")
    '2401.01234'
    """
    found = _ARXIV_ID.search(text or "")
    return found.group(1) if found else None


def _date(year: str | None, month: str | None = None, day: str | None = None) -> str | None:
    """An ISO date from BibTeX/RIS parts ("2020", "jun"/"6", "12"), as precise as they allow."""
    if not year or not re.fullmatch(r"\d{4}", year.strip()):
        return None
    number = None
    if month:
        text = month.strip().lower().rstrip(".")
        number = MONTHS.get(text) or (int(text) if text.isdigit() else None)
    if not number or not 1 <= number <= 12:
        return iso_date(int(year))
    valid_day = day is not None and day.strip().isdigit() and 1 <= int(day) <= 31
    return iso_date(int(year), number, int(day) if valid_day and day else None)


# -- BibTeX ----------------------------------------------------------------------------------


def read_bibtex(text: str) -> Iterator[Record | Broken]:
    """The entries of a .bib file, LaTeX decoded to text (``{\\"o}`` is ö, ``--`` a dash, math
    kept as written), authors from "Last, First and ..." as "First Last". An entry that cannot
    be parsed is Broken at its line; the others are read on (bibtexparser 2.x recovers at the
    next "@")."""
    library = parse_string(
        text,
        append_middleware=[
            # Names are split before LaTeX is decoded, so that braces still protect a comma
            # or an "and" inside one name; each name is decoded as a whole below.
            middlewares.SeparateCoAuthors(),
            middlewares.SplitNameParts(),
            middlewares.LatexDecodingMiddleware(),
        ],
    )
    items: list[tuple[int, Record | Broken]] = []
    for failed in library.failed_blocks:
        error = getattr(failed, "error", None)
        said = str(error or "").strip().splitlines()
        why = said[-1] if said else "a brace or quote never closes before the next entry"
        reason = f"BibTeX entry cannot be read ({why}); the other entries were read"
        line = (failed.start_line or 0) + 1
        items.append((line, Broken(line, reason)))
    for entry in library.entries:
        items.append(((entry.start_line or 0) + 1, _bibtex_record(entry)))
    for _, item in sorted(items, key=lambda pair: pair[0]):
        yield item


def _bibtex_record(entry: Any) -> Record | Broken:
    line = (entry.start_line or 0) + 1
    fields = {k.lower(): f.value for k, f in entry.fields_dict.items()}

    def text(key: str) -> str:
        value = fields.get(key)
        return " ".join(str(value).split()) if value is not None else ""

    authors = [
        " ".join(_NAMES.latex_to_text(" ".join([*n.first, *n.von, *n.last, *n.jr])).split())
        for n in fields.get("author") or []
        if hasattr(n, "last")
    ]
    venue = text("journal") or text("booktitle") or None
    if text("archiveprefix").lower() == "arxiv" and not venue:
        venue = "arXiv"
    doi = doi_of(text("doi"))
    arxiv = arxiv_id_of(text("eprint")) if text("eprint") else None
    if arxiv is None and "arxiv" in (text("journal") + text("url")).lower():
        arxiv = arxiv_id_of(text("journal") + " " + text("url"))
    listed = text("keywords")
    keywords = [k.strip() for k in listed.split(";" if ";" in listed else ",") if k.strip()]
    date = text("date") if re.fullmatch(r"\d{4}(-\d{2}){0,2}", text("date")) else None
    date = date or _date(text("year"), text("month"), text("day"))
    return Record(
        line=line,
        title=text("title"),
        abstract=text("abstract"),
        meta={
            "authors": [a for a in authors if a],
            "author_count": len(authors) or None,
            "venue": venue,
            "date": date,
            "year": int(date[:4]) if date else None,
            "categories": keywords,
            "url": text("url") or None,
            "doi": doi,
            "arxiv_id": arxiv,
        },
    )


def citation_key(paper: Paper, taken: set[str] | None = None) -> str:
    """A stable key: first author's last name, year, first title word ("vaswani2017attention"),
    with "b", "c", ... added when ``taken`` already holds it.

    >>> citation_key(Paper.create("Attention Is All You Need", "x", authors=["Ashish Vaswani"],
    ...              year=2017))
    'vaswani2017attention'
    """

    def ascii_word(text: str) -> str:
        return re.sub(r"[^a-z0-9]", "", accent_free(text).lower())

    names = paper.authors[0].split() if paper.authors else []
    last = ascii_word(names[-1]) if names else ""
    year = str(paper.year or "") or (paper.date or "")[:4]
    year = year if year.isdigit() else ""
    words = [ascii_word(w) for w in paper.title.split()]
    first = next((w for w in words if w and w not in {"a", "an", "the", "on", "of"}), "")
    key = f"{last or 'anon'}{year}{first}"
    if taken is not None:
        base, n = key, 0
        while key in taken:
            n += 1
            key = f"{base}{chr(ord('a') + n)}"
        taken.add(key)
    return key


_ISO_DATE = re.compile(r"^(\d{4})(?:-(\d{2}))?(?:-(\d{2}))?$")
_ESCAPES = {
    "\\": r"\textbackslash{}",
    "{": r"\{",
    "}": r"\}",
    "%": r"\%",
    "&": r"\&",
    "#": r"\#",
    "_": r"\_",
    "$": r"\$",
    "~": r"\textasciitilde{}",
    '"': '{"}',
}
_ESCAPE = re.compile("|".join(re.escape(c) for c in _ESCAPES))


def latex_text(text: str) -> str:
    r"""``text`` written so that a BibTeX reader decoding LaTeX gives ``text`` back: specials
    escaped (math too: an abstract's "$x$" is text to us, and a "%" inside it would start a
    comment), ligatures such as "--" and "''" kept from turning into dashes and quotes.

    Written by hand: bibtexparser's encoder drops braces and turns straight quotes and double
    hyphens into typographic ones, so an exported abstract would not read back as itself.

    >>> print(latex_text('50% of {x} -- "quoted" $a_{b}$'))
    50\% of \{x\} -{}- {"}quoted{"} \$a\_\{b\}\$
    """
    escaped = _ESCAPE.sub(lambda m: _ESCAPES[m.group(0)], text)
    # LaTeX's ligatures ("--", "''", "``", "!`", "?`") become dashes, quotes and inverted marks
    # when read back; an empty group between the two characters keeps them as typed.
    return re.sub(
        r"([-'`])(?=\1)|([!?])(?=`)", lambda m: (m.group(1) or m.group(2)) + "{}", escaped
    )


def to_bibtex(papers: Iterable[Paper], *, abstracts: bool = True) -> str:
    """BibTeX entries for ``papers``, with the abstract (unless ``abstracts`` is False: an
    entry to cite by, as a chat answer gives it), DOI, arXiv id, venue and keywords; what a
    reader decodes from them is the papers' own text (see :func:`latex_text`)."""
    taken: set[str] = set()
    entries = []
    for paper in papers:
        fields: list[tuple[str, str]] = [("title", latex_text(paper.title))]
        if paper.authors:
            # A name holding " and " would split in two, one holding a comma would be read as
            # "Last, First": braces keep it one name, as written.
            names = [
                f"{{{latex_text(a)}}}" if " and " in a or "," in a else latex_text(a)
                for a in paper.authors
            ]
            fields.append(("author", " and ".join(names)))
        # A date is whatever a listing said; only an ISO one gives a month and a day.
        iso = _ISO_DATE.match(paper.date or "")
        year = str(paper.year) if paper.year else (iso.group(1) if iso else None)
        if year:
            fields.append(("year", year))
        if iso and iso.group(2):
            fields.append(("month", str(int(iso.group(2)))))
        if iso and iso.group(3):
            fields.append(("day", str(int(iso.group(3)))))
        if paper.venue:
            fields.append(("journal", latex_text(paper.venue)))
        if paper.doi:
            fields.append(("doi", latex_text(paper.doi)))
        if paper.arxiv_id:
            fields.extend([("eprint", paper.arxiv_id), ("archiveprefix", "arXiv")])
        if paper.url:
            fields.append(("url", latex_text(paper.url)))
        if paper.categories:
            fields.append(("keywords", latex_text("; ".join(paper.categories))))
        if abstracts:
            fields.append(("abstract", latex_text(paper.abstract)))
        kind = "article" if paper.venue else "misc"
        body = ",\n".join(f"  {name} = {{{value}}}" for name, value in fields)
        entries.append(f"@{kind}{{{citation_key(paper, taken)},\n{body}\n}}\n")
    return "\n".join(entries)


# -- bulk metadata (JSON lines) -----------------------------------------------------------


def arxiv_fields(row: dict[str, Any]) -> dict[str, Any]:
    """An arXiv metadata snapshot record in our fields: authors from ``authors_parsed``,
    categories split, the first version's date, the arXiv id kept."""
    authors = [
        " ".join(part for part in (name[1], name[0]) if part).strip()
        for name in row.get("authors_parsed") or []
        if isinstance(name, list) and len(name) >= 2
    ]
    date = None
    versions = row.get("versions") or []
    if versions and isinstance(versions[0], dict) and versions[0].get("created"):
        with contextlib.suppress(TypeError, ValueError):
            date = parsedate_to_datetime(str(versions[0]["created"])).date().isoformat()
    arxiv_id = str(row.get("id") or "").strip() or None
    return {
        "title": row.get("title"),
        "abstract": row.get("abstract"),
        "authors": authors or row.get("authors"),
        "date": date or row.get("update_date"),
        "categories": str(row.get("categories") or "").split(),
        "venue": row.get("journal-ref") or None,
        "doi": row.get("doi"),
        "arxiv_id": arxiv_id,
        "url": f"https://arxiv.org/abs/{arxiv_id}" if arxiv_id else None,
        "sources": ["arXiv"],
    }


def openalex_fields(row: dict[str, Any]) -> dict[str, Any]:
    """An OpenAlex work in our fields: the abstract rebuilt from its inverted index in word
    order, authors from ``authorships``, the venue from ``primary_location``."""
    positions = row.get("abstract_inverted_index") or {}
    placed: dict[int, str] = {}
    if isinstance(positions, dict):
        for word, where in positions.items():
            for at in where if isinstance(where, list) else []:
                if isinstance(at, int):
                    placed[at] = str(word)
    authors = [
        str(a["author"]["display_name"])
        for a in row.get("authorships") or []
        if isinstance(a, dict)
        and isinstance(a.get("author"), dict)
        and a["author"].get("display_name")
    ]
    location = row.get("primary_location") or {}
    source = location.get("source") if isinstance(location, dict) else None
    venue = source.get("display_name") if isinstance(source, dict) else None
    topics = row.get("topics") or row.get("concepts") or []
    ids = row.get("ids") if isinstance(row.get("ids"), dict) else {}
    return {
        "title": row.get("title") or row.get("display_name"),
        "abstract": " ".join(placed[i] for i in sorted(placed)),
        "authors": authors,
        "date": row.get("publication_date"),
        "year": row.get("publication_year"),
        "venue": venue,
        "categories": [
            str(t["display_name"]) for t in topics if isinstance(t, dict) and t.get("display_name")
        ][:5],
        "doi": row.get("doi"),
        "arxiv_id": arxiv_id_of(str(ids.get("arxiv", ""))) if ids else None,
        "url": row.get("id"),
    }


def first_last(name: str) -> str:
    """A "Last, First" name (RIS, Zotero's CSV, Web of Science) as "First Last"."""
    last, _, given = name.partition(",")
    return f"{given.strip()} {last.strip()}".strip()


def is_csl(row: dict[str, Any]) -> bool:
    """Whether ``row`` is a CSL JSON item: its authors as name parts, or an "issued" date."""
    authors = row.get("author")
    named = isinstance(authors, list) and any(isinstance(a, dict) for a in authors)
    return named or isinstance(row.get("issued"), dict) or "container-title" in row


def csl_fields(row: dict[str, Any]) -> dict[str, Any]:
    """A CSL JSON item (the "CSL JSON" export of Zotero, Mendeley and most reference managers)
    in our fields: authors from their given and family names, the date from "issued", the
    venue from "container-title", the keywords as categories."""
    authors = []
    people = row.get("author")
    for person in people if isinstance(people, list) else []:
        if isinstance(person, dict):
            parts = (person.get("given"), person.get("family"))
            name = person.get("literal") or " ".join(str(p).strip() for p in parts if p)
            if str(name).strip():
                authors.append(str(name).strip())
    date = None
    issued = row.get("issued")
    if isinstance(issued, dict):
        given = issued.get("date-parts")
        first = given[0] if isinstance(given, list) and given else None
        if isinstance(first, list) and first:
            date = _date(*(str(part) for part in first[:3]))
        elif issued.get("raw"):
            date = str(issued["raw"]).strip() or None
    keywords = row.get("keyword")
    return {
        "title": row.get("title"),
        "abstract": row.get("abstract"),
        "authors": authors,
        "date": date,
        "venue": row.get("container-title") or None,
        "categories": [k.strip() for k in str(keywords or "").split(",") if k.strip()],
        "doi": row.get("DOI") or row.get("doi"),
        "url": row.get("URL") or row.get("url"),
    }


# -- RIS -------------------------------------------------------------------------------------


def read_ris(lines: Iterable[tuple[int, str]]) -> Iterator[Record | Broken]:
    """The records of a .ris file (rispy reads each; we find where each starts and ends, so
    that a broken one is reported at its line and the others are kept)."""
    current: list[str] = []
    start = 0
    for number, raw in lines:
        line = raw.rstrip("\r\n")
        if not line.strip():
            continue
        tag = RIS_LINE.match(line)
        if tag is None:
            if current:  # a continuation of the last field (RIS wraps long abstracts)
                current[-1] += " " + line.strip()
                continue
            yield Broken(number, f"not a RIS line ({line.strip()[:40]!r}); expected 'TY  - ...'")
            continue
        if tag.group(1) == "TY":
            if current:
                yield Broken(start, "record has no 'ER  -' line before the next 'TY  -'")
            current, start = [line], number
            continue
        if not current:
            yield Broken(number, f"'{tag.group(1)}' line outside a record (records start 'TY  -')")
            continue
        current.append(line)
        if tag.group(1) == "ER":
            yield _ris_record(start, current)
            current = []
    if current:
        yield Broken(start, "record has no 'ER  -' line (the file may be cut short)")


def _ris_record(line: int, lines: list[str]) -> Record | Broken:
    try:
        (entry,) = rispy.loads("\n".join(lines) + "\n")
    except (ValueError, KeyError, IndexError) as exc:
        return Broken(line, f"RIS record cannot be read ({exc})")

    def first(*keys: str) -> str:
        for key in keys:
            value = entry.get(key)
            if isinstance(value, list):
                value = value[0] if value else None
            if value:
                return " ".join(str(value).split())
        return ""

    authors = [
        first_last(str(n)) for n in [*entry.get("authors", []), *entry.get("first_authors", [])]
    ]
    date_text = first("date", "publication_year", "year")
    parts = [p for p in re.split(r"[/-]", date_text) if p]
    date = _date(*[*parts, None, None, None][:3])
    urls = entry.get("urls") or []
    return Record(
        line=line,
        title=first("title", "primary_title", "translated_title"),
        abstract=first("abstract", "notes_abstract"),
        meta={
            "authors": authors,
            "author_count": len(authors) or None,
            "venue": first("journal_name", "secondary_title", "alternate_title3") or None,
            "date": date,
            "year": int(date[:4]) if date else None,
            "categories": [str(k).strip() for k in entry.get("keywords", []) if str(k).strip()],
            "url": urls[0] if urls else None,
            "doi": doi_of(first("doi")),
            "arxiv_id": arxiv_id_of(" ".join(urls)) if any("arxiv" in u for u in urls) else None,
        },
    )


def fenced(text: str, info: str = "") -> str:
    """``text`` as a Markdown code block, fenced by more backticks than any run in it, so
    that nothing in it can close the block early.

    >>> print(fenced("@misc{a, title = {x ``` y}}", "bibtex"))
    ````bibtex
    @misc{a, title = {x ``` y}}
    ````
    """
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence}{info}\n{text.rstrip()}\n{fence}"
