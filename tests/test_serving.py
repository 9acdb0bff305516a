"""Serving while indexing: ingest jobs run inside the server and are followed over the API."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from assistant.api import create_app
from assistant.collection import Collection
from assistant.config import Settings
from assistant.ingest import ingest
from assistant.lexical import LexicalIndex

from .openai_stub import free_port, run_in_thread, wait_served

FIRST = [
    (
        "Orthogonal initialisation of deep residual networks",
        "We initialise residual networks "
        "with orthogonal matrices and show that training converges faster without warm-up.",
    ),
    (
        "Sparse mixtures of experts for speech recognition",
        "A sparse mixture of experts routes "
        "each audio frame to two experts, halving the compute of a dense recogniser.",
    ),
]
LATER = [
    (
        "Glacier melt forecasting with graph neural networks",
        "We forecast glacier melt from "
        "satellite imagery with a graph neural network over neighbouring ice basins.",
    ),
    (
        "Protein docking with equivariant diffusion",
        "An equivariant diffusion model proposes "
        "docking poses for protein pairs and ranks them with a learned confidence.",
    ),
    (
        "Coral reef bleaching detection from drone footage",
        "Drone footage of coral reefs is "
        "segmented to detect bleaching, with a dataset of 4,000 annotated frames.",
    ),
]


def _jsonl(path: Path, papers: list[tuple[str, str]]) -> Path:
    path.write_text(
        "".join(json.dumps({"title": t, "abstract": a, "year": 2025}) + "\n" for t, a in papers)
    )
    return path


def _ask(url: str, question: str) -> dict:
    response = httpx.post(url + "/v1/ask", json={"question": question}, timeout=60)
    assert response.status_code == 200, response.text
    return dict(response.json())


@pytest.fixture
def small(settings: Settings, tmp_path: Path) -> Settings:
    """A store holding the two FIRST papers."""
    ingest([_jsonl(tmp_path / "first.jsonl", FIRST)], settings, calibrate=False)
    return settings


def test_a_server_answers_while_its_files_are_still_being_indexed(
    small: Settings, tmp_path: Path
) -> None:
    later = _jsonl(tmp_path / "later.jsonl", LATER)
    app = create_app(small, ui=False, ingest=[later])
    service: Collection = app.state.service
    # Another write holds the collection when the server starts: the job waits its turn, and
    # everything answered meanwhile says that the collection is not fully indexed yet.
    service.writing.acquire()
    try:
        for url in run_in_thread(app):
            health = httpx.get(url + "/healthz").json()
            assert health["papers"] == 2
            assert health["indexing"]["state"] == "queued"
            job_id = health["indexing"]["id"]

            answer = _ask(url, "How are residual networks initialised with orthogonal matrices?")
            assert answer["citations"][0]["title"] == FIRST[0][0]
            assert "queued" in answer["coverage"]["partial"]
            assert answer["coverage"]["caveat"].startswith("The collection is still being indexed")
            found = httpx.post(url + "/v1/search", json={"query": "glacier melt"}).json()
            assert "queued" in found["partial"]

            service.writing.release()
            done = service.wait_job(job_id)
            assert (done.state, done.done, done.total) == ("done", 3, 3)
            listed = httpx.get(f"{url}/v1/ingest/{job_id}").json()
            assert listed["files"] == [
                {"name": str(later), "state": "read", "records": 3, "skipped": 0, "problem": None}
            ]
            assert listed["report"]["added"] == 3 and listed["eta_s"] is None

            health = httpx.get(url + "/healthz").json()
            assert (health["papers"], health["indexing"]) == (5, None)
            answer = _ask(url, "Which papers forecast glacier melt?")
            assert answer["coverage"]["partial"] is None
            assert answer["citations"][0]["title"] == LATER[0][0]
            # Searchable by words too: the papers written were added to the BM25 index.
            hits = httpx.post(url + "/v1/search", json={"query": "bleaching drone"}).json()
            assert hits["hits"][0]["paper"]["title"] == LATER[2][0]
    finally:
        if service.writing.locked():
            service.writing.release()


def test_a_background_upload_is_a_job_that_can_be_followed_or_cancelled(
    small: Settings, tmp_path: Path
) -> None:
    app = create_app(small, ui=False)
    service: Collection = app.state.service
    for url in run_in_thread(app):
        body = _jsonl(tmp_path / "x.jsonl", LATER[:2]).read_bytes()
        sent = httpx.post(
            url + "/v1/papers/upload?background=true",
            files={"file": ("../../my papers.jsonl", body)},
        )
        assert (
            sent.status_code == 202
            and sent.headers["location"] == f"/v1/ingest/{sent.json()['id']}"
        )
        done = service.wait_job(sent.json()["id"])
        assert done.state == "done" and done.report is not None and done.report.added == 2
        assert [f.name for f in done.files] == ["my_papers.jsonl"]  # never the server's path
        assert httpx.get(url + "/healthz").json()["papers"] == 4
        # The write saved what it changed beside the index's build (not a new build), which
        # another process reads as one index.
        service.wait_calibrated()
        saved = LexicalIndex.load(small.store.path)
        assert saved is not None and saved.pending == 2
        assert saved.fingerprint == service.retriever.lexical().fingerprint
        assert [p.title for p, _ in saved.search("glacier melt satellite", 1)] == [LATER[0][0]]

        # Cancelled before it got the collection: nothing of it is added.
        service.writing.acquire()
        try:
            other = _jsonl(tmp_path / "y.jsonl", LATER[2:]).read_bytes()
            queued = httpx.post(
                url + "/v1/papers/upload?background=true", files={"file": ("y.jsonl", other)}
            ).json()
            cancelled = httpx.delete(f"{url}/v1/ingest/{queued['id']}")
            assert cancelled.status_code == 200 and cancelled.json()["stopping"] is True
            assert cancelled.json()["state"] == "queued"
            assert "stopping after the batch" in service.job(queued["id"]).summary()
        finally:
            service.writing.release()
        ended = service.wait_job(queued["id"])
        assert ended.state == "cancelled"
        assert ended.summary() == "cancelled before any paper was written"
        assert httpx.get(url + "/healthz").json()["papers"] == 4
        jobs = httpx.get(url + "/v1/ingest").json()
        assert [j["state"] for j in jobs] == ["done", "cancelled"]

        # A file that cannot be read fails its job, named as it was sent, not where we saved it.
        broken = httpx.post(
            url + "/v1/papers/upload?background=true",
            files={"file": ("broken.jsonl", b"\x00\x01 not a listing")},
        ).json()
        failed = service.wait_job(broken["id"])
        assert failed.state == "failed" and failed.error is not None
        assert failed.error["message"].startswith("broken.jsonl")
        assert "upload-" not in json.dumps(failed.model_dump(mode="json"))

        missing = httpx.get(url + "/v1/ingest/ingest-99")
        assert missing.status_code == 404
        assert missing.json()["error"]["type"] == "UnknownJob"
        assert "GET /v1/ingest" in missing.json()["error"]["hint"]


def test_a_failed_job_says_why_file_by_file(small: Settings, tmp_path: Path) -> None:
    broken = tmp_path / "broken.jsonl"
    broken.write_bytes(b"\x00\x01 not a listing")
    service = Collection(small)
    try:
        job = service.wait_job(service.start_ingest([broken]).id)
    finally:
        service.close()
    assert job.state == "failed" and job.error is not None
    assert job.error["type"] == "ParseError" and job.error["hint"]
    assert job.files[0].state == "failed" and job.files[0].problem


def test_serve_ingest_starts_on_an_empty_store_and_fills_it(tmp_path: Path) -> None:
    """`make run`'s command: the server answers before its first papers are indexed."""
    store = tmp_path / "store"
    papers = _jsonl(tmp_path / "papers.jsonl", FIRST + LATER)
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("ASSISTANT_")}
    env["ASSISTANT_EMBED__MODEL"] = "minilm"
    cmd = [sys.executable, "-m", "assistant", "--store", str(store), "serve", "--port", str(port)]
    with subprocess.Popen(
        [*cmd, "--ingest", str(papers)], env=env, stderr=subprocess.PIPE, text=True
    ) as server:
        try:
            assert server.stderr is not None
            # The server says where it serves before it starts: wait for that line, then for
            # it to answer.
            line = server.stderr.readline()
            assert "in the background" in line and str(papers) in line, line
            url = f"http://127.0.0.1:{port}"
            health = wait_served(url, server)
            assert health["status"] == "ok"
            while health["indexing"] is not None:
                time.sleep(0.2)  # polling a state, not a deadline
                health = httpx.get(url + "/healthz").json()
            assert health["papers"] == 5
            answer = _ask(url, "Which papers detect coral bleaching?")
            assert answer["citations"][0]["title"] == LATER[2][0]
        finally:
            server.terminate()
            server.wait()
    assert server.returncode in (0, -15)


def test_the_page_answers_retry_until_the_ui_is_mounted_behind_the_same_gate(
    small: Settings,
) -> None:
    """The API does not wait for Gradio's import: until the UI is built, /ui says so."""
    import asyncio

    from assistant.config import ApiSettings

    guarded = small.model_copy(update={"api": ApiSettings(token="s3cret")})
    app = create_app(guarded)  # its lifespan has not run: the UI is not built

    async def visit() -> list[httpx.Response]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:
            auth = {"Authorization": "Bearer s3cret"}
            return [
                await client.get("/ui/", headers=auth),
                await client.get("/ui/"),
                await client.get("/healthz"),
            ]

    loading, refused, health = asyncio.run(visit())
    assert loading.status_code == 503 and loading.headers["retry-after"] == "1"
    assert "http-equiv=refresh" in loading.text and "the API already answers" in loading.text
    assert refused.status_code == 401  # the gate stands in front of it as of every route
    assert health.json()["ui"] == "loading"
    app.state.service.close()
