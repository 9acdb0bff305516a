"""Ordered questions ("the newest paper on X", "..., oldest first"): is the first paper listed
the right one, over the whole collection and within a topic.

Run: .venv/bin/python bench/ordered.py [--store DIR]
Over the collection, each order (most / fewest authors, most / fewest upvotes, newest, oldest)
is asked in wordings "A" (those the parser's rules were written against) and "B" (written
afterwards); the first paper listed must be one of those the order puts first (ties count).
Within a topic, every multi-paper question of bench/multi_questions.jsonl and of the dev
questions is asked newest first and oldest first; its gold papers are the topic. The first
paper listed must be the gold paper the order puts first among those with a date (any gold
paper when none has one), and the first len(gold) listed should be gold ("on topic"). Beside
ours, in the same run: the question's own ranking with no order ("relevance") and its ten best
sorted by date ("sort all ten", the order before the on-topic cut). The cut's share of the
best score was chosen on half A (harness.half of the question): report B.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable, Iterator
from pathlib import Path

from harness import DEV_QUESTIONS, dev_arguments, half

from assistant.config import Settings, StoreSettings
from assistant.query import Sort, sort_papers, sort_value
from assistant.records import Paper

MULTI = Path(__file__).with_name("multi_questions.jsonl")

# (sort, wordings A, wordings B) over the whole collection
ORDERS: list[tuple[Sort, list[str], list[str]]] = [
    (
        Sort(key="author_count"),
        ["Which paper has the most authors?"],
        ["Show the papers with the largest number of co-authors"],
    ),
    (
        Sort(key="author_count", descending=False),
        ["Which paper has the fewest authors?"],
        ["Papers with the smallest number of authors"],
    ),
    (
        Sort(key="upvotes"),
        ["What are the most upvoted papers?"],
        ["Which papers are the most popular?"],
    ),
    (Sort(key="date"), ["What is the newest paper?"], ["List all papers, newest first"]),
    (
        Sort(key="date", descending=False),
        ["What is the oldest paper?"],
        ["Papers in chronological order"],
    ),
]
WITHIN = {"newest": ("{}, newest first?", True), "oldest": ("{}, oldest first?", False)}


def _topics() -> Iterator[tuple[str, list[str]]]:
    """(question, gold titles) of the written and dev multi-paper questions."""
    for path in (MULTI, DEV_QUESTIONS):
        if not path.exists():
            continue
        for line in path.read_text(encoding="utf-8").splitlines():
            row = json.loads(line)
            if row["type"] == "multi":
                yield row["question"], row["gold_titles"]


def main() -> None:
    parser = dev_arguments(__doc__.splitlines()[0])
    args = parser.parse_args()

    from assistant.retrieve import Retriever

    retriever = Retriever(Settings(store=StoreSettings(path=args.store)))
    papers = retriever.lexical().papers
    print("over the collection | wording | first paper right")
    print("--- | --- | ---")
    for sort, a, b in ORDERS:
        known = [p for p in papers if sort_value(p, sort) is not None]
        if not known:
            continue
        top = sort_value(sort_papers(known, sort)[0], sort)
        for wording, texts in (("A", a), ("B", b)):
            right = 0
            for text in texts:
                hits = retriever.retrieve(text, 10).hits
                right += bool(hits) and sort_value(hits[0].paper, sort) == top
            way = "desc" if sort.descending else "asc"
            print(f"{sort.key} {way} | {wording} | {right}/{len(texts)}")

    by_title = {p.title: p for p in papers}
    systems: dict[str, Callable[[str, str, bool], list[Paper]]] = {
        "ours": lambda asked, _, __: [h.paper for h in retriever.retrieve(asked, 10).hits],
        "relevance": lambda _, plain, __: [h.paper for h in retriever.retrieve(plain, 10).hits],
        "sort all ten": lambda _, plain, descending: sort_papers(
            [h.paper for h in retriever.retrieve(plain, 10).hits],
            Sort(key="date", descending=descending),
        ),
    }
    rows: dict[tuple[str, str], list[tuple[bool, float]]] = defaultdict(list)
    for question, titles in _topics():
        gold = [by_title[t] for t in titles if t in by_title]
        if not gold:
            continue
        for wording, descending in WITHIN.values():
            asked = wording.format(question.rstrip("?"))
            order = sort_papers(gold, Sort(key="date", descending=descending))
            ids = {p.paper_id for p in gold}
            dated = [p for p in order if p.date]
            firsts = {dated[0].paper_id} if dated else ids
            for name, system in systems.items():
                got = system(asked, question, descending)
                first = bool(got) and got[0].paper_id in firsts
                on_topic = sum(p.paper_id in ids for p in got[: len(gold)]) / len(gold)
                rows[(name, half(question))].append((first, on_topic))
    print(
        "\nwithin a topic | half | questions | first paper right | on topic in the first len(gold)"
    )
    print("--- | --- | --- | --- | ---")
    for (name, side), values in sorted(rows.items(), key=lambda item: (item[0][1], item[0][0])):
        n = len(values)
        print(
            f"{name} | {side} | {n} | {sum(v[0] for v in values) / n:.2f} | "
            f"{sum(v[1] for v in values) / n:.2f}"
        )


if __name__ == "__main__":
    main()
