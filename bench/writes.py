"""What a write through the server costs: a one-paper upload until it is searchable, against one
embed call of that paper; a delete until the paper is gone from results, against one search; and
how long the coverage thresholds take to catch up behind them (the previous ones decide meanwhile).

Run: .venv/bin/python bench/writes.py [--store store] [--rounds 3]

The store is copied first (the original is not changed). Both sides of each ratio are measured
in this run, on this machine.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import tempfile
import time
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", type=Path, default=Path("store"))
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()

    from assistant.chunk import chunk_paper
    from assistant.collection import Collection
    from assistant.config import Settings, StoreSettings
    from assistant.ingest import ingest
    from assistant.records import Paper

    with tempfile.TemporaryDirectory() as tmp:
        store = Path(tmp) / "store"
        shutil.copytree(args.store, store)
        settings = Settings(store=StoreSettings(path=store))
        collection = Collection(settings)
        collection.wait_calibrated()
        retriever = collection.retriever
        embedder = retriever.embedder
        upload, embed, delete, search, settle = [], [], [], [], []
        for n in range(args.rounds):
            title = f"Quokka Locomotion on Rottnest, part {n}"
            abstract = "We film quokkas hopping between burrows and measure stride length. " * 5
            chunks = chunk_paper(Paper.create(title, abstract), settings.chunk)
            texts = [c.embed_text(title) for c in chunks]
            started = time.perf_counter()
            embedder.embed_texts(texts)
            embed.append(time.perf_counter() - started)

            body = json.dumps({"title": title, "abstract": abstract}).encode()
            started = time.perf_counter()
            collection.add_bytes(body, "quokka.jsonl")
            assert retriever.search(title, k=1)[0].paper.title == title
            upload.append(time.perf_counter() - started)
            collection.wait_calibrated()
            settle.append(time.perf_counter() - started)

            started = time.perf_counter()
            retriever.search("quokka stride length", k=5)
            search.append(time.perf_counter() - started)

            paper_id = next(p.paper_id for p in collection.papers() if p.title == title)
            started = time.perf_counter()
            collection.remove([paper_id])
            assert title not in {h.paper.title for h in retriever.search(title, k=5)}
            delete.append(time.perf_counter() - started)
            collection.wait_calibrated()
        papers = len(collection.papers())
        # As writes were before: the thresholds rebuilt before the upload returns.
        title = "Quokka Locomotion on Rottnest, the synchronous part"
        source = Path(tmp) / "sync.jsonl"
        source.write_text(json.dumps({"title": title, "abstract": abstract}))
        with collection.writing:
            started = time.perf_counter()
            ingest([source], settings, embedder=embedder)
            synchronous = time.perf_counter() - started
        collection.close()

    def ms(samples: list[float]) -> float:
        return statistics.median(samples) * 1000

    print(f"{papers} papers, {args.rounds} rounds, medians")
    print(
        f"upload until searchable {ms(upload):.0f} ms / one embed call {ms(embed):.0f} ms"
        f" = {ms(upload) / ms(embed):.1f}x (goal <= 3x)"
    )
    print(
        f"delete until gone {ms(delete):.0f} ms / one search {ms(search):.0f} ms"
        f" = {ms(delete) / ms(search):.1f}x (goal <= 3x)"
    )
    print(f"thresholds current after an upload: {ms(settle):.0f} ms (in the background)")
    print(
        f"the same upload with its thresholds rebuilt before it returns (as before): "
        f"{synchronous * 1000:.0f} ms = {synchronous * 1000 / ms(upload):.0f}x the upload now"
    )


if __name__ == "__main__":
    main()
