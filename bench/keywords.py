"""Short topics, as people type them into a search box, bare or inside a request: the verdict and
the top paper for each wording, for topics the sample collection covers and topics it lacks.

Run: .venv/bin/python bench/keywords.py [--store DIR]
The topics are written for the sample collection (data/): each covered topic names the paper it
is about (gold), each absent one is a field none of its papers works in. Every topic is asked in
the wordings below; the rule that takes the request out of a question (query.without_request)
was written against these wordings, so they show that it works, not how it does on others.
It prints, per wording, the answerable topics' recall@1 and verdicts, and the share of absent
topics refused or marked uncertain.
"""

from __future__ import annotations

from collections import Counter

from harness import dev_arguments

from assistant.config import Settings, StoreSettings

WORDINGS = [
    "{}",
    "papers on {}",
    "Find me papers about {}",
    "Could you tell me about {}?",
    "I'm looking for work on {}",
    "Hi! Do you have anything on {}? Thanks",
    "Hey, are there papers on {}?",
    # Requests made of framing words (query._FRAME_WORDS); these three were not among the
    # wordings that rule was written on.
    "What's out there on {}?",
    "Where can I learn about {}?",
    "What should I read first on {}?",
]
COVERED = {
    "layer pruning": "E$^3$-Pruner",
    "speculative decoding": "Accelerating Production LLMs with Combined Token/Embedding",
    "symbolic regression with prior knowledge": "Controllable Neural Symbolic Regression",
    "reward hacking in process reward models": "Stop Summation",
    "Muon optimizer convergence": "Convergence of Muon with Newton-Schulz",
    "curriculum pretraining and learning rate decay": "How Learning Rate Decay Wastes",
    "activation steering": "Local Linearity of LLMs Enables Activation Steering",
    "randomized smoothing": "The Lipschitz-Variance-Margin Tradeoff",
    "distributional reinforcement learning exploration": "Diverse Projection Ensembles",
    "policy representations with successor features": "pi2vec",
    "underwater bioacoustics": "Underwater Bioacoustic Denoising",
    "chest X-ray report generation": "Chest X-Ray Report Generation",
    "Minecraft video pretraining": "Video PreTraining (VPT)",
    "task vectors for reasoning": "Reasoning Vectors",
    "backward compatibility of model updates": "Backward Compatibility During Data Updates",
    "adversarial example transferability": "LGV: Boosting Adversarial Example Transferability",
    "metric space magnitude": "Weighting vectors for machine learning",
    "noise stability of transformers": "Noise Stability of Transformer Models",
    "fair data preprocessing with boosting": "Fair Densities via Boosting",
    "transformers that approximate Bayesian inference": "Transformers Can Do Bayesian Inference",
}
ABSENT = [
    "protein structure prediction",
    "federated learning privacy",
    "speech recognition for low-resource languages",
    "medical image segmentation",
    "autonomous driving motion planning",
    "molecular property prediction with graph neural networks",
    "sign language translation",
    "music generation",
    "point cloud registration",
    "knowledge graph completion",
    "fake news detection",
    "traffic forecasting",
    "text-to-SQL",
    "image super-resolution",
    "stock price prediction",
    "3D human pose estimation",
    "hate speech detection",
    "optical flow estimation",
    "neural machine translation for low-resource languages",
    "click-through rate prediction",
]


def main() -> None:
    args = dev_arguments(__doc__.splitlines()[0]).parse_args()
    from assistant.retrieve import Retriever

    retriever = Retriever(Settings(store=StoreSettings(path=args.store)))
    print(f"{len(COVERED)} covered topics, {len(ABSENT)} absent, {len(WORDINGS)} wordings")
    print("wording | covered: R@1, verdicts | absent: refused or uncertain")
    print("--- | --- | ---")
    for wording in WORDINGS:
        first = 0
        verdicts: Counter[str] = Counter()
        for topic, gold in COVERED.items():
            found = retriever.retrieve(wording.format(topic), 5)
            first += bool(found.hits) and gold in found.hits[0].paper.title
            verdicts[found.coverage_verdict] += 1
        caught = sum(
            retriever.retrieve(wording.format(topic), 5).coverage_verdict != "covered"
            for topic in ABSENT
        )
        shown = ", ".join(f"{verdicts[v]} {v}" for v in ("covered", "uncertain", "not_covered"))
        print(
            f"{wording.format('X')} | {first / len(COVERED):.2f}, {shown} | "
            f"{caught / len(ABSENT):.2f}"
        )


if __name__ == "__main__":
    main()
