"""The store on a real Chroma server (`chroma run`, HttpClient): nothing written locally but the
sidecar indexes; several API workers share it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from assistant.config import Settings, StoreSettings
from assistant.embed import embedder_name
from assistant.ingest import ingest
from assistant.store import open_store

from .conftest import DATA, FAST_EMBED
from .openai_stub import free_port

DAILY = DATA / "003_f0de8cd1426337ec.txt"


def test_server_store_writes_nothing_but_its_sidecar(chroma_url: str, tmp_path: Path) -> None:
    settings = Settings(
        store=StoreSettings(path=tmp_path / "sidecar", url=chroma_url, collection="sidecar-only"),
        embed=FAST_EMBED,
    )
    ingest([DAILY], settings)
    with open_store(settings.store, embedder_name(settings.embed)) as store:
        assert len(store.papers()) == 48
    assert not (tmp_path / "sidecar" / "chroma.sqlite3").exists()
    assert (tmp_path / "sidecar" / "lexical" / "meta.json").exists()


def test_two_workers_on_a_chroma_server_see_each_others_uploads(
    chroma_url: str, tmp_path: Path
) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ASSISTANT_")}
    env.update(ASSISTANT_STORE__URL=chroma_url, ASSISTANT_STORE__COLLECTION="workers")
    env["ASSISTANT_EMBED__MODEL"] = FAST_EMBED.model
    sidecar = tmp_path / "sidecar"
    cli = [sys.executable, "-m", "assistant", "--store", str(sidecar)]
    subprocess.run([*cli, "ingest", str(DAILY)], env=env, check=True, capture_output=True)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = tmp_path / "serve.log"  # a file, not a pipe nobody reads that could fill and block
    with (
        log.open("wb") as errors,
        subprocess.Popen(
            [*cli, "serve", "--port", str(port), "--workers", "2"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=errors,
        ) as server,
    ):
        try:
            workers = _workers_answering(url, 2, server, log)
            added = httpx.post(
                url + "/v1/papers",
                json={"papers": [{"title": "Axolotl Limb Regeneration", "abstract": AXOLOTL}]},
                timeout=120,
            )
            assert added.status_code == 200, added.text
            found = set()
            # A fresh connection each time lands on either worker, though not in turn: the
            # kernel hands it to whichever is waiting, so ask until both have answered.
            for _ in range(60):
                if len(found) == 2:
                    break
                with httpx.Client() as client:
                    health = client.get(url + "/healthz").json()
                    hits = client.post(
                        url + "/v1/search", json={"query": "axolotl limb regeneration", "k": 1}
                    ).json()["hits"]
                assert health["papers"] == 49
                assert hits[0]["paper"]["title"] == "Axolotl Limb Regeneration"
                found.add(health["worker"])
            assert workers == 2 and len(found) == 2
        finally:
            server.send_signal(signal.SIGINT)
            server.wait()


AXOLOTL = (
    "We study how axolotls regrow whole limbs after amputation, tracing blastema cells with "
    "lineage labels and single-cell sequencing across the regeneration time course."
)


def _workers_answering(url: str, expect: int, server: subprocess.Popen[bytes], log: Path) -> int:
    """Poll /healthz on fresh connections until ``expect`` distinct worker pids answered, or the
    server exited (no deadline for a busy machine to miss)."""
    seen: set[int] = set()
    while len(seen) < expect:
        if server.poll() is not None:
            raise AssertionError(f"the server exited: {log.read_text()[-2000:]}")
        try:
            with httpx.Client() as client:
                seen.add(client.get(url + "/healthz", timeout=30).json()["worker"])
        except httpx.HTTPError:
            time.sleep(0.3)
    return len(seen)
