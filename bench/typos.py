"""Questions with typos, as people type them: recall@1 and verdicts with the question's misspelt
words read as the collection spells them (spelling on) and as typed (off), in the same run.

Run: .venv/bin/python bench/typos.py [--store DIR] [--questions F ...] [--half A|B]
Each question gets one typo in each of up to two of its longer content words (a letter
dropped, doubled, swapped with the next, or changed to a neighbour on the keyboard), seeded by
the question, so every run asks the same typos. Answerable questions count recall@1 (any gold
paper first) and how many are refused or marked uncertain; questions the collection does not
cover count how many are refused or marked uncertain. The same questions without typos are
the ceiling.
"""

from __future__ import annotations

import json
import random
import re
from collections import Counter
from pathlib import Path

from harness import ROOT, dev_arguments, half

from assistant.config import RetrievalSettings, Settings, StoreSettings

QUESTIONS = [
    ROOT.parent / "shared/eval/dev_questions.jsonl",
    ROOT / "bench/written_questions.jsonl",
    ROOT / "bench/paraphrase_questions.jsonl",
]
_KEYS = ["qwertyuiop", "asdfghjkl", "zxcvbnm"]
_CONTENT = re.compile(r"(?<![\w'-])[a-z]{6,}(?![\w'-])")


def _neighbour(letter: str, rng: random.Random) -> str:
    for row in _KEYS:
        if letter in row:
            i = row.index(letter)
            return rng.choice([row[j] for j in (i - 1, i + 1) if 0 <= j < len(row)])
    return letter


def misspelt(question: str) -> str:
    """``question`` with one typo in each of up to two of its words of six letters or more."""
    rng = random.Random(question)
    words = list(_CONTENT.finditer(question))
    chosen = sorted(rng.sample(words, min(2, len(words))), key=lambda m: m.start())
    out, last = [], 0
    for match in chosen:
        word = match.group(0)
        i = rng.randrange(1, len(word) - 1)
        kind = rng.choice(["drop", "double", "swap", "key"])
        if kind == "drop":
            typo = word[:i] + word[i + 1 :]
        elif kind == "double":
            typo = word[:i] + word[i] + word[i:]
        elif kind == "swap":
            typo = word[:i] + word[i + 1] + word[i] + word[i + 2 :]
        else:
            typo = word[:i] + _neighbour(word[i], rng) + word[i + 1 :]
        out += [question[last : match.start()], typo]
        last = match.end()
    return "".join([*out, question[last:]])


def main() -> None:
    parser = dev_arguments(__doc__.splitlines()[0])
    parser.set_defaults(questions=None)
    parser.add_argument("--half", choices=["A", "B"], help="only this half of the questions")
    args = parser.parse_args()
    from assistant.retrieve import Retriever

    files = [args.questions] if args.questions else QUESTIONS
    rows = [json.loads(line) for path in files for line in Path(path).read_text().splitlines()]
    rows = [r for r in rows if r.get("gold_titles") or r.get("must_refuse")]
    rows = [r for r in rows if args.half is None or half(r["question"]) == args.half]
    store = StoreSettings(path=args.store)
    ways = {
        "as typed (spelling off)": Retriever(
            Settings(store=store, retrieval=RetrievalSettings(spelling=False))
        ),
        "read as the papers spell it (on)": Retriever(Settings(store=store)),
    }
    answerable = [r for r in rows if not r.get("must_refuse")]
    absent = [r for r in rows if r.get("must_refuse")]
    print(f"{len(answerable)} answerable, {len(absent)} absent questions from {len(files)} files")
    print("questions | way | R@1 | answerable refused / uncertain | absent refused or uncertain")
    print("--- | --- | --- | --- | ---")
    for label, asked in (("without typos", False), ("with typos", True)):
        for way, retriever in ways.items():
            if not asked and not way.startswith("as typed"):
                continue  # nothing to read otherwise: the two ways agree
            first = 0
            verdicts: Counter[str] = Counter()
            for row in answerable:
                question = misspelt(row["question"]) if asked else row["question"]
                found = retriever.retrieve(question, 5)
                first += bool(found.hits) and found.hits[0].paper.title in row["gold_titles"]
                verdicts[found.coverage_verdict] += 1
            caught = sum(
                retriever.retrieve(
                    misspelt(row["question"]) if asked else row["question"], 5
                ).coverage_verdict
                != "covered"
                for row in absent
            )
            n = max(len(answerable), 1)
            print(
                f"{label} | {way if asked else 'as written'} | {first / n:.2f} | "
                f"{verdicts['not_covered'] / n:.0%} / {verdicts['uncertain'] / n:.0%} | "
                f"{caught / max(len(absent), 1):.2f}"
            )
    sample = [r["question"] for r in answerable[:3]]
    print("\nfor example:\n" + "\n".join(f"  {misspelt(q)}" for q in sample))


if __name__ == "__main__":
    main()
