"""Counts within a topic at scale: the papers mentioning a topic ("Which author has the most
papers on diffusion models?") found in a large collection, timed against reading every abstract
for the phrase in the same run.

Run: .venv/bin/python bench/counts.py [--papers 100000] [--work /tmp/assistant-scale]

Uses bench/scale.py's synthetic collection (written once under WORK/collection, reused), builds
the word index in memory, and times `LexicalIndex.mentioning` (the papers using every term, from
BM25's postings, then the phrase read in those abstracts) against the plain scan (the phrase
read in every title and abstract), best of three runs each; both must find the same papers.
The BM25 top 10 of the same words (the lexical half of every question) is shown for scale.
"""

from __future__ import annotations

import argparse
from functools import partial
from pathlib import Path

from harness import best_ms
from scale import write_collection

TOPICS = ["pruning", "diffusion models", "reinforcement learning", "language models", "LLMs"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--papers", type=int, default=100_000)
    parser.add_argument("--work", type=Path, default=Path("/tmp/assistant-scale"))
    args = parser.parse_args()

    from assistant.ingest import read_collection
    from assistant.lexical import LexicalIndex
    from assistant.records import mentions

    def scan(topic: str) -> list[str]:
        return [
            p.paper_id for p in papers if mentions(p.title, topic) or mentions(p.abstract, topic)
        ]

    collection = args.work / "collection"
    write_collection(Path(__file__).resolve().parents[1] / "data", collection, args.papers)
    papers, _ = read_collection([collection])
    index = LexicalIndex.build(papers)
    print(f"{len(papers)} papers")
    print("topic | papers mentioning it | ours (ms) | scan (ms) | ratio | BM25 top 10 (ms)")
    print("--- | --- | --- | --- | --- | ---")
    for topic in TOPICS:
        found = [p.paper_id for p in index.mentioning(topic)]
        plain = set(scan(topic))
        # An acronym is also found written out as the collection defines it; the scan reads
        # it as written only.
        assert plain <= set(found) if topic.rstrip("s").isupper() else plain == set(found), topic
        counting = best_ms(partial(index.mentioning, topic))
        scanning = best_ms(partial(scan, topic))
        searching = best_ms(partial(index.search, topic, 10))
        print(
            f"{topic} | {len(found)} ({len(plain)} as written) | {counting:.0f} | "
            f"{scanning:.0f} | {counting / scanning:.2f}x | {searching:.1f}"
        )


if __name__ == "__main__":
    main()
