"""What the benchmarks share: the dev-question arguments, percentiles, the best of a few runs,
and `assistant serve` running over the test model."""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))  # for tests.openai_stub

from tests.openai_stub import Reply, StubServer, free_port, serve  # noqa: E402

DEV_QUESTIONS = ROOT.parent / "shared/eval/dev_questions.jsonl"


def dev_arguments(description: str) -> argparse.ArgumentParser:
    """A parser with --store (default store/) and --questions (the dev questions)."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--store", type=Path, default=Path("store"))
    parser.add_argument("--questions", type=Path, default=DEV_QUESTIONS)
    return parser


def half(text: str) -> str:
    """A or B, by a fixed hash of ``text`` (a question, a paper id): rules are chosen on A and
    reported on B."""
    return "AB"[int(hashlib.sha256(text.encode()).hexdigest(), 16) % 2]


def best_ms(run: Callable[[], object], repeats: int = 3, *, warm: bool = False) -> float:
    """The fastest of ``repeats`` runs of ``run``, in ms (after one run more when ``warm``)."""
    if warm:
        run()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return min(times) * 1000


def percentiles(samples: list[float]) -> tuple[float, float]:
    """(p50, p95) of ``samples``."""
    ordered = sorted(samples)
    return statistics.median(ordered), ordered[max(0, int(len(ordered) * 0.95) - 1)]


@contextlib.contextmanager
def served_assistant(store: Path, reply: str) -> Iterator[tuple[str, StubServer]]:
    """`assistant serve` as a subprocess over ``store``, answering through the test model
    (which always replies ``reply``); yields the app's URL, once /healthz answers, and the
    test model."""
    import httpx

    stub_gen = serve()
    stub = next(stub_gen)
    stub.default = Reply(content=reply)
    port = free_port()
    env = {
        **os.environ,
        "ASSISTANT_STORE__PATH": str(store),
        "ASSISTANT_LLM__BASE_URL": stub.url,
        "ASSISTANT_LLM__MODEL": "stub",
        "ASSISTANT_LLM__MAX_RETRIES": "0",
    }
    server = subprocess.Popen(
        [sys.executable, "-m", "assistant", "serve", "--port", str(port)],
        env=env,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):  # about a minute
            try:
                health = httpx.get(url + "/healthz", timeout=2)
                if health.status_code == 200 and health.json()["ui"] == "ready":
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        yield url, stub
    finally:
        server.terminate()
        server.wait(timeout=30)
        for _ in stub_gen:
            pass
