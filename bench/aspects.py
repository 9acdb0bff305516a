"""Which sentence states each aspect of a paper: our choice (the comparison's cells, the extracted
answer to an aspect question) against hand labels (bench/aspects.jsonl), beside two simple
alternatives measured in the same run.

Run: .venv/bin/python bench/aspects.py [--half A|B|all]

The labels name, for 24 papers of the sample collection and five aspects, every sentence of the
abstract that states the aspect, or none ("not stated" is then the right cell). A cell is right
when it holds one of those sentences, or says "not stated" where that is right. Papers are split
into halves by a fixed hash of their id: rules are chosen on half A, half B is reported.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

ASPECTS = ["problem", "method", "data", "result", "limitations"]


def half(paper_id: str) -> str:
    """A or B, by a fixed hash of the paper's id."""
    return "AB"[int(hashlib.sha256(paper_id.encode()).hexdigest(), 16) % 2]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--half", choices=["A", "B", "all"], default="all")
    parser.add_argument("--wrong", action="store_true", help="list our wrong cells")
    args = parser.parse_args()

    from assistant.aspects import AspectFinder
    from assistant.cite import SentenceBank
    from assistant.config import EmbedSettings
    from assistant.embed import load_embedder
    from assistant.ingest import read_collection

    labels = [json.loads(line) for line in (ROOT / "bench/aspects.jsonl").read_text().splitlines()]
    labels = [r for r in labels if args.half in ("all", half(r["paper_id"]))]
    papers = {p.paper_id: p for p in read_collection([ROOT / "data"])[0]}
    bank = SentenceBank(load_embedder(EmbedSettings(model="minilm")))
    finder = AspectFinder(bank)
    picks = {pid: finder.table(papers[pid], ASPECTS) for pid in {r["paper_id"] for r in labels}}

    def nearest(record: dict[str, object]) -> int | None:
        """The sentence closest to the aspect's description, always (never "not stated")."""
        paper = papers[str(record["paper_id"])]
        _, vectors = bank.sentences(paper)
        return int((vectors @ finder.target(str(record["aspect"]))).argmax())

    systems = {
        "ours": lambda r: picks[r["paper_id"]][r["aspect"]],
        "nearest sentence": nearest,
        "first sentence": lambda r: 0,
    }
    print(
        f"{len(labels)} cells of {len({r['paper_id'] for r in labels})} papers (half {args.half})"
    )
    print("system | " + " | ".join(ASPECTS) + " | all | not stated: right / said")
    print("---|" * (len(ASPECTS) + 3))
    for name, pick in systems.items():
        right: dict[str, list[bool]] = defaultdict(list)
        silent_right = silent = 0
        for record in labels:
            chosen = pick(record)
            ok = chosen in record["sentences"] or (chosen is None and record["not_stated_ok"])
            right[record["aspect"]].append(ok)
            right["all"].append(ok)
            if chosen is None:
                silent += 1
                silent_right += record["not_stated_ok"]
        cells = [f"{sum(v) / len(v):.2f}" for v in (right[a] for a in [*ASPECTS, "all"])]
        print(f"{name} | " + " | ".join(cells) + f" | {silent_right} / {silent}")
    if args.wrong:
        for record in labels:
            chosen = picks[record["paper_id"]][record["aspect"]]
            if not (chosen in record["sentences"] or (chosen is None and record["not_stated_ok"])):
                print(
                    record["paper_id"],
                    record["aspect"],
                    "ours",
                    chosen,
                    "gold",
                    record["sentences"],
                )


if __name__ == "__main__":
    main()
