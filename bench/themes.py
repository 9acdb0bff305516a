"""The collection's themes ("What topics are covered?"): their cost over the plain count of the
same papers ("How many papers are there?") in the same run, and the grouping at its cap.

Run: .venv/bin/python bench/themes.py [--store store] [--work /tmp/assistant-themes]

1. On a store: both questions through `Retriever.retrieve`, best of five each after one warm-up
   (the word index loaded). The first time, the themes add the first chunks' vectors read from
   Chroma, the grouping and the naming; later, under the same word index, they are kept.
2. At the cap: a collection larger than `themes.GROUPED_AT_MOST` papers is grouped from that
   many, so `themes.themes` is timed on 2,000 synthetic papers (bench/scale.py's abstracts, with
   seeded random vectors): what grouping costs at any size beyond it. Reading their 2,000
   vectors from a store of that size is not in it.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
from harness import best_ms
from scale import write_collection

QUESTIONS = ("What topics are covered?", "How many papers are there?")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", type=Path, default=Path("store"))
    parser.add_argument("--work", type=Path, default=Path("/tmp/assistant-themes"))
    args = parser.parse_args()

    from assistant.config import Settings, StoreSettings
    from assistant.ingest import read_collection
    from assistant.retrieve import Retriever
    from assistant.themes import GROUPED_AT_MOST, themes

    with Retriever(Settings(store=StoreSettings(path=args.store))) as retriever:
        # (the warm-up run loads the word index)
        plain = best_ms(lambda: retriever.retrieve(QUESTIONS[1]), 5, warm=True)
        start = time.perf_counter()
        found = retriever.retrieve(QUESTIONS[0])
        first = (time.perf_counter() - start) * 1000
        ours = best_ms(lambda: retriever.retrieve(QUESTIONS[0]), 5, warm=True)
        print(f"store {args.store}: {found.grouped} papers grouped into {len(found.themes)} themes")
        print("question | ms")
        print("--- | ---")
        print(f"{QUESTIONS[1]} (the same papers, no themes), best of 5 | {plain:.1f}")
        print(f"{QUESTIONS[0]}, the first time | {first:.1f} ({first / plain:.0f}x)")
        print(f"{QUESTIONS[0]}, again, best of 5 | {ours:.1f} ({ours / plain:.1f}x)\n")

    collection = args.work / "collection"
    write_collection(Path(__file__).resolve().parents[1] / "data", collection, GROUPED_AT_MOST)
    papers, _ = read_collection([collection])
    papers = papers[:GROUPED_AT_MOST]
    rng = np.random.default_rng(7)
    vectors = {p.paper_id: rng.normal(size=768).astype(np.float32) for p in papers}
    took = best_ms(lambda: themes(papers, vectors), 3, warm=True)
    print(f"{len(papers)} synthetic papers (the cap): grouped and named in {took:.0f} ms")


if __name__ == "__main__":
    main()
