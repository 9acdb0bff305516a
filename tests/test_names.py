"""The names a question uses: which paper introduces one, and what a name says about coverage."""

from __future__ import annotations

import pytest

from assistant.names import (
    RARE,
    asks_use,
    introduces,
    judge,
    mentioned,
    named_first,
    names,
    proper,
    subject,
)
from assistant.records import Paper


def _paper(paper_id: str, title: str, abstract: str) -> Paper:
    return Paper(paper_id=paper_id, title=title, abstract=abstract)


BANDITS = _paper(
    "bandits",
    "Stochastic Contextual Dueling Bandits",
    "We propose a computationally efficient algorithm, CoLSTIM, which imitates the feedback. "
    "It beats methods built on CLIP features.",
)
REASONING = _paper(
    "reasoning",
    "Thought Branches: Interpreting Reasoning",
    "How does a reasoning model work? We resample its chains of thought.",
)
RIVAL = _paper("rival", "OmniControl: text to image", "We extend ControlNet with CLIP.")
COUNTS = {"CoLSTIM": 1, "CLIP": 3, "ControlNet": 1, "LLM": 40}


def _using(name: str) -> int:
    return COUNTS.get(name, 0)


def _nobody(name: str) -> list[Paper]:
    return []


def test_names_are_acronyms_mixed_case_and_versions_not_sizes_or_title_case() -> None:
    assert names("Does GPT-4 beat ResNet, t-SNE and NYUv2 on MATH-500 with 7B and 3D data?") == [
        "GPT-4",
        "ResNet",
        "t-SNE",
        "NYUv2",
        "MATH-500",
    ]
    assert names("A Real-World Pre-Training study of Adam and Shampoo") == []
    assert names("DICE-Talk and Tree-OPO") == ["DICE-Talk", "Tree-OPO"]


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("How was the original CLIP model pre-trained?", "CLIP"),
        ("What is ControlNet?", "ControlNet"),
        ("How does LSUV initialization work?", "LSUV"),
        ("Why does a CoLSTIM agent win?", "CoLSTIM"),
        ("What MATH-500 pass@1 did a 7B model reach?", None),
        ("Which papers evaluate on ImageNet?", None),
        ("How does the rotation trick work?", None),
        # The name only qualifies what is asked about, which papers using it describe.
        ("How do LLM agents defend against prompt injection?", None),
        ("How do CLIP-guided methods edit images?", None),
        ("What is GPT-4's context length?", "GPT-4"),
        # The name first, as left of "Explain how CLIP is built" once its request is taken out.
        ("how CLIP is built.", "CLIP"),
        ("Why the ImageNet-1K dataset works so well", "ImageNet-1K"),
        ("How CNN-based detectors are built", None),
        ("how the rotation trick works", None),
    ],
)
def test_the_subject_is_the_name_a_question_asks_about(question: str, expected: str) -> None:
    assert subject(question) == expected


@pytest.mark.parametrize(
    ("abstract", "introduced"),
    [
        ("We propose CoLSTIM to imitate feedback.", True),
        ("We propose a computationally efficient algorithm, CoLSTIM, which imitates.", True),
        ("This study introduces CoLSTIM, a novel bandit.", True),
        ("Layer-sequential unit-variance (CoLSTIM) initialization is simple.", True),
        ("A method we call CoLSTIM is simple.", True),
        ("Notably, our CoLSTIM even outperforms larger models.", True),
        ("CoLSTIM, a bandit algorithm, imitates feedback.", True),
        ("We compare against strong baselines such as CoLSTIM and UCB.", False),
        ("We propose a new bandit that improves on CoLSTIM.", False),
        ("Built on CoLSTIM features, our agent wins.", False),
    ],
)
def test_a_paper_introduces_a_name_it_defines_or_proposes_not_one_it_uses(
    abstract: str, introduced: bool
) -> None:
    assert introduces(_paper("p", "A bandit study", abstract), "CoLSTIM") is introduced


def test_a_title_naming_it_introduces_it() -> None:
    assert introduces(_paper("p", "SOAP: Improving Shampoo", "It is fast."), "SOAP")
    assert not introduces(_paper("p", "Improving Shampoo", "SOAP is fast."), "SOAP")


def test_a_name_with_a_number_raised_in_it_is_the_name_typed_plain() -> None:
    pruner = _paper("e3", "E$^3$-Pruner: Efficient Layer Pruning", "We prune LLM layers.")
    assert introduces(pruner, "E3-Pruner") and mentioned(pruner.title, "E3-Pruner")
    assert introduces(_paper("m", "Met^2Net: Forecasting", "Two stages."), "Met2Net")
    assert not mentioned("We map R^3 to R^d.", "E3-Pruner")
    # Typed raised in the question: the name, not its tail ("2MAM", which no paper uses).
    s2mam = _paper("s", "S2MAM: Semi-supervised Meta Additive Model", "We select variables.")
    verdict = judge("What is S^2MAM?", [s2mam], lambda name: 1 if name == "S2MAM" else 0, _nobody)
    assert verdict.makers == [s2mam] and verdict.doubt is None


def test_a_rare_name_a_paper_introduces_makes_the_question_about_it() -> None:
    verdict = judge("How does CoLSTIM work?", [REASONING, BANDITS], _using, _nobody)
    assert verdict.makers == [BANDITS] and verdict.doubt is None
    # Not among the papers found: looked up among the few papers that use the name.
    verdict = judge("How does CoLSTIM work?", [REASONING], _using, lambda name: [BANDITS])
    assert verdict.makers == [BANDITS]


def test_a_common_name_a_paper_introduces_decides_nothing() -> None:
    llm = _paper("llm", "LLM: a survey", "We study LLM agents.")
    assert COUNTS["LLM"] > RARE
    assert judge("How do LLM agents plan?", [llm], _using, _nobody) == ([], None)


def test_a_name_no_paper_mentions_is_a_doubt() -> None:
    verdict = judge(
        "How accurate is sign language translation on PHOENIX-2014T?", [], _using, _nobody
    )
    assert verdict == ([], "No paper in the collection mentions 'PHOENIX-2014T'.")


def test_a_capitalised_word_no_paper_uses_is_a_doubt_one_papers_use_is_not() -> None:
    question = "Which curriculum helps agents solve Montezuma's Revenge, as Bandits do?"
    words = proper(question)
    assert words == ["Montezuma", "Revenge", "Bandits"]
    counts = {"Montezuma": 0, "Revenge": 0, "Bandits": 4}.__getitem__
    verdict = judge(question, [BANDITS], counts, _nobody, words=words)
    assert verdict == ([], "No paper in the collection mentions 'Montezuma', 'Revenge'.")
    assert judge(question, [BANDITS], counts, _nobody, words=["Bandits"]) == ([], None)
    # A sentence's first word, or one after a colon or a quote, is no name.
    assert proper("Sparse rewards: Hard exploration in 'Pitfall' games. Which agents?") == []


def test_a_question_about_a_name_the_papers_only_use_is_a_doubt() -> None:
    verdict = judge("How was the original CLIP model trained?", [BANDITS, RIVAL], _using, _nobody)
    assert verdict == ([], "Papers in the collection use CLIP, but none of them introduces it.")
    # Used in passing by a question about something else: no doubt.
    assert judge("Which bandits use CLIP features?", [BANDITS], _using, _nobody) == ([], None)


def test_a_question_for_where_a_name_comes_from_is_a_doubt_when_papers_only_use_it() -> None:
    clover = _paper("clover", "CLOVER: Orthonormal Vectors", "Our method outperforms LoRA by 5.4%.")
    counts = {"LoRA": 1, "CoLSTIM": 1, "FLEURS": 1}.__getitem__
    for asked in (
        "Which paper proposes LoRA, low-rank adapters for fine-tuning large language models?",
        "Who first introduced LoRA?",
        "What work presented the LoRA method?",
    ):
        assert subject(asked) == "LoRA", asked
        verdict = judge(asked, [clover], counts, lambda name: [clover])
        assert verdict == ([], "Papers in the collection use LoRA, but none of them introduces it.")
    # The paper that introduces it is what is asked for.
    asked = "Which paper introduced CoLSTIM?"
    assert judge(asked, [RIVAL], counts, lambda name: [BANDITS]) == ([BANDITS], None)
    # A variant of the name, or a name that only qualifies, asks for something else.
    assert subject("Which paper introduced LoRA with orthonormal constraints?") is None
    assert subject("Which paper proposed CLIP-guided editing?") is None
    # Asked where it comes from, a benchmark is not asked for by its users ...
    benchmark = "Which work first introduced the FLEURS benchmark?"
    assert subject(benchmark) == "FLEURS" and not asks_use(benchmark)
    # ... and a searched text without the question's opening takes the name from ``about``.
    verdict = judge("LoRA?", [clover], counts, lambda name: [clover], about="LoRA")
    assert verdict.doubt == "Papers in the collection use LoRA, but none of them introduces it."
    assert judge("LoRA?", [clover], counts, lambda name: [clover]).doubt is None


def test_papers_asked_for_using_a_common_name_are_the_close_papers_mentioning_it() -> None:
    llm = _paper("llm", "Agents that plan", "We evaluate LLM agents on planning.")
    question = "Does any paper evaluate on LLM agents?"
    assert judge(question, [REASONING, llm], _using, _nobody, asks_use=True) == ([llm], None)
    # Not asked so, or with no close paper mentioning it: nothing decided.
    assert judge(question, [REASONING, llm], _using, _nobody) == ([], None)
    far = judge(question, [llm], _using, _nobody, close=lambda p: False, asks_use=True)
    assert far.makers == []


def test_a_maker_moves_up_past_the_papers_that_name_nothing_the_question_names() -> None:
    order = named_first("How does CoLSTIM work?", [REASONING, BANDITS], [BANDITS])
    assert order == [BANDITS, REASONING]
    # A paper naming something the question names stays ahead, though it introduces nothing.
    assert named_first("Compare CLIP and CoLSTIM", [RIVAL, BANDITS], [BANDITS]) == [RIVAL, BANDITS]
    # A maker the search did not find comes up from the end, no further than a named paper.
    assert named_first("Is CLIP in CoLSTIM?", [REASONING, RIVAL], [BANDITS]) == [
        REASONING,
        RIVAL,
        BANDITS,
    ]
    assert named_first("Is it CoLSTIM?", [REASONING], [BANDITS]) == [BANDITS, REASONING]


def test_a_paper_writing_an_acronym_out_counts_as_naming_it() -> None:
    # "OT" is rare, and one paper defines it; the paper that writes it out, which the
    # question's other words point to, stays first.
    maker = _paper("maker", "Transport maps", "We learn optimal transport (OT) maps for cells.")
    flow = _paper("flow", "The Curse of Conditions", "Minibatch optimal transport couplings fail.")
    question = "minibatch OT coupling breaks for conditional flow matching, why?"
    spelled = {"OT": ["optimal transport"]}.get
    assert named_first(question, [flow, maker], [maker], lambda a: spelled(a, [])) == [
        flow,
        maker,
    ]
    # Without the long form it was moved past it.
    assert named_first(question, [flow, maker], [maker]) == [maker, flow]


def test_a_name_none_of_the_found_papers_mentions_is_a_doubt() -> None:
    counts = {**COUNTS, "BERT": 3}
    verdict = judge(
        "How do distillation methods compress BERT?", [REASONING], counts.__getitem__, _nobody
    )
    assert verdict == ([], "None of the papers found mentions 'BERT'.")
    # Found papers that mention it, in another spelling, raise no doubt.
    bert = _paper("bert", "Distilling language models", "We compress Bert-base by half.")
    assert judge("How is BERT compressed?", [bert], counts.__getitem__, _nobody) == ([], None)
    # Nor does a mention in a paper found far from the question.
    far_off = judge(
        "How is BERT compressed?",
        [REASONING, bert],
        counts.__getitem__,
        _nobody,
        close=lambda paper: paper is REASONING,
    )
    assert far_off.doubt == (
        "None of the papers closest to the question mentions 'BERT'; those found that do are "
        "further from it."
    )
    # Only the closest few count: a mention in the eleventh paper found does not cover it.
    far = judge("How is BERT compressed?", [REASONING] * 10 + [bert], counts.__getitem__, _nobody)
    assert far.doubt == "None of the papers found mentions 'BERT'."
    # A name that qualifies is looked for by what it qualifies with.
    gans = _paper("gan", "Adversarial video", "We train GANs on captions.")
    counts["GAN-based"] = 4
    assert judge("Which GAN-based models?", [gans], counts.__getitem__, _nobody).doubt is None


def test_an_acronym_is_mentioned_by_a_long_form_the_collection_defines() -> None:
    pruning = _paper("prune", "Layer pruning", "We prune layers of large language models.")
    counts = {**COUNTS, "LLM": 40, "LLMs": 40, "ECG": 1}
    defined = {"LLM": ["large language model"]}

    def expansions(acronym: str) -> list[str]:
        return defined.get(acronym, [])

    for question in ("Which papers prune LLM layers?", "Which LLMs are pruned?"):
        verdict = judge(question, [pruning], counts.__getitem__, _nobody, expansions)
        assert verdict == ([], None), question
    # Without the definition it is not taken as written out ...
    assert judge("Which LLMs?", [pruning], counts.__getitem__, _nobody).doubt == (
        "None of the papers found mentions 'LLMs'."
    )
    # ... nor are initials that spell an acronym by chance, which nothing defines.
    chance = _paper("ecg", "Guarantees", "We establish convergence guarantees.")
    doubt = judge("How is ECG classified?", [chance], counts.__getitem__, _nobody, expansions)
    assert doubt.doubt == "None of the papers found mentions 'ECG'."
