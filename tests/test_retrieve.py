"""Hybrid retrieval and metadata filters on the real sample collection, and the eval command."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from assistant.cli import main
from assistant.config import Settings
from assistant.embed import EMBEDDER_NAME
from assistant.lexical import LexicalIndex, fingerprint
from assistant.records import Filters
from assistant.retrieve import Retriever
from assistant.store import open_store


def test_lexical_index_is_in_step_with_the_store(sample_settings: Settings) -> None:
    index = LexicalIndex.load(sample_settings.store.path)
    assert index is not None
    with open_store(sample_settings.store, EMBEDDER_NAME) as store:
        assert index.fingerprint == fingerprint(store.papers())
    assert len(index.papers) == 318


def test_search_exact_terms_rank_first_with_hybrid(sample_settings: Settings) -> None:
    hits = Retriever(sample_settings).search("Gumbel-TopK layer pruning MATH-500 Qwen3-32B", k=3)
    assert hits[0].paper.title.startswith("E$^3$-Pruner")
    assert hits[0].similarity is not None and hits[0].score > hits[1].score


def test_search_results_are_one_per_paper(sample_settings: Settings) -> None:
    hits = Retriever(sample_settings).search("diffusion models for image generation", k=20)
    assert len(hits) == 20 and len({h.paper.paper_id for h in hits}) == 20


def test_filter_author_narrows_to_their_papers(sample_settings: Settings) -> None:
    hits = Retriever(sample_settings).search(
        "neural networks", k=10, filters=Filters(author="fortuin")
    )
    assert [h.paper.title for h in hits] == [
        "Amortising Inference and Meta-Learning Priors in Neural Networks"
    ]


def test_filter_accent_free_author_matches_accented_name(sample_settings: Settings) -> None:
    hits = Retriever(sample_settings).search(
        "regression", k=5, filters=Filters(author="Suarez-Farinas")
    )
    assert [h.paper.title[:8] for h in hits] == ["SoftStep"]


def test_filter_date_range_and_venue(sample_settings: Settings) -> None:
    june = Retriever(sample_settings).search(
        "papers", k=10, filters=Filters(since="2024-06", until="2024-06", venue="daily")
    )
    assert {h.paper.title.split(":")[0] for h in june} == {"DigiRL", "VLind-Bench"}
    arxiv = Retriever(sample_settings).search("learning", k=50, filters=Filters(venue="arXiv"))
    assert arxiv and all(h.paper.venue == "arXiv.org Machine Learning" for h in arxiv)


def test_filter_category(sample_settings: Settings) -> None:
    hits = Retriever(sample_settings).search(
        "learning", k=10, filters=Filters(category="education")
    )
    assert [h.paper.title[:8] for h in hits] == ["SoftStep"]


def test_filter_matching_nothing_returns_no_hits(sample_settings: Settings) -> None:
    assert Retriever(sample_settings).search("x", filters=Filters(author="Nobody Atall")) == []


def test_cli_search_filters(sample_settings: Settings) -> None:
    result = CliRunner().invoke(
        main,
        [
            "--store",
            str(sample_settings.store.path),
            "search",
            "learning",
            "--author",
            "Albergo",
            "--format",
            "json",
        ],
    )
    assert result.exit_code == 0, result.output
    assert [h["title"] for h in json.loads(result.stdout)] == ["Discrete Tilt Matching"]


def test_cli_eval_json_scores_questions(sample_settings: Settings, tmp_path: Path) -> None:
    questions = tmp_path / "q.jsonl"
    rows = [
        {
            "qid": "1",
            "type": "lookup",
            "question": "marine mammal calls in the St. Lawrence Estuary",
            "gold_titles": [
                "Multi-Representation Attention Framework for Underwater Bioacoustic Denoising and Recognition"
            ],
        },
        {
            "qid": "2",
            "type": "absent",
            "question": "sign language translation on PHOENIX",
            "gold_titles": [],
            "must_refuse": True,
        },
    ]
    questions.write_text("\n".join(json.dumps(r) for r in rows))
    result = CliRunner().invoke(
        main,
        ["--store", str(sample_settings.store.path), "eval", str(questions), "--format", "json"],
    )
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["summary"]["lookup"]["recall@1"] == 1.0
    assert len(report["questions"]) == 2 and len(report["questions"][0]["retrieved"]) >= 10
    assert {"question", "type", "retrieved", "not_covered"} <= set(report["questions"][1])
    table = CliRunner().invoke(
        main, ["--store", str(sample_settings.store.path), "eval", str(questions)]
    )
    assert table.exit_code == 0 and "recall@1" in table.output


def test_cli_eval_bad_question_file_names_the_line(tmp_path: Path) -> None:
    questions = tmp_path / "q.jsonl"
    questions.write_text('{"question": "ok"}\n{"gold_titles": []}\n')
    result = CliRunner().invoke(main, ["--store", str(tmp_path / "s"), "eval", str(questions)])
    assert result.exit_code == 1 and "q.jsonl:2" in result.output
