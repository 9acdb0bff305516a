"""Comparisons on the real sample collection: resolving papers, the table, the model's JSON."""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner

from assistant.answer import Answerer
from assistant.chunk import split_sentences
from assistant.cite import check
from assistant.cli import main
from assistant.compare import NOT_STATED, Comparer, ResolutionError, is_comparison
from assistant.config import Settings
from assistant.errors import LLMResponseError
from assistant.records import Turn, normalize_title

from .openai_stub import StubServer

SOAP = "SOAP: Improving and Stabilizing Shampoo using Adam"
MARS = "MARS: Unleashing the Power of Variance Reduction for Training Large Models"


def _titles(comparer: Comparer, prompt: str, history: list[Turn] | None = None) -> list[str]:
    papers, _ = comparer.resolve(prompt, history=history or [])
    return [p.title for p in papers]


@pytest.fixture(scope="module")
def comparer(sample_settings: Settings) -> Comparer:
    return Comparer.beside(Answerer(sample_settings))


def test_resolves_short_names_titles_and_descriptions(comparer: Comparer) -> None:
    assert _titles(comparer, "Compare SOAP and MARS as optimizers") == [SOAP, MARS]
    assert _titles(
        comparer,
        "How does 'Generalization at the Edge of Stability' differ from "
        "'Zeroth-Order Optimization at the Edge of Stability'?",
    ) == [
        "Generalization at the Edge of Stability",
        "Zeroth-Order Optimization at the Edge of Stability",
    ]
    assert _titles(comparer, "Compare the rotation trick with SimVQ for vector quantization") == [
        "Restructuring Vector Quantization with the Rotation Trick",
        "Addressing Representation Collapse in Vector Quantized Models with One Linear Layer",
    ]
    # A name written in a description ("R-learning") is matched as whole words of a title:
    # "... Reward for Learning" holds the letters, not the name.
    assert _titles(
        comparer,
        "Compare the paper on R-learning with the one on outcome invariant data augmentation",
    ) == [
        "The Connection Between R-Learning and Inverse-Variance Weighting for Estimation of "
        "Heterogeneous Treatment Effects",
        "An Analysis of Causal Effect Estimation using Outcome Invariant Data Augmentation",
    ]
    # An "and" inside a description joins what the paper does, not two papers.
    assert _titles(
        comparer,
        "Compare SOAP with the paper on amortised inference and meta-learned priors in neural "
        "networks",
    ) == [SOAP, "Amortising Inference and Meta-Learning Priors in Neural Networks"]
    # ... also when the description is "the X of A and B": before, "DPO" was a third paper.
    assert _titles(comparer, "Compare Ra-DPO with the implicit-reward view of SFT and DPO.") == [
        "Risk-aware Direct Preference Optimization under Nested Risk Measure",
        "Implicit Reward as the Bridge: A Unified View of SFT and DPO Connections",
    ]
    # A clause of a paper's own description ("for adversarial robustness") is not what the
    # comparison is for, which comes after the papers: one paper had been found.
    assert _titles(
        comparer,
        "Compare visual prompting for adversarial robustness with randomized ensembles as "
        "defenses.",
    ) == [
        "Visual Prompting for Adversarial Robustness",
        "On the Robustness of Randomized Ensembles to Adversarial Perturbations",
    ]
    # A name a part opens with ("Lion ...") is a name: "Nothing in the collection matches".
    assert _titles(
        comparer, "Compare the Lion optimizer analysis with the Muon convergence paper."
    ) == [
        "Lion Secretly Solves Constrained Optimization: As Lyapunov Predicts",
        "Convergence of Muon with Newton-Schulz",
    ]


@pytest.mark.parametrize(
    "prompt",
    [
        "SOAP vs MARS",
        "which is better, SOAP or MARS?",
        "What's the difference between SOAP and MARS?",
        # Asked politely, by its noun, or "side by side": read as plain questions before.
        "Can you compare SOAP with MARS for me?",
        "I'd like a comparison of SOAP and MARS",
        "Could you put SOAP and MARS side by side?",
        # "how does X compare to Y", each named in a few words: a plain question before
        "How does SOAP compare with MARS?",
        # after an opening word: "now compare ..." had been answered as a question
        "now compare SOAP with MARS",
    ],
)
def test_a_comparison_asked_in_other_words(comparer: Comparer, prompt: str) -> None:
    assert is_comparison(prompt)
    assert _titles(comparer, prompt) == [SOAP, MARS]


def test_papers_named_by_what_they_share_or_after_what_they_are_for(comparer: Comparer) -> None:
    # "the original Shampoo paper" was searched as words, and a paper building on it came back.
    assert _titles(comparer, "Can you compare SOAP with the original Shampoo paper?") == [
        SOAP,
        "Shampoo: Preconditioned Stochastic Tensor Optimization",
    ]
    # What they are compared for, said before them, had been taken for a paper and not found.
    assert _titles(
        comparer,
        "Which is better for image compression, the Gaussian mixture paper or the perfect "
        "realism paper?",
    ) == [
        "Unified Multivariate Gaussian Mixture for Efficient Neural Image Compression",
        "Towards image compression with perfect realism at ultra-low bitrates",
    ]
    # Two papers whose titles both say it: "matches 2 titles" before.
    assert sorted(_titles(comparer, "Contrast the two conformal risk control papers")) == [
        "Conformal Risk Control",
        "Non-Exchangeable Conformal Risk Control",
    ]


def test_a_question_that_only_mentions_a_rival_is_no_comparison() -> None:
    for question in (
        "How does SOAP improve Shampoo?",
        "Which paper compares optimizers on vision or language tasks?",
        "What is the difference in accuracy reported by the SOAP paper versus its baseline?",
        # described at length, a question about a field, not about two papers
        "How do transformers for time-series forecasting compare with simple linear models?",
    ):
        assert not is_comparison(question), question


def test_a_side_named_by_words_of_one_title_is_a_paper(comparer: Comparer) -> None:
    # A nickname one paper's title and no other paper says: asked as a question before.
    asked = "How does the rotation trick compare to SimVQ?"
    assert comparer.asked(asked) and not is_comparison(asked)
    assert _titles(comparer, asked) == [
        "Restructuring Vector Quantization with the Rotation Trick",
        "Addressing Representation Collapse in Vector Quantized Models with One Linear Layer",
    ]
    # Both sides in plain words, each a whole title.
    assert comparer.asked(
        "How does conformal risk control compare to non-exchangeable conformal risk control?"
    )
    # A field's name many papers use names none of them; nor does a plain word.
    for question in (
        "How does it compare to vector quantization?",
        "How does it compare with orthonormal init?",
        "How does SimVQ compare to pruning?",
    ):
        assert not comparer.asked(question), question


def test_a_comparison_asked_in_passing_of_two_methods_is_a_question(comparer: Comparer) -> None:
    # "Adam" had been resolved to SOAP (whose title says "using Adam") and "AdamW" to MARS, and
    # the two tabled as if they were the methods; "L1 and L2" had failed to find two papers.
    for question in (
        "What's the difference between Adam and AdamW?",
        "Adam vs AdamW",
        "which is better, PPO or DPO?",
        "difference between L1 and L2 regularization",
        "Explain the difference between Adam and AdamW according to these papers",
    ):
        assert is_comparison(question) and not comparer.asked(question), question
    # Sides that name papers: by a title's leading name, a name one paper uses, words of one
    # title, or what the last answer gave.
    for question in (
        "What is the difference between SOAP and Shampoo?",
        "Which is better, SOAP or Shampoo?",
        "SOAP vs MARS",
        "SOAP vs Shampoo vs MARS",  # three sides: no comparison before
        "How does SOAP differ from Shampoo?",
        "what's the difference between the rotation trick and SimVQ?",
        "what's the difference between the first and the second one?",
        "Compare Adam with AdamW",  # asked in so many words: resolved as descriptions
    ):
        assert comparer.asked(question), question


def test_a_comparison_asked_with_a_typo_is_one(comparer: Comparer) -> None:
    # Read as typed, each had been answered as a question about SOAP.
    for question, second in (
        ("what's the diffrence between SOAP and Shampoo?", "Shampoo: Preconditioned"),
        ("comapre SOAP and MARS", "MARS: Unleashing"),
    ):
        assert comparer.asked(question), question
        titles = _titles(comparer, question)
        assert titles[0].startswith("SOAP:") and titles[1].startswith(second), question
    # Its sides must still name papers: "Adam" and "AdamW" are methods many papers use.
    assert not comparer.asked("what's the differnce between Adam and AdamW?")


def test_a_comparison_naming_papers_in_lower_case_is_one(comparer: Comparer) -> None:
    # "simvq" typed in lower case had named no paper: answered about the rotation trick alone.
    question = "how does the rotation trick compare to simvq?"
    assert comparer.asked(question)
    titles = _titles(comparer, question)
    assert titles[0].startswith("Restructuring Vector Quantization with the Rotation Trick")
    assert titles[1].startswith("Addressing Representation Collapse in Vector Quantized")
    assert _titles(comparer, "how does digirl compare to hi-agent?")[1].startswith("Hi-Agent:")
    assert comparer.asked("how is the rotation trick different from simvq?")


def test_how_two_papers_are_different_is_a_comparison(comparer: Comparer) -> None:
    # Not asked as "differ" or "compare", these had been answered as questions about the first.
    for question, second in (
        ("how is SOAP different from MARS?", "MARS: Unleashing"),
        # ... a side naming its paper by the words its title opens with
        ("how are Multitask Prompt Tuning and ProGrad different?", "Prompt-aligned Gradient"),
    ):
        assert comparer.asked(question), question
        assert _titles(comparer, question)[1].startswith(second), question
    assert not comparer.asked("How is Adam different from AdamW?")  # methods, not papers


def test_x_vs_y_for_a_purpose_is_a_comparison(comparer: Comparer) -> None:
    # What they are compared for, said after: each had been answered as a question.
    question = "Tree-OPO versus prompt replay for speeding up GRPO"
    assert comparer.asked(question)
    assert [t.split(":")[0] for t in _titles(comparer, question)] == ["Tree-OPO", "Prompt replay"]
    assert comparer.asked("Lipschitz GAIL paper vs ASkDAgger for imitation learning")
    assert not comparer.asked("Adam vs AdamW for fine-tuning")


def test_which_is_faster_of_two_papers_is_a_comparison(comparer: Comparer) -> None:
    # Only "better" had been read; "newer" asks for an order of the two, answered as one.
    for question in ("Which is faster: SOAP or Shampoo?", "which is more efficient, SOAP or MARS?"):
        assert comparer.asked(question), question
        assert _titles(comparer, question)[0].startswith("SOAP:"), question
    assert not comparer.asked("which one is newer, SOAP or MARS?")


def test_a_choice_between_two_papers_is_a_comparison(comparer: Comparer) -> None:
    # Asked as a choice, each had been answered as a question about the first.
    for question in (
        "Should I use SOAP or MARS?",
        "should we go with SOAP or Shampoo for LLM pretraining?",
        "SOAP or MARS for LLM pretraining?",
    ):
        assert comparer.asked(question), question
        assert _titles(comparer, question)[0].startswith("SOAP:"), question
    for question in ("Should I use Adam or AdamW?", "pruning or quantization for LLMs?"):
        assert not comparer.asked(question), question  # methods, not papers


def test_follow_ups_after_a_comparison_ask_about_its_papers(sample_settings: Settings) -> None:
    answerer = Answerer(sample_settings)
    comparer = Comparer.beside(answerer)
    table = comparer.compare("Compare SOAP and MARS")
    history = [table.turn()]
    # "it" is the comparison's first paper; before, the question was answered about SOAP alone.
    assert is_comparison("how does it compare with Shampoo?")
    assert _titles(comparer, "how does it compare with Shampoo?", history) == [
        SOAP,
        "Shampoo: Preconditioned Stochastic Tensor Optimization",
    ]
    # By their numbers, or by ordinals misspelt: "frist" had been looked for as a title.
    for prompt in ("compare [2] and [1]", "compare the secnd and the frist one"):
        assert _titles(comparer, prompt, history) == [MARS, SOAP], prompt
    # A choice between them asks it of both.
    choice = answerer.ask("which is better for large batch training?", history)
    assert choice.receipt.rewritten_query.endswith(f'(about: "{SOAP}" and "{MARS}")')
    # "It" after an answer that names its paper with nothing to quote from it: no source,
    # and "compare it with SOAP" had found one paper.
    muon = answerer.ask("What are the limitations of Muon?")
    assert not muon.citations and "its abstract states no limitation" in muon.answer
    sides = _titles(comparer, "compare it with SOAP", [Turn.of(muon)])
    assert len(sides) == 2 and "Muon" in sides[0] and sides[1] == SOAP
    # A side that says it is a paper in five words: answered from the abstracts, not tabled.
    rotation = answerer.ask("what is the rotation trick?")
    asked = "how does it compare with the online clustered codebook paper?"
    assert comparer.asked(asked, [Turn.of(rotation)])
    assert _titles(comparer, asked, [Turn.of(rotation)]) == [
        "Restructuring Vector Quantization with the Rotation Trick",
        "Online Clustered Codebook",
    ]
    assert not is_comparison("How does it compare with the results reported in the paper?")
    # "Them" after two answers citing one paper each ("What is SOAP?", "and MARS?"): both.
    soap = answerer.ask("What is SOAP?")
    mars = answerer.ask("and MARS?", [Turn.of(soap)])
    assert _titles(comparer, "compare them", [Turn.of(soap), Turn.of(mars)]) == [SOAP, MARS]
    # Asked of the two papers compared: the comparison's words, searched, had found others.
    for question in ("Which of them is newer?", "Which one has more authors?", "Who wrote them?"):
        answer = answerer.ask(question, history)
        assert {c.title for c in answer.citations} == {SOAP, MARS}, (question, answer.answer)
    # ... and narrowed: "which has code?" had listed every paper with code.
    coded = answerer.ask("and which has code?", history)
    assert [c.title for c in coded.citations] == [SOAP], coded.answer
    # More papers for the same table: "add Shampoo" had been answered about SOAP.
    shampoo = "Shampoo: Preconditioned Stochastic Tensor Optimization"
    assert comparer.asked("add Shampoo", history) and not comparer.asked("add Shampoo")
    assert _titles(comparer, "add Shampoo", history) == [SOAP, MARS, shampoo]
    more = comparer.compare("add Shampoo", history=history).turn()
    assert comparer.asked("also include Lion", [*history, more])


def test_resolves_metadata_and_earlier_citations(comparer: Comparer) -> None:
    solo = _titles(comparer, "compare the single-author papers on the daily list before 2019")
    assert set(solo) == {"The Consciousness Prior", "A Tutorial on Bayesian Optimization"}
    # As many as it asks for: all twelve ICLR 2026 papers had been taken, up to eight.
    assert len(_titles(comparer, "compare the first two ICLR 2026 papers")) == 2
    # An order, the request's words left out: they had been searched, and papers on comparing
    # sorted ("Evaluating the Performance of Some Local Optimizers ..." had come first).
    upvoted, _ = comparer.resolve("Compare the two most upvoted papers")
    top = max(p.upvotes or 0 for p in comparer.retriever.lexical().papers)
    assert len(upvoted) == 2 and all(p.upvotes == top for p in upvoted)
    newest, _ = comparer.resolve("Put the three newest papers side by side")
    dates = sorted((p.date or "" for p in comparer.retriever.lexical().papers), reverse=True)
    assert [p.date for p in newest] == dates[:3]
    # Each side named by an order: read as one question, the two orders had found one paper
    # ("Found 1 paper(s)"), and "the most upvoted paper with the Muon paper" four.
    sides, _ = comparer.resolve("Compare the newest paper with the oldest one")
    assert [p.date for p in sides] == [dates[0], min(d for d in dates if d)]
    mixed = _titles(comparer, "Compare the most upvoted paper with the Muon paper")
    assert len(mixed) == 2 and mixed[0] == upvoted[0].title and "Muon" in mixed[1]
    # ... and by where or when it is from: "from" had split off "2025" as a third paper, and
    # "the 2010s" as one nothing matched.
    papers = comparer.retriever.lexical().papers
    for said, years in (
        ("2025", ("2025",)),
        ("the 2010s", tuple(str(y) for y in range(2010, 2020))),
    ):
        dated = sorted((p.date or "" for p in papers if (p.date or "")[:4] in years), reverse=True)
        sides, _ = comparer.resolve(f"compare the newest paper from {said} with SOAP")
        assert [p.date for p in sides[:1]] == dated[:1] and sides[1].title == SOAP
        assert len(sides) == 2
    # An order said as a clause names no paper: it had been searched for more.
    assert _titles(comparer, "Compare SOAP and MARS, newest first") == [SOAP, MARS]
    # Papers named by a topic they all say; read as one description, it had found one.
    schedules = _titles(comparer, "Compare the papers on learning rate schedules")
    assert len(schedules) >= 2 and "Learning Rate Schedules in the Presence of " in " ".join(
        schedules
    )
    # ... asked how they differ: "Found 1 paper(s)" before, and "compare" was not read as one.
    rlhf = "How do the papers on RLHF differ?"
    assert len(_titles(comparer, rlhf)) == 3
    conformal = "What are the differences between the papers on conformal prediction?"
    assert "Conformal Risk Control" in _titles(comparer, conformal)
    # ... "in a table" is how, not what ("Nothing in the collection matches" before)
    tabled = _titles(comparer, "Compare the papers on conformal prediction in a table")
    assert "Conformal Risk Control" in tabled and len(tabled) >= 2
    shampoo = "How do the papers on Shampoo compare?"
    assert is_comparison(shampoo) and len(_titles(comparer, shampoo)) >= 2
    turn = Turn(question="q", answer="a", sources={1: MARS, 2: "The Consciousness Prior", 3: SOAP})
    assert _titles(comparer, "compare papers 1 and 3 from the last answer", [turn]) == [MARS, SOAP]
    # Several at once, as people point at them.
    prior = "The Consciousness Prior"
    assert _titles(comparer, "Compare the first two", [turn]) == [MARS, prior]
    assert _titles(comparer, "compare the first and the last", [turn]) == [MARS, SOAP]
    assert _titles(comparer, "How do they differ?", [turn]) == [MARS, prior, SOAP]
    assert _titles(comparer, "compare both", [turn]) == [MARS, prior]
    with pytest.raises(ResolutionError, match=r"no source \[7\]"):
        _titles(comparer, "compare papers 1 and 7", [turn])
    # An answer may cite [1] and [3] only: the numbers are the answer's, not positions.
    gapped = Turn(question="q", answer="a [1] b [3].", sources={1: MARS, 3: SOAP})
    assert _titles(comparer, "compare sources 1 and 3", [gapped]) == [MARS, SOAP]
    with pytest.raises(ResolutionError, match=r"no source \[2\]") as missing:
        _titles(comparer, "compare papers 2 and 3", [gapped])
    assert "it cites [1], [3]" in missing.value.hint
    # "The two" after a question asking the same of something new are the two things asked
    # about, whatever the last answer cites besides.
    first = Turn(question="What is SOAP?", answer="a", sources={1: SOAP})
    switch = Turn(question="and what about MARS?", answer="a", sources={1: MARS, 2: prior})
    assert _titles(comparer, "compare the two", [first, switch]) == [SOAP, MARS]


def test_ambiguous_and_unknown_references_say_so(comparer: Comparer) -> None:
    with pytest.raises(ResolutionError) as ambiguous:
        _titles(comparer, "Compare 'at the Edge of Stability' with SOAP")
    assert "matches 2 titles" in ambiguous.value.message
    assert "Zeroth-Order" in ambiguous.value.message and ambiguous.value.hint
    with pytest.raises(ResolutionError, match="No paper titled like"):
        _titles(comparer, "Compare 'Quantum Gravity for Kittens' with SOAP")
    with pytest.raises(ResolutionError, match="Nothing in the collection matches"):
        _titles(comparer, "Compare SOAP with sign language translation on PHOENIX-2014T")
    # The closest paper is said, to be named by its title.
    with pytest.raises(ResolutionError, match="Nothing in the collection matches") as loose:
        _titles(comparer, "compare the diffusion-policy paper with SOAP")
    assert re.search(r"the closest found is \"[^\"]+\"", loose.value.hint)
    # An acronym whose long form the title writes names it beside a title word.
    kl = "Understanding and Improving the Shampoo Optimizer via Kullback-Leibler Minimization"
    assert _titles(comparer, "how do SOAP and the KL Shampoo paper differ?")[1] == kl
    with pytest.raises(ResolutionError, match="needs 2 to 8"):
        _titles(comparer, "Compare SOAP")


def test_extractive_cells_are_sentences_of_their_own_abstract(comparer: Comparer) -> None:
    table = comparer.compare("Compare SOAP and MARS")
    bank = comparer.bank
    papers = {p.paper_id: p for p in comparer.retriever.lexical().papers}
    assert table.aspects[-1] == "venue/date" and len(table.papers) == 2
    filled = 0
    for n, entry in enumerate(table.papers, 1):
        paper = papers[entry["paper_id"]]
        for aspect, cell in table.cells[paper.paper_id].items():
            assert cell.citation == n
            if cell.text == NOT_STATED or aspect == "venue/date":
                continue
            filled += 1
            assert cell.text in split_sentences(paper.abstract)
            assert check(cell.text, paper, bank).verdict == "supported"
    assert filled >= 6
    assert "[1]" in table.summary and "[2]" in table.summary
    # The words both use, the rarest first and as written, not the alphabet's first stems.
    assert "share, rarest first: AdamW, Shampoo, Adam" in table.summary
    # A paper's line in the summary says what it does ("we derive"), never "not stated".
    bagging = comparer.compare("Compare 'Bagging Provides Assumption-free Stability' with SOAP")
    assert NOT_STATED not in bagging.summary and "we derive" in bagging.summary


def test_model_json_is_repaired_once_then_reported(
    llm_settings: Settings, llm_server: StubServer
) -> None:
    comparer = Comparer.beside(Answerer(llm_settings))
    good = {
        "cells": {
            "1": {"method": "SOAP runs Adam in the eigenbasis of Shampoo's preconditioner."},
            "2": {"method": "MARS predicts the weather on Mars with quantum annealing."},
        },
        "summary": "Both are optimizers [1][2].",
    }
    llm_server.script("Sure! Here is the table: {not json", json.dumps(good), "no verdicts")
    table = comparer.compare("Compare SOAP and MARS", aspects=["method", "data"])
    assert len(llm_server.requests) == 3  # the table, its repair, the support judge
    assert table.support_checker == "offline" and "no verdict on 2 of 2" in str(table.judge_error)
    assert "not valid" in llm_server.requests[1]["messages"][-1]["content"]
    soap, mars = (table.cells[p["paper_id"]] for p in table.papers)
    assert soap["method"].supported and soap["data"].text == NOT_STATED
    assert not mars["method"].supported and mars["method"].support == "unsupported"
    llm_server.script("{not json", '{"cells": {"1": {}}, "summary": "x"}')
    with pytest.raises(LLMResponseError, match="twice"):
        comparer.compare("Compare SOAP and MARS")


def test_dev_compare_questions_resolve(comparer: Comparer) -> None:
    dev = Path(__file__).resolve().parents[2] / "shared/eval/dev_questions.jsonl"
    if not dev.exists():
        pytest.skip("the shared dev questions are not next to the project")
    rows = [json.loads(line) for line in dev.read_text().split("\n") if line.strip()]
    questions = [r for r in rows if r["type"] == "compare"]
    right = 0
    for q in questions:
        got = {normalize_title(t) for t in _titles(comparer, q["question"])}
        right += got == {normalize_title(t) for t in q["gold_titles"]}
    assert right == len(questions)


def test_cli_compare_formats(sample_settings: Settings) -> None:
    store = ["--store", str(sample_settings.store.path)]
    md = CliRunner().invoke(main, [*store, "compare", "Compare SOAP and MARS"])
    assert md.exit_code == 0, md.output
    assert md.output.startswith("| aspect | [1] SOAP") and "| method |" in md.output
    output = CliRunner().invoke(main, [*store, "compare", "SOAP vs MARS", "--format", "csv"])
    rows = [r for r in csv.reader(io.StringIO(output.output)) if r]
    # Papers as rows, with their id, year and link, then one column per aspect.
    assert rows[0][:6] == ["n", "id", "title", "year", "link", "problem"] and len(rows) == 3
    assert [r[2] for r in rows[1:]] == [SOAP, MARS] and len(rows[1]) == 5 + 6
    assert re.fullmatch(r"[0-9a-f]{12}", rows[1][1]) and rows[1][6] != ""
    js = json.loads(
        CliRunner().invoke(main, [*store, "compare", "SOAP vs MARS", "--format", "json"]).output
    )
    assert {"papers", "aspects", "cells", "summary"} <= set(js)
    bad = CliRunner().invoke(
        main, [*store, "compare", "Compare 'Quantum Gravity for Kittens' with SOAP"]
    )
    assert bad.exit_code == 1 and "No paper titled like" in bad.output


def test_api_compare(sample_settings: Settings) -> None:
    from assistant.api import create_app

    from .openai_stub import run_in_thread

    for url in run_in_thread(create_app(sample_settings, ui=False)):
        table = httpx.post(
            url + "/v1/compare", json={"prompt": "Compare SOAP and MARS"}, timeout=60
        ).json()
        assert [p["title"] for p in table["papers"]] == [SOAP, MARS]
        text = httpx.post(
            url + "/v1/compare", json={"prompt": "SOAP vs MARS", "format": "csv"}, timeout=60
        )
        assert text.headers["content-type"].startswith("text/csv") and text.text.startswith(
            "n,id,title,year,link,"
        )
        missing = httpx.post(url + "/v1/compare", json={"prompt": "Compare SOAP"}, timeout=60)
        assert missing.status_code == 422 and missing.json()["error"]["type"] == "ResolutionError"
        # A title where an id is taken: the hint says where names go.
        named = httpx.post(url + "/v1/compare", json={"papers": ["SOAP", "MARS"]}, timeout=60)
        error = named.json()["error"]
        assert named.status_code == 422 and "No paper with id 'SOAP'" in error["message"]
        assert "in the prompt" in error["hint"] and "GET /v1/papers" in error["hint"]


def test_chat_recognises_a_comparison_request(sample_settings: Settings) -> None:
    result = CliRunner().invoke(
        main,
        ["--store", str(sample_settings.store.path), "chat"],
        input="Which optimizers build on Shampoo?\ncompare SOAP with MARS\n",
    )
    assert result.exit_code == 0, result.output
    assert "| aspect | [1] SOAP" in result.output


def test_model_judges_its_own_cells(llm_settings: Settings, llm_server: StubServer) -> None:
    comparer = Comparer.beside(Answerer(llm_settings))
    table = {
        "cells": {
            "1": {"method": "SOAP runs Adam in the eigenbasis of Shampoo's preconditioner."},
            "2": {"method": "MARS predicts the weather on Mars with quantum annealing."},
        },
        "summary": "Both are optimizers [1][2].",
    }
    llm_server.script(json.dumps(table), "1: weak\n2: unsupported")
    result = comparer.compare("Compare SOAP and MARS", aspects=["method", "data"])
    judge = llm_server.requests[1]["messages"][0]["content"]
    assert "<claim>MARS predicts the weather on Mars" in judge and judge.count("</claim>") == 2
    soap, mars = (result.cells[p["paper_id"]] for p in result.papers)
    assert soap["method"].support == "weak" and soap["method"].supported
    assert mars["method"].support == "unsupported" and soap["data"].support == "not stated"
    assert result.support_checker == "model" and result.judge_error is None
