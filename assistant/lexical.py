"""The BM25 index (bm25s + English stemming) over title + abstract, persisted beside the store."""

from __future__ import annotations

import hashlib
import json
import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from assistant.records import Paper

INDEX_DIR = "lexical"


def _stemmer() -> Any:
    import Stemmer

    return Stemmer.Stemmer("english")


def fingerprint(papers: Sequence[Paper]) -> str:
    """Identity of a collection's content: changes when any paper is added, changed or removed."""
    return _fingerprint(sorted(_key(p) for p in papers))


def _fingerprint(keys: Sequence[tuple[str, str]]) -> str:
    """:func:`fingerprint` from the papers' (id, content hash) pairs in id order."""
    digest = hashlib.sha256()
    for paper_id, content_hash in keys:
        digest.update(f"{paper_id}:{content_hash};".encode())
    return digest.hexdigest()[:16]


def _document(paper: Paper) -> str:
    """What BM25 indexes of a paper: its title twice, then its abstract."""
    return f"{paper.title}\n{paper.title}\n{paper.abstract}"


def _key(paper: Paper) -> tuple[str, str]:
    return paper.paper_id, paper.content_hash


class _Terms:
    """Each indexed paper's token ids, and the vocabulary they index (only ever grown, so
    ids stay valid from one build to the next): what lets a rebuild tokenise only the papers
    a write added or changed. About 0.5 KB per paper."""

    def __init__(self, vocab: dict[str, int], ids: dict[tuple[str, str], np.ndarray]) -> None:
        self.vocab = vocab
        self.ids = ids

    @classmethod
    def of(cls, tokens: Any, keys: Sequence[tuple[str, str]]) -> _Terms:
        """From bm25s's tokenisation of the papers ``keys`` name (ids into its vocabulary)."""
        return cls(
            dict(tokens.vocab),
            {k: np.asarray(d, dtype=np.int32) for k, d in zip(keys, tokens.ids, strict=True)},
        )

    def carried(self, ordered: Sequence[Paper], keys: Sequence[tuple[str, str]]) -> _Terms:
        """The terms of ``ordered`` (``keys`` theirs): kept for papers seen before, tokenised
        for the others."""
        import bm25s

        new = [(p, k) for p, k in zip(ordered, keys, strict=True) if k not in self.ids]
        vocab = dict(self.vocab)
        ids = {k: self.ids[k] for k in keys if k in self.ids}
        if new:
            words = bm25s.tokenize(
                [_document(p) for p, _ in new],
                stopwords="en",
                stemmer=_stemmer(),
                show_progress=False,
                return_ids=False,
            )
            for (_, key), document in zip(new, words, strict=True):
                ids[key] = np.fromiter(
                    (vocab.setdefault(w, len(vocab)) for w in document), dtype=np.int32
                )
        return _Terms(vocab, ids)


class LexicalIndex:
    """BM25 over one document per paper (title + abstract); ids are paper ids."""

    def __init__(
        self, retriever: Any, papers: list[Paper], stamp: str, terms: _Terms | None = None
    ) -> None:
        self._bm25 = retriever
        self._terms = terms
        self.papers = papers
        self.catalogue = {p.paper_id: p for p in papers}
        self._position = {p.paper_id: i for i, p in enumerate(papers)}
        self.fingerprint = stamp
        self._stemmer = _stemmer()
        # Papers holding each vocabulary term (the postings' lengths), for coverage().
        self._document_counts = (
            np.diff(np.asarray(retriever.scores["indptr"])) if papers else np.zeros(0)
        )

    @classmethod
    def build(cls, papers: Sequence[Paper], previous: LexicalIndex | None = None) -> LexicalIndex:
        """Index ``papers`` in memory. Given the ``previous`` index of a collection one write
        away, only the papers it had not seen are tokenised (most of a rebuild's time: 70 of
        100 ms at 318 papers); their scores are recomputed whole, which bm25s does fast."""
        import bm25s

        ordered = sorted(papers, key=lambda p: p.paper_id)
        keys = [_key(p) for p in ordered]  # a content hash costs 25 us: once per paper
        if previous is None or previous._terms is None:
            # Title counts twice. A generator, not a list: the texts of a 100k collection would
            # add about 150 MB to the peak of an ingest.
            corpus = (_document(p) for p in ordered)
            tokens = bm25s.tokenize(corpus, stopwords="en", stemmer=_stemmer(), show_progress=False)
            retriever = bm25s.BM25()
            if ordered:
                retriever.index(tokens, show_progress=False)
            terms = _Terms.of(tokens, keys)
            return cls(retriever, ordered, _fingerprint(keys), terms)
        terms = previous._terms.carried(ordered, keys)
        retriever = bm25s.BM25()
        if ordered:
            retriever.index(([terms.ids[k] for k in keys], terms.vocab), show_progress=False)
        return cls(retriever, ordered, _fingerprint(keys), terms)

    def save(self, store_dir: Path) -> None:
        """Write the index under ``store_dir/lexical`` (replacing any older one atomically)."""
        target = store_dir / INDEX_DIR
        staging = store_dir / (INDEX_DIR + ".tmp")
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir(parents=True)
        if self.papers:
            self._bm25.save(str(staging), show_progress=False)
        with (staging / "papers.jsonl").open("w", encoding="utf-8") as handle:
            for paper in self.papers:
                handle.write(paper.model_dump_json() + "\n")
        (staging / "meta.json").write_text(json.dumps({"fingerprint": self.fingerprint}))
        backup = store_dir / (INDEX_DIR + ".old")
        shutil.rmtree(backup, ignore_errors=True)
        if target.exists():
            target.rename(backup)
        staging.rename(target)
        shutil.rmtree(backup, ignore_errors=True)

    @staticmethod
    def stamp(store_dir: Path) -> int | None:
        """When the saved index was last replaced (ns), or None when there is none: lets a
        process notice that another one re-indexed the collection."""
        try:
            return (store_dir / INDEX_DIR / "meta.json").stat().st_mtime_ns
        except FileNotFoundError:
            return None

    @staticmethod
    def saved_fingerprint(store_dir: Path) -> str | None:
        """The fingerprint of the saved index, without loading it; None when there is none."""
        try:
            return str(json.loads((store_dir / INDEX_DIR / "meta.json").read_text())["fingerprint"])
        except (FileNotFoundError, KeyError, ValueError):
            return None

    @classmethod
    def load(cls, store_dir: Path, papers: Sequence[Paper] | None = None) -> LexicalIndex | None:
        """The saved index, or None when there is none. ``papers``, when the caller holds the
        collection the index was built from already, spares reading (and holding) it twice."""
        import bm25s

        target = store_dir / INDEX_DIR
        stamp = cls.saved_fingerprint(store_dir)
        if stamp is None:
            return None
        try:
            if papers is not None:
                ordered = sorted(papers, key=lambda p: p.paper_id)
            else:
                # Read line by line, and only "\n" ends a record: str.splitlines() would also
                # split on U+2028 and the like, which JSON leaves unescaped inside strings.
                with (target / "papers.jsonl").open(encoding="utf-8", newline="\n") as handle:
                    ordered = [Paper.model_validate_json(line) for line in handle if line.strip()]
            bm25 = bm25s.BM25.load(str(target), show_progress=False) if ordered else bm25s.BM25()
        except FileNotFoundError:
            return None  # a writer is swapping in a new index this instant: the caller rebuilds
        return cls(bm25, ordered, stamp)

    def _tokens(self, text: str) -> list[str]:
        import bm25s

        tokens = bm25s.tokenize(
            [text], stopwords="en", stemmer=self._stemmer, show_progress=False, return_ids=False
        )
        return list(dict.fromkeys(tokens[0]))

    def coverage(self, query: str, paper: Paper) -> float:
        """Share of the query's term weight (IDF) found in ``paper``'s title and abstract.

        A term the collection never uses weighs most: a question about something no paper
        mentions cannot be covered by word overlap on its common words.
        """
        terms = self._tokens(query)
        if not terms or not self.papers:
            return 0.0
        total = len(self.papers)

        def idf(term: str) -> float:
            return float(np.log((total + 1) / (self._frequency(term) + 0.5)))

        present = set(self._tokens(f"{paper.title}\n{paper.abstract}"))
        weights = {term: idf(term) for term in terms}
        return sum(w for t, w in weights.items() if t in present) / sum(weights.values())

    def names(self, query: str, paper: Paper, rare: int = 3) -> bool:
        """Whether ``query`` names ``paper``: a word of its title that at most ``rare`` papers
        use ("What are the limitations of SOAP?"; the question's other words may be common)."""
        title = set(self._tokens(paper.title))
        return any(0 < self._frequency(t) <= rare for t in self._tokens(query) if t in title)

    def _frequency(self, term: str) -> int:
        """How many papers use ``term`` (0 for a term the index does not know)."""
        index = self._bm25.vocab_dict.get(term)
        counts = self._document_counts
        return int(counts[index]) if index is not None and index < len(counts) else 0

    def search(
        self, query: str, k: int, allowed: set[str] | None = None
    ) -> list[tuple[Paper, float]]:
        """Up to ``k`` papers with a positive BM25 score for ``query``, best first."""
        if not self.papers:
            return []
        vocab = self._bm25.vocab_dict
        words = [t for t in self._tokens(query) if t in vocab]
        if not words:
            return []
        scores = np.asarray(self._bm25.get_scores(words), dtype=np.float32)
        if allowed is not None:  # built from the allowed papers: a few ms for a narrow filter
            mask = np.zeros(len(scores), dtype=bool)
            mask[[self._position[p] for p in allowed if p in self._position]] = True
            scores = np.where(mask, scores, 0.0)
        top = np.argsort(-scores)[:k]
        return [(self.papers[i], float(scores[i])) for i in top if scores[i] > 0]
