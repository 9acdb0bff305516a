"""Ingest interrupted or starved: SIGKILL at batch boundaries and at random moments, a disk that
fills up, a read-only store, a file cut mid-record, a 50 MB file. After each, the store opens and
holds every paper exactly once, with all its chunks, and the next run resumes.

FAULT_SEEDS=N runs N random kill moments instead of 2 (the reliability figures use 20).
"""

from __future__ import annotations

import json
import os
import random
import resource
import shutil
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from assistant.config import Settings
from assistant.embed import embedder_name
from assistant.ingest import ingest
from assistant.lexical import LexicalIndex, fingerprint
from assistant.parse import parse_file
from assistant.retrieve import Retriever
from assistant.store import open_store

from .conftest import DATA, FAST_EMBED, make_settings

DAILY_PAPERS = 24  # of a real listing: enough for six batches of four, and quick to embed
SEEDS = range(int(os.environ.get("FAULT_SEEDS", "2")))


@pytest.fixture(scope="module")
def daily(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The first papers of a daily listing, as JSONL."""
    papers = parse_file(DATA / "003_f0de8cd1426337ec.txt").papers[:DAILY_PAPERS]
    path = tmp_path_factory.mktemp("daily") / "daily.jsonl"
    path.write_text("".join(p.model_dump_json() + "\n" for p in papers))
    return path


def _ingest_cmd(store: Path, source: Path) -> list[str]:
    cli = [sys.executable, "-m", "assistant", "--store", str(store)]
    return [*cli, "ingest", str(source), "--batch", "4"]


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ASSISTANT_")}
    env["ASSISTANT_EMBED__MODEL"] = FAST_EMBED.model  # as make_settings, which reads the stores
    return env


def _resume_and_check(store: Path, source: Path, papers: int = DAILY_PAPERS) -> None:
    """Run the ingest again; then every paper is stored once, whole, and a third run is a no-op."""
    rerun = subprocess.run(
        _ingest_cmd(store, source), capture_output=True, text=True, env=_env(), timeout=300
    )
    assert rerun.returncode == 0, rerun.stderr
    settings = make_settings(store)
    with open_store(settings.store, embedder_name(settings.embed)) as handle:
        stored = handle.stored_papers()
        listed = handle.papers()
        chunk_count = handle.count_chunks()
    assert len(stored) == papers and all(s.complete for s in stored.values())
    assert len(listed) == papers and max(Counter(p.paper_id for p in listed).values()) == 1
    assert chunk_count == sum(s.expected_chunks for s in stored.values())
    again = ingest([source], settings)
    assert (again.added, again.updated, again.unchanged) == (0, 0, papers)


@pytest.mark.parametrize("kill_after", [4, 20])
def test_ingest_killed_after_a_batch_resumes(tmp_path: Path, daily: Path, kill_after: int) -> None:
    store = tmp_path / "store"
    with subprocess.Popen(
        _ingest_cmd(store, daily), stderr=subprocess.PIPE, text=True, env=_env()
    ) as proc:
        assert proc.stderr is not None
        for line in proc.stderr:
            if line.startswith(f"committed {kill_after}/"):
                proc.send_signal(signal.SIGKILL)
                break
        proc.wait()
    assert proc.returncode == -signal.SIGKILL, "the ingest finished before it could be killed"
    _resume_and_check(store, daily)


def test_a_write_killed_half_way_leaves_the_word_index_untrusted_until_it_resumes(
    tmp_path: Path, daily: Path
) -> None:
    """The BM25 index saves what a write changed only after the store took it: killed in
    between, the mark the write left makes readers rebuild it from the store."""
    store = tmp_path / "store"
    settings = make_settings(store)
    sources = tmp_path / "sources"
    sources.mkdir()
    shutil.copy(daily, sources)
    first = sources / "first.jsonl"
    first.write_text(json.dumps({"title": "Wombat burrow mapping", "abstract": "Radar maps."}))
    ingest([first], settings, calibrate=False)
    with subprocess.Popen(
        _ingest_cmd(store, daily), stderr=subprocess.PIPE, text=True, env=_env()
    ) as proc:
        assert proc.stderr is not None
        for line in proc.stderr:
            if line.startswith("committed 8/"):
                proc.send_signal(signal.SIGKILL)
                break
        proc.wait()
    assert proc.returncode == -signal.SIGKILL, "the ingest finished before it could be killed"
    assert LexicalIndex.load(store) is None and LexicalIndex.saved_fingerprint(store) is None
    with (
        Retriever(settings) as retriever,
        open_store(settings.store, embedder_name(settings.embed)) as handle,
    ):
        stored = handle.papers()
        assert 1 + 8 <= len(stored) < 1 + DAILY_PAPERS
        assert retriever.lexical().fingerprint == fingerprint(stored)
    _resume_and_check(store, sources, papers=1 + DAILY_PAPERS)
    saved = LexicalIndex.load(store)
    with open_store(settings.store, embedder_name(settings.embed)) as handle:
        assert saved is not None and saved.fingerprint == fingerprint(handle.papers())


@pytest.mark.parametrize("seed", SEEDS)
def test_ingest_killed_at_a_random_moment_resumes(tmp_path: Path, daily: Path, seed: int) -> None:
    """Moments spread over the whole run: start-up, embedding, upserts, BM25, calibration."""
    store = tmp_path / "store"
    delay = random.Random(seed).uniform(0.3, 6.5)
    with subprocess.Popen(
        _ingest_cmd(store, daily), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=_env()
    ) as proc:
        time.sleep(delay)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    _resume_and_check(store, daily)


@pytest.mark.parametrize("limit_bytes", [150_000, 800_000])
def test_disk_full_mid_ingest_says_so_and_resumes(
    tmp_path: Path, daily: Path, limit_bytes: int
) -> None:
    """A file-size limit makes every write past it fail with EFBIG, as a full disk would."""

    def starved() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit_bytes, limit_bytes))

    store = tmp_path / "store"
    full = subprocess.run(
        _ingest_cmd(store, daily),
        capture_output=True,
        text=True,
        env=_env(),
        timeout=300,
        preexec_fn=starved,
    )
    assert full.returncode == 1, full.stderr
    assert f"Writing to the store at {store} failed" in full.stderr
    assert "run the same ingest again to resume" in full.stderr
    assert "Traceback" not in full.stderr
    _resume_and_check(store, daily)


def _can_mount_read_only() -> bool:
    probe = subprocess.run(["unshare", "-m", "true"], capture_output=True, check=False)
    return probe.returncode == 0


@pytest.mark.skipif(not _can_mount_read_only(), reason="needs `unshare -m` (root, mount namespace)")
@pytest.mark.parametrize("read_only", [".", "chroma.sqlite3"])
def test_read_only_store_says_so_and_resumes(tmp_path: Path, read_only: str) -> None:
    """The store directory, or only Chroma's database, bind-mounted read-only in a private mount
    namespace (permission bits do not stop root, a read-only mount does)."""
    rows = [
        json.dumps({"title": f"Wombat Study {i}", "abstract": f"We study wombat {i} burrows. " * 8})
        for i in range(20)
    ]
    first, whole = tmp_path / "first.jsonl", tmp_path / "whole.jsonl"
    first.write_text("\n".join(rows[:10]) + "\n")
    whole.write_text("\n".join(rows) + "\n")
    store = tmp_path / "store"
    done = subprocess.run(_ingest_cmd(store, first), capture_output=True, text=True, env=_env())
    assert done.returncode == 0, done.stderr
    target = store / read_only
    script = 'mount --bind -o ro "$1" "$1" && shift && exec "$@"'
    blocked = subprocess.run(
        ["unshare", "-m", "sh", "-c", script, "sh", str(target), *_ingest_cmd(store, whole)],
        capture_output=True,
        text=True,
        env=_env(),
        timeout=300,
    )
    assert blocked.returncode == 1, blocked.stderr
    assert f"Writing to the store at {store} failed (is the disk full or read-only?)" in (
        blocked.stderr
    )
    assert "run the same ingest again to resume" in blocked.stderr
    assert "Traceback" not in blocked.stderr
    _resume_and_check(store, whole, papers=20)


def test_file_cut_mid_record_keeps_whole_records_and_names_the_cut(
    settings: Settings, tmp_path: Path
) -> None:
    rows = [
        json.dumps({"title": f"Marsupial Study {i}", "abstract": f"We study marsupial {i}. " * 8})
        for i in range(20)
    ]
    whole = "\n".join(rows) + "\n"
    cut = tmp_path / "cut.jsonl"
    cut.write_text(whole[: whole.index(rows[14]) + len(rows[14]) // 2])
    report = ingest([cut], settings)
    assert report.added == 14
    assert [(s.line, "cut.jsonl" in s.path) for s in report.skipped] == [(15, True)]
    cut.write_text(whole)  # the download finished
    report = ingest([cut], settings)
    assert (report.added, report.unchanged) == (6, 14)
    with open_store(settings.store, embedder_name(settings.embed)) as store:
        assert sorted(p.title for p in store.papers()) == sorted(
            f"Marsupial Study {i}" for i in range(20)
        )


def test_fifty_megabyte_file_ingests_in_bounded_memory(tmp_path: Path) -> None:
    distinct = [
        json.dumps(
            {
                "title": f"Synthetic Survey of Topic {i}",
                "abstract": f"We survey topic {i} across benchmarks and settings. " * 25,
                "authors": [f"Author {i}"],
            }
        )
        for i in range(60)
    ]
    source = tmp_path / "big.jsonl"
    with source.open("w") as handle:
        written = 0
        while written < 50 * 1024 * 1024:
            for row in distinct:
                handle.write(row + "\n")
                written += len(row) + 1
            handle.write("<html>junk line from a scrape</html>\n")
    assert source.stat().st_size >= 50 * 1024 * 1024
    store = tmp_path / "store"
    # VmHWM, the peak of this process's own memory: ru_maxrss would also count the RSS of the
    # test process it was forked from (Linux keeps the larger across exec).
    probe = (
        "import sys\n"
        "from assistant.cli import main\n"
        "try:\n    main()\nfinally:\n"
        "    hwm = [l for l in open('/proc/self/status') if l.startswith('VmHWM')][0]\n"
        "    print('maxrss_kb', hwm.split()[1], file=sys.stderr)\n"
    )
    run = subprocess.run(
        [sys.executable, "-c", probe, "--store", str(store), "ingest", str(source)],
        capture_output=True,
        text=True,
        env=_env(),
        timeout=600,
    )
    assert run.returncode == 0, run.stderr[-2000:]
    assert "60 added" in run.stdout
    peak_mb = int(run.stderr.rsplit("maxrss_kb", 1)[1].split()[0]) / 1024
    assert peak_mb < 1500, f"peak RSS {peak_mb:.0f} MB for a 50 MB file"
    settings = make_settings(store)
    with open_store(settings.store, embedder_name(settings.embed)) as handle:
        assert len(handle.papers()) == 60
