"""Claim + cited abstract -> supported / weak / unsupported: offline (embeddings + word overlap),
and by the configured model when there is one."""

from __future__ import annotations

import re
import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np

from assistant.chunk import split_sentences
from assistant.embed import OnnxEmbedding
from assistant.llm import ChatModel
from assistant.prompts import Prompt
from assistant.query import fold
from assistant.records import Paper

Verdict = Literal["supported", "weak", "unsupported"]

# Calibrated on the dev questions' answer notes against their gold abstracts (true pairs) and
# against other retrieved abstracts (false pairs); see README "Answers".
SUPPORTED_AT = 0.55
WEAK_AT = 0.40
_CACHE_PAPERS = 512
_STOP_WORDS = """
    a an the of in on for to and or with by from as at is are was were be been being this
    that these those it its we our they their which what how why when where who can could
    may might will would should do does did not no than then there also such using use used
    into over under between both each all any more most other some paper papers method
    approach propose proposed show shows results
"""
_STOP = frozenset(_STOP_WORDS.split())
_CITATION = re.compile(r"\s*\[(\d+)\]")
_VERDICT_LINE = re.compile(
    r"^\W*(?:claim\s*)?(\d+)\W+(not supported|supported|weak|unsupported)\b",
    re.IGNORECASE | re.MULTILINE,
)


def content_words(text: str) -> set[str]:
    """Lower-case, accent-free words that carry meaning, crudely singularised."""
    words = set()
    for word in fold(_CITATION.sub(" ", text)).split():
        if word in _STOP or len(word) < 3:
            continue
        words.add(word[:-1] if word.endswith("s") and len(word) > 4 else word)
    return words


def strip_citations(text: str) -> str:
    """``text`` without its [n] markers (and without the space they leave before a stop)."""
    return re.sub(r" ([.,;:!?])", r"\1", " ".join(_CITATION.sub(" ", text).split()))


@dataclass
class Evidence:
    """How well one abstract supports one claim."""

    verdict: Verdict
    score: float
    sentence: str  # the abstract's sentence closest to the claim


class SentenceBank:
    """Abstract sentences and their vectors, computed once per paper (most recent 512 kept)."""

    def __init__(self, embedder: OnnxEmbedding) -> None:
        self.embedder = embedder
        self._papers: OrderedDict[str, tuple[list[str], np.ndarray]] = OrderedDict()
        self._lock = threading.Lock()  # the API answers from several threads

    def sentences(self, paper: Paper) -> tuple[list[str], np.ndarray]:
        with self._lock:
            found = self._papers.get(paper.paper_id)
        if found is None:
            sentences = split_sentences(paper.abstract) or [paper.abstract]
            found = (sentences, self.embedder.embed_batch(sentences))
        with self._lock:
            self._papers[paper.paper_id] = found
            self._papers.move_to_end(paper.paper_id)
            if len(self._papers) > _CACHE_PAPERS:
                self._papers.popitem(last=False)
        return found

    def embed(self, texts: list[str]) -> np.ndarray:
        return self.embedder.embed_batch(texts)


def judge(score: float) -> Verdict:
    if score >= SUPPORTED_AT:
        return "supported"
    return "weak" if score >= WEAK_AT else "unsupported"


def check(
    claim: str, paper: Paper, bank: SentenceBank, vector: np.ndarray | None = None
) -> Evidence:
    """Score = mean of (a) the best cosine between the claim and one abstract sentence and
    (b) the share of the claim's content words found in the title and abstract.

    Either half alone is fooled: paraphrases share few words, and a topical sentence can be
    close in embedding space while asserting something the abstract does not say.
    """
    text = strip_citations(claim)
    sentences, vectors = bank.sentences(paper)
    if vector is None:
        vector = bank.embed([text])[0]
    similarities = vectors @ vector
    best = int(np.argmax(similarities))
    words = content_words(text)
    present = content_words(f"{paper.title} {paper.abstract}")
    overlap = len(words & present) / len(words) if words else 0.0
    score = round(0.5 * float(similarities[best]) + 0.5 * overlap, 4)
    return Evidence(verdict=judge(score), score=score, sentence=sentences[best])


class ModelJudge:
    """The configured model as a second checker: one call judges every cited sentence of an
    answer against the abstracts it cites (``prompts/judge.txt``)."""

    def __init__(self, model: ChatModel, prompt: Prompt) -> None:
        self.model = model
        self.template = prompt

    def prompt(self, claims: Sequence[tuple[str, Sequence[Paper]]]) -> str:
        blocks = []
        for i, (claim, papers) in enumerate(claims, 1):
            abstracts = "\n".join(
                f'<abstract title="{p.title}">\n{p.abstract}\n</abstract>' for p in papers
            )
            blocks.append(f"Claim {i}:\n<claim>{strip_citations(claim)}</claim>\n{abstracts}")
        return self.template.fill(claims="\n\n".join(blocks))

    def verdicts(self, claims: Sequence[tuple[str, Sequence[Paper]]]) -> list[Verdict | None]:
        """The model's verdict on each claim, None where its reply gave none.

        Model errors (LLMError) propagate: the caller decides what an answer without the
        model's verdicts looks like.
        """
        if not claims:
            return []
        reply = self.model.complete([{"role": "user", "content": self.prompt(claims)}])
        found: list[Verdict | None] = [None] * len(claims)
        for number, verdict in _VERDICT_LINE.findall(reply):
            index = int(number) - 1
            if 0 <= index < len(claims) and found[index] is None:
                found[index] = _VERDICTS[verdict.lower()]
        return found


_VERDICTS: dict[str, Verdict] = {
    "supported": "supported",
    "weak": "weak",
    "unsupported": "unsupported",
    "not supported": "unsupported",
}
