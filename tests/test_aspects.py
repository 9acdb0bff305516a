"""Which sentence states an aspect: the abstract's structure and its words, no model needed."""

from __future__ import annotations

import numpy as np
import pytest

from assistant.aspects import asked_aspect, contribution, locate

ABSTRACT = [
    "Optimizers with second-order information are popular in deep learning.",  # 0 background
    "However, Shampoo's drawbacks include extra hyperparameters and overhead.",  # 1 prior's gap
    "We propose SOAP, which runs Adam in Shampoo's eigenbasis.",  # 2 the contribution
    "We evaluate SOAP on language model pre-training with 360m and 660m models on C4.",  # 3
    "SOAP reduces the number of iterations by over 40% compared to AdamW.",  # 4 the result
    "A limitation is that SOAP needs an eigendecomposition every few steps.",  # 5 its own
]
FLAT = np.zeros(len(ABSTRACT))  # no help from similarity: the rules alone decide


@pytest.mark.parametrize(
    ("aspect", "expected"),
    [("problem", 1), ("method", 2), ("data", 3), ("result", 4), ("limitations", 5)],
)
def test_each_aspect_is_found_where_an_abstract_states_it(aspect: str, expected: int) -> None:
    assert contribution(ABSTRACT) == 2
    assert locate(aspect, ABSTRACT, FLAT) == expected


def test_a_limitation_of_earlier_work_is_not_the_papers_own() -> None:
    without = ABSTRACT[:5]  # the prior method's drawbacks remain, before the contribution
    assert locate("limitations", without, FLAT[:5]) is None


def test_an_abstract_without_data_or_results_says_not_stated() -> None:
    theory = [
        "Conditioning on events of probability zero is a known difficulty.",
        "We define a language with exact conditioning and give its semantics.",
        "The construction generalises to any category with the right structure.",
    ]
    assert locate("data", theory, np.zeros(3)) is None
    assert locate("result", theory, np.zeros(3)) is None
    assert locate("problem", theory, np.zeros(3)) == 0


def test_a_row_taken_by_another_aspect_is_shared_only_by_data_and_results() -> None:
    both = ["We propose X.", "On ImageNet, X improves accuracy by 3%.", "X fails on tiny images."]
    assert locate("result", both, np.zeros(3), taken={1}) == 1  # data and result: one sentence
    assert locate("limitations", both, np.zeros(3), taken={2}) is None


@pytest.mark.parametrize(
    ("question", "aspect"),
    [
        ("What are the limitations of SOAP?", "limitations"),
        ("Where does memory compaction break down?", "limitations"),
        ("Which datasets does ARSQ use?", "data"),
        ("What was it evaluated on?", "data"),
        ("What results does GameNGen report?", "result"),
        ("How well does Pro^2 do with little target data?", "result"),
        ("What problem does AutoLRS address?", "problem"),
        ("How does SOAP work?", None),
        ("Which paper proposes a neural game engine?", None),
    ],
)
def test_questions_are_read_for_the_aspect_they_ask_about(
    question: str, aspect: str | None
) -> None:
    assert asked_aspect(question) == aspect
