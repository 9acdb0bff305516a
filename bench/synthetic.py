"""Build a store of N synthetic abstracts (default 100k) for the scale benchmarks, or reuse it.

Run: .venv/bin/python bench/synthetic.py [--papers 100000] [--store store-bench-100k]
Then: .venv/bin/python bench/retrieval.py --store store-bench-100k

Abstracts are recombined from sentences of the sample collection (with rare words swapped in so
that BM25 postings grow as in a real collection); metadata is drawn from the sample's. Embedding
100k abstracts with MiniLM takes 1.5-2.5 h on 2 cores, so each synthetic chunk's vector is the
real vector of the sample chunk its first sentence came from, plus noise (sigma 0.02 per
dimension, about cosine 0.8 to the original), renormalised. Search timings depend on the number
and spread of vectors, not on what they mean; quality is measured on the real collection.
"""

from __future__ import annotations

import argparse
import random
import time
from pathlib import Path

import numpy as np

from assistant.config import Settings, StoreSettings, apply_offline_environment


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--papers", type=int, default=100_000)
    parser.add_argument("--store", type=Path, default=Path("store-bench-100k"))
    parser.add_argument("--sample", type=Path, default=Path("data"))
    parser.add_argument("--batch", type=int, default=2000)
    args = parser.parse_args()
    apply_offline_environment()

    from assistant.calibrate import calibrate
    from assistant.chunk import chunk_paper
    from assistant.embed import EMBEDDER_NAME, MiniLMEmbedding
    from assistant.ingest import read_collection
    from assistant.lexical import LexicalIndex
    from assistant.records import Chunk, Paper
    from assistant.retrieve import Retriever
    from assistant.store import open_store

    settings = Settings(store=StoreSettings(path=args.store))
    with open_store(settings.store, EMBEDDER_NAME, write=True) as store:
        have = store.count_chunks()
    if have >= args.papers:
        print(f"{args.store} already holds {have} chunks; reusing it")
        return

    sample, _ = read_collection([args.sample])
    embedder = MiniLMEmbedding(settings.embed)
    rng = random.Random(7)
    noise = np.random.default_rng(7)
    pieces: list[tuple[str, np.ndarray]] = []  # (sentence, vector of its chunk)
    started = time.perf_counter()
    for paper in sample:
        chunks = chunk_paper(paper, settings.chunk)
        vectors = embedder.embed_texts([c.embed_text(paper.title) for c in chunks])
        for chunk, vector in zip(chunks, vectors, strict=True):
            for sentence in chunk.text.split(". "):
                if len(sentence.split()) >= 6:
                    pieces.append((sentence.rstrip(".") + ".", np.asarray(vector)))
    print(
        f"{len(pieces)} sentences from {len(sample)} papers ({time.perf_counter() - started:.0f}s)"
    )
    vocabulary = sorted({w for s, _ in pieces for w in s.split() if w.isalpha() and len(w) > 6})
    title_words = [w for p in sample for w in p.title.split() if w.isalpha()]

    def synthetic(i: int) -> tuple[Paper, Chunk, list[float]]:
        picked = rng.sample(pieces, 4)
        words = " ".join(s for s, _ in picked).split()
        for _ in range(3):  # a few rare words per abstract, as real abstracts have
            words[rng.randrange(len(words))] = rng.choice(vocabulary) + rng.choice("xyzqk")
        abstract = " ".join(words)
        template = rng.choice(sample)
        paper = Paper.create(
            f"{' '.join(rng.sample(title_words, 6))} {i}",
            abstract,
            authors=[f"Author{rng.randrange(20000)} Synth" for _ in range(rng.randint(1, 6))],
            venue=template.venue,
            date=f"{rng.randint(2015, 2026)}-{rng.randint(1, 12):02d}",
            upvotes=template.upvotes,
            categories=template.categories,
            sources=template.sources,
        )
        vector = picked[0][1] + noise.normal(0, 0.02, size=picked[0][1].shape)
        vector /= np.linalg.norm(vector)
        chunk = Chunk(
            chunk_id=f"{paper.paper_id}:0",
            paper_id=paper.paper_id,
            index=0,
            text=abstract,
            tokens=len(words),
        )
        return paper, chunk, [float(x) for x in vector]

    started = time.perf_counter()
    with open_store(settings.store, EMBEDDER_NAME, write=True) as store:
        for start in range(have, args.papers, args.batch):
            items = [synthetic(i) for i in range(start, min(start + args.batch, args.papers))]
            store.write_papers([(p, [c], [v]) for p, c, v in items])
            done = start + len(items)
            rate = (done - have) / (time.perf_counter() - started)
            print(f"  {done}/{args.papers} papers stored ({rate:.0f}/s)", flush=True)
        papers = store.papers()
    started = time.perf_counter()
    index = LexicalIndex.build(papers)
    index.save(settings.store.path)
    print(f"BM25 index over {len(papers)} papers built in {time.perf_counter() - started:.0f}s")
    retriever = Retriever(settings, embedder)
    retriever.use_index(index)
    started = time.perf_counter()
    calibration = calibrate(retriever, index.fingerprint)
    print(f"calibrated in {time.perf_counter() - started:.0f}s: {calibration}")


if __name__ == "__main__":
    main()
