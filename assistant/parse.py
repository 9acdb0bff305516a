"""Files -> Paper records: each file's layout told by its content, then read; no other I/O.

Layouts are detected from each file's content, never from its name: ``jsonl`` (one JSON object
per line with ``title`` and ``abstract``: ours, the arXiv snapshot's, OpenAlex's), ``json`` (one
document: an array of such records, CSL JSON's among them, or an API page holding one),
``csv`` (a header row naming ``title`` and ``abstract``, under their own names or an
exporter's), ``bibtex`` and ``ris`` (reference managers' exports, see bibliography.py), and
four scraped listing layouts (see listings.py).

Anything that is not part of a record (navigation, banners, stray fragments) produces no paper;
a record that starts but cannot be completed is reported as :class:`Skipped` with its line.
"""

from __future__ import annotations

import bisect
import csv
import io
import json
import re
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

from assistant.bibliography import (
    BIBTEX_ENTRY,
    RIS_LINE,
    Broken,
    Record,
    arxiv_fields,
    arxiv_id_of,
    csl_fields,
    doi_of,
    first_last,
    is_csl,
    openalex_fields,
    read_bibtex,
    read_ris,
)
from assistant.errors import ParseError
from assistant.listings import (
    Builder,
    Format,
    Line,
    ParsedFile,
    listing_layout,
    read_alternating,
    read_authored,
    read_daily,
    read_scored,
)
from assistant.records import Paper, Skipped

SUFFIXES = (".txt", ".jsonl", ".ndjson", ".json", ".csv", ".tsv", ".bib", ".ris")

# --- decoding and detection -------------------------------------------------------------


def _decode(data: bytes, path: str) -> tuple[list[Line], list[Skipped]]:
    if b"\x00" in data[:8192]:
        raise ParseError(
            "this is a binary file, not text",
            path=path,
            hint="give a .txt listing, a .jsonl or a .csv file of papers",
        )
    lines, skipped = _split(data, path)
    _check_encoding(len(skipped), len(lines) + len(skipped), path)
    return lines, skipped


def _split(data: bytes, path: str) -> tuple[list[Line], list[Skipped]]:
    """The lines that decode, and a Skipped for each line that does not."""
    data = data.removeprefix(b"\xef\xbb\xbf")
    lines: list[Line] = []
    skipped: list[Skipped] = []
    raw_lines = data.split(b"\n")
    for number, raw in enumerate(raw_lines, 1):
        try:
            lines.append((number, raw.decode("utf-8").rstrip()))
        except UnicodeDecodeError as exc:
            skipped.append(Skipped(path=path, line=number, reason=_not_utf8(raw, exc)))
    return lines, skipped


def _not_utf8(raw: bytes, exc: UnicodeDecodeError) -> str:
    return (
        f"not UTF-8 (byte 0x{raw[exc.start]:02x} at column {exc.start + 1});"
        " re-save the file as UTF-8"
    )


def _check_encoding(failed: int, lines: int, path: str) -> None:
    """Most lines failing to decode is another encoding, not a few damaged lines."""
    if lines and failed > max(3, lines // 2):
        raise ParseError(
            f"not UTF-8 text ({failed} of {lines} lines fail to decode)",
            path=path,
            hint=f"convert it first, e.g. `iconv -f latin1 -t utf-8 {path} > fixed.txt`",
        )


def detect_format(lines: list[Line]) -> Format | None:
    """Name the layout of a decoded file, or None when no known layout fits."""
    texts = [t.strip() for _, t in lines if t.strip()]
    if not texts:
        return None
    if _ARRAY_START.match(texts[0]):
        return "json"
    if texts[0].startswith("{"):
        # One object a line; or one document over many lines (an API's page of results).
        whole_line = len(texts) == 1 or texts[1].startswith("{") or _is_object(texts[0])
        return "jsonl" if whole_line else "json"
    if RIS_LINE.match(texts[0]) and texts[0].startswith("TY"):
        return "ris"
    if BIBTEX_ENTRY.match(next((t for t in texts if not t.startswith("%")), "")):
        return "bibtex"  # JabRef starts with "% Encoding: UTF-8"
    if _csv_delimiter(texts[0]) is not None:
        return "csv"
    return listing_layout(texts)


#: Other names of a record's fields, as exporters write them: Zotero's CSV ("Abstract Note",
#: "Author" as "Last, First; ...", "Publication Year", "Publication Title", "Manual Tags"),
#: Scopus's ("Source title", "Link", "Author Keywords"), Web of Science's tab-delimited
#: field tags (TI, AB, AU, PY, SO, DI), the arXiv API's JSON ("summary", "published"). A
#: field's own name wins where a record has both.
_ALIASES = {
    "abstract note": "abstract",
    "abstractnote": "abstract",
    "summary": "abstract",
    "ab": "abstract",
    "ti": "title",
    "author": "authors",
    "au": "authors",
    "publication year": "year",
    "py": "year",
    "publication title": "venue",
    "source title": "venue",
    "so": "venue",
    "published": "date",
    "link": "url",
    "di": "doi",
    "manual tags": "categories",
    "author keywords": "categories",
    "keywords": "categories",
}


#: A date with its time ("2024-02-03T18:00:01Z"): the date is kept.
_TIMESTAMP = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d")


def _field(name: str) -> str:
    key = name.strip().lower()
    return _ALIASES.get(key, key)


def _csv_delimiter(header: str) -> str | None:
    """The delimiter (tab, semicolon as spreadsheets in many locales save, or comma) that splits
    a CSV header into cells naming a title and an abstract, or None when none does. A header
    whose cells only say them ("Paper Title,Abstract Text") is a CSV too, with the first
    delimiter it holds: its rows are then skipped, each saying what field it lacks."""
    present = [d for d in ("\t", ";", ",") if d in header]
    for delimiter in present:
        cells = {_field(cell) for cell in next(csv.reader([header], delimiter=delimiter))}
        if {"title", "abstract"} <= cells:
            return delimiter
    lower = header.lower()
    return present[0] if present and "title" in lower and "abstract" in lower else None


# --- the layouts --------------------------------------------------------------------------


def _coerce_list(value: Any, sep: str) -> list[str]:
    if value is None or value == "":
        return []
    if isinstance(value, list):
        return [str(v).strip() for v in value if str(v).strip()]
    return [v.strip() for v in str(value).split(sep) if v.strip()]


def _from_mapping(row: dict[str, Any], number: int, b: Builder, what: str) -> None:
    named = {str(k).strip().lower(): v for k, v in row.items() if k is not None}
    row = {}
    for key, value in named.items():
        field = _field(key)
        if field == key or field not in named:  # a field's own name wins over an exporter's
            row[field] = value
    title, abstract = row.get("title"), row.get("abstract")
    if not isinstance(title, str) or not title.strip():
        b.skip(number, f"{what} has no 'title'; expected title and abstract fields")
        return
    if not isinstance(abstract, str) or not abstract.strip():
        b.skip(number, f"{what} {title.strip()!r} has no 'abstract'")
        return
    authors = row.get("authors")
    # Zotero's "Author" and Web of Science's "AU" hold "Last, First" names apart by ";", one
    # name alone too ("Hu, Edward J.": one author, not two).
    listed_by_semicolons = "authors" not in named and ("author" in named or "au" in named)
    sep = ";" if isinstance(authors, str) and (";" in authors or listed_by_semicolons) else ","
    author_list = _coerce_list(authors, sep)
    if sep == ";" and all(name.count(",") == 1 for name in author_list):
        # "Lee, Ann; Chen, Bo" (Zotero): each "Last, First", read as BibTeX's are.
        author_list = [first_last(name) for name in author_list]
    date = str(row["date"]).strip() if row.get("date") else None
    if date and _TIMESTAMP.match(date):
        date = date[:10]  # "2024-02-03T18:00:01Z", as the arXiv API gives it
    year: int | None = None
    raw_year = row.get("year") or (date[:4] if date else None)
    try:
        year = int(str(raw_year)) if raw_year else None
    except ValueError:
        b.skip(number, f"{what} {title.strip()!r}: year {raw_year!r} is not a number")
        return
    venue = str(row["venue"]).strip() if row.get("venue") else None
    listed = _coerce_list(row.get("sources"), ";")
    b.add(
        number,
        title,
        abstract,
        authors=author_list,
        author_count=len(author_list) or None,
        venue=venue,
        date=date or (str(year) if year else None),
        year=year,
        url=str(row["url"]).strip() if row.get("url") else None,
        categories=_coerce_list(row.get("categories"), ";"),
        # A file's name is not where a paper appeared: it stays in source_files only.
        sources=listed or ([venue] if venue else []),
        doi=doi_of(str(row["doi"])) if row.get("doi") else None,
        arxiv_id=arxiv_id_of(str(row["arxiv_id"])) if row.get("arxiv_id") else None,
    )


def _parse_bibtex(lines: list[Line], b: Builder) -> None:
    # bibtexparser reads the whole text; its line numbers are positions in it.
    _add_records(read_bibtex("\n".join(t for _, t in lines)), b, [n for n, _ in lines])


def _add_records(records: Iterable[Record | Broken], b: Builder, numbers: list[int] | None) -> None:
    """Papers from a reference file's records; ``numbers`` maps a record's line in the text
    read to the file's line."""
    for item in records:
        line = numbers[item.line - 1] if numbers and 0 < item.line <= len(numbers) else item.line
        if isinstance(item, Broken):
            b.skip(line, item.reason)
        elif not item.title:
            b.skip(line, "entry has no title")
        elif not item.abstract:
            b.skip(line, f"entry {item.title!r} has no abstract (export it with abstracts)")
        else:
            venue = item.meta.get("venue")
            b.add(line, item.title, item.abstract, sources=[venue] if venue else [], **item.meta)


#: An array of records opening a JSON document: "[" alone on its line, or "[{" / "[ {": not a
#: listing's first line that opens with a bracket ("[PDF] A Title", "[1] A Title").
_ARRAY_START = re.compile(r"\[\s*(?:\{|$)")


def _is_object(text: str) -> bool:
    try:
        return isinstance(json.loads(text), dict)
    except json.JSONDecodeError:
        return False


def _from_json(row: Any, number: int, b: Builder) -> None:
    """One JSON record, in whichever of the known layouts it comes."""
    if not isinstance(row, dict):
        b.skip(number, f"expected a JSON object with title and abstract, got {type(row).__name__}")
        return
    if "abstract_inverted_index" in row or "authorships" in row:
        row = openalex_fields(row)
    elif "authors_parsed" in row or ("versions" in row and "id" in row):
        row = arxiv_fields(row)
    elif is_csl(row):
        row = csl_fields(row)
    _from_mapping(row, number, b, "record")


def _parse_jsonl(lines: list[Line], b: Builder) -> None:
    for number, text in lines:
        if not text.strip():
            continue
        try:
            row = json.loads(text)
        except json.JSONDecodeError as exc:
            b.skip(number, f"not valid JSON ({exc.msg} at column {exc.colno}); expected one object")
            continue
        _from_json(row, number, b)


#: Where a JSON document keeps its records: OpenAlex's and most APIs' pages ("results",
#: "data", "items"), or a saved list of "papers" or "records".
_LISTED_UNDER = ("results", "data", "items", "papers", "records")


def _parse_json(lines: list[Line], b: Builder) -> None:
    """One JSON document: an array of records (CSL JSON, a saved list), or an object holding
    one (``_LISTED_UNDER``), or one record. An array's records are placed at their lines."""
    text = "\n".join(t for _, t in lines)
    numbers = [n for n, _ in lines]
    # Where each line ends, found once: counting newlines up to each record was quadratic.
    ends = [match.start() for match in re.finditer("\n", text)]

    def line_at(offset: int) -> int:
        return numbers[min(bisect.bisect_right(ends, offset - 1), len(numbers) - 1)]

    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        b.skip(line_at(exc.pos), f"not valid JSON ({exc.msg}); the records after it are not read")
        return
    if isinstance(document, list):
        # Each record's own line, from where the decoder finds it (json.loads keeps none).
        decoder, at = json.JSONDecoder(), text.index("[") + 1
        for row in document:
            while text[at] in " \t\n\r,":
                at += 1
            _from_json(row, line_at(at), b)
            at = decoder.raw_decode(text, at)[1]
        return
    listed = next((document[k] for k in _LISTED_UNDER if isinstance(document.get(k), list)), None)
    for row in listed if listed is not None else [document]:
        _from_json(row, numbers[0], b)


def _parse_csv(lines: list[Line], b: Builder) -> None:
    text = "\n".join(t for _, t in lines)
    delimiter = _csv_delimiter(next((t for _, t in lines if t.strip()), "")) or ","
    try:
        reader = csv.DictReader(io.StringIO(text), delimiter=delimiter)
        rows: Iterator[dict[str, Any]] = iter(reader)
        while True:
            try:
                row = next(rows)
            except StopIteration:
                break
            if None in row:
                b.skip(reader.line_num, "more cells than header columns; check quoting")
                continue
            _from_mapping(row, reader.line_num, b, "row")
    except csv.Error as exc:
        b.skip(reader.line_num, f"CSV cannot be read past here ({exc}); check quoting")


# --- entry points ---------------------------------------------------------------------------


#: Layouts of one record per entry (not scraped listings): a file of them with no record is empty.
_RECORDS = ("jsonl", "json", "csv", "bibtex", "ris")
#: One reader per layout, each given the decoded lines, the builder and the listing year.
_PARSERS: dict[Format, Callable[[list[Line], Builder, int | None], None]] = {
    "jsonl": lambda lines, b, _: _parse_jsonl(lines, b),
    "json": lambda lines, b, _: _parse_json(lines, b),
    "csv": lambda lines, b, _: _parse_csv(lines, b),
    "bibtex": lambda lines, b, _: _parse_bibtex(lines, b),
    "ris": lambda lines, b, _: _add_records(read_ris(lines), b, None),
    "daily": read_daily,
    "scored": lambda lines, b, _: read_scored(lines, b),
    "authored": lambda lines, b, _: read_authored(lines, b),
    "alternating": lambda lines, b, _: read_alternating(lines, b),
}


#: What a file can hold, said when one holds nothing usable.
EXPECTED_FORMATS = (
    "expected BibTeX, RIS, CSL JSON, arXiv or OpenAlex metadata, JSONL, a JSON array or CSV "
    "with title and abstract, or a listing where each title line is followed by its abstract"
)


def parse_bytes(data: bytes, path: str, *, listing_year: int | None = None) -> ParsedFile:
    """Parse one file's content; raises ParseError only when nothing in it is usable."""
    lines, bad_lines = _decode(data, path)
    fmt = detect_format(lines)
    if fmt is None:
        raise ParseError(
            "no paper records found",
            path=path,
            hint=EXPECTED_FORMATS,
        )
    builder = Builder(path, fmt)
    builder.result.skipped.extend(bad_lines)
    _PARSERS[fmt](lines, builder, listing_year)
    if not builder.result.papers and fmt in _RECORDS and not builder.result.skipped:
        raise ParseError("the file has a header but no records", path=path, hint="add rows")
    return builder.result


def parse_file(path: Path, *, listing_year: int | None = None) -> ParsedFile:
    """Read and parse one file, all of it at once (see :func:`read_file` for a stream)."""
    fmt, items = read_file(path, listing_year=listing_year)
    parsed = ParsedFile(path=str(path), format=fmt)
    for item in items:
        if isinstance(item, Skipped):
            parsed.skipped.append(item)
        else:
            parsed.papers.append(item)
    return parsed


_HEAD = 1 << 16  # bytes read to tell a file's layout
_BLOCK = 2000  # lines of a streamed file parsed at a time


def read_file(
    path: Path, *, listing_year: int | None = None
) -> tuple[Format, Iterator[Paper | Skipped]]:
    """One file's layout, and its papers and skipped records as they are read.

    JSONL files (ours, the arXiv metadata snapshot, OpenAlex works: several GB for a whole
    snapshot) are read a block of lines at a time, so memory is bounded by the block, not the
    file. The other layouts are reference-manager exports and listing pages, read whole. Every
    ParseError (unreadable, binary, another encoding, no layout) is raised here, before the
    first record: a file either yields its records or none.
    """
    try:
        with path.open("rb") as handle:
            head = handle.read(_HEAD)
    except OSError as exc:
        raise ParseError(
            f"cannot read file ({exc.strerror})", path=str(path), hint="check the path"
        ) from exc
    # The head's whole lines tell the layout as the whole file's would (the first record's line).
    whole = head if len(head) < _HEAD else head[: head.rfind(b"\n") + 1] or head
    if detect_format(_split(whole, str(path))[0]) != "jsonl":
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise ParseError(
                f"cannot read file ({exc.strerror})", path=str(path), hint="check the path"
            ) from exc
        parsed = parse_bytes(data, str(path), listing_year=listing_year)
        return parsed.format, iter([*parsed.papers, *parsed.skipped])
    _decode(whole, str(path))  # the head answers for the file: binary, or another encoding
    return "jsonl", _stream_jsonl(path)


def _stream_jsonl(path: Path) -> Iterator[Paper | Skipped]:
    builder = Builder(str(path), "jsonl")
    block: list[Line] = []
    with path.open("rb") as handle:
        for number, raw in enumerate(handle, 1):
            raw = raw.removeprefix(b"\xef\xbb\xbf") if number == 1 else raw
            try:
                block.append((number, raw.decode("utf-8").rstrip()))
            except UnicodeDecodeError as exc:
                builder.skip(number, _not_utf8(raw, exc))
            if len(block) >= _BLOCK:
                _parse_jsonl(block, builder)
                block = []
                yield from builder.drain()
    _parse_jsonl(block, builder)
    yield from builder.drain()


def expand_paths(paths: Iterable[Path]) -> list[Path]:
    """Files named directly, plus every file with a known suffix (``SUFFIXES``) under named
    folders, sorted."""
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            found = sorted(
                p
                for p in path.rglob("*")
                if p.is_file() and p.suffix.lower() in SUFFIXES and not p.name.startswith(".")
            )
            if not found:
                raise ParseError(
                    f"no {', '.join(SUFFIXES)} files in this folder",
                    path=str(path),
                    hint="point at the folder holding your listing files",
                )
            files.extend(found)
        elif path.exists():
            files.append(path)
        else:
            raise ParseError("no such file or folder", path=str(path), hint="check the path")
    return files


def merge_papers(papers: Iterable[Paper]) -> list[Paper]:
    """One record per paper, metadata unioned, in first-seen order: the same normalised title,
    or the same DOI or arXiv id (a preprint and its published version, titled a little
    differently, stay one paper under the first title seen)."""
    merged: dict[str, Paper] = {}
    known: dict[str, str] = {}  # "doi:..." / "arxiv:..." -> the paper id it belongs to
    for paper in papers:
        key = next((known[i] for i in identity_keys(paper) if i in known), paper.paper_id)
        seen = merged.get(key)
        merged[key] = seen.merge(paper) if seen else paper
        for identifier in identity_keys(merged[key]):
            known.setdefault(identifier, key)
    return list(merged.values())


def identity_keys(paper: Paper) -> list[str]:
    """What names the paper whatever its title says: "doi:..." and "arxiv:..."."""
    named = (("doi", paper.doi), ("arxiv", paper.arxiv_id))
    return [f"{kind}:{value}" for kind, value in named if value]
