"""Question files with gold papers -> retrieval scores (recall@k, MRR) and answer scores."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pydantic import ValidationError

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


def score_ranking(hits: list[Hit], gold_titles: list[str]) -> dict[str, float]:
    """recall@1/5/10 and reciprocal rank of the first gold paper within the top 10."""
    gold = {normalize_title(t) for t in gold_titles}
    ranked = [normalize_title(h.paper.title) for h in hits]
    scores = {f"recall@{k}": len(gold & set(ranked[:k])) / len(gold) for k in CUTOFFS}
    first = next((i for i, title in enumerate(ranked[:10], 1) if title in gold), None)
    scores["mrr"] = 1.0 / first if first else 0.0
    return scores


def evaluate(
    retriever: Retriever,
    questions: list[Question],
    k: int = 10,
    expand: Callable[[str], str] | None = None,
) -> dict[str, Any]:
    """Run retrieval for every question; summary per type and overall, plus per-question rows.

    With ``expand`` (question -> a model's sketch of a matching paper), each question is
    searched together with its sketch, as ``ASSISTANT_LLM__EXPAND`` does when answering.

    Questions without gold papers (or marked ``must_refuse``) measure the coverage verdict:
    ``coverage.absent_detected`` is the share of them judged not covered, and
    ``coverage.false_alarms`` the share of answerable questions judged not covered;
    ``coverage.absent_flagged`` counts absent questions refused or marked uncertain, and
    ``coverage.answerable_uncertain`` answerable ones marked uncertain.
    """
    rows = []
    per_type: dict[str, list[dict[str, float]]] = defaultdict(list)
    absent: list[bool] = []
    answerable: list[bool] = []
    flagged: list[bool] = []  # absent questions refused or marked uncertain
    doubted: list[bool] = []  # answerable questions marked uncertain
    for q in questions:
        expansion = expand(q.question) if expand else ""
        found = retriever.retrieve(q.question, max(k, 10), expansion=expansion)
        row: dict[str, Any] = {
            "qid": q.qid,
            "question": q.question,
            "type": q.type,
            "retrieved": [{"title": h.paper.title, "score": h.score} for h in found.hits],
            "not_covered": not found.covered,
            "verdict": found.coverage_verdict,
            "relevance": found.relevance,
            "lexical_coverage": found.lexical_coverage,
            "recognised": found.query.recognised,
            **({"expansion": expansion} if expand else {}),
        }
        if q.gold_titles and not q.must_refuse:
            row["scores"] = score_ranking(found.hits, q.gold_titles)
            per_type[q.type].append(row["scores"])
            per_type["all"].append(row["scores"])
            answerable.append(not found.covered)
            doubted.append(found.uncertain)
        else:
            absent.append(not found.covered)
            flagged.append(found.coverage_verdict != "covered")
        rows.append(row)
    summary: dict[str, Any] = {
        kind: {
            "questions": len(items),
            **{m: round(sum(s[m] for s in items) / len(items), 3) for m in items[0]},
        }
        for kind, items in per_type.items()
    }
    calibration = retriever.calibration()
    summary["coverage"] = {
        "threshold": calibration.threshold if calibration else None,
        "absent_questions": len(absent),
        "absent_detected": round(sum(absent) / len(absent), 3) if absent else None,
        "answerable_questions": len(answerable),
        "false_alarms": round(sum(answerable) / len(answerable), 3) if answerable else None,
        "absent_flagged": _share_of(flagged),
        "answerable_uncertain": _share_of(doubted),
    }
    return {"summary": summary, "questions": rows}


def _share_of(flags: list[bool]) -> float | None:
    return round(sum(flags) / len(flags), 3) if flags else None


def dump(report: dict[str, Any]) -> str:
    """The report as one JSON object."""
    return json.dumps(report, ensure_ascii=False, indent=2)


def key_fact_recall(notes: str, answer: str, title: str = "") -> float:
    """Share of the answer note's content words (other than the gold titles') in the answer.

    A crude, documented proxy for "contains the key facts": the notes name the facts in a few
    words ("LSUV", "orthonormal", "unit variance"), and an answer that states them uses them.
    """
    wanted = content_words(notes) - content_words(title)
    return len(wanted & content_words(answer)) / len(wanted) if wanted else 1.0


def evaluate_answers(answerer: Answerer, questions: list[Question]) -> dict[str, Any]:
    """Answer every question; citation validity, gold papers cited, refusals, key facts."""
    rows: list[dict[str, Any]] = []
    for q in questions:
        answer = answerer.ask(q.question)
        cited = {normalize_title(c.title) for c in answer.citations}
        gold = {normalize_title(t) for t in q.gold_titles}
        rows.append(
            {
                "qid": q.qid,
                "type": q.type,
                "question": q.question,
                "refused": answer.refused,
                "must_refuse": q.must_refuse or not q.gold_titles,
                "invalid_citations": answer.receipt.invalid_citations,
                "citations": len(answer.citations),
                "gold_cited": bool(gold & cited),
                # How much of what the answer cites is what it should cite.
                "cited_gold_share": round(len(gold & cited) / len(cited), 3) if cited else None,
                "all_gold_cited": bool(gold) and gold <= cited,
                "key_facts": round(
                    key_fact_recall(q.answer_notes, answer.answer, " ".join(q.gold_titles)), 3
                ),
                "unsupported": sum(1 for c in answer.claims if c.support == "unsupported"),
                "uncited": sum(1 for c in answer.claims if c.support == "uncited"),
                "grounded": answer.grounded,
                "words": len(answer.answer.split()),
                "answer": answer.answer,
            }
        )
    summary: dict[str, Any] = {}
    answerable = [r for r in rows if not r["must_refuse"]]
    absent = [r for r in rows if r["must_refuse"]]
    summary["citation_validity"] = _share(
        [r for r in rows if r["citations"] or r["invalid_citations"]],
        lambda r: r["invalid_citations"] == 0,
    )
    summary["refused_absent"] = _share(absent, lambda r: r["refused"])
    summary["refused_answerable"] = _share(answerable, lambda r: r["refused"])
    for kind in sorted({r["type"] for r in answerable}):
        mine = [r for r in answerable if r["type"] == kind]
        summary[kind] = {
            "questions": len(mine),
            "gold_cited": _share(mine, lambda r: r["gold_cited"]),
            "all_gold_cited": _share(mine, lambda r: r["all_gold_cited"]),
            "cited_gold_share": _mean([r["cited_gold_share"] for r in mine]),
            "key_facts_mean": round(sum(r["key_facts"] for r in mine) / len(mine), 3),
            "key_facts_half": _share(mine, lambda r: r["key_facts"] >= 0.5),
            # Key facts rise with length (a whole abstract holds most of them): read them together.
            "words_mean": round(sum(r["words"] for r in mine) / len(mine), 1),
        }
    return {"summary": summary, "questions": rows}


def _mean(values: list[float | None]) -> float | None:
    known = [v for v in values if v is not None]
    return round(sum(known) / len(known), 3) if known else None


def _share(rows: list[dict[str, Any]], test: Callable[[dict[str, Any]], bool]) -> float | None:
    return round(sum(1 for r in rows if test(r)) / len(rows), 3) if rows else None
