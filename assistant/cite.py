"""Answer text -> claims and citations: [n] markers, the offline support check (embeddings + word
overlap) and the configured model as a second judge."""

from __future__ import annotations

import re
import threading
import time
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np

from assistant.chunk import split_sentences
from assistant.config import Settings
from assistant.embed import OnnxEmbedding
from assistant.errors import AssistantError
from assistant.llm import ChatModel
from assistant.markup import MARKERS, inert_markers
from assistant.prompts import load_prompt
from assistant.records import Citation, Claim, Hit, Paper, Verdict, fold

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
        self._keep(paper.paper_id, found)
        return found

    def prefetch(self, papers: Sequence[Paper]) -> None:
        """Embed the sentences of those ``papers`` not embedded yet, all in one pass of
        batches sorted by length (OnnxEmbedding.embed_sorted), before they are asked for one
        paper at a time."""
        with self._lock:
            missing = {p.paper_id: p for p in papers if p.paper_id not in self._papers}
        if len(missing) < 2:  # one paper is one batch either way
            return
        split = [
            (paper.paper_id, split_sentences(paper.abstract) or [paper.abstract])
            for paper in missing.values()
        ]
        vectors = self.embedder.embed_sorted([s for _, sentences in split for s in sentences])
        at = 0
        for paper_id, sentences in split:
            self._keep(paper_id, (sentences, vectors[at : at + len(sentences)]))
            at += len(sentences)

    def _keep(self, paper_id: str, found: tuple[list[str], np.ndarray]) -> None:
        with self._lock:
            self._papers[paper_id] = found
            self._papers.move_to_end(paper_id)
            if len(self._papers) > _CACHE_PAPERS:
                self._papers.popitem(last=False)

    def embed(self, texts: list[str]) -> np.ndarray:
        return self.embedder.embed_batch(texts)

    def embed_quoted(self, texts: list[str], papers: Sequence[Paper]) -> np.ndarray:
        """Vectors of ``texts``, reusing those of the sentences of ``papers`` embedded already:
        an extracted answer quotes its sources word for word, so checking it embeds little."""
        known: dict[str, np.ndarray] = {}
        with self._lock:
            for paper in papers:
                if (found := self._papers.get(paper.paper_id)) is not None:
                    known.update(zip(*found, strict=True))
        missing = [t for t in dict.fromkeys(texts) if t not in known]
        if missing:
            known.update(zip(missing, self.embedder.embed_batch(missing), strict=True))
        return np.stack([known[t] for t in texts])


def grade(score: float) -> Verdict:
    """The verdict an offline support score earns."""
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
    return Evidence(verdict=grade(score), score=score, sentence=sentences[best])


class ModelJudge:
    """The configured model as a second checker: one call judges every cited sentence of an
    answer against the abstracts it cites, and every uncited one against its closest abstract
    (``prompts/judge.txt``)."""

    def __init__(self, model: ChatModel, settings: Settings) -> None:
        self.model = model
        self.settings = settings

    def prompt(self, claims: Sequence[tuple[str, Sequence[Paper]]]) -> str:
        blocks = []
        for i, (claim, papers) in enumerate(claims, 1):
            abstracts = "\n".join(
                f'<abstract title="{p.title}">\n{p.abstract}\n</abstract>' for p in papers
            )
            blocks.append(f"Claim {i}:\n<claim>{strip_citations(claim)}</claim>\n{abstracts}")
        return load_prompt(self.settings, "judge").fill(claims="\n\n".join(blocks))

    def verdicts(self, claims: Sequence[tuple[str, Sequence[Paper]]]) -> list[Verdict | None]:
        """The model's verdict on each claim, None where its reply gave none.

        Model errors (LLMError) and an unusable prompt (PromptError) propagate: the caller
        decides what an answer without the model's verdicts looks like.
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


def add_marker(sentence: str, n: int) -> str:
    # An abstract's own brackets ("Arjovsky et al. [2019]", "as in [2]") would read as our
    # citation markers: they are quoted in parentheses instead.
    sentence = inert_markers(sentence.strip())
    if sentence and sentence[-1] in ".!?":
        return f"{sentence[:-1]} [{n}]{sentence[-1]}"
    return f"{sentence} [{n}]"


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


@dataclass
class Checked:
    """An answer's text after the check: the citations the checker added are in it."""

    text: str
    claims: list[Claim]
    citations: list[Citation]
    added: int = 0  # uncited claims a retrieved abstract supports, now cited
    uncited: int = 0  # uncited claims no retrieved abstract supports
    checker: Literal["offline", "model", "none"] = "none"
    judge_error: str | None = None  # why the model's verdicts are missing, when asked
    judge_ms: float | None = None


def check_answer(
    text: str,
    hits: Sequence[Hit],
    bank: SentenceBank,
    *,
    question: str = "",
    generated: bool = False,
    judge: ModelJudge | None = None,
    preamble: str = "",
) -> Checked:
    """The answer's claims and the citations they use, each checked offline and, with a
    ``judge``, by the model as well.

    Every sentence of a ``generated`` answer gets a verdict, cited or not: an uncited one is
    checked against every retrieved abstract, cited where one supports it (``added``) and
    marked ``uncited`` where none does. Sentences that restate the question or say that the
    sources do not answer it are not claims. An extracted answer's uncited lines are our own
    notes (how many papers a list holds), and its ``preamble`` (its label) is not read.
    """
    merged = _sentences(text.removeprefix(preamble))
    cited_sentences = [(s, [int(n) for n in re.findall(r"\[(\d+)\]", s)]) for s in merged]
    checked = [
        bool(numbers) or (generated and bool(hits) and _is_claim(s, question))
        for s, numbers in cited_sentences
    ]
    to_embed = [
        strip_citations(s)
        for (s, _), is_claim in zip(cited_sentences, checked, strict=True)
        if is_claim
    ]
    papers = [hit.paper for hit in hits]
    vectors = iter(bank.embed_quoted(to_embed, papers) if to_embed else np.zeros((0, 384)))
    result = Checked(text=text, claims=[], citations=[])
    evidence: list[list[tuple[int, Verdict, float, str]]] = []  # per claim, per source
    # An uncited claim's best source, offline: what the model judges it against.
    candidates: dict[int, tuple[int, Evidence]] = {}
    for (sentence, numbers), is_claim in zip(cited_sentences, checked, strict=True):
        if not is_claim:
            result.claims.append(Claim(text=sentence, citations=[]))
            evidence.append([])
            continue
        vector = next(vectors)
        if not numbers:
            # Whichever retrieved abstract supports it best, if any does, is its source.
            tried = [(check(sentence, hit.paper, bank, vector), n) for n, hit in enumerate(hits, 1)]
            best_found, n = max(tried, key=lambda t: t[0].score)
            if best_found.verdict != "supported":
                candidates[len(result.claims)] = (n, best_found)
                result.claims.append(Claim(text=sentence, citations=[], support="uncited"))
                evidence.append([])
                result.uncited += 1
                continue
            result.added += 1
            result.claims.append(
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
        results = [check(sentence, hits[n - 1].paper, bank, vector) for n in numbers]
        best = max(results, key=lambda e: e.score)
        result.claims.append(
            Claim(text=sentence, citations=numbers, support=best.verdict, score=best.score)
        )
        evidence.append(
            [(n, e.verdict, e.score, e.sentence) for n, e in zip(numbers, results, strict=True)]
        )
    judged = _model_verdicts(result, hits, judge, candidates)
    for i, (n, best_found) in candidates.items():
        if judged[i] == "supported":
            # The model reads a paraphrase the offline checker missed: cite its source.
            claim = result.claims[i]
            claim.citations, claim.added, claim.score = [n], True, best_found.score
            claim.offline_support, claim.support = best_found.verdict, "supported"
            evidence[i] = [(n, "supported", best_found.score, best_found.sentence)]
            result.uncited, result.added = result.uncited - 1, result.added + 1
            judged[i] = None  # applied
    # per source number: (verdict, offline score, closest abstract sentence) of each claim
    verdicts: dict[int, list[tuple[Verdict, float, str]]] = {}
    for claim, found, verdict in zip(result.claims, evidence, judged, strict=True):
        if verdict is not None and claim.support != "uncited":
            claim.offline_support, claim.support = claim.support, verdict
        for n, offline, score, sentence in found:
            # The model judges the claim as a whole; offline, each source separately.
            verdicts.setdefault(n, []).append((verdict or offline, score, sentence))
    _place(result)
    for n in sorted(verdicts):
        # A source is as supported as the weakest claim that cites it.
        worst = min((v for v, _, _ in verdicts[n]), key=_STRENGTH.index)
        result.citations.append(
            Citation(
                n=n,
                paper_id=hits[n - 1].paper.paper_id,
                title=hits[n - 1].paper.title,
                supported=worst != "unsupported",
                support=worst,
                evidence=max(verdicts[n], key=lambda v: v[1])[2],
                spans=[c.span for c in result.claims if n in c.citations and c.span is not None],
            )
        )
    return result


_STRENGTH: list[Verdict] = ["unsupported", "weak", "supported"]


def _sentences(body: str) -> list[str]:
    """The answer's sentences, list bullets and bold paper names off; a marker that opens the
    next "sentence" belongs to the one before it."""
    sentences = [
        s
        for line in body.splitlines()
        for s in split_sentences(re.sub(r"^\s*[-*]\s+(\*\*[^*]+\*\*:\s*)?", "", line))
    ]
    merged: list[str] = []
    for sentence in sentences:
        if merged and re.fullmatch(r"(\[\d+\]\s*)+[.,;]?", sentence):
            merged[-1] += " " + sentence
        else:
            merged.append(sentence)
    return merged


def _model_verdicts(
    result: Checked,
    hits: Sequence[Hit],
    judge: ModelJudge | None,
    candidates: dict[int, tuple[int, Evidence]],
) -> list[Verdict | None]:
    """The model's verdict on each claim (None: not asked, or it gave none): a cited one
    against the abstracts it cites, an uncited one against its best source offline
    (``candidates``). If the model cannot judge, the offline verdicts stand and
    ``result.judge_error`` says why."""
    claims = result.claims
    asked = [i for i, c in enumerate(claims) if c.citations or i in candidates]
    result.checker = "offline" if any(c.citations for c in claims) else "none"
    judged: list[Verdict | None] = [None] * len(claims)
    if judge is None or not asked:
        return judged

    def sources(i: int) -> list[Paper]:
        numbers = [candidates[i][0]] if i in candidates else claims[i].citations
        return [hits[n - 1].paper for n in numbers]

    started = time.perf_counter()
    try:
        found = judge.verdicts([(claims[i].text, sources(i)) for i in asked])
    except AssistantError as exc:
        result.judge_error = f"{exc.describe()} (the offline checker's verdicts are shown)"
        return judged
    finally:
        result.judge_ms = round((time.perf_counter() - started) * 1000, 2)
    for i, verdict in zip(asked, found, strict=True):
        judged[i] = verdict
    missing = found.count(None)
    if missing < len(found):
        result.checker = "model"
    if missing:
        result.judge_error = (
            f"The model gave no verdict on {missing} of {len(found)} claims; "
            "those keep the offline checker's verdict"
        )
    return judged


def _place(result: Checked) -> None:
    """Put the checker's citations into the text, as a model's would be, and find each claim's
    span in it."""
    text = result.text
    for claim in result.claims:
        if claim.added:
            original = claim.text
            start = text.find(original)
            if start >= 0:
                claim.text = add_marker(original, claim.citations[0])
                text = text[:start] + claim.text + text[start + len(original) :]
    cursor = 0
    for claim in result.claims:
        start = text.find(claim.text, cursor)
        if start >= 0:
            claim.span = (start, start + len(claim.text))
            cursor = start + len(claim.text)
    result.text = text
