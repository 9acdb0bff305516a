"""Settings: what a server hands its worker processes comes back the same."""

from __future__ import annotations

import os

import pytest

from assistant.config import ApiSettings, RetrievalSettings, Settings


def test_exported_settings_build_the_same_settings_in_a_worker(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Lists and pairs go through the environment as JSON (a Python repr of a list or tuple
    failed to parse, and every worker of `serve --workers 2` exited at start)."""
    monkeypatch.setattr(os, "environ", {k: v for k, v in os.environ.items()})
    for name in [k for k in os.environ if k.startswith("ASSISTANT_")]:
        del os.environ[name]
    settings = Settings(
        api=ApiSettings(allowed_hosts=["papers.example", "localhost"]),
        retrieval=RetrievalSettings(lexical_weights=(0.2, 0.8), lexical_ramp=(0.3, 0.6)),
    )
    settings.export_environment()
    assert Settings() == settings
    with pytest.raises(ValueError, match="lexical_weights and lexical_ramp"):
        RetrievalSettings(lexical_ramp=(0.6, 0.3))
