"""Comparison prompt -> the papers it names -> a table of aspects, each cell cited and checked."""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Callable, Sequence

from pydantic import BaseModel, Field, ValidationError

from assistant.answer import Answerer
from assistant.aspects import AspectFinder
from assistant.cite import ModelJudge, SentenceBank, check, content_words
from assistant.config import Settings
from assistant.conversation import (
    earlier_turn,
    last_answer_reference,
    listed_turn,
    quoted_titles,
    spelled_ordinals,
)
from assistant.errors import AssistantError, LLMResponseError, ResolutionError
from assistant.llm import ChatModel
from assistant.markup import csv_cell, inert_markers, markdown_text, page_latex, plain_latex
from assistant.prompts import load_prompt
from assistant.query import FEW
from assistant.query import number as count_said
from assistant.records import (
    Paper,
    Turn,
    fold,
    mention_pattern,
    mentions,
    papers_named,
    similar_titles,
    title_name,
)
from assistant.retrieve import Retriever
from assistant.spelling import corrected

DEFAULT_ASPECTS = ["problem", "method", "data", "result", "limitations", "venue/date"]
NOT_STATED = "not stated in the abstract"
MAX_PAPERS = 8
_ID = re.compile(r"\b[0-9a-f]{12}\b")
_OPEN, _CLOSE = "\"'\u201c\u2018", "\"'\u201d\u2019"  # straight and curly quotes
_QUOTED = re.compile(f"[{_OPEN}]([^{_CLOSE}]{{6,}}?)[{_CLOSE}]" + r"(?=[\s,.;:)?]|$)")
_CITED = re.compile(
    r"\b(?:papers?|sources?|results?)\s+((?:\[?\d+\]?(?:\s*(?:,|and|&)\s*)?)+)", re.I
)
_LAST_ANSWER = re.compile(
    r"\b(?:from|in|of) (?:the|your) (?:last|previous) answer\b|\babove\b", re.I
)
#: How many of the papers constraints name a comparison takes: "the first two ICLR papers".
_FIRST_FEW = re.compile(rf"\b(?:the\s+)?(?:first|top)\s+(?P<n>{FEW})\b", re.I)
#: Papers named by a topic they all say: "Compare the papers on learning rate schedules", "How
#: do the papers on RLHF differ?", "What are the differences between the papers on X?".
_ON_TOPIC = r"(?:all\s+)?(?:the\s+)?papers\s+(?:on|about)\s+(?P<{}>[^?!.]+?)"
_PAPERS_ON = re.compile(
    rf"^\W*(?:(?:compare|contrast)\s+{_ON_TOPIC.format('compared')}"
    r"|(?:what(?:'s|\s+is|\s+are)\s+)?(?:the\s+)?differences?\s+(?:between|among)\s+"
    + _ON_TOPIC.format("between")
    + rf"|how\s+do\s+{_ON_TOPIC.format('differing')}\s+(?:differ|compare)(?:\s+(?:from|with)"
    r"\s+(?:each\s+other|one\s+another))?)\s*[?!.]*\s*$",
    re.I,
)
#: A polite opening before the request ("Can you compare ...", "I'd like to contrast ...",
#: "now compare ...").
_POLITE = (
    r"(?:(?:now|ok(?:ay)?|and|then|so|also|next)\b[\s,]*)*"
    r"(?:(?:can|could|would|will)\s+you\s+(?:please\s+)?|please\s+"
    r"|i\s*(?:'d|\s+would)\s+like\s+(?:you\s+)?to\s+)?"
)
#: A comparison asked for by its noun ("I'd like a comparison of X and Y").
_A_COMPARISON = (
    r"(?:(?:i\s*(?:'d|\s+would)\s+like|give\s+me|show\s+me|can\s+i\s+(?:get|have)|i\s+want)"
    r"\s+)?an?\s+comparison\s+(?:of|between)"
)
#: What "which is ...: X or Y?" asks: "better", "more parameter-efficient", "faster" (not
#: "newer" or "more popular": an order of the two, read as one).
_BETTER = (
    r"(?:better|faster|cheaper|simpler|easier|stronger|quicker"
    r"|(?:more|less)\s+(?!recent|popular|upvoted|cited|authors)[\w-]+)"
)
_LEAD = re.compile(
    rf"^\s*(?:{_POLITE}(?:compare|contrast|put)|how (?:does|do|is|are)|{_A_COMPARISON}"
    r"|(?:what(?:'s| is| are) )?(?:the )?differences? between"
    rf"|which (?:one )?(?:is|works|does) {_BETTER}\W*(?:\s+(?:of|between)\b)?)\s+",
    re.I,
)
#: Words after the papers that are about neither: "... for me", "... side by side".
_TAIL = re.compile(
    r"\s+(?:for\s+(?:me|us)|side\s+by\s+side|(?:in|as)\s+(?:a\s+)?table(?:\s+form)?)(?=\W*$)",
    re.I,
)
#: What the comparison is for, said before the papers ("Which is better for X, A or B?").
_CONTEXT_FIRST = re.compile(r"^(?:for|in|at|on)\s+[^,]+,\s*", re.I)
#: What the comparison is about, after the papers: "... for talking portrait generation".
_CONTEXT = re.compile(r"\s+(?:as|for|in terms of|regarding|on the topic of)\s+", re.I)
#: A word that joins two papers, before which no clause is the comparison's context: "visual
#: prompting for adversarial robustness with randomized ensembles" is one paper's description.
_JOINED = re.compile(r"\b(?:with|versus|vs|against|and|or|to|from)\b|,", re.I)
#: Papers named together by what their titles share ("the two conformal risk control papers").
_GROUP = re.compile(r"^(?:the\s+)?(?P<n>both|two|three|four|five)\s+(?P<name>.+?)\s+papers$", re.I)
_GROUP_SIZES = {"both": 2, "two": 2, "three": 3, "four": 4, "five": 5}
#: An order said after the papers, as a clause, which names none of them: "..., newest first",
#: "sorted by date".
_ORDER_AFTER = re.compile(
    r"[\s,;]+(?:(?:newest|oldest|latest|earliest|most\s+recent)\s+first|(?:sorted|ordered|ranked)"
    r"\s+by\s+[\w\s-]+?)\s*(?=[?.!]*\s*$)",
    re.I,
)
#: More papers for the comparison just made: "add Shampoo", "include MARS too", "also compare
#: with Lion".
_ADD = re.compile(
    r"^\W*(?:(?:and|now|ok(?:ay)?|then|also)\b[\s,]*)*(?:please\s+)?(?:add|include|also\s+compare"
    r"(?:\s+(?:it|them))?(?:\s+(?:with|to|against))?)\s+(?P<more>.+?)(?:\s+(?:too|as\s+well"
    r"|to\s+(?:the|this|that)\s+(?:comparison|table)))?\s*[?.!]*\s*$",
    re.I,
)
#: "from" joins two papers ("how does X differ from Y"), but not after a paper named by where
#: or when it is from: "the newest paper from the 2010s" is one paper, not "2010s" beside it.
_FROM = r"(?<!\bpaper\s)(?<!\bpapers\s)(?<!\bone\s)(?<!\bones\s)\bfrom\b"
_SEPARATOR = re.compile(
    rf"\s*(?:,|\bwith\b|\bversus\b|\bvs\.?\b|\band\b|\bor\b|\bagainst\b|\bto\b|{_FROM})\s*",
    re.I,
)
#: What joins two papers however they are named ("X with Y", "X vs Y", "X to Y").
_BETWEEN_PAPERS = re.compile(
    rf"\s*(?:\bwith\b|\bversus\b|\bvs\.?\b|\bagainst\b|\bto\b|{_FROM})\s*", re.I
)
#: A paper named by what it is about, whose "and" joins two things it does.
_DESCRIPTION = re.compile(
    r"^(?:(?:the|a|an)\s+)?(?:paper|one|work|study)\s+(?:on|about|that|which)\s+"
    # "the implicit-reward view of SFT and DPO"
    r"|^(?:the|a|an)\s+(?:[\w-]+\s+){1,4}?(?:of|on|about)\s+",
    re.I,
)
#: Where a description's list ends and another paper begins: "and the paper on Y".
_NEXT_PAPER = re.compile(r"\s*(?:,|\band\b|\bor\b)\s*(?=(?:the|a|an)\s)", re.I)
_FILLER = re.compile(
    # "the paper on R-learning", "the one about X", "the X paper", "the paper from Google"
    r"^(?:(?:the|a|an)\s+)?(?:paper|one|work|study)\s+(?:on|about|for|that|which|from)\s+"
    r"|^(?:the|a|an)\s+(?:original\s+|first\s+)?|\s+(?:paper|one|work|approach|method)$"
    r"|\bdiffers?\b|\s+compare$",
    re.I,
)


#: A comparison asked for in so many words: "compare ...", "a comparison of", "side by side".
_OUTRIGHT = rf"^\s*{_POLITE}(?:compare|contrast)\b|\b{_A_COMPARISON}\b|\bside\s+by\s+side\b"
_VS = r"(?:vs\.?|versus)"
#: A side of "X vs Y": a word or two ("the Lipschitz GAIL paper" too), and what they are
#: compared for after the last ("Tree-OPO versus prompt replay for speeding up GRPO").
_VS_SIDE = r"\S+(?:\s+\S+)?(?:\s+paper)?"
_VS_FOR = r"(?:\s+(?:for|on|in|when)\s+[^?]+)?"
#: A choice asked between two: "Should I use SOAP or MARS?", "should we go with X or Y?".
_CHOOSE = (
    r"(?:should|would|could|do|can)\s+(?:i|we|you|one)\s+"
    r"(?:use|pick|choose|try|prefer|go\s+with|opt\s+for)"
)
_REQUEST = re.compile(
    rf"{_OUTRIGHT}"
    r"|\bhow (?:does|do) .+ differ\b|\bhow (?:is|are) .+ different\b"
    rf"|\bdifferences? between\b|^\s*which (?:one )?(?:is|works|does) {_BETTER}\b.+\bor\b"
    rf"|^\s*{_VS_SIDE}(?:\s+{_VS}\s+{_VS_SIDE})+{_VS_FOR}\s*\??\s*$"
    rf"|^\W*{_CHOOSE}\s+.+\bor\b|^\W*{_VS_SIDE}\s+or\s+{_VS_SIDE}{_VS_FOR}\s*\?\s*$"
    r"|^\s*how\s+do\s+(?:they|these|those)(?:\s+(?:papers|ones))?\s+compare\s*\??\s*$"
    r"|^\s*how\s+do\s+(?:all\s+)?(?:the\s+)?papers\s+(?:on|about)\s+.+\s+compare\s*\??\s*$",
    re.I,
)
#: A comparison asked in passing, its two sides: "What's the difference between SOAP and
#: Shampoo?", "SOAP vs MARS", "which is better, SOAP or Shampoo?", "How does SOAP differ from
#: Shampoo?". Asked of two methods ("Adam vs AdamW", "PPO or DPO"), it is a question for the
#: abstracts: compared, a paper mentioning each had been tabled as if it were that method.
_SIDE_END = r"\s*(?:[?.!]|\s(?:according|in|for|from|when|as|with\s+regard)\b|$)"
_IN_PASSING = [
    re.compile(rf"\bdifferences?\s+between\s+(?P<a>.+?)\s+and\s+(?P<b>.+?){_SIDE_END}", re.I),
    re.compile(
        rf"^\W*(?P<a>{_VS_SIDE})\s+{_VS}\s+(?P<b>{_VS_SIDE}"
        rf"(?:\s+{_VS}\s+{_VS_SIDE})*?){_VS_FOR}\s*\??\s*$",
        re.I,
    ),
    re.compile(
        rf"^\s*which\s+(?:one\s+)?(?:is|works|does)\s+{_BETTER}\b[\s,:]*(?:for\s+[^,:]+[,:]\s*)?"
        rf"(?P<a>.+?)\s+or\s+(?P<b>.+?){_SIDE_END}",
        re.I,
    ),
    re.compile(
        rf"\bhow\s+(?:does|do)\s+(?P<a>.+?)\s+differ\s+(?:from|with)\s+(?P<b>.+?){_SIDE_END}", re.I
    ),
    # "how is VICReg different from Barlow Twins?", "how are SOAP and MARS different?"
    re.compile(
        rf"\bhow\s+(?:is|are)\s+(?P<a>.+?)\s+different\s+(?:from|than|to)\s+(?P<b>.+?){_SIDE_END}",
        re.I,
    ),
    re.compile(rf"\bhow\s+are\s+(?P<a>.+?)\s+and\s+(?P<b>.+?)\s+different{_SIDE_END}", re.I),
    # "Should I use SOAP or MARS?", "SOAP or MARS for LLM pretraining?"
    re.compile(rf"^\W*{_CHOOSE}\s+(?P<a>.+?)\s+or\s+(?P<b>.+?){_SIDE_END}", re.I),
    re.compile(rf"^\W*(?P<a>{_VS_SIDE})\s+or\s+(?P<b>{_VS_SIDE}){_VS_FOR}\s*\?\s*$", re.I),
]
_EXPLICIT = re.compile(_OUTRIGHT, re.I)


#: A side that is a paper or points at one the last answer gave: "the Muon paper", "it", "the
#: second one", "[2]", "the latter".
_POINTS_BACK = re.compile(
    r"\b(?:papers?|it|one|first|second|third|fourth|fifth|last|former|latter|them|these|those"
    r"|both)\b|\[\d+\]",
    re.I,
)
#: How many of the papers a side's words find are searched for the one whose title it heads.
_HEAD_POOL = 10
#: How many papers may use a name that one of them, its title saying it, is named by.
_FEW_USERS = 5


def sides_in_passing(question: str) -> list[str] | None:
    """The sides of a comparison asked in passing (see _IN_PASSING), else None: also where
    it asks for a comparison in so many words ("compare", "side by side").

    >>> [sides_in_passing(q) for q in ("Explain the difference between Adam and AdamW "
    ...     "according to these papers", "SOAP vs Shampoo vs MARS",
    ...     "which is better, SOAP or Shampoo?", "Compare the difference between SOAP and MARS")]
    [['Adam', 'AdamW'], ['SOAP', 'Shampoo', 'MARS'], ['SOAP', 'Shampoo'], None]
    """
    if _EXPLICIT.search(question):
        return None
    for pattern in _IN_PASSING:
        match = pattern.search(question)
        if match:
            sides = [match["a"], *re.split(rf"\s+{_VS}\s+", match["b"], flags=re.I)]
            return [side.strip(" ,'\"") for side in sides]
    return None


#: "How does SOAP compare with Shampoo?", "how does it compare to Tree-OPO?": two papers named
#: in a few words each (``_NAMES_A_PAPER``). A longer side, or one in plain words, asks about a
#: field or a method ("How do transformers for time-series forecasting compare with linear
#: models?", "How does it compare with orthonormal init?"), answered from the abstracts.
#: A side that says it is a paper may be longer, in words that are not a phrase's joints: "how
#: does it compare with the online clustered codebook paper?" had been answered from the
#: abstracts, not with the table ("... with the results reported in the paper?" still is).
_PAPER_SIDE = (
    r"(?:the\s+)?(?:(?!(?:in|of|on|by|from|for|to|with|the|its|their|this|that)\b)\S+\s+){1,4}"
    r"paper"
)
_HOW_COMPARE = re.compile(
    r"^\s*how\s+(?:does|do|did|would)\s+"
    rf"(?P<a>{_PAPER_SIDE}|\S+(?:\s+\S+){{0,2}})\s+compare\s+(?:to|with|against)\s+"
    rf"(?P<b>{_PAPER_SIDE}|\S+(?:\s+\S+){{0,3}}?)\s*\??\s*$",
    re.I,
)
_NAMES_A_PAPER = re.compile(r"[A-Z]|\d|\b(?:it|paper|one)\b")
#: What a side says besides a paper's words: "the rotation trick paper".
_PLAIN_SIDE = re.compile(r"^(?:the|a|an)\s+|\s+(?:paper|method|approach|work)$", re.I)


def is_comparison(question: str, names_one: Callable[[str], bool] | None = None) -> bool:
    """Whether a chat message asks for a comparison ("compare X with Y", "how does X differ").

    In "how does X compare to Y", a side in plain words names a paper where ``names_one`` says
    so of it (see :meth:`Comparer.names_one`): "How does the rotation trick compare to SimVQ?",
    "How does conformal risk control compare to non-exchangeable conformal risk control?".

    >>> nickname = lambda side: side == "the rotation trick"
    >>> [is_comparison(q, nickname) for q in ("How does the rotation trick compare to SimVQ?",
    ...     "How does it compare with orthonormal init?", "How does the rotation trick work?",
    ...     "how does it compare with the online clustered codebook paper?",
    ...     "How does it compare with the results reported in the paper?")]
    [True, False, False, True, False]
    """
    sides = _HOW_COMPARE.match(question)
    if sides:
        named = [
            bool(_NAMES_A_PAPER.search(side)) or (names_one is not None and names_one(side))
            for side in (sides["a"], sides["b"])
        ]
        if all(named):
            return True
    return bool(_REQUEST.search(question))


def compared_turn(question: str, answer: str, titles: Sequence[str]) -> Turn:
    """A comparison of the papers ``titles`` (numbered from 1) as a turn of a conversation."""
    return Turn(
        question=question,
        answer=answer,
        rewritten_query=quoted_titles(titles),
        sources=dict(enumerate(titles, 1)),
    )


class Cell(BaseModel):
    """What one paper's abstract says about one aspect."""

    text: str
    citation: int = Field(description="The paper's number, as in [n].")
    supported: bool
    support: str = Field(description="supported / weak / unsupported / not stated")

    @property
    def mark(self) -> str:
        """ " ⚠" after a cell the check did not support, for the text exports."""
        return "" if self.supported or self.support == "not stated" else " ⚠"


class Comparison(BaseModel):
    """A comparison table: one column per paper, one row per aspect, and a short synthesis."""

    prompt: str
    papers: list[dict[str, str]] = Field(
        description="[{paper_id, title, year, link}], numbered from 1; link is the DOI or arXiv "
        "page, else the paper's URL, else empty."
    )
    aspects: list[str]
    cells: dict[str, dict[str, Cell]] = Field(description="paper_id -> aspect -> cell.")
    summary: str
    resolved_by: dict[str, str] = Field(default_factory=dict, description="paper_id -> how.")
    model: str = "extractive"
    support_checker: str = Field(
        "offline",
        description="Who judged the model's cells: the model (prompts/judge.txt) or offline.",
    )
    judge_error: str | None = Field(
        None, description="Why the model could not judge its cells, when it was asked to."
    )

    def turn(self) -> Turn:
        """The comparison as a turn of a conversation: its papers numbered as in the table and
        searched as their quoted titles, so that a follow-up ("Which of them is newer?", "Who
        wrote them?", "compare the first with X") asks about them."""
        return compared_turn(self.prompt, self.summary, [p["title"] for p in self.papers])

    def markdown(self, *, page: bool = False) -> str:
        """The table as Markdown; for a ``page``, with the papers' formulas kept for
        `markup.page_html` to typeset, else printed as text (a file, a terminal)."""
        # Titles, cells and the summary quote abstracts (or a model): escaped, so that no
        # Markdown renderer makes a link, an image, HTML or a column of them.
        latex = page_latex if page else plain_latex
        head = (
            "| aspect | "
            + " | ".join(
                f"[{i}] {markdown_text(inert_markers(latex(p['title'])))}"
                for i, p in enumerate(self.papers, 1)
            )
            + " |"
        )
        lines = [head, "|" + "---|" * (len(self.papers) + 1)]
        for aspect in self.aspects:
            row = [self.cells[p["paper_id"]][aspect] for p in self.papers]
            texts = [markdown_text(inert_markers(latex(c.text))) + c.mark for c in row]
            lines.append(f"| {markdown_text(inert_markers(aspect))} | " + " | ".join(texts) + " |")
        return "\n".join(lines) + f"\n\n{markdown_text(self.summary)}\n"

    def csv(self) -> str:
        """One row per paper, as a spreadsheet of papers wants it: its number, id, title, year
        and link, then one column per aspect (a cell the check did not support ends in ⚠)."""
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(["n", "id", "title", "year", "link", *map(csv_cell, self.aspects)])
        for n, paper in enumerate(self.papers, 1):
            cells = [self.cells[paper["paper_id"]][aspect] for aspect in self.aspects]
            writer.writerow(
                [
                    n,
                    csv_cell(paper["paper_id"]),
                    csv_cell(plain_latex(paper["title"])),
                    *(csv_cell(paper.get(k, "")) for k in ("year", "link")),
                    *(csv_cell(plain_latex(c.text) + c.mark) for c in cells),
                ]
            )
        return out.getvalue()


class _LLMTable(BaseModel):
    cells: dict[str, dict[str, str]]
    summary: str


class Comparer:
    """Resolves papers and builds comparisons: the retriever finds them, the model (if any)
    fills the table, the sentence bank checks each cell against its abstract."""

    def __init__(
        self,
        retriever: Retriever,
        model: ChatModel | None,
        bank: SentenceBank,
        settings: Settings,
    ) -> None:
        self.retriever = retriever
        self.model = model
        self.bank = bank
        self.aspects = AspectFinder(bank)
        self.settings = settings

    def asked(self, question: str, history: Sequence[Turn] = ()) -> bool:
        """Whether a chat message asks for a comparison, a side named by words of one paper's
        title included (see :func:`is_comparison` and :meth:`names_one`), or more papers for
        the comparison the last turn made ("add Shampoo")."""
        if history and _ADD.match(question) and self.asked(history[-1].question, history[:-1]):
            return True
        typed = is_comparison(question, self.names_one)
        if typed and self._sides_name_papers(question):
            return True
        # "what's the diffrence between SOAP and Shampoo?", "... different from simvq?": read as
        # the collection spells it, each had been answered as a question about the first
        spelled = self.spelled(question)
        if spelled == question or not (typed or is_comparison(spelled, self.names_one)):
            return False
        return self._sides_name_papers(spelled)

    def _sides_name_papers(self, question: str) -> bool:
        """Whether each side of a comparison asked in passing names a paper (one asked for in
        so many words has none to check)."""
        sides = sides_in_passing(question)
        return sides is None or all(self._names_paper(side) for side in sides)

    def spelled(self, prompt: str) -> str:
        """``prompt`` with its misspelt words read as the collection spells them (see
        LexicalIndex.corrections): "diffrence" is "difference"; and its names typed in lower
        case as the papers write them (LexicalIndex.cased): "simvq" is "SimVQ"."""
        index = self.retriever.lexical()
        cased = index.cased(prompt)
        return corrected(cased, index.corrections(cased, self.retriever.parser().words))

    def _names_paper(self, side: str) -> bool:
        """Whether one side of a comparison asked in passing names a paper: by id, quoted
        title, a title's leading name ("SOAP") or three words or more opening it, "the ...
        paper", a reference to the last answer ("it", "the second one"), or words of one title
        alone (:meth:`names_one`)."""
        if _ID.search(side) or _QUOTED.search(side) or _POINTS_BACK.search(side):
            return True
        plain = _PLAIN_SIDE.sub("", side)
        lexical = self.retriever.lexical()
        found = [paper for paper, _ in lexical.search(plain, _HEAD_POOL)]  # not every title
        if any(fold(title_name(p.title)) == fold(plain) for p in found):
            return True
        # Three words or more that open one title: "Multitask Prompt Tuning" (... Enables ...)
        opening = [p for p in found if f"{fold(p.title)} ".startswith(f"{fold(plain)} ")]
        if len(plain.split()) >= 3 and len(opening) == 1:
            return True
        if len(plain.split()) == 1 and re.search(r"[A-Z\d]", plain):
            # A name one paper uses ("SimVQ"), or few do and one title says ("Muon"); one many
            # papers use ("Adam", "PPO") is a method of theirs.
            saying = lexical.mentioning(plain)
            titled = [p for p in saying if mentions(p.title, plain)]
            return len(saying) == 1 or (len(saying) <= _FEW_USERS and len(titled) == 1)
        return self.names_one(side)

    def names_one(self, side: str) -> bool:
        """Whether ``side``, two words or more in plain words, names one paper: it is a whole
        title, or words in a row that its title says and no other paper's title or abstract
        does ("the rotation trick"). A method's name many papers use ("vector quantization",
        "model merging") names none of them."""
        words = _PLAIN_SIDE.sub("", side.strip())
        if len(fold(words).split()) < 2:
            return False
        saying = self.retriever.lexical().mentioning(words)
        if any(fold(paper.title) == fold(words) for paper in saying):
            return True
        pattern = mention_pattern(words)
        return len(saying) == 1 and pattern is not None and bool(pattern.search(saying[0].title))

    @classmethod
    def beside(cls, answerer: Answerer) -> Comparer:
        """A comparer sharing an answerer's retriever, model and sentence bank."""
        return cls(answerer.retriever, answerer.model, answerer.bank, answerer.settings)

    # -- resolution -----------------------------------------------------------------------

    def resolve(
        self, prompt: str, paper_ids: Sequence[str] = (), history: Sequence[Turn] = ()
    ) -> tuple[list[Paper], dict[str, str]]:
        """The papers ``prompt`` (and ``paper_ids``) refer to, and how each was found."""
        lexical = self.retriever.lexical()  # one snapshot for the whole resolution
        papers = lexical.papers
        by_id = {p.paper_id: p for p in papers}
        chosen: dict[str, str] = {}
        # The papers themselves: while a server indexes, a search can find one that the word
        # index (``papers``) does not hold yet.
        taken: dict[str, Paper] = {}

        def take(paper: Paper, how: str) -> None:
            chosen.setdefault(paper.paper_id, how)
            taken.setdefault(paper.paper_id, paper)

        for pid in [*paper_ids, *_ID.findall(prompt)]:
            if pid not in by_id:
                raise ResolutionError(
                    f"No paper with id {pid!r}",
                    hint="list ids with `assistant papers` (GET /v1/papers), or name the paper "
                    'by its title or short name in the prompt: "compare SOAP with MARS"',
                )
            take(by_id[pid], "id")
        # "Compare SOAP and MARS, newest first": the order had been read as a third paper
        text = _ORDER_AFTER.sub("", _ID.sub(" ", self.spelled(prompt)))
        last = history[-1] if history else None
        added = _ADD.match(text) if last and self.asked(last.question, history[:-1]) else None
        if last and added:  # "add Shampoo": the papers compared last, and the one it names
            for title in last.sources.values():
                take(self._title_match(title, papers), "compared in the last answer")
            text = added["more"]
        if history and not added:  # "compare it with the second one": of the last answer
            text = spelled_ordinals(text)  # "the secnd one" too
            earlier = earlier_turn(history)
            listed = listed_turn(history)
            for phrase, title in last_answer_reference(text, history[-1], earlier, listed):
                take(self._title_match(title, papers), f'"{phrase}" of the last answer')
                text = text.replace(phrase, " \u00a7 ", 1)
        cited = _CITED.search(text)
        if cited and history:
            numbered = history[-1].sources
            for number in (int(n) for n in re.findall(r"\d+", cited.group(1))):
                if number not in numbered:
                    cites = ", ".join(f"[{n}]" for n in sorted(numbered)) or "no source"
                    raise ResolutionError(
                        f"The last answer has no source [{number}]",
                        hint=f"it cites {cites}; name the papers by title instead",
                    )
                take(
                    self._title_match(numbered[number], papers),
                    f"source [{number}] of the last answer",
                )
            text = _LAST_ANSWER.sub(" ", text.replace(cited.group(0), " "))
        for match in _QUOTED.finditer(text):
            take(self._title_match(match.group(1), papers), f'title "{match.group(1)}"')
        text = _QUOTED.sub(" \u00a7 ", text)  # a part holding a quoted title is resolved
        # Metadata constraints ("the single-author papers ...") name the papers by themselves;
        # the question parser is cheap, so search only when it recognised some.
        lead = _TAIL.sub("", _LEAD.sub("", text))  # the papers, without the request
        parse = self.retriever.parser().parse
        # "the newest paper with the oldest one": each side is a paper an order names, where
        # read as one question the two orders had found one paper.
        ordered = len(parts := _parts(lead.strip(" ?."))) > 1 and any(
            parse(part).sort is not None for part in parts
        )
        constrained = not chosen and not ordered and parse(text).constraints
        on = None if chosen or constrained else _PAPERS_ON.search(_TAIL.sub("", text))
        topic = next((t for t in on.groups() if t), "") if on else ""
        if constrained:
            # (without the request, whose words are no topic: "Compare the two most upvoted
            # papers" had ranked papers on comparing, then sorted those)
            found = self.retriever.retrieve(lead or text)
            wanted = _FIRST_FEW.search(text)  # "the first two ICLR 2026 papers"
            few = count_said(wanted["n"]) if wanted else MAX_PAPERS
            for hit in found.hits[: min(few, MAX_PAPERS)]:
                take(hit.paper, "; ".join(found.query.constraints))
        elif topic and 2 <= len(saying := lexical.mentioning(topic)) <= MAX_PAPERS:
            # "Compare the papers on learning rate schedules": those whose title or abstract
            # says it. Read as one description, it had found one paper.
            for paper in saying:
                take(paper, f'mentions "{topic}"')
        else:
            first = _CONTEXT_FIRST.match(lead)
            lead = lead[first.end() :] if first else lead
            opens = list(_CONTEXT.finditer(lead))
            after = [m for m in opens if _JOINED.search(lead, 0, m.start())]
            start = (after or opens)[0].start() if opens else len(lead)
            context = lead[start:]
            core = lead[: len(lead) - len(context)]
            if first:
                context = f"{context} {first.group(0).strip(' ,')}"
            for part in _parts(core.strip(" ?.")):
                group = _GROUP.match(part.strip(" ()?.,"))
                if group:  # "the two conformal risk control papers": both whose titles say it
                    named = [p for p in papers if mentions(p.title, group["name"])]
                    if len(named) == _GROUP_SIZES[group["n"].lower()]:
                        for paper in named:
                            take(paper, f'title "{group["name"]}"')
                        continue
                if ordered and (sort := parse(part).sort) is not None:
                    found = self.retriever.retrieve(part.strip(" ()?.,"))
                    hits = [h for h in found.hits if h.paper.paper_id not in chosen]
                    if not hits:
                        raise ResolutionError(
                            f'No paper is "{part.strip()}" in the collection',
                            hint="name the paper by its title or id instead",
                        )
                    for hit in hits[: sort.count or 1]:
                        take(hit.paper, "; ".join(found.query.constraints))
                    continue
                part = _FILLER.sub("", part.strip(" ()?.,")).strip()
                if "\u00a7" in part or not part:
                    continue
                if len(content_words(part)) == 0 and not re.search(r"[A-Z]{2,}", part):
                    continue
                paper, how = self._describe(part, context, papers, set(chosen))
                take(paper, how)
        if len(chosen) < 2:
            raise ResolutionError(
                f"Found {len(chosen)} paper(s) in the prompt; a comparison needs 2 to {MAX_PAPERS}",
                hint='name them by title, id or description, e.g. "compare SOAP with MARS"',
            )
        if len(chosen) > MAX_PAPERS:
            raise ResolutionError(
                f"The prompt names {len(chosen)} papers; at most {MAX_PAPERS} fit a table",
                hint="narrow it down (fewer titles, or a narrower author/topic)",
            )
        return [taken[pid] for pid in chosen], chosen

    def _title_match(self, fragment: str, papers: Sequence[Paper]) -> Paper:
        """A paper whose title is, contains or closely resembles ``fragment``."""
        named = papers_named(fragment, papers)
        if len(named) == 1:
            return named[0]
        if len(named) > 1:
            raise ResolutionError(
                f'"{fragment}" matches {len(named)} titles: '
                + "; ".join(p.title for p in named[:5]),
                hint="quote more of the title, or give the paper id",
            )
        close = similar_titles(fragment, papers, n=1, cutoff=0.8)
        if close:
            return close[0]
        raise ResolutionError(
            f'No paper titled like "{fragment}"',
            hint="check the title with `assistant papers`, or describe the paper instead",
        )

    def _describe(
        self, part: str, context: str, papers: Sequence[Paper], taken: set[str]
    ) -> tuple[Paper, str]:
        """The paper a short name or description refers to: a title's leading name
        ("SOAP" for "SOAP: Improving ..."), a title fragment, or else the best search hit."""
        short = fold(part)
        named = [
            p for p in papers if fold(title_name(p.title)) == short and p.paper_id not in taken
        ]
        if len(named) == 1:
            return named[0], f'name "{part}"'
        try:
            paper = self._title_match(part, papers)
            # A short fragment counts when written like a name ("R-learning", "TECRL"):
            # a plain word ("pruning") may be in one title and describe another paper.
            if paper.paper_id not in taken and (len(part) >= 12 or not part.islower()):
                return paper, f'title "{part}"'
        except ResolutionError:
            pass
        found = self.retriever.retrieve(f"{part} {context}".strip(), 5, parse=False)
        hits = [h for h in found.hits if h.paper.paper_id not in taken]
        # An uncertain match resolves only a paper the part names by a rare title word.
        firm = found.coverage_verdict == "covered"
        called = bool(hits) and self.retriever.lexical().names(part, hits[0].paper, part=True)
        if not hits or not (firm or called):
            # The closest paper is said, for the user to confirm by its title: "the KL Shampoo
            # paper" is "... Shampoo Optimizer via Kullback-Leibler Minimization".
            closest = f' (the closest found is "{hits[0].paper.title}")' if hits else ""
            raise ResolutionError(
                f'Nothing in the collection matches "{part}"',
                hint=f"give its title or id{closest}; `assistant search` helps find it",
            )
        # A description usually names the paper in other words ("function vectors in LLMs"):
        # among the hits, the one whose title holds most of its words wins; max() keeps the
        # first of equals, so ties keep rank. Only hits near the best compete: one far behind
        # that shares a title word ("RLVR") is another paper on the topic.
        words = content_words(part)
        near = [h for h in hits if h.score >= hits[0].score - 1.0]
        best = max(near, key=lambda h: len(words & content_words(h.paper.title)))
        return best.paper, f'description "{part}"'

    # -- the table --------------------------------------------------------------------------

    def compare(
        self,
        prompt: str = "",
        paper_ids: Sequence[str] = (),
        aspects: Sequence[str] = (),
        history: Sequence[Turn] = (),
    ) -> Comparison:
        """Resolve the papers and compare them aspect by aspect."""
        papers, how = self.resolve(prompt, paper_ids, history)
        wanted = list(aspects) or DEFAULT_ASPECTS
        model = self.model
        if model is None:
            self.bank.prefetch(papers)
            cells = {p.paper_id: self._extract_cells(p, n, wanted) for n, p in enumerate(papers, 1)}
            summary = _summary(papers, cells, self.retriever.lexical().papers_using)
            name = "extractive"
            judged: tuple[str, str | None] = ("offline", None)
        else:
            cells, summary = self._generate(prompt, papers, wanted)
            judged = self._judge(papers, cells)
            name = model.name
        return Comparison(
            prompt=prompt,
            papers=[_row(p) for p in papers],
            aspects=wanted,
            cells=cells,
            summary=summary,
            resolved_by=how,
            model=name,
            support_checker=judged[0],
            judge_error=judged[1],
        )

    def _judge(
        self, papers: Sequence[Paper], cells: dict[str, dict[str, Cell]]
    ) -> tuple[str, str | None]:
        """Let the model judge its own cells against their abstracts, as answers' sentences
        are judged; (who judged, why the model could not)."""
        settings, model = self.settings, self.model
        stated = [
            (cell, paper)
            for paper in papers
            for cell in cells[paper.paper_id].values()
            if cell.support != "not stated"
        ]
        if model is None or not settings.llm.judge or not stated:
            return "offline", None
        try:
            verdicts = ModelJudge(model, settings).verdicts([(c.text, [p]) for c, p in stated])
        except AssistantError as exc:
            return "offline", f"{exc.describe()} (the offline checker's verdicts are shown)"
        for (cell, _), verdict in zip(stated, verdicts, strict=True):
            if verdict is not None:
                cell.support, cell.supported = verdict, verdict != "unsupported"
        missing = verdicts.count(None)
        note = (
            f"The model gave no verdict on {missing} of {len(verdicts)} cells; "
            "those keep the offline checker's verdict"
            if missing
            else None
        )
        return ("model" if missing < len(verdicts) else "offline"), note

    def _extract_cells(self, paper: Paper, n: int, aspects: Sequence[str]) -> dict[str, Cell]:
        """Per aspect, the sentence of the abstract stating it (see aspects.py), each sentence
        in one row at most (unless the abstract has fewer sentences than rows); else "not
        stated"."""
        sentences, _ = self.bank.sentences(paper)
        found = self.aspects.table(paper, [a for a in aspects if a != "venue/date"])
        cells: dict[str, Cell] = {}
        for aspect in aspects:
            text = (
                " · ".join(x for x in [paper.listed_in, paper.date] if x)
                if aspect == "venue/date"
                else ("" if (index := found[aspect]) is None else sentences[index])
            )
            cells[aspect] = Cell(
                text=text or NOT_STATED,
                citation=n,
                supported=bool(text) or aspect != "venue/date",
                support="supported" if text else "not stated",
            )
        return cells

    def _generate(
        self, prompt: str, papers: Sequence[Paper], aspects: Sequence[str]
    ) -> tuple[dict[str, dict[str, Cell]], str]:
        model = self.model
        assert model is not None
        prompt_file = load_prompt(self.settings, "compare")
        sources = "\n\n".join(
            f'<source id="{n}">\n[{n}] {p.title}\n{p.abstract}\n</source>'
            for n, p in enumerate(papers, 1)
        )
        messages = [
            {
                "role": "system",
                "content": prompt_file.fill(sources=sources, aspects=", ".join(aspects)),
            },
            {"role": "user", "content": prompt or "Compare these papers."},
        ]
        reply = model.complete(messages)
        try:
            table = _parse_table(reply, len(papers), aspects)
        except ValueError as first:
            messages += [
                {"role": "assistant", "content": reply},
                {
                    "role": "user",
                    "content": f"That was not valid: {first}. Reply with the JSON object only.",
                },
            ]
            reply = model.complete(messages)
            try:
                table = _parse_table(reply, len(papers), aspects)
            except ValueError as second:
                raise LLMResponseError(
                    f"The model's comparison is not valid JSON for the table, twice ({second})",
                    hint="try again, or a model that follows JSON instructions better",
                ) from second
        cells: dict[str, dict[str, Cell]] = {}
        for n, paper in enumerate(papers, 1):
            row: dict[str, Cell] = {}
            for aspect in aspects:
                text = table.cells.get(str(n), {}).get(aspect, "").strip() or NOT_STATED
                if text.lower().startswith("not stated"):
                    row[aspect] = Cell(
                        text=NOT_STATED, citation=n, supported=True, support="not stated"
                    )
                    continue
                evidence = check(text, paper, self.bank)
                row[aspect] = Cell(
                    text=text,
                    citation=n,
                    supported=evidence.verdict != "unsupported",
                    support=evidence.verdict,
                )
            cells[paper.paper_id] = row
        return cells, table.summary


def _parts(core: str) -> list[str]:
    """The papers a comparison names, one phrase each: split at "with", "vs", "to" ..., and
    at commas, "and" and "or" except inside a description ("the paper on amortised inference
    and meta-learned priors" is one paper).

    >>> _parts("SOAP, MARS and Shampoo")
    ['SOAP', 'MARS', 'Shampoo']
    >>> _parts("the PFN paper with the paper on amortised inference and meta-learned priors")
    ['the PFN paper', 'the paper on amortised inference and meta-learned priors']
    >>> _parts("Ra-DPO with the implicit-reward view of SFT and DPO")
    ['Ra-DPO', 'the implicit-reward view of SFT and DPO']
    >>> _parts("the survey of prompting and the paper on LoRA")
    ['the survey of prompting', 'the paper on LoRA']
    >>> _parts("the newest paper from the 2010s with SOAP"), _parts("SOAP differ from MARS")
    (['the newest paper from the 2010s', 'SOAP'], ['SOAP differ', 'MARS'])
    """
    parts: list[str] = []
    for piece in _BETWEEN_PAPERS.split(core):
        described = _DESCRIPTION.match(piece)
        parts += _NEXT_PAPER.split(piece) if described else _SEPARATOR.split(piece)
    return parts


def _parse_table(reply: str, count: int, aspects: Sequence[str]) -> _LLMTable:
    body = reply.strip()
    fenced = re.search(r"\{.*\}", body, re.S)
    try:
        table = _LLMTable.model_validate(json.loads(fenced.group(0) if fenced else body))
    except (json.JSONDecodeError, ValidationError) as exc:
        raise ValueError(str(exc).splitlines()[0]) from exc
    missing = [str(n) for n in range(1, count + 1) if str(n) not in table.cells]
    if missing:
        raise ValueError(f"no cells for source(s) {', '.join(missing)}")
    return table


def _summary(
    papers: Sequence[Paper],
    cells: dict[str, dict[str, Cell]],
    usage: Callable[[str], int] | None = None,
) -> str:
    """Extracted synthesis: what each paper is about and what it reports, cited, and the
    words they share, the rarest in the collection first (``usage``: how many papers use a
    word) as the first abstract writes them."""
    parts = []
    for n, paper in enumerate(papers, 1):
        row = cells[paper.paper_id]
        # Its method, else the first aspect it states, else its abstract's first sentence.
        order = sorted(row, key=lambda aspect: aspect != "method")
        told = [a for a in order if a != "venue/date" and row[a].support != "not stated"]
        stated = [row[a].text for a in told]
        said = stated[0] if stated else paper.abstract.split(". ")[0]
        parts.append(f"{paper.title.split(':')[0]} [{n}]: {said}")
    texts = [f"{p.title} {p.abstract}" for p in papers]
    shared = set.intersection(*map(content_words, texts)) if texts else set()
    written = _as_written(shared, papers[0]) if papers else {}
    rarest = sorted(shared, key=lambda w: (usage(written.get(w) or w) if usage else 0, w))
    listed = ", ".join(written.get(w) or w for w in rarest[:6])
    common = f" Words they share, rarest first: {listed}." if rarest else ""
    return "Extracted from the abstracts. " + " ".join(parts) + common


def _as_written(forms: set[str], paper: Paper) -> dict[str, str]:
    """Each of ``forms`` (content_words' forms) as ``paper`` first writes it inside a sentence
    ("Shampoo"), else lower-cased ("Empirical" opening one, or a word of the title).

    >>> paper = Paper(paper_id="p", title="Shampoo Again", abstract="Empirical: we tune Shampoo.")
    >>> _as_written({"empirical", "shampoo", "again"}, paper)
    {'empirical': 'empirical', 'shampoo': 'Shampoo', 'again': 'again'}
    """
    text = paper.abstract
    inside: dict[str, str] = {}
    opening: dict[str, str] = {}
    for match in re.finditer(r"\w+", f"{text} {paper.title}"):
        word = match.group(0)
        within = match.start() < len(text) and text[: match.start()].rstrip()[-1:] not in ".!?"
        for form in content_words(word) & forms:
            if within:
                inside.setdefault(form, word)
            else:
                opening.setdefault(form, word.lower() if word[1:].islower() else word)
    return {**opening, **inside}


def as_format(comparison: Comparison, fmt: str) -> str:
    if fmt == "md":
        return comparison.markdown()
    if fmt == "csv":
        return comparison.csv()
    return comparison.model_dump_json(indent=2)


def _row(paper: Paper) -> dict[str, str]:
    """What a comparison says of each of its papers, beside the cells."""
    year = str(paper.year or (paper.date or "")[:4])
    return {"paper_id": paper.paper_id, "title": paper.title, "year": year, "link": paper.link}
