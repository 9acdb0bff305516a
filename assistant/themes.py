"""The collection's themes: its papers grouped by meaning, each group named by its own words."""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Mapping, Sequence

import numpy as np
from bm25s.stopwords import STOPWORDS_EN
from pydantic import BaseModel, Field

from assistant.records import Paper

#: The most themes an overview names; fewer for a small collection (``theme_count``).
MAX_THEMES = 8
#: The most papers grouped: a larger collection is grouped from this many, evenly taken.
GROUPED_AT_MOST = 2000
#: Fewer papers than this have no themes worth naming (their words are too few to tell
#: groups apart): they are listed.
FEWEST_PAPERS = 20
#: A word names a theme only where the theme holds at least this share of the papers using
#: it: "learning" and "model", spread over every theme, name none.
_OWN_SHARE = 0.4
#: ... and at least this many times its share of all the papers ("field", in every abstract,
#: names neither of two themes of ten papers each).
_LIFT = 1.5
#: What an answer says before the themes' names, and a follow-up reads them back by
#: ("the second theme").
NAMED_BY = "each named by the words its papers use more than the others do: "
_LABEL_WORDS = 3
_EXAMPLES = 3
#: Stopwords, and the words abstracts use of themselves whatever their subject.
_ABSTRACT_WORDS = """
    all via can our we using based also paper papers work propose proposed approach method
    methods results show shows new novel between among within across however while both
    each such than study studies how what why when where which who
    """
_STOPWORDS = frozenset(STOPWORDS_EN) | frozenset(_ABSTRACT_WORDS.split())
_WORD = re.compile(r"[A-Za-z][\w-]*[A-Za-z0-9]")
#: A phrase does not run over these (a word before a comma is not the start of the next one's).
_PHRASE_BREAK = re.compile(r"[.;:,()?!\"\[\]{}]")


class Theme(BaseModel):
    """One group of papers close in meaning, and the words it uses more than the others."""

    words: list[str] = Field(description="Up to three words or two-word phrases naming it.")
    size: int = Field(description="How many of the grouped papers it holds.")
    papers: list[str] = Field(
        description="The ids of its most typical papers (closest to its centre), first first."
    )


def theme_count(papers: int) -> int:
    """How many themes ``papers`` papers are grouped into: the square root of a quarter
    of them, between 2 and ``MAX_THEMES``.

    >>> [theme_count(n) for n in (20, 40, 318, 100_000)]
    [2, 3, 8, 8]
    """
    return max(2, min(MAX_THEMES, round(math.sqrt(papers / 4))))


def evenly(paper_ids: Sequence[str], most: int = GROUPED_AT_MOST) -> list[str]:
    """``most`` of ``paper_ids`` taken at even steps, or all of them when there are no more.

    >>> evenly([str(i) for i in range(10)], 4)
    ['0', '2', '5', '7']
    """
    if len(paper_ids) <= most:
        return list(paper_ids)
    return [paper_ids[i * len(paper_ids) // most] for i in range(most)]


def _unit(rows: np.ndarray) -> np.ndarray:
    """``rows`` scaled to length 1 (a zero row stays zero)."""
    return np.asarray(rows / np.maximum(np.linalg.norm(rows, axis=1, keepdims=True), 1e-12))


def groups(vectors: np.ndarray, k: int, rounds: int = 50) -> np.ndarray:
    """The group (0..k-1) of each row of ``vectors``: spherical k-means, seeded as k-means++
    does from a fixed random state, so that the same papers give the same groups.

    Twenty lines of numpy, rather than scikit-learn (some 40 MB, for this alone) or an
    ANN library's clustering, which would seed at random.

    >>> v = np.array([[1, 0], [0.9, 0.1], [0, 1], [0.1, 0.9]], dtype=np.float32)
    >>> groups(v, 2).tolist()
    [0, 0, 1, 1]
    """
    unit = _unit(vectors)
    rng = np.random.default_rng(0)
    chosen = [0]
    while len(chosen) < k:  # k-means++: far rows are likelier seeds, outliers not certain ones
        distance = np.maximum(1 - np.max(unit @ unit[chosen].T, axis=1), 0) ** 2
        chosen.append(int(rng.choice(len(unit), p=distance / distance.sum())))
    centres = unit[chosen]
    member = np.argmax(unit @ centres.T, axis=1)
    for _ in range(rounds):
        summed = np.stack(
            [unit[member == g].sum(axis=0) if (member == g).any() else centres[g] for g in range(k)]
        )
        centres = _unit(summed)
        again = np.argmax(unit @ centres.T, axis=1)
        if np.array_equal(again, member):
            break
        member = again
    return np.asarray(member)


def _phrases(text: str) -> set[str]:
    """The words and two-word phrases of ``text``, lower case, neither opening nor ending with
    a stopword."""
    found: set[str] = set()
    for part in _PHRASE_BREAK.split(text):
        words = [w.lower() for w in _WORD.findall(part)]
        for n in (1, 2):
            for i in range(len(words) - n + 1):
                gram = words[i : i + n]
                if gram[0] not in _STOPWORDS and gram[-1] not in _STOPWORDS:
                    found.add(" ".join(gram))
    return found


def _spelt(members: Sequence[Sequence[Paper]]) -> dict[str, str]:
    """How the abstracts most often write each word: "LLMs", "RL", "Bayesian", "learning"
    (titles are left out: their capitals are a style, not a spelling)."""
    forms: Counter[str] = Counter(
        word for group in members for paper in group for word in _WORD.findall(paper.abstract)
    )
    spelt: dict[str, str] = {}
    for word, _ in forms.most_common():
        spelt.setdefault(word.lower(), word)
    return spelt


def _stems(phrase: str) -> set[str]:
    return {word.removesuffix("s") for word in phrase.split()}


def _names(members: Sequence[Sequence[Paper]]) -> list[list[str]]:
    """Each group's name: the words and phrases its papers use more than the other groups'
    do (class-based TF-IDF), leaving out those most papers use and those fewer than two of
    its papers use. A word gives way to a phrase holding it that scores at least half as
    well ("reinforcement" to "reinforcement learning"); no two names share a word."""
    used = [
        Counter(g for paper in group for g in _phrases(f"{paper.title}. {paper.abstract}"))
        for group in members
    ]
    # A name is a subject some title of the group states ("different", "directly" are not).
    titled = [{g for paper in group for g in _phrases(paper.title)} for group in members]
    total: Counter[str] = Counter()
    for counts in used:
        total.update(counts)
    mean = sum(sum(counts.values()) for counts in used) / max(len(used), 1)
    names: list[list[str]] = []
    papers = sum(len(group) for group in members)
    for group, counts, titles in zip(members, used, titled, strict=True):
        share = len(group) / papers
        # (a theme of most of the papers needs its words used mostly by its own)
        need = max(_OWN_SHARE, min(_LIFT * share, (1 + share) / 2))
        score = {
            gram: n * math.log(1 + mean / total[gram])
            for gram, n in counts.items()
            if n >= 2 and n >= need * total[gram] and gram in titles
        }
        ranked = sorted(score, key=lambda gram: (-score[gram], gram))
        name: list[str] = []
        for gram in ranked:
            if " " in gram:
                continue  # a phrase comes in through one of its words
            phrase = max(
                (p for p in ranked[:50] if " " in p and gram in p.split()),
                key=lambda p: (score[p], p),
                default=None,
            )
            if phrase is not None and score[phrase] >= score[gram] / 2:
                gram = phrase
            if any(_stems(gram) & _stems(other) for other in name):  # "vector", "vectors"
                continue
            name.append(gram)
            if len(name) == _LABEL_WORDS:
                break
        names.append(name)
    spelt = _spelt(members)
    return [[" ".join(spelt.get(w, w) for w in gram.split()) for gram in name] for name in names]


def themes(papers: Sequence[Paper], vectors: Mapping[str, np.ndarray]) -> list[Theme]:
    """The themes of ``papers`` (those with a vector), largest first; none for fewer than
    ``FEWEST_PAPERS``. The same papers, in any order, give the same themes."""
    grouped = sorted(
        (paper for paper in papers if paper.paper_id in vectors), key=lambda p: p.paper_id
    )
    if len(grouped) < FEWEST_PAPERS:
        return []
    matrix = np.stack([vectors[paper.paper_id] for paper in grouped])
    k = theme_count(len(grouped))
    member = groups(matrix, k)
    unit = _unit(matrix)
    found: list[list[Paper]] = []
    for g in range(k):
        rows = np.flatnonzero(member == g)
        if len(rows):  # its papers, the closest to its centre first
            centre = unit[rows].mean(axis=0)
            found.append(
                [grouped[i] for i in rows[np.argsort(-(unit[rows] @ centre), kind="stable")]]
            )
    found.sort(key=len, reverse=True)
    names = _names(found)
    return [
        Theme(
            words=name,
            size=len(group),
            papers=[paper.paper_id for paper in group[:_EXAMPLES]],
        )
        for group, name in zip(found, names, strict=True)
    ]
