"""question -> ranked Hits: one entry per paper, with its best matching chunks."""

from __future__ import annotations

from collections.abc import Sequence

from assistant.config import Settings
from assistant.embed import EMBEDDER_NAME, MiniLMEmbedding
from assistant.errors import AssistantError
from assistant.records import Hit, Paper
from assistant.store import ChunkMatch, open_store


class Retriever:
    """Dense retrieval over the store, aggregated per paper; holds the embedder between queries."""

    def __init__(self, settings: Settings, embedder: MiniLMEmbedding | None = None) -> None:
        self.settings = settings
        self._embedder = embedder

    @property
    def embedder(self) -> MiniLMEmbedding:
        if self._embedder is None:
            self._embedder = MiniLMEmbedding(self.settings.embed)
        return self._embedder

    def search(self, question: str, k: int | None = None) -> list[Hit]:
        """The ``k`` papers whose chunks best match ``question``, best first."""
        if not question.strip():
            raise AssistantError(
                "The question is empty", hint='type what you are looking for, e.g. "layer pruning"'
            )
        k = k or self.settings.retrieval.top_k
        vector = self.embedder.get_query_embedding(question)
        with open_store(self.settings.store, EMBEDDER_NAME) as store:
            matches = store.query(vector, max(self.settings.retrieval.candidates, k * 4))
        return group_by_paper(matches, k)


def group_by_paper(matches: Sequence[ChunkMatch], k: int) -> list[Hit]:
    """Collapse chunk matches into papers: a paper's score is its best chunk's similarity."""
    best: dict[str, list[ChunkMatch]] = {}
    for match in matches:
        best.setdefault(match.paper_id, []).append(match)
    ranked = sorted(best.values(), key=lambda ms: max(m.similarity for m in ms), reverse=True)
    hits = []
    for rank, group in enumerate(ranked[:k], 1):
        group.sort(key=lambda m: m.similarity, reverse=True)
        paper = Paper.model_validate_json(str(group[0].metadata["paper_json"]))
        hits.append(
            Hit(
                paper=paper,
                score=round(group[0].similarity, 4),
                rank=rank,
                chunks=[m.text for m in group[:2]],
            )
        )
    return hits
