"""What reading the candidates' whole-paper vectors adds to a search at scale, against a raw
Chroma top-10 query on the same store in the same run.

Run: .venv/bin/python bench/whole_papers.py [--papers 100000] [--work /tmp/whole-papers]
Writes (once; re-runs reuse it) a store of PAPERS papers, each one chunk and one whole-paper
vector (random unit vectors of MiniLM's 384 dimensions: the read by id does not depend on
what the vectors hold), then times, for 200 random query vectors:
- raw: `Store.query(vector, 10)`, a top-10 HNSW query of the chunks, ids and distances only;
- nearest: `Store.nearest_wholes(vector, 200)`, what an unfiltered search reads (as many
  whole papers as it fetches chunks);
- by id: `Store.whole_similarities(vector, ids)` for 100 random papers, what a filtered search
  reads (the candidates it ranks, `retrieval.candidates`).
"""

from __future__ import annotations

import argparse
import random
import time
from pathlib import Path

import numpy as np
from harness import percentiles

from assistant.config import StoreSettings
from assistant.records import Chunk, Paper
from assistant.store import open_store

_DIMENSIONS = 384
_BATCH = 2000
_CANDIDATES = 100
_QUERIES = 200


def _unit(rng: np.random.Generator, n: int) -> np.ndarray:
    vectors = rng.standard_normal((n, _DIMENSIONS)).astype(np.float32)
    unit: np.ndarray = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
    return unit


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--papers", type=int, default=100_000)
    parser.add_argument("--work", type=Path, default=Path("/tmp/whole-papers"))
    args = parser.parse_args()
    settings = StoreSettings(path=args.work / f"store-{args.papers}")
    rng = np.random.default_rng(0)
    ids: list[str] = []
    with open_store(settings, "bench", write=True) as store:
        have = store.count_chunks()
        began = time.perf_counter()
        for start in range(0, args.papers, _BATCH):
            papers = [
                Paper.create(f"Paper {i}", f"Abstract of paper {i}.")
                for i in range(start, min(start + _BATCH, args.papers))
            ]
            ids += [p.paper_id for p in papers]
            if have >= args.papers:
                continue
            vectors = _unit(rng, len(papers))
            items = [
                (
                    p,
                    [
                        Chunk(
                            chunk_id=f"{p.paper_id}:0",
                            paper_id=p.paper_id,
                            index=0,
                            text=p.abstract,
                            tokens=5,
                        )
                    ],
                    [v],
                )
                for p, v in zip(papers, vectors.tolist(), strict=True)
            ]
            whole = {
                p.paper_id: v for p, v in zip(papers, _unit(rng, len(papers)).tolist(), strict=True)
            }
            store.write_papers(items, whole=whole)
        if have < args.papers:
            print(f"wrote {args.papers:,} papers in {time.perf_counter() - began:.0f} s")
    with open_store(settings, "bench") as store:
        queries = _unit(rng, _QUERIES).tolist()
        sample = random.Random(0)
        store.query(queries[0], 10, texts=False)  # the vector index loaded before timing
        store.whole_similarities(queries[0], sample.sample(ids, _CANDIDATES))
        times: dict[str, list[float]] = {"raw": [], "nearest": [], "by id": []}
        for vector in queries:
            wanted = sample.sample(ids, _CANDIDATES)
            for name in times:
                asked = time.perf_counter()
                if name == "raw":
                    found: object = store.query(vector, 10, texts=False)
                elif name == "nearest":
                    found = store.nearest_wholes(vector, 2 * _CANDIDATES)
                else:
                    found = store.whole_similarities(vector, wanted)
                times[name].append((time.perf_counter() - asked) * 1000)
                assert found
    print(f"{args.papers:,} papers, {_QUERIES} queries")
    raw_p50, raw_p95 = percentiles(times["raw"])
    for name, samples in times.items():
        p50, p95 = percentiles(samples)
        print(
            f"{name:>8}: p50 {p50:5.1f} ms, p95 {p95:5.1f} ms"
            f"   ratio to raw p50 {p50 / raw_p50:.2f}x, p95 {p95 / raw_p95:.2f}x"
        )


if __name__ == "__main__":
    main()
