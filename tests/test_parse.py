"""Parsing the real sample listings, user JSONL/CSV, and properties of the parsers."""

from __future__ import annotations

import contextlib
import csv
import io
import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from assistant.errors import ParseError
from assistant.parse import detect_format, merge_papers, parse_bytes, parse_file, read_file
from assistant.records import Paper, Skipped, normalize_title

from .conftest import DATA

FILES = sorted(DATA.glob("*.txt"))


def _by_title(papers: list[Paper]) -> dict[str, Paper]:
    return {normalize_title(p.title): p for p in papers}


@pytest.fixture(scope="module")
def parsed() -> dict[str, list[Paper]]:
    return {f.name[:3]: parse_file(f).papers for f in FILES}


@pytest.fixture(scope="module")
def merged(parsed: dict[str, list[Paper]]) -> dict[str, Paper]:
    return _by_title(merge_papers(p for papers in parsed.values() for p in papers))


def test_parse_sample_files_detects_each_layout() -> None:
    assert [parse_file(f).format for f in FILES] == [
        "scored", "scored", "authored", "daily", "alternating",
    ]  # fmt: skip


def test_parse_sample_files_exact_counts(parsed: dict[str, list[Paper]]) -> None:
    assert {k: len(v) for k, v in parsed.items()} == {
        "000": 10, "001": 10, "002": 9, "003": 48, "004": 253,
    }  # fmt: skip
    assert sum(len(v) for v in parsed.values()) == 330


def test_parse_sample_merges_duplicates_into_318(merged: dict[str, Paper]) -> None:
    assert len(merged) == 318
    across_files = [p for p in merged.values() if len(p.source_files) > 1]
    assert len(across_files) == 12
    assert sum(1 for p in across_files if len(p.sources) == 2) == 4  # daily list + large list


def test_parse_scored_listing_keeps_authors_categories_and_regions(
    merged: dict[str, Paper],
) -> None:
    softstep = merged[
        normalize_title(
            "SoftStep: Learning Sparse Similarity Powers Deep Neighbor-Based Regression"
        )
    ]
    assert softstep.authors == [
        "Aviad Susman",
        "Baihan Lin",
        "Mayte Suárez-Fariñas",
        "Joseph T Colonel",
    ]
    assert softstep.venue == "ICLR 2026" and softstep.year == 2026
    assert any(c.startswith("Education >") for c in softstep.categories)
    assert any(c.startswith("Health & Medicine") for c in softstep.categories)
    assert not any(c.startswith(("North America", "Europe", "Asia")) for c in softstep.categories)
    amortising = merged[
        normalize_title("Amortising Inference and Meta-Learning Priors in Neural Networks")
    ]
    assert amortising.authors == ["Tommy Rochussen", "Vincent Fortuin"]
    assert "Europe > Switzerland" in amortising.regions
    assert all("more..." not in r for r in amortising.regions + amortising.categories)


def test_parse_scored_listing_paper_without_authors_line(merged: dict[str, Paper]) -> None:
    muon = merged[normalize_title("Convergence of Muon with Newton-Schulz")]
    assert muon.authors == [] and muon.abstract.startswith("We analyze Muon")
    assert muon.source_files == ["000_8bbb01e0a2cc4f5e.txt", "001_4be4fd51fd23367d.txt"]


def test_parse_authored_listing_source_and_authors(merged: dict[str, Paper]) -> None:
    tilt = merged[normalize_title("Discrete Tilt Matching")]
    assert tilt.venue == "arXiv.org Machine Learning"
    assert "Michael S. Albergo" in tilt.authors and tilt.author_count == 5
    theory = merged[normalize_title("There Will Be a Scientific Theory of Deep Learning")]
    assert theory.authors[0] == "Jamie Simon" and len(theory.authors) == 14


def test_parse_authored_listing_reports_the_pdf_block() -> None:
    result = parse_file(DATA / "002_f8b4524b5541519b.txt")
    assert [(s.line, "file name" in s.reason) for s in result.skipped] == [(8, True)]
    assert not any(
        p.title.endswith(".pdf") or p.abstract.startswith("However") for p in result.papers
    )


def test_parse_daily_listing_dates_upvotes_and_organisations(merged: dict[str, Paper]) -> None:
    digirl = merged[
        normalize_title(
            "DigiRL: Training In-The-Wild Device-Control Agents with Autonomous Reinforcement Learning"
        )
    ]
    assert (digirl.date, digirl.upvotes, digirl.author_count) == ("2024-06-14", 1, 7)
    goal = merged[
        normalize_title(
            "Learning Goal-Oriented Language-Guided Navigation with Self-Improving Demonstrations at Scale"
        )
    ]
    assert goal.organization == "OpenGVLab" and goal.author_count is None
    prior = merged[normalize_title("The Consciousness Prior")]
    assert (prior.date, prior.author_count) == ("2017-09-25", 1)
    dppn = merged[
        normalize_title(
            "The Coordinate System Problem in Persistent Structural Memory for Neural Architectures"
        )
    ]
    assert dppn.date == "2026-03-23"  # no year shown: the listing's own year
    assert "Harvard University" in {p.organization for p in merged.values()}


def test_parse_alternating_listing_strips_glued_chrome(merged: dict[str, Paper]) -> None:
    assert (
        normalize_title(
            "AlignIT: Enhancing Prompt Alignment in Customization of Text-to-Image Models"
        )
        in merged
    )
    assert not any("subscribe" in key or "gettrending" in key for key in merged)


def test_parse_sample_produces_no_record_from_junk(merged: dict[str, Paper]) -> None:
    junk = {"new", "subscribe", "dailypapers", "goto", "collaboratingauthors", "etal", "iclr2026"}
    assert not junk & set(merged)
    assert all(len(p.abstract.split()) >= 25 for p in merged.values())
    assert all(1 <= len(p.title.split()) <= 40 for p in merged.values())


def test_parse_jsonl_keeps_good_lines_and_names_bad_ones() -> None:
    lines = [
        json.dumps(
            {
                "title": "A Paper",
                "abstract": "Text " * 30,
                "authors": ["Ada Lovelace"],
                "year": 2024,
            }
        ),
        "{not json",
        json.dumps({"title": "No Abstract"}),
        json.dumps(["a", "list"]),
        json.dumps({"title": "B Paper", "abstract": "More " * 30, "categories": "ml; vision"}),
    ]
    result = parse_bytes("\n".join(lines).encode(), "mine.jsonl")
    assert [p.title for p in result.papers] == ["A Paper", "B Paper"]
    assert result.papers[1].categories == ["ml", "vision"]
    # A file name is where the record was read, not where the paper appeared.
    assert (result.papers[0].sources, result.papers[0].listed_in) == ([], "")
    assert result.papers[0].source_files == ["mine.jsonl"]
    assert [s.line for s in result.skipped] == [2, 3, 4]
    assert "not valid JSON" in result.skipped[0].reason
    assert "no 'abstract'" in result.skipped[1].reason


def test_read_file_streams_jsonl_and_names_bad_lines_in_every_block(tmp_path: Path) -> None:
    """A snapshot is read a block of lines at a time: bad lines far into the file are named
    by their own line numbers, and the stream holds what reading it whole holds."""
    rows = [
        json.dumps({"title": f"Paper {i}", "abstract": f"Abstract number {i} " * 5}).encode()
        for i in range(5000)
    ]
    rows[3000] = b"{not json"
    rows[4499] = b'{"title": "caf\xe9", "abstract": "x"}'
    path = tmp_path / "snapshot.jsonl"
    path.write_bytes(b"\n".join(rows) + b"\n")
    fmt, items = read_file(path)
    streamed = list(items)
    skipped = sorted((s.line, s.reason) for s in streamed if isinstance(s, Skipped))
    assert fmt == "jsonl" and [line for line, _ in skipped] == [3001, 4500]
    assert "not valid JSON" in skipped[0][1] and "not UTF-8" in skipped[1][1]
    whole = parse_bytes(path.read_bytes(), str(path))
    assert [p for p in streamed if isinstance(p, Paper)] == whole.papers
    assert len(whole.papers) == 4998


def test_read_file_refuses_a_file_before_its_first_record(tmp_path: Path) -> None:
    """Binary or another encoding is said at once, so a file yields all its records or none."""
    latin = tmp_path / "old.jsonl"
    latin.write_bytes(
        "\n".join(
            json.dumps({"title": f"Titr\xe9 {i}"}, ensure_ascii=False) for i in range(9)
        ).encode("latin-1")
    )
    with pytest.raises(ParseError, match="not UTF-8"):
        read_file(latin)
    binary = tmp_path / "dump.jsonl"
    binary.write_bytes(b'{"title": "x"}\x00\x00\x00')
    with pytest.raises(ParseError, match="binary"):
        read_file(binary)


_record_line = st.builds(
    lambda title, abstract: json.dumps({"title": title, "abstract": abstract}).encode(),
    st.text(max_size=40),
    st.text(max_size=200),
)


@settings(max_examples=150, deadline=None)
@given(st.lists(st.one_of(st.binary(max_size=80), st.just(b"{"), _record_line), max_size=12))
def test_read_file_agrees_with_reading_the_file_whole(chunks: list[bytes]) -> None:
    import tempfile

    data = b"\n".join(chunks)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "fuzz.txt"
        path.write_bytes(data)
        try:
            whole = parse_bytes(data, str(path))
        except ParseError as exc:
            with pytest.raises(ParseError) as info:
                parse_file(path)
            assert info.value.message == exc.message
            return
        streamed = parse_file(path)
    assert streamed.format == whole.format and streamed.papers == whole.papers
    assert sorted(s.line or 0 for s in streamed.skipped) == sorted(
        s.line or 0 for s in whole.skipped
    )


def test_parse_csv_with_optional_columns() -> None:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["Title", "Abstract", "Authors", "Year", "Venue", "URL"])
    writer.writerow(
        [
            "CSV Paper, with comma",
            "Body " * 30,
            "Ada Lovelace; Alan Turing",
            "2023",
            "NeurIPS",
            "http://x",
        ]
    )
    writer.writerow(["", "orphan abstract " * 10, "", "", "", ""])
    writer.writerow(["Bad Year", "Body " * 30, "", "soon", "", ""])
    result = parse_bytes(buffer.getvalue().encode(), "mine.csv")
    assert result.format == "csv"
    (paper,) = result.papers
    assert paper.title == "CSV Paper, with comma"
    assert paper.authors == ["Ada Lovelace", "Alan Turing"] and paper.year == 2023
    assert paper.venue == "NeurIPS" and paper.url == "http://x"
    assert [s.line for s in result.skipped] == [3, 4]


def test_parse_exports_name_their_fields_their_own_way() -> None:
    """A spreadsheet saved with semicolons, Zotero's and Scopus's CSV, Web of Science's field
    tags and the arXiv API's JSON: each had held "no paper records" or "no 'abstract'"."""
    body = "We freeze the weights and inject trainable low-rank matrices into each layer. " * 2
    zotero = io.StringIO()
    writer = csv.writer(zotero)
    header = "Key,Publication Year,Author,Title,Publication Title,DOI,Url,Abstract Note,Date"
    writer.writerow([*header.split(","), "Manual Tags"])
    doi = "10.48550/arXiv.2106.09685"
    row = ["K1", "2021", "Hu, Edward J.; Shen, Yelong", "LoRA", "ICLR", doi, "http://a", body]
    writer.writerow([*row, "2021-06-17", "adapters; fine-tuning"])
    scopus = (
        "Authors,Title,Year,Source title,Link,Abstract,Author Keywords\n"
        f'Hu E.J.,LoRA,2021,ICLR,http://a,"{body}",adapters\n'
    )
    tags = "PT\tAU\tTI\tSO\tAB\tPY\tDI\n"
    files = {
        "semicolons.csv": f'title;abstract;authors;year\n"LoRA";"{body}";"Edward J. Hu";2021\n',
        "zotero.csv": zotero.getvalue(),
        "scopus.csv": scopus,
        "savedrecs.txt": f"{tags}J\tHu, EJ; Shen, Y\tLoRA\tICLR\t{body}\t2021\t{doi}\n",
        "arxiv_api.jsonl": json.dumps(
            {"title": "LoRA", "summary": body, "published": "2021-06-17T17:37:18Z"}
        ),
    }
    for name, text in files.items():
        result = parse_bytes(text.encode(), name)
        (paper,) = result.papers
        assert (paper.title, paper.abstract, paper.year) == ("LoRA", body.strip(), 2021), name
    zotero_paper = parse_bytes(files["zotero.csv"].encode(), "zotero.csv").papers[0]
    # "Last, First; ..." read as BibTeX's are; the venue, DOI, link, date and tags kept.
    assert zotero_paper.authors == ["Edward J. Hu", "Yelong Shen"]
    assert (zotero_paper.venue, zotero_paper.url) == ("ICLR", "http://a")
    assert zotero_paper.doi == doi.lower()
    assert zotero_paper.date == "2021-06-17"
    assert zotero_paper.categories == ["adapters", "fine-tuning"]
    assert parse_bytes(files["arxiv_api.jsonl"].encode(), "a.jsonl").papers[0].date == "2021-06-17"
    alone = files["zotero.csv"].replace("Hu, Edward J.; Shen, Yelong", "Hu, Edward J.")
    assert parse_bytes(alone.encode(), "zotero.csv").papers[0].authors == ["Edward J. Hu"]
    # A header that only says them is still read as a CSV, each row saying what it lacks.
    near = parse_bytes(f'Paper Title;Abstract Text\n"LoRA";"{body}"\n'.encode(), "near.csv")
    assert near.format == "csv" and "has no 'title'" in near.skipped[0].reason
    # A record's own field wins over another name of it.
    both = json.dumps({"title": "LoRA", "abstract": body, "summary": "Short."})
    assert parse_bytes(both.encode(), "b.jsonl").papers[0].abstract == body.strip()


def test_a_listing_opening_with_a_bracketed_line_is_no_json_array() -> None:
    # "[Skip to main content]" opens many scraped pages: read as a JSON array, none was kept.
    for name in ("000_8bbb01e0a2cc4f5e.txt", "004_85217d1ccac5de9a.txt"):
        data = (DATA / name).read_bytes()
        plain = parse_bytes(data, name)
        bracketed = parse_bytes(b"[Skip to main content]\n" + data, name)
        assert bracketed.format == plain.format != "json", name
        assert len(bracketed.papers) == len(plain.papers) > 0, name


def test_parse_binary_file_raises_parse_error_with_hint() -> None:
    with pytest.raises(ParseError) as info:
        parse_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00", "picture.png")
    assert "binary" in str(info.value) and info.value.hint


def test_parse_latin1_file_is_refused_with_iconv_hint() -> None:
    data = "\n".join(f"Titr\xe9 {i}\n" + "r\xe9sum\xe9 " * 40 for i in range(10)).encode("latin-1")
    with pytest.raises(ParseError) as info:
        parse_bytes(data, "old.txt")
    assert "not UTF-8" in str(info.value) and "iconv" in info.value.hint


def test_parse_one_bad_line_in_listing_keeps_the_rest() -> None:
    good = (DATA / "004_85217d1ccac5de9a.txt").read_bytes().split(b"\n")
    broken = [*good[:10], b"caf\xe9 broken line", *good[10:]]
    result = parse_bytes(b"\n".join(broken), "broken.txt")
    assert len(result.papers) >= 252
    assert any(s.line == 11 and "UTF-8" in s.reason for s in result.skipped)


def test_parse_empty_file_raises_parse_error() -> None:
    with pytest.raises(ParseError, match="no paper records"):
        parse_bytes(b"\n\n  \n", "empty.txt")


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=2000))
def test_parse_arbitrary_bytes_raises_only_parse_error(data: bytes) -> None:
    with contextlib.suppress(ParseError):
        parse_bytes(data, "fuzz.txt")


_line = st.text(st.characters(blacklist_categories=("Cs",)), max_size=300)


@settings(max_examples=200, deadline=None)
@given(st.lists(_line, max_size=30))
def test_parse_arbitrary_text_lines_raises_only_parse_error(lines: list[str]) -> None:
    try:
        result = parse_bytes("\n".join(lines).encode(), "fuzz.txt")
    except ParseError:
        return
    assert all(p.title.strip() and p.abstract.strip() for p in result.papers)


_word = st.text(st.characters(whitelist_categories=("L", "N")), min_size=1, max_size=12)
_title = st.lists(_word, min_size=1, max_size=12).map(" ".join)
_abstract = st.lists(_word, min_size=30, max_size=80).map(" ".join)


@settings(max_examples=100, deadline=None)
@given(
    st.lists(
        st.fixed_dictionaries(
            {
                "title": _title,
                "abstract": _abstract,
                "authors": st.lists(
                    st.lists(_word, min_size=2, max_size=3).map(" ".join), max_size=4
                ),
                "year": st.integers(1950, 2030),
                "venue": _title,
            }
        ),
        min_size=1,
        max_size=8,
        unique_by=lambda d: normalize_title(d["title"]),
    ).filter(lambda ds: all(normalize_title(d["title"]) for d in ds))
)
def test_parse_jsonl_round_trip_is_identity(records: list[dict[str, object]]) -> None:
    data = "\n".join(json.dumps(r) for r in records).encode()
    result = parse_bytes(data, "round.jsonl")
    assert result.skipped == []
    assert [
        {
            "title": p.title,
            "abstract": p.abstract,
            "authors": p.authors,
            "year": p.year,
            "venue": p.venue,
        }
        for p in result.papers
    ] == [{**r, "title": " ".join(str(r["title"]).split())} for r in records]


def test_detect_format_ignores_file_names(tmp_path: Path) -> None:
    source = DATA / "003_f0de8cd1426337ec.txt"
    renamed = tmp_path / "listing.jsonl"
    renamed.write_bytes(source.read_bytes())
    assert parse_file(renamed).format == "daily"
    assert detect_format([]) is None
