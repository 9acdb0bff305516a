"""Question files with gold papers -> retrieval scores (recall@k, MRR) and answer scores."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, ValidationError

from assistant.answer import Answerer
from assistant.cite import content_words
from assistant.errors import ParseError
from assistant.records import Hit, Question, normalize_title
from assistant.retrieve import Retriever

CUTOFFS = (1, 5, 10)


def load_questions(path: Path) -> list[Question]:
    """Read a JSONL question file; a bad line is an error naming it."""
    questions = []
    try:
        lines = path.read_text().split("\n")
    except OSError as exc:
        raise ParseError(
            f"cannot read ({exc.strerror})", path=str(path), hint="check the path"
        ) from exc
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            questions.append(Question.model_validate_json(line))
        except ValidationError as exc:
            raise ParseError(
                f"not a question record ({exc.errors()[0]['msg']})",
                path=str(path),
                line=number,
                hint='each line needs {"question": ..., "gold_titles": [...], "type": ...}',
            ) from exc
    return questions


class RankScores(BaseModel):
    """recall@1/5/10 and the reciprocal rank of the first gold paper within the top 10."""

    recall_1: float
    recall_5: float
    recall_10: float
    mrr: float


class RankSummary(RankScores):
    """The mean of one question type's scores."""

    questions: int


class CoverageSummary(BaseModel):
    """How well the coverage verdict separates questions without gold papers from the rest."""

    threshold: float | None = Field(description="The calibrated relevance threshold.")
    absent_questions: int
    absent_detected: float | None = Field(description="Share of absent questions refused.")
    answerable_questions: int
    false_alarms: float | None = Field(description="Share of answerable questions refused.")
    absent_flagged: float | None = Field(
        description="Share of absent questions refused or marked uncertain."
    )
    answerable_uncertain: float | None = Field(
        description="Share of answerable questions marked uncertain."
    )


class Retrieved(BaseModel):
    title: str
    score: float


class RetrievalRow(BaseModel):
    """One question's ranking and verdict."""

    qid: str
    question: str
    type: str
    retrieved: list[Retrieved]
    not_covered: bool
    verdict: Literal["covered", "uncertain", "not_covered"]
    relevance: float | None
    lexical_coverage: float | None
    recognised: list[str]
    expansion: str | None = Field(None, description="The model's sketch, with --expand.")
    scores: RankScores | None = Field(None, description="None for questions without gold.")


class RetrievalReport(BaseModel):
    """`assistant eval`: scores per question type ("all" for every answerable one)."""

    by_type: dict[str, RankSummary]
    coverage: CoverageSummary
    questions: list[RetrievalRow]


def score_ranking(hits: list[Hit], gold_titles: list[str]) -> RankScores:
    """recall@1/5/10 and reciprocal rank of the first gold paper within the top 10."""
    gold = {normalize_title(t) for t in gold_titles}
    ranked = [normalize_title(h.paper.title) for h in hits]
    recall = [len(gold & set(ranked[:k])) / len(gold) for k in CUTOFFS]
    first = next((i for i, title in enumerate(ranked[:10], 1) if title in gold), None)
    mrr = 1.0 / first if first else 0.0
    return RankScores(recall_1=recall[0], recall_5=recall[1], recall_10=recall[2], mrr=mrr)


def _rank_summary(scores: list[RankScores]) -> RankSummary:
    def mean(field: str) -> float:
        return round(sum(float(getattr(s, field)) for s in scores) / len(scores), 3)

    return RankSummary(questions=len(scores), **{f: mean(f) for f in RankScores.model_fields})


def evaluate(
    retriever: Retriever,
    questions: list[Question],
    k: int = 10,
    expand: Callable[[str], str] | None = None,
) -> RetrievalReport:
    """Run retrieval for every question; summary per type and overall, plus per-question rows.

    With ``expand`` (question -> a model's sketch of a matching paper), each question is
    searched together with its sketch, as ``ASSISTANT_LLM__EXPAND`` does when answering.

    Questions without gold papers (or marked ``must_refuse``) measure the coverage verdict
    (see `CoverageSummary`).
    """
    rows = []
    per_type: dict[str, list[RankScores]] = defaultdict(list)
    absent: list[bool] = []
    answerable: list[bool] = []
    flagged: list[bool] = []  # absent questions refused or marked uncertain
    doubted: list[bool] = []  # answerable questions marked uncertain
    for q in questions:
        expansion = expand(q.question) if expand else None
        found = retriever.retrieve(q.question, max(k, 10), expansion=expansion or "")
        row = RetrievalRow(
            qid=q.qid,
            question=q.question,
            type=q.type,
            retrieved=[Retrieved(title=h.paper.title, score=h.score) for h in found.hits],
            not_covered=not found.covered,
            verdict=found.coverage_verdict,
            relevance=found.relevance,
            lexical_coverage=found.lexical_coverage,
            recognised=found.query.recognised,
            expansion=expansion,
        )
        if q.gold_titles and not q.must_refuse:
            row.scores = score_ranking(found.hits, q.gold_titles)
            per_type[q.type].append(row.scores)
            per_type["all"].append(row.scores)
            answerable.append(not found.covered)
            doubted.append(found.uncertain)
        else:
            absent.append(not found.covered)
            flagged.append(found.coverage_verdict != "covered")
        rows.append(row)
    calibration = retriever.calibration()
    coverage = CoverageSummary(
        threshold=calibration.threshold if calibration else None,
        absent_questions=len(absent),
        absent_detected=_share_of(absent),
        answerable_questions=len(answerable),
        false_alarms=_share_of(answerable),
        absent_flagged=_share_of(flagged),
        answerable_uncertain=_share_of(doubted),
    )
    by_type = {kind: _rank_summary(scores) for kind, scores in per_type.items()}
    return RetrievalReport(by_type=by_type, coverage=coverage, questions=rows)


def _share_of(flags: list[bool]) -> float | None:
    return round(sum(flags) / len(flags), 3) if flags else None


def dump(report: BaseModel) -> str:
    """The report as one JSON object."""
    return report.model_dump_json(indent=2)


def key_fact_recall(notes: str, answer: str, title: str = "") -> float:
    """Share of the answer note's content words (other than the gold titles') in the answer.

    A crude, documented proxy for "contains the key facts": the notes name the facts in a few
    words ("LSUV", "orthonormal", "unit variance"), and an answer that states them uses them.
    """
    wanted = content_words(notes) - content_words(title)
    return len(wanted & content_words(answer)) / len(wanted) if wanted else 1.0


class AnswerRow(BaseModel):
    """One question's answer and its scores."""

    qid: str
    type: str
    question: str
    refused: bool
    must_refuse: bool
    invalid_citations: int
    citations: int
    gold_cited: bool
    cited_gold_share: float | None = Field(
        description="How much of what the answer cites is what it should cite."
    )
    all_gold_cited: bool
    key_facts: float
    unsupported: int
    uncited: int
    grounded: bool
    words: int
    answer: str


class AnswerSummary(BaseModel):
    """One question type's answers."""

    questions: int
    gold_cited: float | None
    all_gold_cited: float | None
    cited_gold_share: float | None
    key_facts_mean: float
    key_facts_half: float | None
    # Key facts rise with length (a whole abstract holds most of them): read them together.
    words_mean: float


class AnswerReport(BaseModel):
    """`assistant eval answers`: overall shares, then scores per answerable question type."""

    citation_validity: float | None = Field(
        description="Share of citing answers whose every citation is a retrieved paper."
    )
    refused_absent: float | None
    refused_answerable: float | None
    by_type: dict[str, AnswerSummary]
    questions: list[AnswerRow]


def evaluate_answers(answerer: Answerer, questions: list[Question]) -> AnswerReport:
    """Answer every question; citation validity, gold papers cited, refusals, key facts."""
    rows: list[AnswerRow] = []
    for q in questions:
        answer = answerer.ask(q.question)
        cited = {normalize_title(c.title) for c in answer.citations}
        gold = {normalize_title(t) for t in q.gold_titles}
        rows.append(
            AnswerRow(
                qid=q.qid,
                type=q.type,
                question=q.question,
                refused=answer.refused,
                must_refuse=q.must_refuse or not q.gold_titles,
                invalid_citations=answer.receipt.invalid_citations,
                citations=len(answer.citations),
                gold_cited=bool(gold & cited),
                cited_gold_share=round(len(gold & cited) / len(cited), 3) if cited else None,
                all_gold_cited=bool(gold) and gold <= cited,
                key_facts=round(
                    key_fact_recall(q.answer_notes, answer.answer, " ".join(q.gold_titles)), 3
                ),
                unsupported=sum(1 for c in answer.claims if c.support == "unsupported"),
                uncited=sum(1 for c in answer.claims if c.support == "uncited"),
                grounded=answer.grounded,
                words=len(answer.answer.split()),
                answer=answer.answer,
            )
        )
    answerable = [r for r in rows if not r.must_refuse]
    by_type = {}
    for kind in sorted({r.type for r in answerable}):
        mine = [r for r in answerable if r.type == kind]
        by_type[kind] = AnswerSummary(
            questions=len(mine),
            gold_cited=_share_of([r.gold_cited for r in mine]),
            all_gold_cited=_share_of([r.all_gold_cited for r in mine]),
            cited_gold_share=_mean([r.cited_gold_share for r in mine]),
            key_facts_mean=round(sum(r.key_facts for r in mine) / len(mine), 3),
            key_facts_half=_share_of([r.key_facts >= 0.5 for r in mine]),
            words_mean=round(sum(r.words for r in mine) / len(mine), 1),
        )
    return AnswerReport(
        citation_validity=_share_of(
            [r.invalid_citations == 0 for r in rows if r.citations or r.invalid_citations]
        ),
        refused_absent=_share_of([r.refused for r in rows if r.must_refuse]),
        refused_answerable=_share_of([r.refused for r in answerable]),
        by_type=by_type,
        questions=rows,
    )


def _mean(values: list[float | None]) -> float | None:
    known = [v for v in values if v is not None]
    return round(sum(known) / len(known), 3) if known else None
