"""Hybrid search latency as a ratio to a raw Chroma query, measured in the same run.

Run: .venv/bin/python bench/retrieval.py [--store DIR] [--queries N]
Uses an existing store (default store/; `make run` or `assistant ingest data/` builds it).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from harness import percentiles

from assistant.config import Settings, StoreSettings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", type=Path, default=Path("store"))
    parser.add_argument("--queries", type=int, default=86)
    parser.add_argument(
        "--questions",
        type=Path,
        default=Path(__file__).parents[1] / ".." / "shared/eval/dev_questions.jsonl",
    )
    args = parser.parse_args()

    from assistant.embed import embedder_name
    from assistant.records import Filters
    from assistant.retrieve import Retriever
    from assistant.store import open_store

    settings = Settings(store=StoreSettings(path=args.store))
    if not args.questions.is_file():
        # Three questions asked over and over would be timed from the embedder's memory.
        raise SystemExit(
            f"{args.questions}: no such question file; pass --questions FILE (JSONL, one "
            '{"question": ...} per line, e.g. ../shared/eval/dev_questions.jsonl)'
        )
    questions = [json.loads(line)["question"] for line in args.questions.read_text().splitlines()]
    questions = (questions * (args.queries // len(questions) + 1))[: args.queries]
    retriever = Retriever(settings)
    retriever.search("warm up")  # load the embedder and BM25 index once, outside the timings

    raw: list[float] = []
    from_text: list[float] = []  # what collection.query(query_texts=...) costs: embed + query
    hybrid: list[float] = []
    with open_store(settings.store, embedder_name(settings.embed)) as store:
        chunks = store.count_chunks()
        for question in questions:
            started = time.perf_counter()
            vector = retriever.embedder.get_query_embedding(question)
            embedded = time.perf_counter()
            store.query(vector, 10)
            done = time.perf_counter()
            raw.append((done - embedded) * 1000)
            from_text.append((done - started) * 1000)
    # The embedder remembers the questions it embedded above; each timed search embeds its own.
    for question in questions:
        retriever.embedder.forget()
        started = time.perf_counter()
        retriever.search(question, 10)
        hybrid.append((time.perf_counter() - started) * 1000)
    # A broad filter (dates from 2024 on) is applied after the query, fetching more candidates.
    broad = Filters(since="2024")
    started = time.perf_counter()
    retriever.search(questions[0], 10, broad)
    cold = (time.perf_counter() - started) * 1000
    filtered: list[float] = []
    for question in questions:
        retriever.embedder.forget()
        started = time.perf_counter()
        retriever.search(question, 10, broad)
        filtered.append((time.perf_counter() - started) * 1000)
    raw_p50, raw_p95 = percentiles(raw)
    text_p50, text_p95 = percentiles(from_text)
    hyb_p50, hyb_p95 = percentiles(hybrid)
    fil_p50, fil_p95 = percentiles(filtered)
    print(
        f"store {args.store}: {len(retriever.lexical().papers)} papers, {chunks} chunks, "
        f"{len(questions)} queries"
    )
    print(f"raw Chroma top-10 (vector given): p50 {raw_p50:7.2f} ms  p95 {raw_p95:7.2f} ms")
    print(f"raw Chroma top-10 from the text:  p50 {text_p50:7.2f} ms  p95 {text_p95:7.2f} ms")
    print(f"ours (parse+embed+BM25+fuse):     p50 {hyb_p50:7.2f} ms  p95 {hyb_p95:7.2f} ms")
    print(f"ours, filtered since 2024:        p50 {fil_p50:7.2f} ms  p95 {fil_p95:7.2f} ms")
    print(f"  (first query with that filter, which checks every paper: {cold:.0f} ms)")
    print(f"ratio filtered / raw: p50 {fil_p50 / raw_p50:.1f}x  p95 {fil_p95 / raw_p95:.1f}x")
    print(
        f"ratio hybrid / raw: p50 {hyb_p50 / raw_p50:.1f}x  p95 {hyb_p95 / raw_p95:.1f}x "
        "(goal p95 <= 10x)"
    )
    print(
        f"ratio hybrid / raw from the text: p50 {hyb_p50 / text_p50:.1f}x  "
        f"p95 {hyb_p95 / text_p95:.1f}x (the embedder's share is common to both)"
    )


if __name__ == "__main__":
    main()
