"""An ingest killed with SIGKILL part-way resumes on the next run with every paper exactly once."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from assistant.embed import EMBEDDER_NAME
from assistant.store import open_store

from .conftest import DATA, make_settings

DAILY = DATA / "003_f0de8cd1426337ec.txt"


def _ingest_cmd(store: Path) -> list[str]:
    return [
        sys.executable,
        "-m",
        "assistant",
        "--store",
        str(store),
        "ingest",
        str(DAILY),
        "--batch",
        "4",
    ]


@pytest.mark.parametrize("kill_after", [4, 20])
def test_ingest_killed_midway_resumes_without_duplicates(tmp_path: Path, kill_after: int) -> None:
    store = tmp_path / "store"
    env = {k: v for k, v in os.environ.items() if not k.startswith("ASSISTANT_")}
    with subprocess.Popen(_ingest_cmd(store), stderr=subprocess.PIPE, text=True, env=env) as proc:
        assert proc.stderr is not None
        for line in proc.stderr:
            if line.startswith(f"committed {kill_after}/"):
                proc.send_signal(signal.SIGKILL)
                break
        proc.wait(timeout=120)
    assert proc.returncode == -signal.SIGKILL, "the ingest finished before it could be killed"

    rerun = subprocess.run(_ingest_cmd(store), capture_output=True, text=True, env=env, timeout=300)
    assert rerun.returncode == 0, rerun.stderr
    added = int(rerun.stdout.split(" added")[0].rsplit(" ", 1)[-1])
    assert 0 < added <= 48 - kill_after, rerun.stdout

    settings = make_settings(store)
    with open_store(settings.store, EMBEDDER_NAME) as handle:
        stored = handle.stored_papers()
        papers = handle.papers()
        chunk_count = handle.count_chunks()
    assert len(stored) == 48 and all(s.complete for s in stored.values())
    assert max(Counter(p.paper_id for p in papers).values()) == 1
    assert chunk_count == sum(s.expected_chunks for s in stored.values())
    again = subprocess.run(_ingest_cmd(store), capture_output=True, text=True, env=env, timeout=300)
    assert "0 added, 0 updated, 48 unchanged" in again.stdout
