"""What a write through the server costs: a one-paper upload until it is searchable, against one
embed call of that paper; a delete until the paper is gone from results, against one search; and
how long the coverage thresholds take to catch up behind them (the previous ones decide meanwhile).

With --add N, also adding N papers at once (an upload of one JSONL file: the sample
collection's abstracts under new titles) until they are searchable, against embedding their
chunks alone.

Run: .venv/bin/python bench/writes.py [--store store] [--rounds 3] [--add 1000]
For the 100k store of bench/scale.py: ASSISTANT_EMBED__MODEL=minilm .venv/bin/python
bench/writes.py --store /tmp/assistant-scale/store --add 1000

The store is copied first (the original is not changed). Both sides of each ratio are measured
in this run, on this machine.
"""

from __future__ import annotations

import argparse
import io
import json
import shutil
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", type=Path, default=Path("store"))
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--add", type=int, default=0, help="papers added at once (0: not timed)")
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
        # As a server that has answered a question: its word index loaded (10 s at 100k).
        retriever.search("warm up", k=1)
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
            collection.add_file(io.BytesIO(body), "quokka.jsonl")
            assert retriever.search(title, k=1)[0].paper.title == title
            upload.append(time.perf_counter() - started)
            collection.wait_calibrated()
            settle.append(time.perf_counter() - started)

            # Every search asks a text not asked before: the embedder keeps the vectors of the
            # questions it was asked recently, and a repeated one would skip its embedding.
            started = time.perf_counter()
            retriever.search(f"quokka stride length, round {n}", k=5)
            search.append(time.perf_counter() - started)

            paper_id = next(p.paper_id for p in collection.papers() if p.title == title)
            started = time.perf_counter()
            collection.remove([paper_id])
            gone = retriever.search(f"{title}, removed", k=5)
            assert title not in {h.paper.title for h in gone}
            delete.append(time.perf_counter() - started)
            print(
                f"round {n}: upload {upload[-1] * 1000:.0f} ms (embed {embed[-1] * 1000:.0f} ms),"
                f" delete {delete[-1] * 1000:.0f} ms (search {search[-1] * 1000:.0f} ms)",
                flush=True,
            )
            collection.wait_calibrated()
        papers = len(collection.papers())
        if args.add:
            added, embedded = _add_many(collection, settings, args.add, Path(tmp))
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
    if args.add:
        print(
            f"adding {args.add} papers until searchable {added:.1f} s / embedding their chunks"
            f" alone {embedded:.1f} s = {added / embedded:.2f}x (goal <= 1.3x at 100k papers)"
        )
    print(
        f"the same upload with its thresholds rebuilt before it returns (as before): "
        f"{synchronous * 1000:.0f} ms = {synchronous * 1000 / ms(upload):.0f}x the upload now"
    )


def _add_many(collection: Any, settings: Any, count: int, tmp: Path) -> tuple[float, float]:
    """Seconds to add ``count`` new papers in one upload until the last is searchable by its
    words; seconds to embed their chunks alone (in the batches ingest uses)."""
    from assistant.chunk import chunk_paper
    from assistant.ingest import read_collection
    from assistant.records import Paper

    sample, _ = read_collection([Path("data")])
    rows = []
    for n in range(count):
        paper = sample[n % len(sample)]
        rows.append({"title": f"{paper.title} (bench copy {n})", "abstract": paper.abstract})
    texts = []
    for row in rows:
        paper = Paper.create(row["title"], row["abstract"])
        texts += [c.embed_text(paper.title) for c in chunk_paper(paper, settings.chunk)]
    embedder = collection.retriever.embedder
    started = time.perf_counter()
    for start in range(0, len(texts), 64):
        embedder.embed_texts(texts[start : start + 64])
    embedded = time.perf_counter() - started

    source = tmp / "many.jsonl"
    source.write_text("".join(json.dumps(row) + "\n" for row in rows))
    started = time.perf_counter()
    with source.open("rb") as handle:
        job = collection.start_upload(handle, source.name)
    done = collection.wait_job(job.id)
    assert done.state == "done", done
    last = rows[-1]["title"]
    assert collection.retriever.search(last, k=1)[0].paper.title == last
    added = time.perf_counter() - started
    collection.wait_calibrated()
    return added, embedded


if __name__ == "__main__":
    main()
