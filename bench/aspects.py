"""Which sentence states each aspect of a paper: our choice (the comparison's cells, the extracted
answer to an aspect question) against hand labels (bench/aspects.jsonl), beside two simple
alternatives measured in the same run.

Run: .venv/bin/python bench/aspects.py [--half A|B|all] [--model --store DIR]

With --model, the cells a configured model writes (ASSISTANT_LLM__*, e.g. ASSISTANT_LLM__GGUF for
a local GGUF file) are measured too: the half's papers are compared two at a time over the
store DIR (ingested from data/ with the same embedder, ASSISTANT_EMBED__*). A model's cell is its
own words, so it holds the sentence the support check traces it to; a cell the check finds
unsupported holds none, and a table the model could not write counts all its cells wrong.

The labels name, for 24 papers of the sample collection and five aspects, every sentence of the
abstract that states the aspect, or none ("not stated" is then the right cell). A cell is right
when it holds one of those sentences, or says "not stated" where that is right. Papers are split
into halves by a fixed hash of their id: rules are chosen on half A, half B is reported.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import defaultdict
from pathlib import Path

from harness import half

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

ASPECTS = ["problem", "method", "data", "result", "limitations"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--half", choices=["A", "B", "all"], default="all")
    parser.add_argument("--wrong", action="store_true", help="list our wrong cells")
    parser.add_argument("--model", action="store_true", help="measure the model's cells too")
    parser.add_argument("--store", type=Path, default=ROOT / "store")
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
    if args.model:
        written = model_cells(sorted({r["paper_id"] for r in labels}), args.store)
        systems["model"] = lambda r: written.get((r["paper_id"], r["aspect"]), -1)
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


def model_cells(paper_ids: list[str], store: Path) -> dict[tuple[str, str], int | None]:
    """(paper, aspect) -> the sentence the configured model's cell holds (None: "not stated",
    -1: none), comparing the papers two at a time."""
    from assistant.answer import Answerer
    from assistant.cite import check
    from assistant.compare import Comparer
    from assistant.config import Settings, StoreSettings
    from assistant.errors import AssistantError

    settings = Settings(store=StoreSettings(path=store))
    if not settings.llm.configured:
        raise SystemExit(
            "--model needs a model: set ASSISTANT_LLM__GGUF or ASSISTANT_LLM__BASE_URL"
        )
    answerer = Answerer(settings)
    comparer = Comparer.beside(answerer)
    pairs = [paper_ids[i : i + 2] for i in range(0, len(paper_ids), 2)]
    if len(pairs[-1]) == 1:  # an odd one out is compared with the first paper
        pairs[-1].append(paper_ids[0])
    papers = {p.paper_id: p for p in answerer.retriever.lexical().papers}
    written: dict[tuple[str, str], int | None] = {}
    failed = 0
    for pair in pairs:
        started = time.perf_counter()
        try:
            table = comparer.compare(paper_ids=pair, aspects=ASPECTS)
        except AssistantError as exc:
            failed += 1
            print(f"  {' + '.join(pair)}: no table ({exc.describe().splitlines()[0]})")
            continue
        for pid in pair:
            sentences, _ = answerer.bank.sentences(papers[pid])
            for aspect, cell in table.cells[pid].items():
                if cell.support == "not stated":
                    chosen: int | None = None
                elif cell.support == "unsupported":
                    chosen = -1
                else:
                    chosen = sentences.index(check(cell.text, papers[pid], answerer.bank).sentence)
                written.setdefault((pid, aspect), chosen)
        print(f"  {' + '.join(pair)}: {time.perf_counter() - started:.0f} s")
    name = settings.llm.gguf.name if settings.llm.gguf else settings.llm.model
    print(f"model {name}: {len(pairs) - failed} of {len(pairs)} tables written")
    answerer.close()
    return written


if __name__ == "__main__":
    main()
