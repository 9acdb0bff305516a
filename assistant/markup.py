"""Untrusted text made inert for each renderer: browser pages, Markdown files and CSV cells.

Titles, abstracts and authors are scraped from the web and answers quote them, so one rule holds
for every renderer: what comes from a paper or a user can only ever show as text.

- Pages (chat, sources, comparisons): Markdown is rendered here with raw HTML off (a ``<img>``
  in an abstract shows as the text ``<img>``), then the HTML passes nh3 (the Ammonia sanitiser)
  with an allow-list: text formatting, lists, tables, ``<mark>``, our own classes, links
  whose only target is a source card on the page (the citation markers), and the MathML of
  the papers' inline formulas, without anything that could size, colour or link. No script,
  style, image, form, iframe, event handler or link to anywhere else survives, however it was
  spelt.
- Markdown files (the comparison's download, ``format=md``): the characters that would make a
  cell a link, an image, HTML or a new column are backslash-escaped.
- CSV: a cell that a spreadsheet would run as a formula is prefixed with an apostrophe.
- Chat clients of the OpenAI-compatible endpoint, which render an answer's Markdown as they
  see fit (some with raw HTML on, most loading images): every backslash, ``<`` and ``[`` that is
  not a citation marker is backslash-escaped, so no link, image, autolink or HTML can start in
  quoted text or in what a model was led to write ("![](https://elsewhere/?q=...)").
- Terminals and logs: `records.clean_text` strips control characters from every paper field
  as it is read, so no escape sequence is ever stored.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable

import nh3
from latex2mathml.converter import convert as latex_to_mathml
from markdown_it import MarkdownIt
from pylatexenc.latex2text import LatexNodes2Text

#: Tags a page may show. Everything else is removed (its text kept, except script and style).
TAGS = frozenset(
    {
        "a",
        "b",
        "blockquote",
        "br",
        "code",
        "del",
        "details",
        "div",
        "em",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "hr",
        "i",
        "li",
        "mark",
        "ol",
        "p",
        "pre",
        "small",
        "span",
        "strong",
        "sub",
        "summary",
        "sup",
        "table",
        "tbody",
        "td",
        "th",
        "thead",
        "tr",
        "ul",
    }
)
#: MathML a formula may become (latex2mathml's presentation elements); the browser draws it
#: without a script. ``mspace``, ``mpadded`` and ``mphantom`` are left out: a formula could
#: push the page's text aside with them.
MATH_TAGS = frozenset(
    {
        "math",
        "menclose",
        "mfrac",
        "mi",
        "mn",
        "mo",
        "mover",
        "mroot",
        "mrow",
        "msqrt",
        "mstyle",
        "msub",
        "msubsup",
        "msup",
        "mtable",
        "mtd",
        "mtext",
        "mtr",
        "munder",
        "munderover",
    }
)
#: The classes our own markup uses; any other class is dropped (a page's CSS could use one to
#: restyle or hide what it wraps).
CLASSES = {
    "a": {"cite", "ident"},
    "div": {"source", "meta"},
    "p": {"meta", "notice"},
    "span": {"unsupported", "chip"},
    "ul": {"meta", "citing"},
}
_ATTRIBUTES = {
    "details": {"open"},
    "div": {"id"},
    "span": {"title"},
    "th": {"align"},
    "td": {"align"},
    # Formulas: how a symbol is drawn and spaced, never its size, colour, place or a link.
    "mi": {"mathvariant"},
    "mn": {"mathvariant"},
    "mtext": {"mathvariant"},
    "mo": {"fence", "form", "largeop", "movablelimits", "separator", "stretchy", "symmetric"},
    "mstyle": {"displaystyle", "scriptlevel"},
    "mover": {"accent"},
    "munder": {"accentunder"},
    "munderover": {"accent", "accentunder"},
    "menclose": {"notation"},
    "mtable": {"columnalign", "columnlines", "rowlines"},
    "mtd": {"columnalign"},
}
#: The only link targets a page may hold: the source cards beside the answer (a marker [n]
#: links to #source-n; Gradio's own sanitiser in the page keeps no data-* attribute).
_LOCAL_TARGETS = {"#", *(f"#source-{n}" for n in range(1, 1000))}
#: The only links out of a page, in the sources panel alone: a paper's DOI and arXiv pages as
#: ``Paper.links`` builds them (the identifier percent-encoded, so nothing in it can end the URL).
IDENTIFIER_LINK = re.compile(r"https://(?:doi\.org/10\.|arxiv\.org/abs/)[A-Za-z0-9%/._~-]+")

_MARKDOWN = MarkdownIt("commonmark", {"html": False}).enable("table").enable("strikethrough")
_MARK = re.compile(r"\[(\d{1,3})\]")
#: Bracketed numbers: our citation markers, "[1]" or "[1, 3]"; in a paper's own text, its own.
MARKERS = re.compile(r"\[(\d+(?:\s*[,;]\s*\d+)*)\]")
#: Private-use characters that stand for "start/end of an unsupported sentence" while the
#: Markdown is rendered; removed from untrusted text first so that no one else can place them.
UNSUPPORTED_START, UNSUPPORTED_END = "\ue000", "\ue001"
_PLACEHOLDERS = re.compile("[\ue000\ue001]")
_BETWEEN_BLOCKS = re.compile(r">\n+<")
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]<>|!])")
_FORMULA = re.compile(r"^(?:[=+@\t\r]|-(?![\d.]))")
#: What can open a link, an image, an autolink or HTML in Markdown: a backslash (it could undo
#: an escape), "<", and a "[" that is not a citation marker "[1]" / "[1, 3]" (one followed by
#: "(" or ":" would be a link or a link's definition).
_OPENER = re.compile(r"[\\<]|\[(?!\d+(?:\s*[,;]\s*\d+)*\](?![(:]))")
#: What ``chat_markdown`` escaped, read back.
_ESCAPED = re.compile(r"\\([\\<\[])")
#: The end of a streamed text that could still become a citation marker: wait for more.
_UNDECIDED = re.compile(r"\[[\d,;\s]{0,24}\]?\Z")


def clean_html(fragment: str, *, identifier_links: bool = False) -> str:
    """``fragment`` with only the allow-listed tags, classes and attributes, and no link that
    goes anywhere but ``#`` (or, with ``identifier_links``, to a DOI or arXiv page).

    Formulas that `page_latex` kept are typeset here as MathML, so that they pass the same
    allow-list as everything else.

    >>> clean_html('<img src=x onerror=alert(1)><a href="javascript:x" class="cite">[1]</a>')
    '<a class="cite">[1]</a>'
    """
    fragment = _MATH_MARKS.sub("", _MATH_TOKEN.sub(_typeset, fragment))
    if identifier_links:
        return nh3.clean(
            fragment,
            tags=set(TAGS | MATH_TAGS),
            clean_content_tags={"script", "style"},
            attributes={**{tag: set(names) for tag, names in _ATTRIBUTES.items()}, "a": {"href"}},
            attribute_filter=_local_or_identifier,
            allowed_classes={tag: set(names) for tag, names in CLASSES.items()},
            url_schemes={"https"},
            link_rel="noopener noreferrer",
            strip_comments=True,
        )
    return nh3.clean(
        fragment,
        tags=set(TAGS | MATH_TAGS),
        clean_content_tags={"script", "style"},
        attributes={tag: set(names) for tag, names in _ATTRIBUTES.items()},
        tag_attribute_values={"a": {"href": _LOCAL_TARGETS}},
        allowed_classes={tag: set(names) for tag, names in CLASSES.items()},
        url_schemes=set(),
        link_rel=None,
        strip_comments=True,
    )


def _local_or_identifier(tag: str, attribute: str, value: str) -> str | None:
    if tag != "a" or attribute != "href":
        return value
    return value if value in _LOCAL_TARGETS or IDENTIFIER_LINK.fullmatch(value) else None


def page_html(markdown: str, *, cite_links: bool = True) -> str:
    """Markdown whose text is untrusted, as HTML that can only show text.

    Citation markers ``[n]`` become links to source ``n`` in the page; text between
    ``UNSUPPORTED_START`` and ``UNSUPPORTED_END`` is marked as not supported by its source.

    >>> page_html("**LSUV** <img src=x> [1]")
    '<p><strong>LSUV</strong> &lt;img src=x&gt; <a href="#source-1" class="cite">[1]</a></p>\\n'
    """
    rendered = _MARKDOWN.render(markdown)
    if cite_links:
        rendered = _MARK.sub(
            lambda m: f'<a href="#source-{m.group(1)}" class="cite">[{m.group(1)}]</a>',
            rendered,
        )
    rendered = rendered.replace(
        UNSUPPORTED_START, '<span class="unsupported" title="not supported by the sources">'
    ).replace(UNSUPPORTED_END, " ⚠</span>")
    # Gradio's chat keeps line breaks in HTML (white-space: pre-line): the newlines markdown-it
    # puts between blocks would show as empty lines.
    return clean_html(_BETWEEN_BLOCKS.sub("><", rendered))


def without_placeholders(text: str) -> str:
    """``text`` without the characters ``page_html`` gives a meaning to."""
    return _PLACEHOLDERS.sub("", text)


def inert_markers(text: str) -> str:
    """``text`` with its own bracketed numbers in parentheses, so that a title's or an
    abstract's "[2]" cannot read as a citation of source 2.

    >>> inert_markers("Arjovsky et al. [2019]; see [2, 3]")
    'Arjovsky et al. (2019); see (2, 3)'
    """
    return MARKERS.sub(lambda m: f"({m.group(1)})", text)


def markdown_text(text: str) -> str:
    r"""``text`` escaped so that Markdown shows it as it is: no link, image, HTML or table
    column can start inside it.

    >>> markdown_text("![x](http://h/a.png) <b>|</b>")
    '\\!\\[x\\](http://h/a.png) \\<b\\>\\|\\</b\\>'
    """
    return _MARKDOWN_SPECIAL.sub(r"\\\1", " ".join(text.split()))


def chat_markdown(text: str) -> str:
    r"""``text``, Markdown of ours that quotes untrusted text, with nothing in it that a chat
    client could render as a link, an image or HTML; its citation markers, bold and lists kept.

    >>> print(chat_markdown("Hops [1]. ![x](http://h/a.png) <b>[2](x)</b> \\[3]"))
    Hops [1]. !\[x](http://h/a.png) \<b>\[2](x)\</b> \\[3]
    """
    return _OPENER.sub(lambda m: "\\" + m.group(), text)


def chat_text(escaped: str) -> str:
    r"""Text as it was before :func:`chat_markdown` escaped it.

    >>> chat_text(chat_markdown(r"MARS [v2] <b> \ [1]"))
    'MARS [v2] <b> \\ [1]'
    """
    return _ESCAPED.sub(r"\1", escaped)


class ChatMarkdownStream:
    """:func:`chat_markdown` over a text that arrives in pieces: a "[" near the end of a piece
    waits (at most a marker's length) for the characters that say whether it is a marker."""

    def __init__(self) -> None:
        self._held = ""

    def feed(self, piece: str) -> str:
        """The escaped text that can be sent now (possibly "")."""
        text = self._held + piece
        undecided = _UNDECIDED.search(text)
        cut = undecided.start() if undecided else len(text)
        self._held = text[cut:]
        return chat_markdown(text[:cut])

    def end(self) -> str:
        """What was held back, escaped: the text has ended."""
        text, self._held = self._held, ""
        return chat_markdown(text)


def csv_cell(text: str) -> str:
    """``text`` as a spreadsheet shows it, never runs it: a cell that would start a formula
    (``=``, ``+``, ``@``, a tab or CR, or ``-`` not starting a number) gets a leading ``'``.

    >>> csv_cell("=1+2"), csv_cell("-0.5"), csv_cell("-cmd")
    ("'=1+2", '-0.5', "'-cmd")
    """
    return f"'{text}" if _FORMULA.match(text) else text


# LaTeX as abstracts carry it ("E$^3$-Pruner", "96\\%", "$\\times$", "\\textit{learn}"), turned
# into text for a reader (formulas typeset on pages). Only what is surely LaTeX is touched: an
# inline formula ("$" with no space inside either end, one line, short), the five escaped
# characters and a few text macros; converting whole texts would read "40% of" as a comment and
# "\\name" as an empty macro.
_LATEX_MATH = re.compile(r"\$(?=\S)([^$\n]{1,80}?)(?<=\S)\$")
_LATEX_ESCAPE = re.compile(r"\\([%&_#$])")
_LATEX_TEXT = re.compile(
    r"\\(?:textit|textbf|emph|underline|mathrm|texttt|text)\{([^{}\n]{0,80})\}"
)
_LATEX_MATH_TEXT = LatexNodes2Text(math_mode="text")
#: A formula kept for a page: its LaTeX hex-encoded between two private-use characters, which
#: Markdown's escaping and rendering and HTML's escaping all leave as they are.
_MATH_START, _MATH_END = "\ue002", "\ue003"
_MATH_TOKEN = re.compile("\ue002((?:[0-9a-f]{2}){1,320})\ue003")
_MATH_MARKS = re.compile("[\ue002\ue003]")


def plain_latex(text: str) -> str:
    """``text`` with its inline LaTeX as a reader would see it printed.

    >>> plain_latex(r"E$^3$-Pruner gets 96\\% by \\textit{learning}; costs $5 and $6")
    'E^3-Pruner gets 96% by learning; costs $5 and $6'
    """
    return _latex(text, lambda formula: _printed(formula.group(1)))


def page_latex(text: str) -> str:
    """``text`` with its inline formulas kept for a page, where `clean_html` typesets them,
    and the rest of its LaTeX printed as `plain_latex` prints it.

    >>> page_html(page_latex(r"E$^3$ at 96\\%"))
    '<p>E<math><mrow><msup><mi></mi><mn>3</mn></msup></mrow></math> at 96%</p>\\n'
    """
    return _latex(
        _MATH_MARKS.sub("", text),
        lambda formula: _MATH_START + formula.group(1).encode().hex() + _MATH_END,
    )


def _latex(text: str, formula: Callable[[re.Match[str]], str]) -> str:
    text = _LATEX_TEXT.sub(r"\1", text)
    text = _LATEX_MATH.sub(formula, text)
    return _LATEX_ESCAPE.sub(r"\1", text)


def _printed(formula: str) -> str:
    try:
        return str(_LATEX_MATH_TEXT.latex_to_text(f"${formula}$")).strip()
    except (IndexError, ValueError, KeyError):  # pylatexenc on a macro short of its arguments
        return f"${formula}$"


def _typeset(token: re.Match[str]) -> str:
    formula = bytes.fromhex(token.group(1)).decode(errors="replace")
    try:
        return latex_to_mathml(formula)
    # latex2mathml raises its own errors and Python's (IndexError, RecursionError, ValueError,
    # StopIteration) on malformed LaTeX, all within a millisecond for a short formula; such a
    # formula is shown printed instead.
    except Exception:
        return html.escape(_printed(formula))
