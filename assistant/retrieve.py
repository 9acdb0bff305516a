"""question -> ranked Hits: hybrid BM25 + dense search fused per paper, with metadata filters."""

from __future__ import annotations

from collections.abc import Sequence

from assistant.config import Settings
from assistant.embed import EMBEDDER_NAME, MiniLMEmbedding
from assistant.errors import AssistantError
from assistant.lexical import LexicalIndex
from assistant.records import Filters, Hit, Paper
from assistant.store import ChunkMatch, open_store

RRF_K = 60  # the constant of reciprocal rank fusion (Cormack et al. 2009)
_IN_FILTER_LIMIT = 2000  # above this many allowed papers, filter dense results after the query


class Retriever:
    """Hybrid retrieval over the store; keeps the embedder and lexical index between queries."""

    def __init__(self, settings: Settings, embedder: MiniLMEmbedding | None = None) -> None:
        self.settings = settings
        self._embedder = embedder
        self._lexical: LexicalIndex | None = None

    @property
    def embedder(self) -> MiniLMEmbedding:
        if self._embedder is None:
            self._embedder = MiniLMEmbedding(self.settings.embed)
        return self._embedder

    def lexical(self) -> LexicalIndex:
        """The BM25 index saved at ingest; rebuilt in memory from the store if it is missing."""
        if self._lexical is None:
            index = LexicalIndex.load(self.settings.store.path)
            if index is None:
                with open_store(self.settings.store, EMBEDDER_NAME) as store:
                    index = LexicalIndex.build(store.papers())
            self._lexical = index
        return self._lexical

    def search(
        self, question: str, k: int | None = None, filters: Filters | None = None
    ) -> list[Hit]:
        """The ``k`` papers that best match ``question`` and pass ``filters``, best first."""
        if not question.strip():
            raise AssistantError(
                "The question is empty", hint='type what you are looking for, e.g. "layer pruning"'
            )
        k = k or self.settings.retrieval.top_k
        depth = max(self.settings.retrieval.candidates, k * 4)
        index = self.lexical()
        allowed: set[str] | None = None
        where = None
        if filters is not None and not filters.empty:
            allowed = {p.paper_id for p in index.papers if filters.accepts(p)}
            if not allowed:
                return []
            if len(allowed) <= _IN_FILTER_LIMIT:
                where = {"paper_id": {"$in": sorted(allowed)}}
        vector = self.embedder.get_query_embedding(question)
        with open_store(self.settings.store, EMBEDDER_NAME) as store:
            matches = store.query(vector, depth, where=where)
        if allowed is not None:
            matches = [m for m in matches if m.paper_id in allowed]
        lexical = index.search(question, depth, allowed)
        return fuse(matches, lexical, k)


def fuse(dense: Sequence[ChunkMatch], lexical: Sequence[tuple[Paper, float]], k: int) -> list[Hit]:
    """Reciprocal rank fusion of the dense and lexical paper rankings.

    ``dense`` comes best first (as Store.query returns it), so grouping it keeps each paper's
    chunks best first and orders papers by their best chunk: the paper's dense rank. A paper's
    score is sum(1 / (60 + rank)) over the lists it appears in.
    """
    chunks: dict[str, list[ChunkMatch]] = {}
    for match in dense:
        chunks.setdefault(match.paper_id, []).append(match)
    papers: dict[str, Paper] = {p.paper_id: p for p, _ in lexical}
    scores: dict[str, float] = {}
    for ranking in (list(chunks), [p.paper_id for p, _ in lexical]):
        for rank, pid in enumerate(ranking, 1):
            scores[pid] = scores.get(pid, 0.0) + 1.0 / (RRF_K + rank)
    hits = []
    for rank, pid in enumerate(sorted(scores, key=lambda p: -scores[p])[:k], 1):
        found = chunks.get(pid, [])
        paper = papers.get(pid) or Paper.model_validate_json(str(found[0].metadata["paper_json"]))
        hits.append(
            Hit(
                paper=paper,
                score=round(scores[pid], 5),
                rank=rank,
                similarity=round(found[0].similarity, 4) if found else None,
                chunks=[m.text for m in found[:2]] or [paper.abstract],
            )
        )
    return hits
