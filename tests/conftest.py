"""Shared fixtures: a clean environment, settings on a temp store, and the sample collection ingested once."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from hypothesis import settings as hypothesis_settings

from assistant.config import EmbedSettings, LLMSettings, Settings, StoreSettings

from .openai_stub import StubServer, free_port, serve

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "data"


# CI replays the same examples every run (no flaky red builds); locally each run explores anew.
hypothesis_settings.register_profile("ci", derandomize=True, database=None)
if os.environ.get("CI"):
    hypothesis_settings.load_profile("ci")


@pytest.fixture(autouse=True)
def clean_environ(monkeypatch: pytest.MonkeyPatch) -> None:
    """No ASSISTANT_* or OPENAI_* variable from the developer's shell leaks into a test."""
    for key in list(os.environ):
        if key.startswith(("ASSISTANT_", "OPENAI_")):
            monkeypatch.delenv(key)


#: Tests of the pipeline's mechanics embed with MiniLM, about 4x faster than the default MPNet;
#: the sample collection (``sample_settings``) is embedded with the default.
FAST_EMBED = EmbedSettings(model="minilm")


def make_settings(store: Path, embed: EmbedSettings = FAST_EMBED) -> Settings:
    """Settings pointing at ``store``, embedding with ``embed``, everything else default."""
    return Settings(store=StoreSettings(path=store), embed=embed)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return make_settings(tmp_path / "store")


@pytest.fixture(scope="session")
def chroma_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real Chroma server (`chroma run`) on loopback, shared by the tests of one session."""
    port = free_port()
    server = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "chroma"),
            "run",
            "--path",
            str(tmp_path_factory.mktemp("chroma-server")),
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
        # Until it answers or exits: no deadline of ours for a busy machine to miss (pytest's
        # timeout bounds a server that hangs).
        while server.poll() is None:
            try:
                if httpx.get(url + "/api/v2/heartbeat", timeout=None).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.2)
        else:
            pytest.fail(f"chroma run exited with {server.returncode}")
        yield url
    finally:
        server.terminate()
        server.wait()


@pytest.fixture(params=["embedded", "server"])
def any_store(request: pytest.FixtureRequest, tmp_path: Path) -> Settings:
    """Settings on an empty store: embedded in a temp dir, or a fresh collection on a Chroma
    server (its sidecar files, the BM25 index and thresholds, in a temp dir)."""
    if request.param == "embedded":
        return make_settings(tmp_path / "store")
    url = request.getfixturevalue("chroma_url")
    collection = f"papers-{uuid.uuid4().hex[:12]}"
    return Settings(
        store=StoreSettings(path=tmp_path / "sidecar", url=url, collection=collection),
        embed=FAST_EMBED,
    )


@pytest.fixture(scope="session")
def sample_settings(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Settings]:
    """A store holding the whole sample collection, built once per test session (read-only use)."""
    from assistant.ingest import ingest

    settings = make_settings(tmp_path_factory.mktemp("sample") / "store", EmbedSettings())
    ingest([DATA], settings)
    yield settings


@pytest.fixture(scope="session")
def llm_server() -> Iterator[StubServer]:
    """An OpenAI-compatible HTTP server on loopback; each test scripts its replies."""
    yield from serve()


@pytest.fixture
def llm_settings(sample_settings: Settings, llm_server: StubServer) -> Settings:
    """The sample collection, answered by the stub model (no retries, short timeout)."""
    llm_server.script()
    return sample_settings.model_copy(
        update={
            "llm": LLMSettings(base_url=llm_server.url, model="stub", timeout_s=3.0, max_retries=0)
        }
    )


ANIMALS = ["wombat", "quokka", "emu", "dingo", "numbat", "bilby", "echidna", "platypus"]
ANIMALS += ["possum", "kookaburra", "cassowary", "dugong"]


@pytest.fixture
def venue_store(settings: Settings, tmp_path: Path) -> Settings:
    """A small store (MiniLM): twelve animal papers at ICLR 2026, three others at NeurIPS 2025."""
    from assistant.ingest import ingest

    rows = [
        {
            "title": f"{animal.title()} Behaviour in the Wild",
            "abstract": f"We study how the {animal} behaves in the wild with field cameras. " * 3,
            "venue": "ICLR 2026",
            "date": f"2026-01-{i + 1:02d}",
        }
        for i, animal in enumerate(ANIMALS)
    ]
    rows += [
        {
            "title": f"{name} Dynamics",
            "abstract": f"We model {name.lower()} dynamics with differential equations. " * 3,
            "venue": "NeurIPS 2025",
            "date": "2025-12-01",
        }
        for name in ("Glacier", "Dune", "Tide")
    ]
    source = tmp_path / "papers.jsonl"
    source.write_text("\n".join(json.dumps(r) for r in rows))
    ingest([source], settings)
    return settings
