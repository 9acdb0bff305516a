"""Fusion weights and coverage verdicts: the rules, on numbers (no store, no model)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from assistant.calibrate import QUESTION_VECTORS, _save_vectors, _saved_vectors, generate_questions
from assistant.fusion import fuse, lexical_share
from assistant.records import Paper
from assistant.retrieve import CALIBRATION_FILE, SCORING, Calibration, judge_coverage
from assistant.store import ChunkMatch


def test_lexical_share_ramps_with_how_much_the_question_names_a_paper() -> None:
    weights, ramp = (0.1, 0.7), (0.35, 0.55)
    assert lexical_share(0.2, weights, ramp) == pytest.approx(0.1)  # a description
    assert lexical_share(0.9, weights, ramp) == pytest.approx(0.7)  # names its terms
    assert lexical_share(0.45, weights, ramp) == pytest.approx(0.4)  # half way
    shares = [lexical_share(x / 20, weights, ramp) for x in range(21)]
    assert shares == sorted(shares)


def test_fusion_scores_each_paper_by_both_rankers_and_its_best_chunk() -> None:
    a, b, c = (Paper.create(t, f"About {t}.") for t in ("Alpha", "Beta", "Gamma"))
    dense = [  # best first, as the store returns them
        ChunkMatch(f"{a.paper_id}:0", a.paper_id, 0.9, "alpha chunk"),
        ChunkMatch(f"{b.paper_id}:1", b.paper_id, 0.5),
        ChunkMatch(f"{a.paper_id}:1", a.paper_id, 0.4, "alpha second"),
        ChunkMatch(f"{b.paper_id}:0", b.paper_id, 0.3, "beta other"),
    ]
    lexical = [(c, 9.0), (b, 5.0), (a, 1.0)]
    read: list[list[str]] = []

    def texts(ids: list[str]) -> dict[str, str]:
        read.append(ids)
        return {i: "beta chunk" for i in ids}

    dense_only = fuse(dense, lexical, k=3, dense_weight=1.0, texts=texts)
    assert [h.paper.title for h in dense_only][:2] == ["Alpha", "Beta"]
    assert (
        dense_only[0].chunks == ["alpha chunk", "alpha second"] and dense_only[0].similarity == 0.9
    )
    assert read == [[f"{b.paper_id}:1"]]  # the text a match lacked, read once, for the hits
    assert dense_only[1].chunks == ["beta chunk", "beta other"]
    assert dense_only[2].paper.title == "Gamma" and dense_only[2].chunks == ["About Gamma."]
    lexical_only = fuse(dense, lexical, k=3, dense_weight=0.0)
    assert [h.paper.title for h in lexical_only] == ["Gamma", "Beta", "Alpha"]
    assert [h.rank for h in lexical_only] == [1, 2, 3]
    assert fuse(dense, [], k=3, dense_weight=0.5) == []  # papers known to neither: left out


def test_a_paper_described_as_a_whole_outranks_one_with_a_closer_chunk() -> None:
    """A paper's dense score is the mean of its best chunk and its whole abstract: one close
    passage of another paper no longer puts that paper first; a paper whose whole-paper
    vector is missing (a store written before they were kept) keeps its best chunk."""
    passage, whole, older = (Paper.create(t, f"About {t}.") for t in ("Passage", "Whole", "Old"))
    others = [Paper.create(f"Other {i}", f"About {i}.") for i in range(20)]
    dense = [
        ChunkMatch(f"{passage.paper_id}:1", passage.paper_id, 0.62),
        ChunkMatch(f"{whole.paper_id}:0", whole.paper_id, 0.60),
        ChunkMatch(f"{older.paper_id}:0", older.paper_id, 0.58),
        *(ChunkMatch(f"{p.paper_id}:0", p.paper_id, 0.3 - i / 100) for i, p in enumerate(others)),
    ]
    catalogue = {p.paper_id: p for p in [passage, whole, older, *others]}
    wholes = {passage.paper_id: 0.35, whole.paper_id: 0.58}

    def titles(whole: dict[str, float] | None = None, floor: float | None = None) -> list[str]:
        hits = fuse(
            dense, [], k=3, dense_weight=1.0, catalogue=catalogue, whole=whole, whole_floor=floor
        )
        return [h.paper.title for h in hits]

    assert titles() == ["Passage", "Whole", "Old"]
    assert titles(whole=wholes) == ["Whole", "Old", "Passage"]
    # Whole papers read as the nearest few: one outside them is at most as close as the last.
    assert titles(whole=wholes, floor=0.2) == ["Whole", "Passage", "Old"]


def test_the_one_paper_bm25_scores_stands_out_from_those_it_does_not() -> None:
    """BM25 lists only positive scores: the one paper using a rare word ("FLEURS") is the top
    of a list of a hundred, the others scoring 0, not the mean of a list of one."""
    papers = [Paper.create(f"Paper {i}", f"About {i}.") for i in range(50)]
    rare = Paper.create("Spoken language identification", "Accuracy on FLEURS.")
    # Dense search finds papers alike, the rare word's paper among them but not first.
    dense = [
        ChunkMatch(f"{p.paper_id}:0", p.paper_id, 0.2 - i / 1000) for i, p in enumerate(papers)
    ]
    dense.insert(5, ChunkMatch(f"{rare.paper_id}:0", rare.paper_id, 0.195))
    catalogue = {p.paper_id: p for p in papers}
    lexical = [(rare, 2.5)]
    as_mean = fuse(dense, lexical, k=3, dense_weight=0.3, catalogue=catalogue)
    assert as_mean[0].paper.title != rare.title  # its z-score was 0, as every other paper's
    ranked = fuse(dense, lexical, k=3, dense_weight=0.3, catalogue=catalogue, pool=51)
    assert ranked[0].paper.title == rare.title


CALIBRATION = Calibration(
    fingerprint="f",
    scoring=SCORING,
    threshold=0.5,
    lexical_threshold=0.7,
    refusal_threshold=0.4,
    refusal_lexical_threshold=0.55,
    questions=200,
    covered_median=0.48,
    absent_median=0.46,
)


@pytest.mark.parametrize(
    ("relevance", "overlap", "verdict"),
    [
        (0.55, 0.1, (True, False)),  # close in meaning
        (0.2, 0.8, (True, False)),  # holds the question's words
        (0.45, 0.1, (True, True)),  # between: a caveat
        (0.3, 0.6, (True, True)),  # low meaning but many of its words
        (0.3, 0.1, (False, False)),  # far on both: refused
    ],
)
def test_three_bands(relevance: float, overlap: float, verdict: tuple[bool, bool]) -> None:
    assert judge_coverage(relevance, overlap, CALIBRATION) == verdict


def test_a_question_close_once_its_acronyms_are_spelled_out_is_not_refused() -> None:
    """'What are the challenges of offline RL?' sits far from every chunk as written, close
    once RL reads 'reinforcement learning': uncertain at worst, since spelling out raises the
    collection's own unanswerable questions as much, so the covered threshold does not apply."""
    assert judge_coverage(0.3, 0.1, CALIBRATION, spelled=0.45) == (True, True)
    assert judge_coverage(0.3, 0.1, CALIBRATION, spelled=0.6) == (True, True)
    assert judge_coverage(0.3, 0.1, CALIBRATION, spelled=0.35) == (False, False)


def test_thresholds_saved_before_the_caveat_are_rebuilt(tmp_path: Path) -> None:
    """A file without the refusal thresholds is not used (a server rebuilds it at start and
    ingest recalibrates), rather than read as 'refuse below the covered threshold'."""
    old = CALIBRATION.model_dump()
    del old["refusal_threshold"], old["refusal_lexical_threshold"]
    (tmp_path / CALIBRATION_FILE).write_text(json.dumps(old))
    assert Calibration.load(tmp_path) is None
    # Nor is one chosen an earlier way (another refusal percentile, other signals).
    (tmp_path / CALIBRATION_FILE).write_text(
        CALIBRATION.model_copy(update={"scoring": 1}).model_dump_json()
    )
    assert Calibration.load(tmp_path) is None
    CALIBRATION.save(tmp_path)
    assert Calibration.load(tmp_path) == CALIBRATION


def _papers(n: int, prefix: str = "p") -> list[Paper]:
    return [
        Paper(
            paper_id=f"{prefix}{i}",
            title=f"Study {prefix}{i}",
            abstract=f"We propose method {prefix}{i} for estimating counts of item {i} in "
            "noisy tide pool surveys with a small budget.",
        )
        for i in range(n)
    ]


def test_generated_questions_change_only_with_their_papers() -> None:
    """Adding papers keeps the questions about the others (a shared random sample redrew every
    question, and moved the thresholds set on them)."""
    base = _papers(300)
    before = {q.gold_titles[0]: q.question for q in generate_questions(base, 200)}
    after = {q.gold_titles[0]: q.question for q in generate_questions(base + _papers(4, "x"), 200)}
    kept = before.keys() & after.keys()
    assert len(kept) >= 196
    assert all(before[t] == after[t] for t in kept)


def test_calibration_question_vectors_are_reused_for_the_same_embedder(tmp_path: Path) -> None:
    vectors = {"q one": np.ones(3, dtype=np.float32), "q two": np.zeros(3, dtype=np.float32)}
    _save_vectors(tmp_path, "mpnet", vectors)
    found = _saved_vectors(tmp_path, "mpnet", ["q two", "q three"])
    assert list(found) == ["q two"] and found["q two"].tolist() == [0.0, 0.0, 0.0]
    assert _saved_vectors(tmp_path, "minilm", ["q two"]) == {}  # another embedder's vectors
    (tmp_path / QUESTION_VECTORS).write_bytes(b"not a zip")
    assert _saved_vectors(tmp_path, "mpnet", ["q two"]) == {}  # unreadable: embed again
    assert not list(tmp_path.glob("*.tmp.npz"))
