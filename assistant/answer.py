"""question (+ history) -> Answer: retrieve, answer from the sources, check every citation."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator, Sequence
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, Field, ValidationError

from assistant.chunk import count_tokens, split_sentences
from assistant.config import Settings
from assistant.embed import load_embedder
from assistant.errors import AssistantError, LLMError, LLMResponseError
from assistant.llm import ChatModel, Message, Usage
from assistant.markup import MARKERS, inert_markers
from assistant.prompts import Prompt, load_prompt
from assistant.query import MAY_CONSTRAIN, Reading
from assistant.records import Filters, Hit, author_count, clean_text, counted
from assistant.retrieve import Retrieval, Retriever
from assistant.support import (
    ModelJudge,
    SentenceBank,
    Verdict,
    check,
    content_words,
    strip_citations,
)

REFUSAL_MARK = "NOT_IN_SOURCES"
_STRENGTH: list[Verdict] = ["unsupported", "weak", "supported"]
EXTRACTED_LABEL = "Extracted from the abstracts (no language model is configured):"
# Cue phrases for what an abstract contributes and what it found, as in classic extractive
# summarisation: a question names what it is after, and an answer also wants the paper's own
# statement of its method and result. On the dev questions, adding them raised the share of
# answer-note words in extracted answers from 0.27 to 0.49 (lookup) and 0.25 to 0.57 (multi)
# for 15 % more words.
_CONTRIBUTION = re.compile(
    r"\b(we|this (paper|work|study)|here,? we)\b[^.]{0,40}?"
    r"\b(propose|introduce|present|develop|design)"
    r"|\b(is|are) (proposed|introduced|presented)\b",
    re.IGNORECASE,
)
_FINDING = re.compile(
    r"\b(outperform|surpass|achiev|improv|reduc|gain|state-of-the-art|"
    r"(experiments?|results) (show|demonstrate)|we (show|find|demonstrate))",
    re.IGNORECASE,
)
_FIGURE = re.compile(r"\d")
# A question about what a paper cannot do, and the sentences of an abstract that say so. When
# an abstract has none, the answer says that rather than quote something else.
_LIMITATION_QUESTION = re.compile(
    r"\b(limitations?|limits|drawbacks?|weakness(?:es)?|shortcomings?|downsides?|caveats?|"
    r"disadvantages?|fail(?:s|ures?)?|where .{0,30} break)\b",
    re.I,
)
_LIMITATION = re.compile(
    r"\b(limitations?|limited (?:to|by)|drawbacks?|shortcomings?|cannot|can ?not|fails?\b|"
    r"failure|lossy|does not (?:scale|generali[sz]e|hold|apply|work)|at the (?:cost|expense) of|"
    r"remains? (?:an )?open|future work|trade-?off|restricted to|only (?:applies|works|holds))",
    re.I,
)
NO_LIMITATION = "its abstract states no limitation."
_STEP = re.compile(r"(first|second|third|then|next|finally|specifically)\b", re.I)
_HOW = re.compile(r"\s*how\b(?!\s+(much|many|accurate|often|long|large|well|fast|big)\b)", re.I)
# A sentence that opens by pointing back ("These schedules", "Such situations", "It"), but not
# the abstract's "This paper ..." which stands alone.
_ANAPHOR = re.compile(
    r"(this|these|those|such|it|its|they|their)\b(?!\s+(paper|work|study|article|thesis)\b)",
    re.IGNORECASE,
)
# What makes a question lean on the last turn. A demonstrative counts only before a word that
# names what was discussed or at the end ("those papers", "what about that?"), and "the paper"
# only when no clause describes a new one: "a network that stands in for ..." and "the paper
# that proposes X" ask afresh.
_BACK_NOUNS = (
    r"(?:papers?|ones?|methods?|works?|approach(?:es)?|models?|results?|stud(?:y|ies)|authors?"
    r"|list)"
)
_PRONOUN = re.compile(
    r"\b(?:it|its|they|them|their|he|she|his|her)\b"
    rf"|\b(?:this|that|these|those)\s+{_BACK_NOUNS}\b"
    r"|\b(?:this|that|these|those)\s*[?.!]?\s*$"
    r"|\bthe (?:paper|method|approach|model|authors)\b(?!\s+(?:that|which|who|where)\b)",
    re.IGNORECASE,
)
_ORDINALS = {"first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5, "last": -1}
#: A question with this many content words or more, and no reference back, stands alone.
_STANDALONE_WORDS = 3
_IT = re.compile(r"\b(?:it|this (?:paper|one)|that (?:paper|one))\b", re.IGNORECASE)
_ORDINAL_REF = re.compile(
    r"\bthe (first|second|third|fourth|fifth|last) (?:one|paper|source|result)\b", re.IGNORECASE
)


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
        None, description="Share of the question's term weight (IDF) found in the top paper."
    )
    lexical_threshold: float | None = None
    matching: int = Field(description="Papers passing the question's metadata constraints.")
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
        return cls(
            question=answer.question,
            answer=answer.answer,
            rewritten_query=answer.receipt.rewritten_query,
            sources={c.n: c.title for c in answer.citations},
        )


#: Share of the best paper's retrieval score another paper needs to be quoted in an extracted
#: answer. Retrieval scores are z-scores over the candidates, so this asks a paper to stand
#: out from the pool at least this much as far as the best one does. On the dev questions it
#: keeps every gold paper of the top three (multi-paper ones at 0.59 or more), and drops most
#: bystanders of lookups (0.19-0.56).
_SPEAKING_SHARE = 0.4
_SEVERAL = re.compile(
    r"\b(?:which|what|any|list|find|show|name)\s+(?:\w+\s+){0,2}(?:papers|works|articles)\b"
    r"|\bpapers\s+(?:that|which|on|about|where|using)\b",
    re.IGNORECASE,
)
#: How far below the best paper's best sentence its second best may score and still be quoted
#: (score: cosine to the question + half the share of its words). With the bystander papers
#: gone, the best paper's second sentence on the question is often the one stating the answer
#: ("whereas FO stability is governed by the largest eigenvalue, ZO stability depends on the
#: entire Hessian spectrum"); at 0.1 it was left out.
_SECOND_SENTENCE_GAP = 0.3


def transcript(turns: Sequence[Turn]) -> str:
    """A conversation as Markdown: each question, its answer with [n] markers, and the papers
    behind the numbers it cites."""
    parts = ["# Conversation with the collection"]
    for turn in turns:
        parts.append(f"## {turn.question.strip()}\n\n{turn.answer.strip()}")
        if turn.sources:
            listed = "\n".join(f"[{n}] {title}  " for n, title in sorted(turn.sources.items()))
            parts.append(f"Sources:\n\n{listed}")
    return "\n\n".join(parts) + "\n"


def last_answer_reference(text: str, turn: Turn) -> list[tuple[str, str]]:
    """The papers of ``turn`` that ``text`` points at, as (phrase, title): "the second one" is
    its source [2], "the last one" its last, and "it" or "this paper" the first it cited.

    >>> turn = Turn(question="q", answer="a", sources={1: "SOAP", 2: "MARS"})
    >>> last_answer_reference("Compare it with the second one", turn)
    [('it', 'SOAP'), ('the second one', 'MARS')]
    """
    numbered = turn.cited_titles
    found: list[tuple[int, str, str]] = []  # (where in the text, phrase, title)
    for match in _ORDINAL_REF.finditer(text):
        title = _nth(numbered, match.group(1))
        if title is not None:
            found.append((match.start(), match.group(0), title))
    blanked = _ORDINAL_REF.sub(lambda m: " " * len(m.group(0)), text)  # "one" is not "it"
    pointer = _IT.search(blanked)
    if pointer and numbered:
        found.append((pointer.start(), pointer.group(0), numbered[0]))
    return [(phrase, title) for _, phrase, title in sorted(found)]


def _nth(titles: Sequence[str], ordinal: str) -> str | None:
    """The title "the <ordinal> one" names ("second", "last"), if there is one."""
    n = _ORDINALS[ordinal.lower()]
    index = n - 1 if n > 0 else n
    return titles[index] if -len(titles) <= index < len(titles) else None


def refers_back(question: str) -> bool:
    """Whether ``question`` points at the conversation so far: a pronoun ("its limitations"),
    a demonstrative before what was discussed ("those papers"), or "the second one"."""
    return bool(_PRONOUN.search(question) or _ORDINAL_REF.search(question))


def condense_rule(question: str, history: Sequence[Turn], *, self_contained: bool = False) -> str:
    """A standalone question without a model: resolve "the second one" to a title, and give a
    question that leans on the last turn ("what are its limitations?") that turn's topic.

    A question that does not refer back starts afresh when it is ``self_contained`` (it states
    its own constraints, such as "posted in 2024") or has three content words or more: nothing
    of an earlier turn's topic or constraints leaks into it.
    """
    if not history or (self_contained and not refers_back(question)):
        return question
    last = history[-1]
    ordinal = _ORDINAL_REF.search(question)
    title = _nth(last.cited_titles, ordinal.group(1)) if ordinal else None
    if ordinal and title is not None:
        return question[: ordinal.start()] + f'"{title}"' + question[ordinal.end() :]
    if _PRONOUN.search(question) or len(content_words(question)) < _STANDALONE_WORDS:
        topic = last.rewritten_query or last.question
        about = f"{last.cited_titles[0]}; {topic}" if last.cited_titles else topic
        return f"{question} (about: {about})"
    return question


def _source_block(hits: Sequence[Hit]) -> str:
    blocks = []
    for n, hit in enumerate(hits, 1):
        paper = hit.paper
        venue = paper.venue or ", ".join(paper.sources) or "unknown venue"
        text = paper.abstract
        blocks.append(
            f'<source id="{n}">\n[{n}] {paper.title} ({venue}, {paper.date or "undated"})\n'
            f"{text}\n</source>"
        )
    return "\n\n".join(blocks)


def parse_markers(text: str, sources: int) -> tuple[str, int]:
    """``text`` without markers citing no source (1..``sources``), and how many were removed."""
    removed = 0

    def keep(match: re.Match[str]) -> str:
        nonlocal removed
        numbers = [int(x) for x in re.split(r"\s*[,;]\s*", match.group(1))]
        valid = [n for n in numbers if 1 <= n <= sources]
        removed += len(numbers) - len(valid)
        return "".join(f"[{n}]" for n in valid)

    cleaned = MARKERS.sub(keep, text)
    return re.sub(r"[ \t]+([.,;:])", r"\1", cleaned).strip(), removed


class Answerer:
    """Answers from the collection: generative with a configured model, else extractive."""

    def __init__(
        self,
        settings: Settings,
        retriever: Retriever | None = None,
        model: ChatModel | None = None,
    ) -> None:
        self.settings = settings
        self.retriever = retriever or Retriever(settings)
        if model is None and settings.llm.configured:
            model = ChatModel(settings.llm)
        self.model = model
        # Sentence scoring and the support thresholds are calibrated on MiniLM's similarities,
        # so the bank keeps MiniLM whichever model retrieval embeds with.
        self.bank = SentenceBank(
            load_embedder(settings.embed.model_copy(update={"model": "minilm"}))
        )

    def close(self) -> None:
        self.retriever.close()
        if self.model is not None:
            self.model.close()

    def ask(
        self, question: str, history: Sequence[Turn] = (), filters: Filters | None = None
    ) -> Answer:
        """The whole answer (see :meth:`stream`)."""
        for event in self.stream(question, history, filters):
            if isinstance(event, Answer):
                return event
        raise AssertionError("stream() always ends with an Answer")

    def stream(
        self, question: str, history: Sequence[Turn] = (), filters: Filters | None = None
    ) -> Iterator[Retrieval | str | Answer]:
        """Yield what was retrieved, then the answer's text as it is produced, then the
        checked :class:`Answer`.

        The streamed text is the model's raw output; the Answer's text has invalid citation
        markers removed. The Retrieval comes first so that a caller can show the sources
        even if the model then fails.
        """
        question = clean_text(question)
        if not question.strip():
            raise AssistantError(
                "The question is empty",
                hint='ask something about the papers, e.g. "which papers prune layers of LLMs?"',
            )
        stages: dict[str, float] = {}
        clock = time.perf_counter()

        def lap(name: str) -> None:
            nonlocal clock
            now = time.perf_counter()
            stages[name] = round((now - clock) * 1000, 2)
            clock = now

        standalone = self._condense(question, history)
        lap("condense")
        reading, read_error = self.read(standalone)
        if reading is not None or read_error is not None:
            lap("read")
        expansion, expand_error = self.expand(standalone)
        if expansion is not None or expand_error is not None:
            lap("expand")
        found = self.retriever.retrieve(
            standalone,
            self.settings.retrieval.top_k,
            filters,
            expansion=expansion or "",
            listing_k=self.settings.retrieval.list_max,
            reading=reading,
        )
        lap("retrieve")
        receipt = Receipt(
            question=question,
            rewritten_query=standalone,
            expansion=expansion,
            expand_error=expand_error,
            constraints_by="model" if reading is not None else "rules",
            read_error=read_error,
            recognised=found.query.recognised,
            unread=found.query.unread,
            retrieved=[
                {
                    "n": h.rank,
                    "paper_id": h.paper.paper_id,
                    "title": h.paper.title,
                    "score": h.score,
                    "similarity": h.similarity,
                }
                for h in found.hits
            ],
            model=self.model.name if self.model else "extractive",
        )
        if (
            not found.covered
            and history
            and standalone != question
            and found.hits
            and found.hits[0].paper.title in history[-1].cited_titles
        ):
            # A follow-up about a paper the last answer cited is covered by that paper.
            found.covered, found.uncertain = True, False
        coverage = _coverage(found)
        yield found

        def refusal(text: str) -> Answer:
            receipt.stage_ms = stages
            return Answer(
                question=question,
                answer=text,
                extractive=self.model is None,
                refused=True,
                coverage=coverage,
                receipt=receipt,
            )

        by_model = (
            self.model is not None and self.settings.llm.coverage == "model" and bool(found.hits)
        )
        if by_model:
            # The model reads the sources and says NOT_IN_SOURCES when they do not answer:
            # a better judge than a similarity threshold, which refuses some paraphrased
            # questions and lets some absent topics through.
            coverage.decided_by, coverage.threshold_verdict = "model", found.covered
            coverage.covered, coverage.verdict = True, "covered"
            coverage.caveat = _unread_note(found)
        if not coverage.covered:
            text = self._refusal_text(found)
            yield text
            lap("refuse")
            yield refusal(text)
            return
        if self.model is None:
            raw = self._extract(standalone, found)
            # Line by line, as a model would stream it, so that clients see it arrive.
            yield from raw.splitlines(keepends=True)
            lap("extract")
            # No model read a prompt; the counts say what the question and the answer weigh.
            receipt.prompt_tokens, receipt.completion_tokens = (
                count_tokens(question),
                count_tokens(raw),
            )
            receipt.token_source = "tiktoken"
        else:
            prompt = load_prompt(self.settings, "answer")
            receipt.prompt_file, receipt.prompt_sha256 = prompt.path, prompt.digest
            messages = self._messages(prompt, question, history, found.hits)
            lap("prompt")
            parts: list[str] = []
            usage = Usage()
            guard = _InstructionGuard(prompt.text)
            try:
                for raw_piece in self.model.stream(messages, usage):
                    # A model's output is as untrusted as the abstracts it read: no control
                    # characters reach a terminal or a log.
                    piece = clean_text(raw_piece)
                    if not parts:
                        lap("first_token")
                    parts.append(piece)
                    if guard.repeated("".join(parts)):  # stop streaming before it goes further
                        lap("generate")
                        yield refusal(
                            "The model began repeating its own instructions instead of "
                            "answering, so its answer was withheld. Ask about the papers "
                            "themselves."
                        )
                        return
                    yield piece
                lap("generate")
                raw = "".join(parts)
                if not raw.strip():
                    raise LLMResponseError(
                        f"The model at {self.model.where} sent an empty answer",
                        hint="ask again, or try another model",
                    )
            except LLMError as exc:  # every caller can still show what was retrieved
                exc.sources = found.hits
                raise
            if usage.prompt_tokens is not None:
                receipt.prompt_tokens, receipt.completion_tokens = (
                    usage.prompt_tokens,
                    usage.completion_tokens,
                )
                receipt.token_source = "server"
            else:
                receipt.prompt_tokens = sum(count_tokens(m["content"]) for m in messages)
                receipt.completion_tokens = count_tokens(raw)
                receipt.token_source = "tiktoken"
            if raw.strip().startswith(REFUSAL_MARK):
                lap("check")
                coverage.covered, coverage.verdict = False, "not_covered"
                yield refusal(self._refusal_text(found, by_model=True))
                return
        text, receipt.invalid_citations = parse_markers(raw, len(found.hits))
        text, claims, citations = self._check(text, found.hits, receipt, question)
        lap("check")  # includes "judge", the model's part of the check, when it ran
        answer = Answer(
            question=question,
            answer=text,
            extractive=self.model is None,
            refused=False,
            citations=citations,
            claims=claims,
            coverage=coverage,
            receipt=receipt,
        )
        held, judged = answer.held_claims()
        if judged:
            answer.grounded_share = round(held / judged, 3)
            share = held / judged
            answer.grounded = self.model is None or share >= self.settings.llm.grounded_at
        if not answer.grounded:
            answer.extracted = self._extract(standalone, found).replace(
                EXTRACTED_LABEL, "Extracted from the same abstracts:", 1
            )
            lap("extract")
        receipt.stage_ms = stages | receipt.stage_ms
        yield answer

    # -- steps ------------------------------------------------------------------------------

    def _condense(self, question: str, history: Sequence[Turn]) -> str:
        if not history:
            return question
        parsed = self.retriever.parser().parse(question)
        self_contained = not parsed.filters.empty or parsed.sort is not None
        if self.model is None:
            return condense_rule(question, history, self_contained=self_contained)
        if not refers_back(question) and (
            self_contained or len(content_words(question)) >= _STANDALONE_WORDS
        ):
            return question  # a new question: no model call, and nothing of the last turn
        condense = load_prompt(self.settings, "condense")
        transcript = "\n".join(
            f"User: {t.question}\nAssistant: {strip_citations(t.answer)[:600]}"
            for t in history[-3:]
        )
        prompt = condense.fill(history=transcript, question=question)
        rewritten = self.model.complete([{"role": "user", "content": prompt}]).strip()
        return rewritten.splitlines()[0].strip() if rewritten else question

    def read(self, question: str) -> tuple[Reading | None, str | None]:
        """(the model's reading of the question's constraints, or None; why it is missing, if
        the model was asked and its reply did not check out).

        Asked only with a model configured, ``llm.read_filters`` on, and a question that may
        state a constraint (the rules recognised one, or it names a field or a year). The reply
        must be the JSON of a :class:`Reading`, dates and counts valid; otherwise the rules read
        the question.
        """
        if self.model is None or not self.settings.llm.read_filters:
            return None, None
        parsed = self.retriever.parser().parse(question)
        if not (parsed.recognised or parsed.unread or MAY_CONSTRAIN.search(question)):
            return None, None
        fields = "\n".join(
            f"  - {name}: {info.description}" for name, info in Filters.model_fields.items()
        )
        venues = ", ".join(self.retriever.parser().vocab.venues) or "none"
        try:
            prompt = load_prompt(self.settings, "filters").fill(
                fields=fields, venues=venues, question=question
            )
            reply = self.model.complete([{"role": "user", "content": prompt}])
        except AssistantError as exc:
            return None, f"{exc.describe()} (the rules read the question)"
        start, end = reply.find("{"), reply.rfind("}")  # past a ```json fence or a preamble
        text = reply[start : end + 1] if start >= 0 else reply
        try:
            return Reading.model_validate_json(text), None
        except ValidationError as exc:
            problem = exc.errors()[0]
            where = ".".join(str(part) for part in problem["loc"]) or "the reply"
            return None, (
                f"The model's reading of the constraints did not check out ({where}: "
                f"{problem['msg']}); the rules read the question"
            )

    def expand(self, question: str, *, always: bool = False) -> tuple[str | None, str | None]:
        """(the model's sketch of a matching paper, or None; why it is missing, if it failed).

        Asked only with ``llm.expand`` on (or ``always``) and a model configured. A failed
        expansion does not stop the answer: retrieval then uses the question alone.
        """
        if self.model is None or not (self.settings.llm.expand or always):
            return None, None
        try:
            prompt = load_prompt(self.settings, "expand").fill(question=question)
            sketch = self.model.complete([{"role": "user", "content": prompt}]).strip()
        except AssistantError as exc:
            return None, f"{exc.describe()} (searched with the question alone)"
        return (sketch or None), (None if sketch else "The model's expansion was empty")

    def _messages(
        self, prompt: Prompt, question: str, history: Sequence[Turn], hits: Sequence[Hit]
    ) -> list[Message]:
        system = prompt.fill(sources=_source_block(hits))
        messages: list[Message] = [{"role": "system", "content": system}]
        for turn in history[-3:]:
            messages.append({"role": "user", "content": turn.question})
            messages.append({"role": "assistant", "content": turn.answer})
        messages.append({"role": "user", "content": question})
        return messages

    def _extract(self, question: str, found: Retrieval) -> str:
        """The abstracts' sentences that best answer ``question``, grouped by paper, cited.

        A sentence scores by its cosine to the question plus half the share of the question's
        content words it contains; which of a paper's sentences are quoted (in the abstract's
        order) is up to ``_quotes``. The best paper always speaks. The second and third speak
        when their retrieval score (how far the paper stands above the other candidates) is
        at least ``_SPEAKING_SHARE`` of the best one's (any score, when the question asks for
        papers in the plural); the fourth and fifth must also be closer
        than an absent topic's best match usually is (the calibration's ``absent_median``). A lookup
        then cites its paper, not two bystanders. Papers listed by metadata (ordered by date,
        authors, upvotes) all speak.
        """
        threshold = found.absent_median or 0.0
        ranked = found.query.sort is None and not found.query.listing
        # A question asking for papers, plural, wants every one that answers it: no bar.
        several = bool(_SEVERAL.search(question))
        bar = 0.0 if several else _SPEAKING_SHARE * max((h.score for h in found.hits), default=0.0)

        def speaks(n: int, hit: Hit) -> bool:
            if n == 1:
                return True
            if ranked and bar > 0 and hit.score < bar:
                return False
            return n <= 3 or (hit.similarity or 0.0) >= threshold

        chosen = [(n, hit) for n, hit in enumerate(found.hits, 1) if speaks(n, hit)]
        wanted = content_words(question)
        vector = self.bank.embed([question])[0]
        scored: list[tuple[float, int, Hit, list[tuple[int, str]]]] = []
        for n, hit in chosen:
            sentences, vectors = self.bank.sentences(hit.paper)
            similarity = vectors @ vector
            marks = []
            for i, sentence in enumerate(sentences):
                words = content_words(sentence)
                overlap = len(wanted & words) / len(wanted) if wanted else 0.0
                marks.append((float(similarity[i]) + 0.5 * overlap, i, sentence))
            marks.sort(reverse=True)
            if _LIMITATION_QUESTION.search(question):
                # The sentences that state a limitation, best first (two at most); a paper
                # whose abstract states none says so, or, past the first, stays silent.
                said = {i: t for _, i, t in marks if _LIMITATION.search(t)}
                said = dict(sorted(said.items(), key=lambda kv: -similarity[kv[0]])[:2])
                if not said and n > 1:
                    continue
            else:
                said = _quotes(question, sentences, marks, best_paper=n == 1)
            scored.append((marks[0][0], n, hit, sorted(said.items())))
        top = max(s[0] for s in scored)
        lines = [EXTRACTED_LABEL, ""]
        if found.query.listing:
            lines[1:1] = ["", listing_note(found)]
        for best, n, hit, picked in scored:
            if best < top - 0.25 and n > 3:
                continue
            cited = " ".join(_cite(sentence, n) for _, sentence in picked) or NO_LIMITATION
            facts = f" ({_facts(hit)})" if found.query.recognised else ""
            lines.append(f"- **{inert_markers(hit.paper.title)}**{facts}: {cited}")
        return "\n".join(lines)

    def _check(
        self, text: str, hits: Sequence[Hit], receipt: Receipt, question: str = ""
    ) -> tuple[str, list[Claim], list[Citation]]:
        """The text (with the citations the checker added), its claims and the citations they
        use, each checked offline and, when a model is configured (and ``llm.judge`` is on), by
        the model as well.

        Every sentence of a model's answer gets a verdict, cited or not: an uncited one is
        checked against every retrieved abstract, cited where one supports it (``added``) and
        marked ``uncited`` where none does. Sentences that restate the question or say that
        the sources do not answer it are not claims.
        """
        claims: list[Claim] = []
        # per source number: (verdict, offline score, closest abstract sentence) of each claim
        verdicts: dict[int, list[tuple[Verdict, float, str]]] = {}
        body = text.removeprefix(EXTRACTED_LABEL)
        sentences = [
            s
            for line in body.splitlines()
            for s in split_sentences(re.sub(r"^\s*[-*]\s+(\*\*[^*]+\*\*:\s*)?", "", line))
        ]
        # A marker that opens the next "sentence" belongs to the one before it.
        merged: list[str] = []
        for sentence in sentences:
            if merged and re.fullmatch(r"(\[\d+\]\s*)+[.,;]?", sentence):
                merged[-1] += " " + sentence
            else:
                merged.append(sentence)
        cited_sentences = [(s, [int(n) for n in re.findall(r"\[(\d+)\]", s)]) for s in merged]
        # A model's uncited sentences are claims too (the extractive answer's uncited lines are
        # our own notes, such as how many papers a list holds).
        checked = [
            bool(numbers) or (self.model is not None and bool(hits) and _is_claim(s, question))
            for s, numbers in cited_sentences
        ]
        to_embed = [
            strip_citations(s)
            for (s, _), is_claim in zip(cited_sentences, checked, strict=True)
            if is_claim
        ]
        vectors = iter(self.bank.embed(to_embed) if to_embed else np.zeros((0, 384)))
        evidence: list[list[tuple[int, Verdict, float, str]]] = []  # per claim, per source
        for (sentence, numbers), is_claim in zip(cited_sentences, checked, strict=True):
            if not is_claim:
                claims.append(Claim(text=sentence, citations=[]))
                evidence.append([])
                continue
            vector = next(vectors)
            if not numbers:
                # Whichever retrieved abstract supports it best, if any does, is its source.
                tried = [
                    (check(sentence, hit.paper, self.bank, vector), n)
                    for n, hit in enumerate(hits, 1)
                ]
                best_found, n = max(tried, key=lambda t: t[0].score)
                if best_found.verdict != "supported":
                    claims.append(Claim(text=sentence, citations=[], support="uncited"))
                    evidence.append([])
                    receipt.uncited_sentences += 1
                    continue
                receipt.added_citations += 1
                claims.append(
                    Claim(
                        text=sentence,
                        citations=[n],
                        support=best_found.verdict,
                        score=best_found.score,
                        added=True,
                    )
                )
                evidence.append([(n, best_found.verdict, best_found.score, best_found.sentence)])
                continue
            results = [check(sentence, hits[n - 1].paper, self.bank, vector) for n in numbers]
            best = max(results, key=lambda e: e.score)
            claims.append(
                Claim(text=sentence, citations=numbers, support=best.verdict, score=best.score)
            )
            evidence.append(
                [(n, e.verdict, e.score, e.sentence) for n, e in zip(numbers, results, strict=True)]
            )
        judged = self._judge(claims, hits, receipt)
        for claim, found, verdict in zip(claims, evidence, judged, strict=True):
            if verdict is not None and claim.support != "uncited":
                claim.offline_support, claim.support = claim.support, verdict
            for n, offline, score, sentence in found:
                # The model judges the claim as a whole; offline, each source separately.
                verdicts.setdefault(n, []).append((verdict or offline, score, sentence))
        for claim in claims:  # the checker's citations go into the text, as a model's would
            if claim.added:
                original = claim.text
                start = text.find(original)
                if start >= 0:
                    claim.text = _cite(original, claim.citations[0])
                    text = text[:start] + claim.text + text[start + len(original) :]
        cursor = 0
        for claim in claims:
            start = text.find(claim.text, cursor)
            if start >= 0:
                claim.span = (start, start + len(claim.text))
                cursor = start + len(claim.text)
        citations = []
        for n in sorted(verdicts):
            # A source is as supported as the weakest claim that cites it.
            worst = min((v for v, _, _ in verdicts[n]), key=_STRENGTH.index)
            citations.append(
                Citation(
                    n=n,
                    paper_id=hits[n - 1].paper.paper_id,
                    title=hits[n - 1].paper.title,
                    supported=worst != "unsupported",
                    support=worst,
                    evidence=max(verdicts[n], key=lambda v: v[1])[2],
                    spans=[c.span for c in claims if n in c.citations and c.span is not None],
                )
            )
        return text, claims, citations

    def _judge(
        self, claims: Sequence[Claim], hits: Sequence[Hit], receipt: Receipt
    ) -> list[Verdict | None]:
        """The model's verdict on each claim (None: not asked, or it gave none).

        If the model cannot judge, the answer is kept with the offline verdicts, and
        ``receipt.judge_error`` says why.
        """
        cited = [i for i, c in enumerate(claims) if c.citations]
        receipt.support_checker = "offline" if cited else "none"
        judged: list[Verdict | None] = [None] * len(claims)
        if self.model is None or not self.settings.llm.judge or not cited:
            return judged
        started = time.perf_counter()
        try:
            found = ModelJudge(self.model, load_prompt(self.settings, "judge")).verdicts(
                [(claims[i].text, [hits[n - 1].paper for n in claims[i].citations]) for i in cited]
            )
        except AssistantError as exc:
            receipt.judge_error = f"{exc.describe()} (the offline checker's verdicts are shown)"
            return judged
        finally:
            receipt.stage_ms["judge"] = round((time.perf_counter() - started) * 1000, 2)
        for i, verdict in zip(cited, found, strict=True):
            judged[i] = verdict
        missing = found.count(None)
        if missing < len(found):
            receipt.support_checker = "model"
        if missing:
            receipt.judge_error = (
                f"The model gave no verdict on {missing} of {len(found)} claims; "
                "those keep the offline checker's verdict"
            )
        return judged

    def _refusal_text(self, found: Retrieval, *, by_model: bool = False) -> str:
        reason = (
            "The retrieved papers do not answer this question."
            if by_model
            else "The collection does not seem to cover this question."
        )
        if not found.hits:
            return (
                f"{reason} No paper matches its constraints "
                f"({'; '.join(found.query.recognised) or 'none recognised'})."
            )
        nearest = "; ".join(
            f'"{inert_markers(h.paper.title)}" (similarity {h.similarity or 0:.2f})'
            for h in found.hits[:3]
        )
        related = sum(1 for h in found.hits if (h.similarity or 0.0) >= (found.threshold or 1.0))
        return (
            f"{reason} The nearest papers are {nearest}; {related} of the "
            f"{len(found.hits)} closest papers reach the collection's relevance threshold. "
            "Nothing here is answered from general knowledge."
        )


class _InstructionGuard:
    """Notices a model reciting its system prompt (asked to by an injected question or
    abstract): any run of ``words`` consecutive words of the prompt's instructions, the part
    before the sources, found in the answer."""

    def __init__(self, template: str, words: int = 6) -> None:
        head = re.findall(r"\w+", template.split("$sources")[0].lower())
        self.words = words
        self.runs = {tuple(head[i : i + words]) for i in range(len(head) - words + 1)}

    def repeated(self, text: str) -> bool:
        found = re.findall(r"\w+", text.lower())
        return any(
            tuple(found[i : i + self.words]) in self.runs
            for i in range(len(found) - self.words + 1)
        )


def _quotes(
    question: str,
    sentences: Sequence[str],
    marks: Sequence[tuple[float, int, str]],
    *,
    best_paper: bool,
) -> dict[int, str]:
    """The sentences of one abstract to quote, by position; ``marks`` are (score, position,
    sentence) best first.

    The best paper says more: two sentences on the question (the second unless it scores
    ``_SECOND_SENTENCE_GAP`` below the first), its contribution and its finding (four at most),
    and for a "how" question the sentences after its contribution that say how. The others say
    one sentence on the question and their contribution (two at most).
    """
    best = marks[0][0]
    room, cues, most = (2, (_CONTRIBUTION, _FINDING), 4) if best_paper else (1, (_CONTRIBUTION,), 2)
    keep = [
        m for m in marks[:room] if m[0] >= best - _SECOND_SENTENCE_GAP and len(m[2].split()) >= 5
    ]
    said = {i: sentence for _, i, sentence in keep or marks[:1]}
    after = -1  # a finding comes after the contribution (before it: earlier work's)
    contribution = None
    for cue in cues:
        matching = [
            i
            for i, t in enumerate(sentences)
            if i > after
            and cue.search(t)
            and len(t.split()) >= 5
            and (cue is _CONTRIBUTION or i not in said)
        ]
        if cue is _FINDING:  # a finding with figures says more than "outperforms"
            matching.sort(key=lambda i: not _FIGURE.search(sentences[i]))
        if matching:
            after = matching[0]
            if cue is _CONTRIBUTION:
                contribution = after
            if len(said) < most:
                said.setdefault(after, sentences[after])
    if best_paper and contribution is not None and _HOW.match(question):
        # "How does X work?": the sentences that go on from the contribution to say how
        # ("The method consists of two steps. First, ... Second, ...").
        for i in range(contribution + 1, min(contribution + 4, len(sentences))):
            if i > contribution + 1 and not _STEP.match(sentences[i]):
                break
            said.setdefault(i, sentences[i])
    for i in list(said):  # "This approximation ..." needs the sentence it refers to
        if i > 0 and i - 1 not in said and _ANAPHOR.match(sentences[i]):
            said[i - 1] = sentences[i - 1]
    return said


def _facts(hit: Hit) -> str:
    """The metadata a metadata question asks about, for the line that names the paper."""
    paper = hit.paper
    parts = [paper.venue or ", ".join(paper.sources)]
    if paper.date:
        parts.append(paper.date)
    if paper.authors:
        parts.append(", ".join(paper.authors[:6]) + (" et al." if len(paper.authors) > 6 else ""))
    count = author_count(paper)
    if count is not None:
        parts.append(counted(count, "author"))
    if paper.upvotes is not None:
        parts.append(counted(paper.upvotes, "upvote"))
    if paper.categories:
        parts.append("; ".join(c.split(" > ")[-1] for c in paper.categories[:3]))
    return " · ".join(p for p in parts if p)


# Sentences of a model's answer that claim nothing about the papers.
_NO_ANSWER = re.compile(
    r"\b(?:do(?:es)?n[o']t|do(?:es)? not) (?:say|state|mention|answer|address|provide|describe|"
    r"discuss|contain|cover|specify)|\bnot (?:stated|mentioned|covered|described|specified) in\b"
    r"|\bno (?:information|mention|details?)\b|\bnone of the (?:sources|papers|abstracts)\b"
    r"|\bcannot (?:be )?(?:answer|determine|tell)",
    re.I,
)
_FEWEST_CLAIM_WORDS = 3


def _is_claim(sentence: str, question: str) -> bool:
    """Whether a sentence of a model's answer claims something that a source must support: not
    a lead-in ("Here is what I found:"), a restatement of the question, or a statement that the
    sources do not answer it."""
    words = content_words(sentence)
    if len(words) < _FEWEST_CLAIM_WORDS or _NO_ANSWER.search(sentence):
        return False
    return not words <= content_words(question)


def listing_note(found: Retrieval) -> str:
    """How many papers a metadata question matched and how many are shown, so that a list is
    never cut without saying so: "12 papers match (venue: ICLR 2026); 5 are listed. ..."."""
    matched = f"{counted(found.matching, 'paper')} match"
    why = f" ({'; '.join(found.query.recognised)})" if found.query.recognised else ""
    shown = len(found.hits)
    if shown >= found.matching:
        return f"{matched}{why}; all are listed."
    return (
        f"{matched}{why}; {shown} are listed. Narrow the question (a year, a venue, an author) "
        "to see the others, or raise ASSISTANT_RETRIEVAL__LIST_MAX."
    )


def _cite(sentence: str, n: int) -> str:
    # An abstract's own brackets ("Arjovsky et al. [2019]", "as in [2]") would read as our
    # citation markers: they are quoted in parentheses instead.
    sentence = inert_markers(sentence.strip())
    if sentence and sentence[-1] in ".!?":
        return f"{sentence[:-1]} [{n}]{sentence[-1]}"
    return f"{sentence} [{n}]"


def _unread_note(found: Retrieval) -> str | None:
    """What the answer says about constraints the question states that no filter could use."""
    if not found.query.unread:
        return None
    unread = ", ".join(f"'{phrase}'" for phrase in found.query.unread)
    return f"I could not use {unread} as a filter (no field of the papers holds it)."


def _coverage(found: Retrieval) -> Coverage:
    verdict = found.coverage_verdict
    caveat = None
    if verdict == "uncertain":
        closest = "; ".join(f'"{h.paper.title}"' for h in found.hits[:3])
        caveat = f"The collection may not cover this question; the closest papers are {closest}."
    note = _unread_note(found)
    if note:
        caveat = f"{note} {caveat}" if caveat else note
    return Coverage(
        covered=found.covered,
        verdict=verdict,
        caveat=caveat,
        relevance=found.relevance,
        threshold=found.threshold,
        lexical_coverage=found.lexical_coverage,
        lexical_threshold=found.lexical_threshold,
        matching=found.matching,
        available=found.verdict,
        nearest=[
            {"paper_id": h.paper.paper_id, "title": h.paper.title, "similarity": h.similarity}
            for h in found.hits[:3]
        ],
    )
