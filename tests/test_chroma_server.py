"""The store on a real Chroma server (`chroma run`, HttpClient): ingest, re-ingest, search."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from assistant.config import Settings, StoreSettings
from assistant.embed import EMBEDDER_NAME
from assistant.ingest import ingest
from assistant.retrieve import Retriever
from assistant.store import open_store

from .conftest import DATA
from .openai_stub import free_port

DAILY = DATA / "003_f0de8cd1426337ec.txt"


@pytest.fixture
def chroma_url(tmp_path: Path) -> Iterator[str]:
    port = free_port()
    chroma = Path(sys.executable).parent / "chroma"
    server = subprocess.Popen(
        [
            str(chroma),
            "run",
            "--path",
            str(tmp_path / "server"),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={"ANONYMIZED_TELEMETRY": "False", "PATH": "/usr/bin:/bin"},
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.time() + 60
        while time.time() < deadline:
            try:
                if httpx.get(url + "/api/v2/heartbeat", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        else:
            pytest.fail("chroma run did not start within 60 s")
        yield url
    finally:
        server.terminate()
        server.wait(timeout=30)


def test_ingest_and_search_on_a_chroma_server(chroma_url: str, tmp_path: Path) -> None:
    settings = Settings(store=StoreSettings(path=tmp_path / "sidecar", url=chroma_url))
    first = ingest([DAILY], settings)
    assert first.added == 48 and first.embedded_chunks > 48
    again = ingest([DAILY], settings)
    assert again.added == 0 and again.unchanged == 48 and again.embedded_chunks == 0
    with open_store(settings.store, EMBEDDER_NAME) as store:
        assert len(store.papers()) == 48
        assert not (tmp_path / "sidecar" / "chroma.sqlite3").exists()
    with Retriever(settings) as retriever:
        hits = retriever.search("DigiRL device-control agents with reinforcement learning", k=1)
    assert hits[0].paper.title.startswith("DigiRL")
