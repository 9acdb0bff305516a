"""The BM25 index rebuilt after a write from the index before it equals one built afresh."""

from __future__ import annotations

import numpy as np

from assistant.lexical import LexicalIndex, fingerprint
from assistant.records import Paper

TOPICS = [
    ("Layer pruning for large language models", "We prune whole layers of large language models."),
    ("Diffusion policies for robot manipulation", "A diffusion policy plans robot arm motions."),
    ("Shampoo with Adam in the eigenbasis", "SOAP runs Adam in Shampoo's preconditioner basis."),
    ("Wombat burrow mapping", "We map wombat burrows with ground-penetrating radar."),
    ("Glacier melt forecasting", "A graph network forecasts glacier melt from imagery."),
]
QUERIES = ["pruning layers of language models", "robot diffusion", "wombat radar", "Adam basis"]


def _papers(rows: list[tuple[str, str]]) -> list[Paper]:
    return [Paper.create(title, abstract) for title, abstract in rows]


def _same(a: LexicalIndex, b: LexicalIndex) -> None:
    assert a.fingerprint == b.fingerprint
    for query in QUERIES:
        found_a, found_b = a.search(query, 5), b.search(query, 5)
        assert [p.paper_id for p, _ in found_a] == [p.paper_id for p, _ in found_b], query
        assert np.allclose([s for _, s in found_a], [s for _, s in found_b]), query
        for paper in a.papers:
            assert a.coverage(query, paper) == b.coverage(query, paper)
            assert a.names(query, paper) == b.names(query, paper)


def test_a_rebuild_from_the_previous_index_equals_a_fresh_build() -> None:
    before = _papers(TOPICS[:4])
    previous = LexicalIndex.build(before)
    added = [*before, *_papers(TOPICS[4:])]
    _same(LexicalIndex.build(added, previous), LexicalIndex.build(added))
    # A changed abstract is tokenised again, not taken from the index before.
    changed = [*before[:3], Paper.create(TOPICS[3][0], "Wombats dig burrows; we count them.")]
    rebuilt = LexicalIndex.build(changed, previous)
    _same(rebuilt, LexicalIndex.build(changed))
    assert rebuilt.search("radar", 5) == []
    removed = before[1:]
    _same(LexicalIndex.build(removed, previous), LexicalIndex.build(removed))
    # Chained: each rebuild carries what the one before it tokenised.
    chained = LexicalIndex.build(removed, LexicalIndex.build(added, previous))
    _same(chained, LexicalIndex.build(removed))
    assert chained.fingerprint == fingerprint(removed)


def test_an_index_loaded_from_disk_rebuilds_from_scratch(tmp_path: object) -> None:
    from pathlib import Path

    folder = Path(str(tmp_path))
    papers = _papers(TOPICS)
    LexicalIndex.build(papers[:3]).save(folder)
    loaded = LexicalIndex.load(folder)
    assert loaded is not None
    _same(LexicalIndex.build(papers, loaded), LexicalIndex.build(papers))


def test_changes_kept_beside_a_build_search_like_a_fresh_build() -> None:
    papers = _papers(TOPICS)
    # All of it written since an empty build: scored exactly as bm25s scores a build.
    _same(LexicalIndex.build([]).with_changes(papers), LexicalIndex.build(papers))
    base = LexicalIndex.build(papers[:3])
    reworded = Paper.create(TOPICS[1][0], "Robots learn grasping from demonstrations.")
    changed = base.with_changes(papers[3:]).with_changes([reworded], [papers[0].paper_id])
    after = [reworded, papers[2], *papers[3:]]
    assert changed.pending == 5  # three written (one replacing), two of the build left
    assert changed.fingerprint == fingerprint(after)
    assert {p.paper_id for p in changed.papers} == {p.paper_id for p in after}
    assert len(changed) == len(after) and len(changed.catalogue) == len(after)
    assert dict(changed.catalogue) == {p.paper_id: p for p in after}
    assert papers[0].paper_id not in changed.catalogue
    # What a retriever's question parser learns of a write, without reading the rest again.
    written = changed.written_since(base)
    assert written is not None and {p.title for p in written} == {
        p.title for p in after[:1] + after[2:]
    }
    assert changed.written_since(LexicalIndex.build(after)) is None  # another build
    assert [p.title for p, _ in changed.search("wombat radar", 5)] == [TOPICS[3][0]]
    assert changed.search("pruning layers", 5) == []  # removed
    assert changed.search("arm motions", 5) == []  # its abstract, replaced by a rewording
    assert [p.title for p, _ in changed.search("grasping", 5)] == [TOPICS[1][0]]
    assert changed.search("wombat", 5, allowed={papers[4].paper_id}) == []
    _same(changed.compacted(), LexicalIndex.build(after))


def test_saved_changes_load_with_their_build_and_a_write_in_progress_is_not_trusted(
    tmp_path: object,
) -> None:
    from pathlib import Path

    folder = Path(str(tmp_path))
    papers = _papers(TOPICS)
    base = LexicalIndex.build(papers[:3])
    base.save(folder)
    changed = base.with_changes(papers[3:], [papers[0].paper_id])
    changed.save_changes(folder)  # the build saved before stays: only the changes are written
    assert LexicalIndex.saved_fingerprint(folder) == changed.fingerprint
    loaded = LexicalIndex.load(folder)
    assert loaded is not None and loaded.pending == 3
    _same(loaded, changed)
    # The build's terms are read back from disk: compacting tokenises nothing again.
    _same(loaded.compacted(), LexicalIndex.build(papers[1:]))
    LexicalIndex.mark_changing(folder)
    assert LexicalIndex.load(folder) is None and LexicalIndex.saved_fingerprint(folder) is None
    # A build made in memory since is saved whole, which trusts the saved index again.
    whole = LexicalIndex.build(papers[1:])
    whole.with_changes(removed=[papers[1].paper_id]).save_changes(folder)
    again = LexicalIndex.load(folder)
    assert again is not None and again.fingerprint == fingerprint(papers[2:])


def test_coverage_counts_an_acronym_in_a_long_form_the_collection_defines() -> None:
    defining = ("Scaling laws", "Large Language Models (LLMs) grow; we fit their losses.")
    papers = _papers([*TOPICS, defining])
    index = LexicalIndex.build(papers)
    assert index.expansions("LLM") == ("large language model",)
    assert index.coverage("prune LLM layers", papers[0]) == 1.0
    # Initials that merely spell it out are not it: only the defined long form counts.
    scattered = Paper.create("Language models", "Large lean models prune layers.")
    assert index.coverage("prune LLM layers", scattered) < 0.7
    assert index.expansions("ECG") == ()
    # For the embedder, which reads a short acronym poorly, a defined one is spelled out.
    assert index.spelled("Do LLMs prune?") == "Do large language models (LLMs) prune?"
    for kept in ("Large language models (LLMs) prune.", "ECG signals", "LLMentor"):
        assert index.spelled(kept) == kept


def test_a_title_written_out_in_a_question_names_its_paper() -> None:
    anthology = (
        "Old Optimizer, New Norm: An Anthology",
        "We view Adam and Shampoo as steepest descent.",
    )
    control = ("Conformal Risk Control", "We extend conformal prediction to control any risk.")
    users = [
        ("Conformal risk control for segmentation", "We apply conformal risk control to masks."),
        ("Conformal risk control in ranking", "Conformal risk control bounds ranking losses."),
    ]
    papers = _papers([*TOPICS, anthology, control, *users])
    index = LexicalIndex.build(papers)
    named = papers[len(TOPICS)]
    # Quoted or not, whole or up to its colon, among other words in any case.
    for question in [
        'What does "Old Optimizer, New Norm" argue?',
        "what does the paper old optimizer new norm: an anthology argue",
    ]:
        assert index.titled(question, papers) == [named], question
    # Its words out of order, or a title of two terms, name nothing.
    assert index.titled("Which new optimizer replaces an old norm?", papers) == []
    assert index.titled("wombat burrow", papers) == []  # two terms
    assert index.titled("How is Wombat Burrow Mapping done?", papers) == [papers[3]]
    # A title that other papers use as a phrase of the field is not a name.
    assert index.titled("How is conformal risk control applied?", papers) == []
    # A longer title holding the one written out, whose other words the question uses too,
    # is the one meant.
    extended = ("Non-Exchangeable Conformal Risk Control", "Beyond exchangeable data.")
    both = _papers([*TOPICS, control, extended])
    index = LexicalIndex.build(both)
    asked = "How can conformal risk control be extended to non-exchangeable data?"
    assert index.titled(asked, both) == [both[-1]]
    assert index.titled("What is conformal risk control?", both) == [both[-2]]


def test_a_title_head_written_as_a_name_names_its_paper() -> None:
    """Two common words before a colon, capitalised as a name ("the Distribution Transformer
    paper"), name the paper whatever BM25 makes of them."""
    named = (
        "Distribution Transformers: Fast Approximate Bayesian Inference",
        "We amortise posterior inference over priors with a network.",
    )
    others = [
        ("Transformers for tabular data", "A transformer reads each distribution of features."),
        ("Field Guide: Distribution Shift", "Distribution shift in the wild, surveyed."),
        ("Shift happens", "Distribution transformers move data between domains."),
    ]
    papers = _papers([*TOPICS, named, *others])
    index = LexicalIndex.build(papers)
    head = papers[len(TOPICS)]
    for question in (
        "Who wrote the Distribution Transformer paper?",
        "What do Distribution Transformers assume about the prior?",
    ):
        assert index.headed(question) == [head], question
    # Not capitalised as a name, or a single capitalised word: nothing.
    assert index.headed("who wrote the distribution transformer paper?") == []
    assert index.headed("What do Transformers assume?") == []
    assert index.headed("Which Transformers work?") == []
    # Allowed papers only.
    assert index.headed("the Distribution Transformer paper", allowed={"none"}) == []
    # One word before a colon, written alone and not opening the question; a title without a
    # colon up to its first linking word.
    hera = ("Hera: Coordinating Device and Cloud Agents", "Agents split work between devices.")
    tying = ("Dynamic Layer Tying for Parameter-Efficient Transformers", "An agent ties layers.")
    more = _papers([*TOPICS, hera, tying])
    index = LexicalIndex.build(more)
    assert index.headed("What is Hera?") == [more[len(TOPICS)]]
    assert index.headed("Hera?") == [] and index.headed("What is ECCV22-Hera?") == []
    assert index.headed("What does Dynamic Layer Tying do?") == [more[-1]]
    # A head that two other papers also write is a phrase of the field.
    users = [*others, ("Grid planning", "Distribution transformers step voltage down.")]
    crowded = _papers([*TOPICS, named, *users])
    assert LexicalIndex.build(crowded).headed("the Distribution Transformer paper") == []


def test_two_words_of_one_title_in_a_row_name_its_paper() -> None:
    trick = ("Restructuring Vector Quantization with the Rotation Trick", "Gradients pass a VQ.")
    layer = ("Layer rotation: an indicator of generalization", "Rotation of layer weights.")
    papers = _papers([*TOPICS, layer, trick])
    index = LexicalIndex.build(papers)
    assert index.title_phrase("rotation trick", papers) == [papers[-1]]
    assert index.title_phrase("who wrote the rotation trick", papers[::-1]) == [papers[-1]]
    # One word of a title, or two words no title holds in a row: nothing.
    assert index.title_phrase("rotation", papers) == []
    assert index.title_phrase("trick rotation", papers) == []
    # Two titles holding the words, or other papers' texts using them: a phrase of the field.
    other = ("Language models as judges", "Large language models grade answers.")
    assert index.title_phrase("language models", [*papers, *_papers([other])]) == []
    users = [("A", "The rotation trick helps."), ("B", "We use the rotation trick too.")]
    crowded = _papers([*TOPICS, layer, trick, *users])
    assert LexicalIndex.build(crowded).title_phrase("rotation trick", crowded) == []
    # Words whose stems stem again ("embeddings" -> "embed" -> "emb") are still looked up.
    sparse = ("Sparse Embeddings for Retrieval", "Short vectors.")
    users = [("C", "Sparse embeddings help."), ("D", "We learn sparse embeddings too.")]
    crowded = _papers([*TOPICS, sparse, *users])
    assert LexicalIndex.build(crowded).title_phrase("sparse embeddings", crowded) == []


def test_a_name_with_a_number_raised_in_it_is_found_typed_plain() -> None:
    pruner = ("E$^3$-Pruner: Efficient Layer Pruning", "We prune whole layers of LLMs.")
    papers = _papers([*TOPICS, pruner])
    index = LexicalIndex.build(papers)
    assert index.papers_using("E3-Pruner") == 1
    assert index.search("E3-Pruner", 1)[0][0] == papers[-1]
    assert index.search("E^3-Pruner", 1)[0][0] == papers[-1]


def test_a_word_used_only_inside_a_link_is_not_written() -> None:
    linked = ("Agents", "Project page: https://sites.google.com/view/agents. We plan.")
    said = ("Search", "We compare with Google search results.")
    papers = _papers([*TOPICS, linked])
    index = LexicalIndex.build(papers)
    assert index.papers_using("Google") == 1 and index.papers_writing("Google") == 0
    assert LexicalIndex.build(_papers([*TOPICS, linked, said])).papers_writing("Google") == 1
    assert index.papers_writing("wombat") == index.papers_using("wombat") == 1
    assert index.papers_writing("Qualcomm") == 0


def test_a_hyphenated_name_with_a_one_letter_part_is_searched_whole() -> None:
    papers = _papers(
        [
            *TOPICS,
            ("R-Learning and inverse-variance weighting", "R-learning weights residuals."),
            ("Outcome reward for learning", "Learning from outcome rewards in reasoning."),
            ("Deep learning theory", "A theory of deep learning and learning dynamics."),
        ]
    )
    index = LexicalIndex.build(papers)
    # The tokenizer drops "R": without the joined term this is a search for "learning".
    found = index.search("What is R-learning?", 3)
    assert found[0][0].title == "R-Learning and inverse-variance weighting"
    assert index.coverage("What is R-learning?", papers[5]) > index.coverage(
        "What is R-learning?", papers[7]
    )


def test_the_papers_mentioning_a_topic_are_those_using_it_as_a_phrase() -> None:
    """The set a count within a topic is taken over: the phrase as written (plural and
    hyphens aside), or with an acronym written out as the collection defines it; a word
    sharing only a stem ("optimization" for "optimizers") is not it."""
    rows = [
        ("Layer pruning for large language models", "We prune whole layers of LLMs."),
        ("Adaptive optimizers", "An optimizer with per-axis statistics (Adam) and its kin."),
        ("Optimization landscapes", "Optimal step sizes for optimization of deep nets."),
        ("Scaling laws", "Large Language Models (LLMs) grow; we fit their losses."),
        ("Language priors", "Language models ignore images; large models more so."),
        ("Return conditioning", "A decision transformer conditions on returns."),
        ("Judging answers", "An LLM judges the answers of another."),
    ]
    papers = _papers(rows)
    index = LexicalIndex.build(papers)

    def titles(subject: str, allowed: set[str] | None = None) -> list[str]:
        return sorted(p.title.split()[0] for p in index.mentioning(subject, allowed))

    assert titles("optimizers") == ["Adaptive"]
    # The stemmer keeps "llms" and "llm" apart; either form is a mention.
    assert titles("LLMs") == titles("LLM") == ["Judging", "Layer", "Scaling"]
    assert titles("large language models") == ["Layer", "Scaling"]
    assert titles("language models") == ["Language", "Layer", "Scaling"]
    assert titles("language models", {papers[4].paper_id}) == ["Language"]
    assert titles("decision transformers") == ["Return"]  # stemmed "decis", "transform"
    assert titles("quantum sheep") == [] and titles("") == []
    # Papers written since the build count as well, and removed ones no longer do.
    changed = index.with_changes(
        added=_papers([("Optimizers compared", "Ten optimizers on one benchmark.")]),
        removed=[papers[1].paper_id],
    )
    assert [p.title for p in changed.mentioning("optimizer")] == ["Optimizers compared"]


def test_a_title_uses_a_word_in_any_of_its_forms() -> None:
    papers = _papers([("Stabilizing RLHF through Advantage Models", "We stabilise training.")])
    index = LexicalIndex.build(papers)
    assert index.title_uses(papers[0], ["rlhf", "stabilization"])
    assert index.title_uses(papers[0], ["advantage", "model"])
    assert not index.title_uses(papers[0], ["rlhf", "pruning"])
    assert not index.title_uses(papers[0], ["training"])  # in the abstract, not the title


def test_a_phrase_is_said_in_other_forms_of_its_words_only_in_a_row() -> None:
    papers = _papers(
        [
            ("Precise robotic manipulation", "Robots learn dexterous skills."),
            ("Protein design", "We design proteins; their stability is checked by folding them."),
        ]
    )
    index = LexicalIndex.build(papers)
    assert index.says("robot manipulation", papers) and not index.says("the edge of robots", [])
    assert not index.mentioning("robot manipulation")  # as written, no paper says it
    assert not index.says("protein folding", papers)  # both words, never in a row
    assert not index.says("robot manipulation", papers[1:]) and not index.says("", papers)
