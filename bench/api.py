"""API under load: N concurrent clients on /v1/search and /v1/ask, against one client, same run.

Run: .venv/bin/python bench/api.py [--store DIR] [--clients 50] [--seconds 30]
Starts `assistant serve` on a free loopback port (a subprocess, as users run it) over an existing
store (default store/), with the OpenAI-compatible test server as its model, then for each
endpoint: one client for a few seconds (its p50 is the baseline), then N clients for --seconds.
Prints requests, errors, p50/p95 and p95 / single-client p50.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

QUESTIONS = [
    "layer pruning for large language models",
    "How does LSUV initialization work?",
    "diffusion models for robot policies",
    "Which papers study optimization at the edge of stability?",
    "talking portrait video generation",
    "Which Hugging Face daily papers were posted in June 2024?",
]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def _load(url: str, path: str, clients: int, seconds: float) -> tuple[list[float], int]:
    import httpx

    latencies: list[float] = []
    errors = 0
    deadline = time.perf_counter() + seconds

    async def client(number: int) -> None:
        nonlocal errors
        async with httpx.AsyncClient(base_url=url, timeout=60) as http:
            i = number
            while time.perf_counter() < deadline:  # bounded by the deadline
                question = QUESTIONS[i % len(QUESTIONS)]
                i += 1
                body = {"query": question, "k": 5} if "search" in path else {"question": question}
                started = time.perf_counter()
                try:
                    response = await http.post(path, json=body)
                    ok = response.status_code == 200
                except httpx.HTTPError:
                    ok = False
                latencies.append((time.perf_counter() - started) * 1000)
                errors += not ok

    await asyncio.gather(*(client(n) for n in range(clients)))
    return latencies, errors


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", type=Path, default=Path("store"))
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=30.0)
    args = parser.parse_args()

    from tests.openai_stub import Reply, serve

    stub_gen = serve()
    stub = next(stub_gen)
    stub.replies = [Reply(content="The sources say so [1].") for _ in range(1_000_000)]
    port = _free_port()
    env = {
        **os.environ,
        "ASSISTANT_STORE__PATH": str(args.store),
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
        import httpx

        for _ in range(300):
            try:
                if httpx.get(url + "/healthz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        for path in ("/v1/search", "/v1/ask"):
            asyncio.run(_load(url, path, 1, 2))  # warm up
            single, single_errors = asyncio.run(_load(url, path, 1, min(args.seconds, 10)))
            many, errors = asyncio.run(_load(url, path, args.clients, args.seconds))
            base = statistics.median(single)
            p50, p95 = statistics.median(many), sorted(many)[int(len(many) * 0.95) - 1]
            print(
                f"{path:<11} 1 client: {len(single)} requests, p50 {base:.1f} ms "
                f"({single_errors} errors) | {args.clients} clients for {args.seconds:g} s: "
                f"{len(many)} requests, {errors} errors, p50 {p50:.0f} ms, p95 {p95:.0f} ms, "
                f"{len(many) / args.seconds:.0f} req/s | p95 / single p50 = {p95 / base:.1f}x"
            )
    finally:
        server.terminate()
        server.wait(timeout=30)
        for _ in stub_gen:
            pass


if __name__ == "__main__":
    main()
