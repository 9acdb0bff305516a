"""The whole pipeline (ingest, search, papers) runs with every outside connection refused."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from .conftest import DATA

GUARD = Path(__file__).with_name("guard_network.py")


def _run(log: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ASSISTANT_", "OPENAI_"))}
    for key in ("HF_HUB_OFFLINE", "TIKTOKEN_CACHE_DIR", "ORT_DISABLE_TELEMETRY"):
        env.pop(key, None)  # the assistant must set these itself
    return subprocess.run(
        [sys.executable, str(GUARD), str(log), *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )


def test_pipeline_makes_no_outside_connection(tmp_path: Path) -> None:
    log = tmp_path / "attempts.log"
    log.touch()
    store = str(tmp_path / "store")
    ingest = _run(log, "--store", store, "ingest", str(DATA / "002_f8b4524b5541519b.txt"))
    assert ingest.returncode == 0, ingest.stderr
    search = _run(log, "--store", store, "search", "edge of stability", "--format", "json")
    assert search.returncode == 0, search.stderr
    assert "Edge of Stability" in search.stdout
    papers = _run(log, "--store", store, "papers", "--format", "jsonl")
    assert papers.returncode == 0 and len(papers.stdout.splitlines()) == 9
    assert log.read_text() == ""


def test_network_guard_really_refuses(tmp_path: Path) -> None:
    log = tmp_path / "attempts.log"
    code = (
        "import sys, runpy, socket\n"
        f"sys.argv = ['guard', {str(log)!r}, '--help']\n"
        "try:\n"
        f"    runpy.run_path({str(GUARD)!r}, run_name='__main__')\n"
        "except SystemExit:\n"
        "    pass\n"
        "try:\n"
        "    socket.create_connection(('192.0.2.1', 80), timeout=1)\n"
        "except OSError as exc:\n"
        "    print('refused', exc)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120
    )
    assert "refused" in result.stdout and "192.0.2.1" in log.read_text()


def test_the_python_api_makes_no_outside_connection(tmp_path: Path) -> None:
    log = tmp_path / "attempts.log"
    log.touch()
    code = f"""
from pathlib import Path
from assistant import Answerer, Retriever, Settings, ingest_files
settings = Settings(store={{"path": {str(tmp_path / "store")!r}}})
ingest_files([Path({str(DATA / "002_f8b4524b5541519b.txt")!r})], settings)
with Retriever(settings) as retriever:
    answer = Answerer(settings, retriever).ask("What is the edge of stability?")
print(answer.citations[0].title)
"""
    run = _run(log, "-c", code)
    assert run.returncode == 0, run.stderr[-2000:]
    assert "Edge of Stability" in run.stdout
    assert log.read_text() == ""
