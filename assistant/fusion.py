"""Ranking by two signals: BM25 and dense scores standardised and fused per paper, with BM25's
share set by how much of the question the best BM25 paper names."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import numpy as np

from assistant.records import Hit, Paper
from assistant.store import ChunkMatch


def lexical_share(named: float, weights: tuple[float, float], ramp: tuple[float, float]) -> float:
    """BM25's share in fusion for a question whose best BM25 paper holds ``named`` of its
    term weight (IDF).

    A question that names a paper's rare terms ranks best by BM25; one that describes a paper
    in other words shares only common words with any paper, and there BM25 ranks by chance.
    On the dev questions the best BM25 paper held 0.56-0.99 of a lookup's term weight (5th-95th
    percentile) and 0.12-0.33 of a paraphrase's, so the share ramps from ``weights[0]`` below
    ``ramp[0]`` to ``weights[1]`` above ``ramp[1]`` (0.25 to 0.7 over 0.35-0.55 by default). Even
    a description in other words keeps a quarter: the few words it shares with its paper still
    separate it from that paper's close neighbours, which dense search mixes up (on descriptions
    written to avoid the papers' own words, bench/paraphrase_questions.jsonl, R@1 rose from 0.67
    to 0.77 on the half the weight was chosen on, flat from 0.25 to 0.3). The ramp and weights
    were chosen on one half of the dev and written questions and on questions generated from the
    collection (bench/retrieval_quality.py reports the other half).
    """
    low, high = ramp
    position = min(max((named - low) / (high - low), 0.0), 1.0)
    return weights[0] + (weights[1] - weights[0]) * position


def _standardised(scores: Sequence[float], depth: int, pool: int = 0) -> tuple[list[float], float]:
    """z-scores of a best-first score list, and the z-score given to papers below the list.

    A list that holds only the ``pool`` papers' positive scores (BM25's) is read as the top
    ``depth`` of that pool, the rest scoring 0: alone, the one paper using a rare word
    ("FLEURS") would be its list's mean, no better than a paper missing from it.

    >>> _standardised([2.5], 100)
    ([0.0], 0.0)
    >>> [round(x, 1) for x in _standardised([2.5], 100, pool=318)[0]]
    [9.9]
    """
    if not scores:
        return [], 0.0
    values = np.asarray(scores[:depth], dtype=np.float64)
    zeros = max(min(pool, depth) - len(values), 0)
    padded = np.concatenate([values, np.zeros(zeros)])
    spread = float(padded.std()) or 1.0
    z = (padded - padded.mean()) / spread
    return [float(x) for x in z[: len(values)]], float(z[-1])


def fuse(
    dense: Sequence[ChunkMatch],
    lexical: Sequence[tuple[Paper, float]],
    k: int,
    dense_weight: float = 0.7,
    depth: int = 100,
    catalogue: Mapping[str, Paper] | None = None,
    texts: Callable[[list[str]], Mapping[str, str]] | None = None,
    pool: int = 0,
    whole: Mapping[str, float] | None = None,
    whole_floor: float | None = None,
) -> list[Hit]:
    """Convex combination of the standardised dense and BM25 scores, per paper.

    ``dense`` comes best first (as Store.query returns it), so grouping it keeps each paper's
    chunks best first. A paper's dense score is the mean of its best chunk's similarity and
    that of its whole title and abstract (``whole``, by paper id; where that is missing,
    ``whole_floor``, the least of a list cut short, else its best chunk alone). The best
    chunk alone let a paper with one close passage outrank the one a
    description is about as a whole: on descriptions in other words than the papers' (the fresh
    and descriptive sets), R@1 rose from 0.77 to 0.83 on the half this was chosen on and from
    0.73 to 0.76 on the other (bench/retrieval_quality.py). On the first half the whole paper
    alone did as well and the larger of the two less; the mean keeps the passage an answer
    quotes in the paper's score. Each ranker's top ``depth`` scores
    are turned into z-scores over that list; a paper missing from a list gets the list's lowest
    z-score. Score fusion keeps how much better the top match is than the rest, which rank
    fusion (RRF) throws away; on the sample collection it ranks descriptive questions better
    than RRF at equal lookup accuracy (bench/retrieval_quality.py).

    ``lexical`` holds positive scores only: ``pool`` is how many papers BM25 scored (those the
    question's filters allow), the rest of its top ``depth`` scoring 0.

    A paper is known from ``lexical`` or ``catalogue``; others are left out. Each hit carries
    the texts of its two best chunks: those the matches lack are read once, for the ``k`` hits
    only, with ``texts`` (chunk ids to texts).
    """
    catalogue = catalogue or {}
    chunks: dict[str, list[ChunkMatch]] = {}
    for match in dense:
        chunks.setdefault(match.paper_id, []).append(match)
    dense_ids = list(chunks)[:depth]
    whole = whole or {}

    def dense_of_paper(pid: str) -> float:
        best = chunks[pid][0].similarity
        return (best + whole.get(pid, best if whole_floor is None else whole_floor)) / 2

    dense_z, dense_floor = _standardised([dense_of_paper(p) for p in dense_ids], depth)
    lexical_z, lexical_floor = _standardised([score for _, score in lexical], depth, pool)
    papers: dict[str, Paper] = {p.paper_id: p for p, _ in lexical}
    dense_of = dict(zip(dense_ids, dense_z, strict=True))
    lexical_of = dict(zip((p.paper_id for p, _ in lexical), lexical_z, strict=False))
    scores = {
        pid: dense_weight * dense_of.get(pid, dense_floor)
        + (1 - dense_weight) * lexical_of.get(pid, lexical_floor)
        for pid in dict.fromkeys([*dense_ids, *lexical_of])
    }
    chosen: list[tuple[Paper, list[ChunkMatch]]] = []
    for pid in sorted(scores, key=lambda p: -scores[p]):
        paper = papers.get(pid) or catalogue.get(pid)
        if paper is None:  # stored after the BM25 index was loaded; known on its next reload
            continue
        if len(chosen) == k:
            break
        chosen.append((paper, chunks.get(pid, [])[:2]))
    missing = [m.chunk_id for _, best in chosen for m in best if not m.text]
    read = texts(missing) if texts is not None and missing else {}
    hits = []
    for rank, (paper, best) in enumerate(chosen, start=1):
        shown = [text for text in (m.text or read.get(m.chunk_id, "") for m in best) if text]
        hits.append(
            Hit(
                paper=paper,
                score=round(scores[paper.paper_id], 4),
                rank=rank,
                similarity=round(best[0].similarity, 4) if best else None,
                chunks=shown or [paper.abstract],
            )
        )
    return hits
