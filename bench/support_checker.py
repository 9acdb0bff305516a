"""Agreement of the offline support checker with the gold papers of the dev questions.

Run: .venv/bin/python bench/support_checker.py [--store DIR] [--questions FILE]
For each lookup and paraphrase question, the sentences of its answer note (a summary of the
gold paper) are checked against the gold abstract (should be supported) and against the best
retrieved paper that is not gold (a hard negative: should not be supported).
"""

from __future__ import annotations

from harness import dev_arguments

from assistant.config import Settings, StoreSettings


def main() -> None:
    parser = dev_arguments(__doc__.splitlines()[0])
    args = parser.parse_args()

    from assistant.chunk import split_sentences
    from assistant.cite import SentenceBank, check
    from assistant.evaluate import load_questions
    from assistant.records import normalize_title
    from assistant.retrieve import Retriever

    retriever = Retriever(Settings(store=StoreSettings(path=args.store)))
    bank = SentenceBank(retriever.embedder)
    by_title = {normalize_title(p.title): p for p in retriever.lexical().papers}
    true_pairs: list[str] = []
    false_pairs: list[str] = []
    # The rule for a model's uncited sentence: the retrieved abstract that supports it best,
    # if any supports it, becomes its citation. Where does a note sentence's citation go?
    attributed = {"gold": 0, "bystander": 0, "none": 0}
    for question in load_questions(args.questions):
        if question.type not in ("lookup", "paraphrase") or not question.gold_titles:
            continue
        gold = by_title[normalize_title(question.gold_titles[0])]
        hits = retriever.search(question.question, 5)
        other = next(h.paper for h in hits if h.paper != gold)
        for sentence in split_sentences(question.answer_notes.split(":", 1)[-1])[:2]:
            true_pairs.append(check(sentence, gold, bank).verdict)
            false_pairs.append(check(sentence, other, bank).verdict)
            best = max(
                ((check(sentence, h.paper, bank), h.paper) for h in hits), key=lambda t: t[0].score
            )
            if best[0].verdict != "supported":
                attributed["none"] += 1
            else:
                attributed["gold" if best[1] == gold else "bystander"] += 1
    for label, verdicts in (("gold abstract", true_pairs), ("hard negative", false_pairs)):
        shares = {
            v: verdicts.count(v) / len(verdicts) for v in ("supported", "weak", "unsupported")
        }
        print(
            f"{label:<14} n={len(verdicts)}  "
            + "  ".join(f"{v} {share:.3f}" for v, share in shares.items())
        )
    agree = true_pairs.count("supported") + false_pairs.count("unsupported")
    print(
        f"agreement (supported on gold, unsupported on negatives): "
        f"{agree / (2 * len(true_pairs)):.3f}"
    )
    total = sum(attributed.values())
    print(
        "uncited note sentences, citation added to the top-5 paper that supports them best: "
        + "  ".join(f"{where} {n / total:.3f}" for where, n in attributed.items())
        + f"  (n={total})"
    )


if __name__ == "__main__":
    main()
