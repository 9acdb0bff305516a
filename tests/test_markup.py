"""Every renderer keeps arbitrary paper text inert: pages, Markdown files, CSV and terminals."""

from __future__ import annotations

import csv
import io
import re
from html.parser import HTMLParser

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from markdown_it import MarkdownIt

from assistant.compare import Cell, Comparison
from assistant.markup import (
    CLASSES,
    IDENTIFIER_LINK,
    MATH_TAGS,
    TAGS,
    ChatMarkdownStream,
    chat_markdown,
    chat_text,
    csv_cell,
    markdown_text,
    page_html,
    page_latex,
    plain_latex,
)
from assistant.records import Answer, Coverage, Hit, Paper, Receipt, clean_text
from ui import render_answer, render_sources

#: Text that tries every trick, mixed into the generated text.
TRICKS = [
    "$<img src=x onerror=alert(1)>$",  # a formula is typeset, its text stays text
    r"\textit{<b>x</b>}",
    r"$\href{javascript:x}{y}$",
    r"$\color{white}{x}\hspace{9999pt}\mathbin{x}$",
    r"$x^{<script>alert(1)</script>}$",
    "\ue002" + "24" * 40 + "\ue003",  # a forged formula token
    "<img src=x onerror=alert(1)>",
    "<script>alert(1)</script>",
    '<a href="javascript:alert(1)">x</a>',
    "[x](javascript:alert(1))",
    "![x](http://other.host/a.png)",
    "<style>*{display:none}</style>",
    '<div style="position:fixed">x</div>',
    "<svg/onload=alert(1)>",
    "<iframe src=//other.host>",
    '<a class="cite" href="#" onclick="x">[1]</a>',
    "[2]",
    "&lt;script&gt;",
    "<!-- -->",
    "=cmd|' /C calc'!A0",
    "@SUM(1)",
    "+1",
    "-x",
    "\x1b[31m\x1b]8;;http://x\x07",
    "|",
    "\ue000\ue001",
]
_ATTRIBUTES = {"class", "href", "id", "title", "align", "open", "rel"}
#: What a formula's MathML may say: how a symbol is drawn, never its size, colour or a link.
_MATH_ATTRIBUTES = {"mathvariant", "fence", "form", "largeop", "movablelimits", "separator"}
_MATH_ATTRIBUTES |= {"stretchy", "symmetric", "displaystyle", "scriptlevel", "accent"}
_MATH_ATTRIBUTES |= {"accentunder", "notation", "columnalign", "columnlines", "rowlines"}
untrusted = st.lists(st.one_of(st.text(max_size=40), st.sampled_from(TRICKS)), max_size=6).map(
    " ".join
)


class _Inspector(HTMLParser):
    """Collects every tag and attribute of an HTML fragment as a browser would parse them."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in TAGS | MATH_TAGS:
            self.problems.append(f"tag {tag}")
        for name, value in attrs:
            if name not in (_MATH_ATTRIBUTES if tag in MATH_TAGS else _ATTRIBUTES):
                self.problems.append(f"{tag} {name}")
            local = re.fullmatch(r"#(source-\d+)?", value or "")
            if name == "href" and not (local or IDENTIFIER_LINK.fullmatch(value or "")):
                self.problems.append(f"{tag} href={value}")
            if name == "rel" and value != "noopener noreferrer":
                self.problems.append(f"{tag} rel={value}")
            if name == "class" and not set((value or "").split()) <= CLASSES.get(tag, set()):
                self.problems.append(f"{tag} class={value}")


def assert_inert(fragment: str) -> None:
    inspector = _Inspector()
    inspector.feed(fragment)
    inspector.close()
    assert inspector.problems == [], (inspector.problems, fragment)


def _paper(title: str, abstract: str, author: str) -> Paper:
    # The identifiers are scraped text too: a DOI field can hold anything.
    return Paper.create(
        title or "untitled",
        abstract or "empty",
        authors=[author],
        venue=author,
        doi=f"10.1/{title}",
        arxiv_id=author or None,
    )


def _answer(text: str, evidence: str) -> Answer:
    from assistant.records import Citation

    return Answer(
        question=text,
        answer=text,
        extractive=True,
        refused=False,
        citations=[
            Citation(
                n=1,
                paper_id="p",
                title=text,
                evidence=evidence,
                support="supported",
                supported=True,
            )
        ],
        coverage=Coverage(
            covered=True,
            verdict="uncertain",
            caveat=f'The collection may not cover this question; the closest papers are "{text}".',
            relevance=None,
            threshold=None,
            matching=1,
        ),
        receipt=Receipt(question=text, rewritten_query=text, model=text),
    )


def test_sources_link_a_papers_doi_and_arxiv_pages_and_nothing_else() -> None:
    hostile = '10.1/x"><script>alert(1)</script>'
    paper = Paper.create("T", "A.", doi=hostile, arxiv_id="2401.01234")
    shown = render_sources([Hit(paper=paper, score=1.0, rank=1)])
    assert (
        '<a class="ident" href="https://doi.org/10.1/x%22%3E%3Cscript%3Ealert%281%29%3C/script%3E"'
        ' rel="noopener noreferrer">doi:10.1/x"&gt;&lt;script&gt;' in shown
    )
    assert 'href="https://arxiv.org/abs/2401.01234"' in shown and "<script" not in shown
    assert_inert(shown)
    # An answer's or an abstract's own link to the same site stays text: links out are the
    # sources panel's, built from the identifiers.
    assert "href" not in page_html("see [it](https://doi.org/10.1/x) or https://arxiv.org/abs/1")


@settings(max_examples=150, deadline=None)
@given(title=untrusted, abstract=untrusted, author=untrusted)
def test_pages_show_any_paper_text_only_as_text(title: str, abstract: str, author: str) -> None:
    paper = _paper(title, abstract, author)
    hits = [Hit(paper=paper, score=1.0, rank=1, chunks=[paper.abstract])]
    answer = _answer(f"{paper.title}: {paper.abstract} [1]", paper.abstract[:30])
    assert_inert(render_sources(hits))
    assert_inert(render_sources(hits, answer))
    shown = render_answer(answer)
    assert_inert(shown)
    assert "The collection may not cover this question" in shown  # the caveat's banner
    assert_inert(page_html(paper.abstract))
    assert_inert(page_html(markdown_text(paper.title), cite_links=False))


@settings(max_examples=150, deadline=None)
@given(title=untrusted, cell=untrusted, summary=untrusted)
def test_comparison_exports_keep_any_text_inert(title: str, cell: str, summary: str) -> None:
    comparison = Comparison(
        prompt=title,
        papers=[{"paper_id": "p", "title": title}],
        aspects=["method", cell or "aspect"],
        cells={
            "p": {
                "method": Cell(text=cell, citation=1, supported=False, support="unsupported"),
                cell or "aspect": Cell(text=title, citation=1, supported=True, support="supported"),
            }
        },
        summary=summary,
    )
    markdown = comparison.markdown()
    assert_inert(page_html(markdown))
    assert_inert(page_html(comparison.markdown(page=True)))
    for row in csv.reader(io.StringIO(comparison.csv())):
        for value in row:
            assert not value or value[0] not in "=+@\t\r" or value.startswith("'")
            assert not value.startswith("-") or value[1:2].isdigit() or value[1:2] == "."
    # A title's own "[2]" is not a citation of source 2 in the page.
    if "[2]" in title and "[2]" not in summary:
        assert 'href="#source-2"' not in page_html(markdown)


#: What CommonMark itself writes for Markdown (no link, image or raw HTML among them).
_MARKDOWN_TAGS = {"p", "strong", "em", "code", "pre", "ul", "ol", "li", "blockquote", "hr", "br"}
_MARKDOWN_TAGS |= {f"h{n}" for n in range(1, 7)}


@settings(max_examples=200, deadline=None)
@given(
    pieces=st.lists(
        st.one_of(untrusted, st.sampled_from(["[1]", "[1, 3]", "**", "\n- ", "\\", "[1]("])),
        max_size=8,
    ),
    cuts=st.lists(st.integers(0, 400), max_size=12),
)
def test_chat_clients_render_any_text_as_text(pieces: list[str], cuts: list[int]) -> None:
    """An OpenAI client renders the answer's Markdown, raw HTML possibly on: no tag but
    Markdown's own, however the text was streamed; our citation markers stay markers."""
    text = " ".join(pieces)
    escaped = chat_markdown(text)
    inspector = _Tags()
    inspector.feed(MarkdownIt("commonmark").render(escaped))
    assert inspector.tags <= _MARKDOWN_TAGS, (inspector.tags, escaped)
    stream, sent, start = ChatMarkdownStream(), [], 0
    for cut in sorted({min(c, len(text)) for c in cuts}):
        sent.append(stream.feed(text[start:cut]))
        start = cut
    sent += [stream.feed(text[start:]), stream.end()]
    assert "".join(sent) == escaped
    assert chat_text(escaped) == text  # a sources line sent back reads its titles as they were
    assert chat_markdown("Hops [1] and [1, 3].") == "Hops [1] and [1, 3]."


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.add(tag)


@given(text=untrusted)
def test_clean_text_leaves_nothing_a_terminal_acts_on(text: str) -> None:
    cleaned = clean_text(text)
    assert not any(
        (ord(c) < 32 and c not in "\t\n") or 0x7F <= ord(c) <= 0x9F or 0xD800 <= ord(c) <= 0xDFFF
        for c in cleaned
    )
    cleaned.encode("utf-8")  # every character encodes


def test_csv_cell_prefixes_formulas_only() -> None:
    assert [csv_cell(v) for v in ["=1+1", "+1", "@x", "-x", "-1.5", "a=b", ""]] == [
        "'=1+1",
        "'+1",
        "'@x",
        "'-x",
        "-1.5",
        "a=b",
        "",
    ]


@pytest.mark.parametrize(
    ("latex", "shown"),
    [
        (r"E$^3$-Pruner", "E^3-Pruner"),
        (r"achieves 96\% accuracy", "achieves 96% accuracy"),
        (r"a 1.33$\times$ speedup", "a 1.33\u00d7 speedup"),
        (r"we $\textit{learn}$ it", "we learn it"),
        (r"task-\underline{E}ffective", "task-Effective"),
        ("costs $5 and $6", "costs $5 and $6"),  # prices, not a formula
        ("cuts 40% of the cost", "cuts 40% of the cost"),  # not a LaTeX comment
        (r"we propose \name, a method", r"we propose \name, a method"),  # unknown: kept
    ],
)
def test_latex_in_abstracts_is_shown_as_printed(latex: str, shown: str) -> None:
    assert plain_latex(latex) == shown


def test_source_cards_typeset_formulas_and_print_the_rest() -> None:
    paper = Paper.create(r"E$^3$-Pruner", r"It keeps 96\% accuracy at 1.33$\times$ speed.")
    card = render_sources([Hit(paper=paper, score=1.0, rank=1)])
    assert "<b>[1] E<math><mrow><msup><mi></mi><mn>3</mn></msup></mrow></math>-Pruner</b>" in card
    assert "96% accuracy at 1.33<math><mrow><mo>\u00d7</mo></mrow></math> speed" in card
    assert "$" not in card


def test_formulas_on_pages_are_drawn_never_sized_coloured_or_linked() -> None:
    shown = page_html(
        page_latex(r"$\href{javascript:alert(1)}{E}$ and $\color{red}{x}\hspace{999pt}$ at $x^$")
    )
    assert shown.count("<math>") == 2 and "<mi>E</mi>" in shown and "<mi>x</mi>" in shown
    assert not re.search(r"href|javascript|color|red|999|mspace|width", shown), shown
    assert shown.endswith(" at x^</p>\n")  # what cannot be typeset is printed
    assert_inert(shown)
    # The downloads and the terminal get the printed text.
    assert plain_latex(r"$x_{i}^{2}$ and $\times$") == "x_i^2 and \u00d7"
