"""Ingest into a real Chroma store, embedded and on a `chroma run` server: idempotence,
replacement, locking, embedder checks."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import chromadb
import numpy as np
import pytest

from assistant.config import Settings
from assistant.embed import embedder_name
from assistant.errors import EmbedderMismatchError, ParseError, StoreLockedError, StoreMissingError
from assistant.ingest import ingest, remove
from assistant.records import FileStatus, IngestJob, normalize_title
from assistant.retrieve import Retriever
from assistant.store import WHOLE_PAPERS, open_store

from .conftest import DATA

ICLR = [DATA / "000_8bbb01e0a2cc4f5e.txt", DATA / "001_4be4fd51fd23367d.txt"]


def _write_jsonl(path: Path, records: list[dict[str, object]]) -> Path:
    path.write_text("\n".join(json.dumps(r) for r in records) + "\n")
    return path


def test_ingest_twice_keeps_one_copy_per_paper(any_store: Settings) -> None:
    first = ingest(ICLR, any_store)
    assert (first.records_read, first.added, first.unchanged) == (20, 12, 0)
    with open_store(any_store.store, embedder_name(any_store.embed)) as store:
        chunks_before = store.count_chunks()
    second = ingest(ICLR, any_store)
    assert (second.added, second.updated, second.unchanged, second.embedded_chunks) == (0, 0, 12, 0)
    with open_store(any_store.store, embedder_name(any_store.embed)) as store:
        assert store.count_chunks() == chunks_before
        stored = store.stored_papers()
    assert len(stored) == 12 and all(s.complete for s in stored.values())


def test_ingest_changed_abstract_replaces_its_chunks(any_store: Settings, tmp_path: Path) -> None:
    long_text = " ".join(
        f"Sentence {i} is about gradient descent on convex losses." for i in range(60)
    )
    records = [
        {"title": "Changing Paper", "abstract": long_text},
        {
            "title": "Steady Paper",
            "abstract": "A steady abstract about graph neural networks. " * 6,
        },
    ]
    source = _write_jsonl(tmp_path / "mine.jsonl", records)
    ingest([source], any_store)
    with open_store(any_store.store, embedder_name(any_store.embed)) as store:
        (old,) = [p for pid, p in store.stored_papers().items() if p.expected_chunks > 1]
    assert old.present_chunks >= 3

    records[0]["abstract"] = "Axolotl regeneration studied with spiking recurrent networks. " * 5
    _write_jsonl(source, records)
    report = ingest([source], any_store)
    assert (report.added, report.updated, report.unchanged) == (0, 1, 1)
    with open_store(any_store.store, embedder_name(any_store.embed)) as store:
        states = store.stored_papers()
        assert sum(s.present_chunks for s in states.values()) == store.count_chunks() == 2
        assert all(s.complete for s in states.values())
    hits = Retriever(any_store).search("axolotl regeneration", k=1)
    assert hits[0].paper.title == "Changing Paper"
    assert "Axolotl" in hits[0].chunks[0] and "gradient" not in " ".join(hits[0].chunks)


def test_ingest_merges_a_paper_seen_in_two_files(any_store: Settings) -> None:
    ingest(ICLR, any_store)
    with open_store(any_store.store, embedder_name(any_store.embed)) as store:
        papers = {normalize_title(p.title): p for p in store.papers()}
    muon = papers[normalize_title("Convergence of Muon with Newton-Schulz")]
    assert len(muon.source_files) == 2


def test_store_second_writer_is_refused(any_store: Settings) -> None:
    with (
        open_store(any_store.store, embedder_name(any_store.embed), write=True),
        pytest.raises(StoreLockedError) as info,
    ):
        ingest(ICLR, any_store)
    assert "Another process" in str(info.value) and info.value.hint
    assert ingest(ICLR[:1], any_store).added == 10  # the lock is released afterwards


def test_store_built_by_another_embedder_is_refused(any_store: Settings) -> None:
    telemetry = chromadb.Settings(anonymized_telemetry=False)
    url = urlparse(any_store.store.url or "")
    client = (
        chromadb.HttpClient(host=url.hostname, port=url.port, settings=telemetry)
        if any_store.store.url
        else chromadb.PersistentClient(path=str(any_store.store.path), settings=telemetry)
    )
    client.create_collection(
        any_store.store.collection, metadata={"hnsw:space": "cosine", "embedder": "other-model"}
    )
    with pytest.raises(EmbedderMismatchError) as info:
        ingest(ICLR, any_store)
    assert "other-model" in str(info.value) and "re-index" in info.value.hint


def test_search_without_store_says_to_ingest(any_store: Settings) -> None:
    with pytest.raises(StoreMissingError) as info:
        Retriever(any_store).search("anything")
    assert "ingest" in info.value.hint


def test_ingest_unreadable_file_names_it(any_store: Settings, tmp_path: Path) -> None:
    bad = tmp_path / "bad.txt"
    bad.write_bytes(b"\x00\x01binary")
    with pytest.raises(ParseError) as info:
        ingest([bad], any_store)
    assert "bad.txt" in str(info.value)
    report = ingest([bad, ICLR[0]], any_store)  # one bad file does not lose the others
    assert report.added == 10 and any("bad.txt" in s.path for s in report.skipped)


def test_files_with_no_usable_record_say_why_each_was_skipped(
    settings: Settings, tmp_path: Path
) -> None:
    # A BibTeX export without abstracts: it had said "see the reasons above", above nothing.
    bib = tmp_path / "refs.bib"
    bib.write_text("@article{a,\n title={Wombat Burrows},\n}\n")
    with pytest.raises(ParseError) as info:
        ingest([bib], settings)
    assert "refs.bib:1: entry 'Wombat Burrows' has no abstract" in info.value.hint
    # ... and with a file no format reads beside it, both reasons, and every format it takes.
    junk = tmp_path / "junk.txt"
    junk.write_text("garbage{{{\n")
    with pytest.raises(ParseError) as both:
        ingest([bib, junk], settings)
    hint = both.value.hint
    assert "junk.txt: no paper records found" in hint and "has no abstract" in hint
    assert "BibTeX, RIS, CSL JSON, arXiv or OpenAlex" in hint and "reasons above" not in hint


def test_ingest_sample_collection_holds_318_papers_once(sample_settings: Settings) -> None:
    with open_store(sample_settings.store, embedder_name(sample_settings.embed)) as store:
        stored = store.stored_papers()
        papers = store.papers()
    assert len(stored) == len(papers) == 318
    assert all(s.complete for s in stored.values())
    assert len({normalize_title(p.title) for p in papers}) == 318


def test_search_sample_question_finds_its_paper_in_top_3(sample_settings: Settings) -> None:
    hits = Retriever(sample_settings).search(
        "How is marine mammal call recognition made robust to noise in recordings?", k=3
    )
    assert "Underwater Bioacoustic" in " ".join(h.paper.title for h in hits)
    assert [h.rank for h in hits] == [1, 2, 3]
    assert len({h.paper.paper_id for h in hits}) == 3


def test_index_survives_unicode_line_separators_in_a_record(settings: Settings) -> None:
    from assistant.lexical import LexicalIndex
    from assistant.records import Paper

    odd = Paper.create("Line\u2028Separated\x85Title", "An abstract with \u2029 in it. " * 3)
    LexicalIndex.build([odd]).save(settings.store.path)
    loaded = LexicalIndex.load(settings.store.path)
    assert loaded is not None and loaded.papers == [odd]


def test_nearest_among_returns_every_chunk_of_long_papers(
    any_store: Settings, tmp_path: Path
) -> None:
    """The exact path for narrow filters finds chunks by id: a paper longer than the probed
    chunks still gives all of them, best first, and unknown ids give nothing."""
    sentences = [
        f"Finding {i}: marsupial burrow acoustics vary with soil type {i}." for i in range(90)
    ]
    source = _write_jsonl(
        tmp_path / "long.jsonl",
        [
            {"title": "Long Marsupial Survey", "abstract": " ".join(sentences)},
            {"title": "Short Wombat Note", "abstract": "Wombats dig burrows in dry soil. " * 3},
            {"title": "Unrelated Optics", "abstract": "Lenses focus light onto sensors. " * 3},
        ],
    )
    ingest([source], any_store)
    retriever = Retriever(any_store)
    ids = {p.title: p.paper_id for p in retriever.lexical().papers}
    with open_store(any_store.store, embedder_name(any_store.embed)) as store:
        stored = store.stored_papers()
        wanted = [ids["Long Marsupial Survey"], ids["Short Wombat Note"], "no-such-paper"]
        vector = retriever.embedder.get_query_embedding("wombat burrows in soil")
        matches = store.nearest_among(vector, wanted)
    long_chunks = stored[ids["Long Marsupial Survey"]].expected_chunks
    assert long_chunks > 4  # more than the chunks probed by id
    assert len(matches) == long_chunks + stored[ids["Short Wombat Note"]].expected_chunks
    assert len({m.chunk_id for m in matches}) == len(matches)
    assert [m.similarity for m in matches] == sorted((m.similarity for m in matches), reverse=True)
    assert matches[0].paper_id == ids["Short Wombat Note"]


def test_each_paper_keeps_a_vector_of_its_whole_abstract(
    any_store: Settings, tmp_path: Path
) -> None:
    """Beside its chunks, each paper is stored as one vector of its title and abstract: a
    paper in one chunk by that chunk's; it goes when the paper is removed."""
    long = " ".join(f"Finding {i}: beetle wing veins branch by rule {i}." for i in range(60))
    records = [
        {"title": "Beetle Wing Survey", "abstract": long},
        {"title": "Short Moth Note", "abstract": "Moths steer by the moon. " * 3},
    ]
    ingest([_write_jsonl(tmp_path / "insects.jsonl", records)], any_store)
    retriever = Retriever(any_store)
    ids = {p.title: p.paper_id for p in retriever.lexical().papers}
    question = retriever.embedder.get_query_embedding("how do beetle wing veins branch")
    whole = retriever.embedder.get_text_embedding(f"Beetle Wing Survey\n{long}")
    wanted = [ids["Beetle Wing Survey"], ids["Short Moth Note"], "no-such-paper"]
    with open_store(any_store.store, embedder_name(any_store.embed)) as store:
        assert store.stored_papers()[ids["Beetle Wing Survey"]].expected_chunks > 1
        similarities = store.whole_similarities(question, wanted)
        nearest = store.nearest_wholes(question, 5)
        (only_chunk,) = store.nearest_among(question, [ids["Short Moth Note"]])
    assert set(similarities) == set(wanted[:2])
    expected = float(np.dot(question, whole))
    assert similarities[ids["Beetle Wing Survey"]] == pytest.approx(expected, abs=1e-4)
    assert similarities[ids["Short Moth Note"]] == pytest.approx(only_chunk.similarity, abs=1e-6)
    assert list(nearest) == wanted[:2]  # an unfiltered search reads the nearest whole papers
    assert nearest[ids["Beetle Wing Survey"]] == pytest.approx(expected, abs=1e-4)
    assert remove([ids["Beetle Wing Survey"]], any_store, calibrate=False) == 1
    with open_store(any_store.store, embedder_name(any_store.embed)) as store:
        assert set(store.whole_similarities(question, wanted)) == {ids["Short Moth Note"]}


def test_a_store_written_before_whole_papers_were_kept_is_completed(settings: Settings) -> None:
    ingest(ICLR, settings)
    client = chromadb.PersistentClient(path=str(settings.store.path))
    client.delete_collection(f"{settings.store.collection}{WHOLE_PAPERS}")
    # Searched by chunks alone meanwhile, and its papers read as incomplete.
    serving = Retriever(settings)
    assert serving.search("Muon convergence", k=1)
    assert serving.store().nearest_wholes([0.0] * 384, 5) == {}
    with open_store(settings.store, embedder_name(settings.embed)) as store:
        stored_before = store.stored_papers()
        chunks_before = store.count_chunks()
    assert not any(s.complete for s in stored_before.values())
    report = ingest(ICLR, settings)
    # Only the whole-paper vectors are embedded: the chunks stay as they were.
    assert (report.added, report.updated, report.unchanged, report.removed_partial) == (0, 0, 12, 0)
    assert (report.embedded_chunks, report.embedded_whole) == (0, 12)
    with open_store(settings.store, embedder_name(settings.embed)) as store:
        stored = store.stored_papers()
        assert all(s.complete for s in stored.values())
        assert store.count_chunks() == chunks_before
        assert len(store.whole_similarities([0.0] * 384, list(stored))) == 12
    # A retriever kept open from before (a server's) finds them once they are written.
    assert len(serving.store().nearest_wholes([1.0] + [0.0] * 383, 5)) == 5


def test_a_jobs_line_says_how_it_ended_whatever_it_had_read() -> None:
    def job(state: str, **fields: Any) -> str:
        files = [FileStatus(name="mine.jsonl", state="read", records=3)]
        return IngestJob.model_validate(
            {"id": "ingest-1", "state": state, "files": files, "started": "now", **fields}
        ).summary()

    assert job("queued") == "1 file(s) queued behind another change to the collection"
    assert job("reading") == "reading files (1 of 1)"
    # Stopped or failed before its papers were counted: said as such, not "reading files".
    assert job("cancelled") == "cancelled before any paper was written"
    assert job("cancelled", done=8, total=30) == "cancelled after 8 of 30 papers"
    assert job("failed", error={"message": "mine.jsonl is not UTF-8"}) == (
        "failed: mine.jsonl is not UTF-8"
    )
    assert job("embedding", done=8, total=30, eta_s=100) == (
        "indexing 8 of 30 papers, about 2 min left"
    )
    assert job("done", done=30, total=30, seconds=12) == "indexed 30 papers in 12 s"
