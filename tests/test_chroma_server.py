"""The store on a real Chroma server (`chroma run`, HttpClient): nothing written locally but the
sidecar indexes; several API workers share it."""

from __future__ import annotations

from pathlib import Path

from assistant.config import Settings, StoreSettings
from assistant.embed import EMBEDDER_NAME
from assistant.ingest import ingest
from assistant.store import open_store

from .conftest import DATA

DAILY = DATA / "003_f0de8cd1426337ec.txt"


def test_server_store_writes_nothing_but_its_sidecar(chroma_url: str, tmp_path: Path) -> None:
    settings = Settings(
        store=StoreSettings(path=tmp_path / "sidecar", url=chroma_url, collection="sidecar-only")
    )
    ingest([DAILY], settings)
    with open_store(settings.store, EMBEDDER_NAME) as store:
        assert len(store.papers()) == 48
    assert not (tmp_path / "sidecar" / "chroma.sqlite3").exists()
    assert (tmp_path / "sidecar" / "lexical" / "meta.json").exists()
