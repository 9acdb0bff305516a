"""Reference-manager files: BibTeX, RIS and CSL JSON in, arXiv and OpenAlex JSON, BibTeX out."""

from __future__ import annotations

import contextlib
import json
from pathlib import Path

from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from assistant.bibliography import citation_key, read_bibtex, to_bibtex
from assistant.cli import main
from assistant.conversation import cited_papers, transcript
from assistant.embed import embedder_name
from assistant.errors import ParseError
from assistant.ingest import ingest
from assistant.parse import merge_papers, parse_bytes, parse_file
from assistant.records import Paper, Turn
from assistant.store import open_store

from .conftest import make_settings

FIXTURES = Path(__file__).parent / "fixtures"


def test_bibtex_entries_become_papers_with_latex_decoded() -> None:
    parsed = parse_file(FIXTURES / "library.bib")
    assert parsed.format == "bibtex"
    causal, soap = parsed.papers
    assert causal.title == "Toward Causal Representation Learning with BERT — a överview"
    assert causal.authors == ["Bernhard Schölkopf", "Francesco Locatello", "José Café"]
    assert "$P(Y \\mid do(X))$ differs" in causal.abstract  # math kept as written
    assert "braces inside abstracts" in causal.abstract and "by 10% on" in causal.abstract
    assert (causal.date, causal.year, causal.venue) == ("2021-02", 2021, "Proceedings of the IEEE")
    assert causal.doi == "10.1109/jproc.2021.3058954"
    assert causal.categories == ["causality", "representation learning"]
    assert (soap.arxiv_id, soap.venue, soap.date) == ("2409.11321", "arXiv", "2024")
    # The broken entry and the one without an abstract are reported at their lines.
    reasons = {s.line: s.reason for s in parsed.skipped}
    assert set(reasons) == {15, 20}, reasons
    assert "abstract" in reasons[20]


def test_ris_records_become_papers_and_a_cut_record_is_reported() -> None:
    parsed = parse_file(FIXTURES / "library.ris")
    assert parsed.format == "ris"
    causal, resnet = parsed.papers
    assert causal.authors == ["Bernhard Schölkopf", "Francesco Locatello"]
    assert causal.abstract.endswith("whose title lost the BERT overview.")  # wrapped line joined
    assert (causal.date, causal.doi) == ("2021-02-15", "10.1109/jproc.2021.3058954")
    assert (resnet.venue, resnet.date, resnet.arxiv_id) == ("CVPR", "2016", "1512.03385")
    assert [s.line for s in parsed.skipped] == [14]
    assert "no 'ER  -'" in parsed.skipped[0].reason


def test_the_same_doi_in_a_bib_and_a_ris_file_is_one_paper() -> None:
    papers = [
        *parse_file(FIXTURES / "library.bib").papers,
        *parse_file(FIXTURES / "library.ris").papers,
    ]
    merged = merge_papers(papers)
    assert len(merged) == 3
    causal = merged[0]
    assert causal.title.startswith("Toward Causal Representation Learning with BERT")
    assert causal.date == "2021-02-15"  # the more precise date of the two
    assert set(causal.source_files) == {"library.bib", "library.ris"}


def test_arxiv_snapshot_and_openalex_lines_are_read() -> None:
    arxiv = {
        "id": "2401.01234",
        "title": "A  Snapshot\n  Title",
        "abstract": "  An abstract\n that wraps in the snapshot.\n",
        "authors": "A. Author, B. Bauthor",
        "authors_parsed": [["Author", "A.", ""], ["Bauthor", "B.", ""]],
        "categories": "cs.LG stat.ML",
        "doi": None,
        "journal-ref": None,
        "versions": [{"version": "v1", "created": "Tue, 2 Jan 2024 18:59:59 GMT"}],
        "update_date": "2024-03-01",
    }
    openalex = {
        "id": "https://openalex.org/W1",
        "doi": "https://doi.org/10.1000/XYZ",
        "title": "An OpenAlex Work",
        "publication_date": "2023-05-04",
        "publication_year": 2023,
        "authorships": [{"author": {"display_name": "Ada Lovelace"}}],
        "primary_location": {"source": {"display_name": "Nature"}},
        "abstract_inverted_index": {"rebuilt": [1], "Words": [0], "order.": [3], "in": [2]},
        "topics": [{"display_name": "Computing"}],
    }
    data = "\n".join(json.dumps(r) for r in (arxiv, openalex)).encode()
    snapshot, work = parse_bytes(data, "bulk.jsonl").papers
    assert (snapshot.title, snapshot.abstract) == (
        "A Snapshot Title",
        "An abstract that wraps in the snapshot.",
    )
    assert snapshot.authors == ["A. Author", "B. Bauthor"]
    assert (snapshot.categories, snapshot.date) == (["cs.LG", "stat.ML"], "2024-01-02")
    assert (snapshot.arxiv_id, snapshot.sources) == ("2401.01234", ["arXiv"])
    assert work.abstract == "Words rebuilt in order."
    assert (work.authors, work.venue, work.date) == (["Ada Lovelace"], "Nature", "2023-05-04")
    assert (work.doi, work.categories) == ("10.1000/xyz", ["Computing"])


def test_csl_json_arrays_and_api_pages_are_read() -> None:
    """Zotero's CSL JSON export (one array over many lines), a saved JSON array of our own
    fields and an OpenAlex API page ({"meta": ..., "results": [...]}): each had held "no paper
    records"."""
    body = "We freeze the weights and inject trainable low-rank matrices into each layer."
    csl = [
        {
            "id": "hu2021",
            "type": "article-journal",
            "title": "LoRA: Low-Rank Adaptation",
            "abstract": body,
            "author": [{"family": "Hu", "given": "Edward J."}, {"literal": "The LoRA Team"}],
            "issued": {"date-parts": [[2021, 6, 17]]},
            "container-title": "ICLR",
            "DOI": "10.48550/arXiv.2106.09685",
            "URL": "https://arxiv.org/abs/2106.09685",
            "keyword": "adapters, fine-tuning",
        },
        {"id": "x", "type": "article", "title": "No Abstract Here", "issued": {"raw": "2020"}},
    ]
    parsed = parse_bytes(json.dumps(csl, indent=2).encode(), "My Library.json")
    assert parsed.format == "json"
    (lora,) = parsed.papers
    assert (lora.title, lora.abstract, lora.venue) == ("LoRA: Low-Rank Adaptation", body, "ICLR")
    assert lora.authors == ["Edward J. Hu", "The LoRA Team"] and lora.date == "2021-06-17"
    assert (
        lora.doi == "10.48550/arxiv.2106.09685" and lora.url == "https://arxiv.org/abs/2106.09685"
    )
    assert lora.categories == ["adapters", "fine-tuning"]
    # The record without an abstract is skipped at the line its object opens on.
    (skipped,) = parsed.skipped
    assert skipped.line == 30 and "'No Abstract Here' has no 'abstract'" in skipped.reason
    ours = [{"title": "A Saved Paper", "abstract": body, "authors": ["Ann Lee"]}]
    assert parse_bytes(json.dumps(ours).encode(), "saved.json").papers[0].authors == ["Ann Lee"]
    page = {
        "meta": {"count": 1},
        "results": [
            {
                "title": "An OpenAlex Work",
                "authorships": [{"author": {"display_name": "Ada Lovelace"}}],
                "abstract_inverted_index": {"Words": [0], "rebuilt.": [1]},
            }
        ],
    }
    (work,) = parse_bytes(json.dumps(page, indent=2).encode(), "page.json").papers
    assert (work.abstract, work.authors) == ("Words rebuilt.", ["Ada Lovelace"])
    # Broken JSON says where, and nothing is made up from it.
    broken = parse_bytes(b'[\n  {"title": "A",\n  "abstract": }\n]', "broken.json")
    assert not broken.papers and broken.skipped[0].line == 3


@settings(max_examples=300, deadline=None)
@given(
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.text(max_size=12),
        lambda inner: (
            st.lists(inner, max_size=3)
            | st.dictionaries(
                st.sampled_from(["title", "abstract", "author", "issued", "results", "date-parts"]),
                inner,
                max_size=5,
            )
        ),
        max_leaves=15,
    )
)
def test_any_json_document_is_read_or_refused_with_a_parse_error(document: object) -> None:
    with contextlib.suppress(ParseError):
        parse_bytes(json.dumps(document, indent=2).encode(), "any.json")


def test_bibtex_export_reads_back_to_the_same_papers() -> None:
    papers = [
        *parse_file(FIXTURES / "library.bib").papers,
        Paper.create(
            "Braces {and} 100% $math$ & under_scores",
            'An abstract with {braces}, a backslash \\ and [2] brackets, "straight quotes", '
            "dashes -- and --- too, it''s ``quoted'', ~ # and a lone $5 fee; "
            "math $P(y \\mid x)$, a url {https://x.org/a_b%20c}.",
            authors=["Zoë Ünal", "Jane Doe"],
            venue="NeurIPS 2025",
            date="2025-12-03",
            year=2025,
        ),
    ]
    text = to_bibtex(papers)
    back = parse_bytes(text.encode(), "export.bib")
    assert not back.skipped
    for before, after in zip(papers, back.papers, strict=True):
        assert (after.title, after.abstract, after.authors) == (
            before.title,
            before.abstract,
            before.authors,
        )
        assert (after.date, after.doi, after.arxiv_id) == (before.date, before.doi, before.arxiv_id)
    keys = [e.meta for e in read_bibtex(text)]
    assert len(keys) == len(papers)


def test_citation_keys_are_stable_and_distinct() -> None:
    paper = Paper.create(
        "The Attention Is All You Need", "x", authors=["Ashish Vaswani"], year=2017
    )
    taken: set[str] = set()
    assert citation_key(paper, taken) == "vaswani2017attention"
    assert citation_key(paper, taken) == "vaswani2017attentionb"
    assert citation_key(Paper.create("Ünïcode", "x", authors=["José Café"])) == "cafeunicode"


@settings(max_examples=150, deadline=None)
@given(st.binary(max_size=400), st.sampled_from(["@article{k,\n", "TY  - JOUR\n"]))
def test_reference_readers_raise_only_parse_errors(data: bytes, head: str) -> None:
    with contextlib.suppress(ParseError):
        parse_bytes(head.encode() + data, "fuzz")


_TEXT = st.characters(min_codepoint=32, max_codepoint=0x2FF, blacklist_categories=("Cs", "Cc"))


#: LaTeX's specials and ligatures ("--", "!`", "%" in "$...$") are where a round trip breaks.
_PUNCTUATION = st.sampled_from(list("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~ "))


@settings(max_examples=300, deadline=None)
@given(st.text(st.one_of(_PUNCTUATION, _TEXT), min_size=1, max_size=60))
def test_bibtex_export_then_import_is_identity(text: str) -> None:
    words = " ".join(f"word {text} end".split())
    paper = Paper.create(f"Title {words}", f"Abstract {words}", authors=["Ada Lovelace"])
    back = parse_bytes(to_bibtex([paper]).encode(), "x.bib")
    assert not back.skipped
    (again,) = back.papers
    assert (again.title, again.abstract, again.authors) == (
        paper.title,
        paper.abstract,
        paper.authors,
    )


@settings(max_examples=150, deadline=None)
@given(
    st.text(_TEXT, min_size=1, max_size=30),
    st.text(_TEXT, max_size=12),
    st.lists(st.text(_TEXT, min_size=1, max_size=15), max_size=3),
    st.one_of(st.none(), st.integers(-5, 99999)),
)
def test_bibtex_export_takes_any_metadata(
    title: str, date: str, authors: list[str], year: int | None
) -> None:
    """Dates, years and names are whatever a listing or a client sent: never a crash."""
    paper = Paper.create(
        f"T {title}", "An abstract.", date=date or None, authors=authors, year=year, venue=title
    )
    back = parse_bytes(to_bibtex([paper]).encode(), "x.bib")
    assert [p.title for p in back.papers] == [" ".join(paper.title.split())]


def test_a_published_version_ingested_later_joins_its_stored_preprint(tmp_path: Path) -> None:
    settings = make_settings(tmp_path / "store")
    ingest([FIXTURES / "library.bib"], settings)
    report = ingest([FIXTURES / "library.ris"], settings)
    assert (report.added, report.updated) == (1, 1)  # ResNet is new; the causal review joins
    with open_store(settings.store, embedder_name(settings.embed)) as store:
        papers = {p.title: p for p in store.papers()}
    assert len(papers) == 3
    causal = papers["Toward Causal Representation Learning with BERT — a överview"]
    assert set(causal.source_files) == {"library.bib", "library.ris"}
    again = ingest([FIXTURES / "library.ris"], settings)
    assert (again.added, again.updated, again.unchanged) == (0, 0, 2)
    # The DOI is a link in the search table and in the JSON the API also answers with.
    store = ["--store", str(settings.store.path)]
    page = "https://doi.org/10.1109/jproc.2021.3058954"
    env = {"ASSISTANT_EMBED__MODEL": settings.embed.model}
    question = "causal representation learning"
    table = CliRunner().invoke(main, [*store, "search", question], env=env)
    assert table.exit_code == 0 and page in table.output, table.output
    found = CliRunner().invoke(main, [*store, "search", question, "--format", "json"], env=env)
    assert json.loads(found.stdout)["hits"][0]["links"] == {"doi": page}
    answered = CliRunner().invoke(
        main, [*store, "ask", "What is causal representation learning?"], env=env
    )
    assert answered.exit_code == 0 and f"\n      {page}\n" in answered.output, answered.output


def test_a_saved_conversation_ends_with_the_cited_papers_bibtex() -> None:
    hostile = Paper.create(
        "Fenced", "An abstract that tries to close the fence:\n```\n# Not a heading"
    )
    soap = Paper.create("SOAP", "We propose SOAP.", authors=["Nikhil Vyas"], year=2024)
    turns = [
        Turn(question="q1", answer="a [2] b [1].", sources={1: "SOAP", 2: "Fenced"}),
        Turn(question="q2", answer="c [1].", sources={1: "SOAP"}),
    ]
    cited = cited_papers(turns, [soap, hostile])
    assert [p.title for p in cited] == ["SOAP", "Fenced"]  # by number, then first citation
    text = transcript(turns, cited)
    references = text.split("## References\n\n", 1)[1]
    assert references.startswith("```bibtex\n@misc{vyas2024soap,")
    # The abstract's own fence is broken up (`{}`{}`): nothing inside can close the block.
    assert references.rstrip().endswith("```") and references.count("```") == 2
    assert transcript(turns).count("## References") == 0
