"""Questions about the names a collection uses: how often the coverage verdict flags those about a
name no paper introduces, and how often it flags those about a name a paper does introduce.

Run: .venv/bin/python bench/names.py [--store DIR]
The questions are generated from the store's papers. A name (`names.names`) a paper introduces
(`names.introduces`: its title names it, its abstract defines it or proposes it) makes an
answerable question whose gold is that paper; a name that papers mention but none introduces
("CLIP", "AdamW", "ImageNet" in the sample) makes a question the collection does not cover: its
papers say how they use it, not what it is. Wordings "A" are those the rule was written against;
wordings "B" were written afterwards: report B. It prints, per wording set, the share flagged
(uncertain or refused) now and by the thresholds alone (on the papers as now ranked: the top
paper's term share is that of the paper put first), and the gold paper's recall@1 and @5.
"""

from __future__ import annotations

import random
from collections import defaultdict

from harness import dev_arguments

from assistant.config import Settings, StoreSettings
from assistant.names import RARE, introduces, names
from assistant.records import Paper

WORDINGS = {
    "A": ["How was the original {} trained?", "How does {} work?", "What is {}?"],
    "B": [
        "Why does {} work so well?",
        "What are the main ideas behind {}?",
        "Explain how {} is built.",
        "When was {} proposed, and by whom?",
    ],
}


def _names(papers: list[Paper]) -> tuple[dict[str, list[Paper]], dict[str, list[Paper]]]:
    """(introduced, used): each name at most RARE papers use with the papers that introduce it,
    and each name papers use but none introduces with those papers. Names of two characters and
    plain plurals of another name are left out."""
    mentioned: defaultdict[str, list[Paper]] = defaultdict(list)
    for paper in papers:
        for name in names(f"{paper.title}\n{paper.abstract}"):
            if len(name) > 2:
                mentioned[name].append(paper)
    introduced: dict[str, list[Paper]] = {}
    used: dict[str, list[Paper]] = {}
    for name, where in mentioned.items():
        if name.endswith("s") and name[:-1] in mentioned:
            continue
        makers = [p for p in where if introduces(p, name)]
        if makers and len(where) <= RARE:
            introduced[name] = makers
        elif not makers:
            used[name] = where
    return introduced, used


def main() -> None:
    parser = dev_arguments(__doc__.splitlines()[0])
    parser.add_argument("--per-kind", type=int, default=60, help="names sampled per kind")
    args = parser.parse_args()

    from assistant.retrieve import Retriever, judge_coverage

    retriever = Retriever(Settings(store=StoreSettings(path=args.store)))
    calibration = retriever.calibration()
    papers = list(retriever.lexical().papers)
    introduced, used = _names(papers)
    rng = random.Random(0)
    print(f"{len(papers)} papers: {len(introduced)} names introduced, {len(used)} only used")
    for kind, pool in (("introduced", introduced), ("only used", used)):
        chosen = rng.sample(sorted(pool), min(args.per_kind, len(pool)))
        for wording, templates in WORDINGS.items():
            flagged = by_scores = first = found = total = 0
            for name in chosen:
                question = rng.choice(templates).format(name)
                hit = retriever.retrieve(question, 10)
                total += 1
                flagged += hit.coverage_verdict != "covered"
                # The thresholds' verdict alone, without what the names say.
                if calibration is not None and hit.relevance is not None:
                    covered, uncertain = judge_coverage(
                        hit.relevance, hit.lexical_coverage or 0.0, calibration
                    )
                    by_scores += uncertain or not covered
                gold = {p.paper_id for p in pool[name]}
                if kind == "introduced":
                    ranks = [h.rank for h in hit.hits if h.paper.paper_id in gold]
                    first += bool(ranks) and min(ranks) == 1
                    found += bool(ranks) and min(ranks) <= 5
            line = (
                f"{kind:>10} {wording}: {total} questions, flagged {flagged / total:.2f} "
                f"(scores alone {by_scores / total:.2f})"
            )
            if kind == "introduced":
                line += f", gold first {first / total:.2f}, in the top 5 {found / total:.2f}"
            print(line)


if __name__ == "__main__":
    main()
