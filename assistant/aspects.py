"""Which sentence of an abstract states an aspect of its paper: problem, method, data, result,
limitations; one notion for comparison cells and extracted answers."""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence
from typing import Protocol

import numpy as np

from assistant.records import Paper

#: Each aspect's description (embedded, to find the sentence closest to it) and its cue words.
ASPECT_HINTS = {
    "problem": (
        "the problem or task the paper addresses",
        r"\b(problem|task|challenge|address|aim|goal|question)",
    ),
    "method": (
        "the method or approach the paper proposes",
        r"\b(we (propose|introduce|present|develop|design)|our (method|approach|framework|model))",
    ),
    "data": (
        "datasets and benchmarks used for evaluation",
        r"\b(dataset|benchmark|corpus|evaluat\w* on|experiments on|tested on)",
    ),
    "result": (
        "the main result and improvement reported",
        r"\b(outperform|achiev|improv|state-of-the-art|surpass|reduc|\d+(\.\d+)?\s?%)",
    ),
    "limitations": (
        "limitations, failure cases or open problems",
        r"\b(limitation|fail|cannot|does not|future work|drawback|however, our)",
    ),
}
_CUE_BONUS = 0.3  # added to a sentence's similarity when it has the aspect's cue words
_FLOOR = 0.35  # below it, a sentence without cue words does not state the aspect


class Sentences(Protocol):
    """Abstracts split into sentences, with their vectors (cite.SentenceBank)."""

    def sentences(self, paper: Paper) -> tuple[list[str], np.ndarray]: ...

    def embed(self, texts: list[str]) -> np.ndarray: ...


class AspectFinder:
    """Finds, in a paper's abstract, the sentence that states an aspect (or None)."""

    def __init__(self, bank: Sentences) -> None:
        self.bank = bank
        self._targets: dict[str, np.ndarray] = {}

    def target(self, aspect: str) -> np.ndarray:
        if aspect not in self._targets:
            self._targets[aspect] = self.bank.embed([ASPECT_HINTS.get(aspect, (aspect, ""))[0]])[0]
        return self._targets[aspect]

    def table(self, paper: Paper, aspects: Sequence[str]) -> dict[str, int | None]:
        """Per aspect, its sentence's index (None: not stated), each sentence stating one
        aspect at most, unless the abstract has no more sentences than there are aspects."""
        sentences, _ = self.bank.sentences(paper)
        used: set[int] = set()
        found: dict[str, int | None] = {}
        for aspect in aspects:
            index = self.find(paper, aspect, used if len(sentences) > len(aspects) else ())
            if index is not None:
                used.add(index)
            found[aspect] = index
        return found

    def find(self, paper: Paper, aspect: str, taken: Collection[int] = ()) -> int | None:
        """The index of the sentence of ``paper``'s abstract stating ``aspect``, skipping
        ``taken``; None when the abstract does not state it."""
        sentences, vectors = self.bank.sentences(paper)
        return locate(aspect, sentences, vectors @ self.target(aspect), taken)


#: The sentence where an abstract turns from what was known to what the paper does ("We
#: propose ...", "In this work, we study ...", "... is proposed"): an abstract states its problem
#: before it, its method there, and its results and its own limitations after it.
_CONTRIBUTION = re.compile(
    r"\b(we|this (paper|work|study)|here,? we)\b[^.]{0,60}?"
    r"\b(propose|introduce|present|develop|design|define|investigate|study|demonstrate|establish|"
    r"derive|prove)"
    r"|\b(is|are) (proposed|introduced|presented)\b",
    re.IGNORECASE,
)
#: Words of a gap or a difficulty, by which the sentences before the contribution state the
#: problem (and not the field's background).
_GAP = re.compile(
    r"\b(however|but|yet|challeng\w*|bottleneck|struggle|remains?|unclear|problem|costly|"
    r"expensive|difficult|hard|limited|lack\w*|neglect\w*|overlook\w*|fail\w*|suboptimal|"
    r"question|nontrivial|requires?)\b",
    re.IGNORECASE,
)
#: What a paper was evaluated on: datasets, benchmarks, tasks, environments.
_DATA = re.compile(
    r"\b(datasets?|benchmarks?|corpus|corpora|suite|simulat\w*|real[- ]world|environments?|"
    r"(experiments?|evaluat\w*|tested|validat\w*)\b[^.]{0,40}\b(on|in|over|using|with|for)\b|"
    r"tasks)\b",
    re.IGNORECASE,
)
#: What a paper found or achieved.
_RESULT = re.compile(
    r"\b(outperform\w*|achiev\w*|improv\w*|surpass\w*|superior\w*|speed-?up|faster|reduc\w*|"
    r"gains?|state-of-the-art|sota|better|effective\w*|we (show|find|observe|confirm)|"
    r"show(s|ed)? that|demonstrat\w*|verif\w*|enhanc\w*|results? (show|indicate|suggest))\b"
    r"|\d+(\.\d+)?\s?(%|x\b|times|\u00d7)",
    re.IGNORECASE,
)
_LIMIT = re.compile(
    r"\b(limitations?|limited (to|by)|drawbacks?|shortcomings?|cannot|can ?not|fails?|failure|"
    r"lossy|does not (scale|generali[sz]e|hold|apply|work)|at the (cost|expense) of|"
    r"remains? (an )?open|future work|trade-?off|restricted to|only (applies|works|holds)|"
    r"plateaus?)\b",
    re.IGNORECASE,
)


#: A question after one aspect of a paper, in the order they are tried: "What are its
#: limitations?", "Which datasets does it use?", "What results does it report?", "What problem
#: does it address?". A question after none (what it proposes, how it works) gets the general
#: extracted answer.
_ASKS = {
    "limitations": re.compile(
        # Not a bare "fail": "Why do customised models fail to ...?" asks for the problem a
        # paper addresses, which its abstract states before its contribution.
        r"\b(limitations?|limits|drawbacks?|weakness(?:es)?|shortcomings?|downsides?|caveats?|"
        r"disadvantages?|failure (?:cases|modes)|where .{0,30} (?:break|fail)s?)\b",
        re.I,
    ),
    "data": re.compile(
        r"\b(datasets?|benchmarks?|corpus|corpora|(what|which) data|evaluated on|tested on|"
        r"experiments? on)\b",
        re.I,
    ),
    "result": re.compile(
        r"\b(results?|findings?|how (well|much|good)|performance|accuracy|speed-?ups?)\b", re.I
    ),
    "problem": re.compile(
        r"\b((what|which) problems?|problems? does|challenges?|motivation|motivates?)\b", re.I
    ),
}
#: What an answer says of a paper whose abstract does not state the aspect asked about.
NOT_STATED = {
    "limitations": "its abstract states no limitation.",
    "data": "its abstract names no dataset or benchmark.",
    "result": "its abstract states no result.",
    "problem": "its abstract states no problem it addresses.",
}


def asked_aspect(question: str) -> str | None:
    """The aspect of a paper ``question`` asks about, or None.

    >>> asked_aspect("What are the limitations of SOAP?"), asked_aspect("How does SOAP work?")
    ('limitations', None)
    """
    return next((aspect for aspect, asks in _ASKS.items() if asks.search(question)), None)


def contribution(sentences: Sequence[str]) -> int | None:
    """The index of the sentence stating what the paper does, or None."""
    return next((i for i, s in enumerate(sentences) if _CONTRIBUTION.search(s)), None)


def locate(
    aspect: str, sentences: Sequence[str], similarity: np.ndarray, taken: Collection[int] = ()
) -> int | None:
    """The sentence stating ``aspect``: among the sentences where the abstract's structure puts
    it and that use the aspect's words, the one closest to the aspect's description; None when
    no sentence qualifies. An aspect of another name is found by its description and words."""
    turn = contribution(sentences)
    after = range(len(sentences)) if turn is None else range(turn + 1, len(sentences))
    if aspect == "method" and turn is not None and turn not in taken:
        return turn
    before = range(turn) if turn else range(len(sentences))
    places: dict[str, tuple[range, re.Pattern[str]]] = {
        "problem": (before, _GAP),
        "data": (after, _DATA),
        "result": (after, _RESULT),
        "limitations": (after, _LIMIT),
    }
    if aspect not in places:
        return _closest(aspect, sentences, similarity, taken)
    where, words = places[aspect]
    fits = [i for i in where if words.search(sentences[i])]
    if not fits and aspect == "problem" and turn:
        fits = list(before)  # what comes before the contribution, when no gap is named
    # A sentence already in another row may state the data and the result too; a limitation
    # must be a sentence of its own (a result's "trade-off" or "lossy" is not one).
    free = [i for i in fits if i not in taken]
    fits = free if free or aspect in ("problem", "limitations") else fits
    return max(fits, key=lambda i: float(similarity[i])) if fits else None


def _closest(
    aspect: str, sentences: Sequence[str], similarity: np.ndarray, taken: Collection[int]
) -> int | None:
    """The sentence closest to the aspect's description, with a bonus for its cue words."""
    pattern = ASPECT_HINTS.get(aspect, (aspect, re.escape(aspect)))[1]
    scored = sorted(
        (
            (float(similarity[i]) + (_CUE_BONUS if re.search(pattern, s, re.I) else 0.0), i)
            for i, s in enumerate(sentences)
            if i not in taken
        ),
        reverse=True,
    )
    if not scored:
        return None
    best, index = scored[0]
    if best < _FLOOR and not re.search(pattern, sentences[index], re.I):
        return None
    return index
