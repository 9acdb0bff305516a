"""Shared fixtures: a clean environment, settings on a temp store, and the sample collection ingested once."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import settings as hypothesis_settings

from assistant.config import LLMSettings, Settings, StoreSettings, apply_offline_environment

from .openai_stub import StubServer, serve

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "data"

apply_offline_environment()

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


def make_settings(store: Path) -> Settings:
    """Settings pointing at ``store``, everything else default."""
    return Settings(store=StoreSettings(path=store))


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return make_settings(tmp_path / "store")


@pytest.fixture(scope="session")
def sample_settings(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Settings]:
    """A store holding the whole sample collection, built once per test session (read-only use)."""
    from assistant.ingest import ingest

    settings = make_settings(tmp_path_factory.mktemp("sample") / "store")
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
