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
import statistics
import time
from pathlib import Path

from harness import percentiles, served_assistant

QUESTIONS = [
    "layer pruning for large language models",
    "How does LSUV initialization work?",
    "diffusion models for robot policies",
    "Which papers study optimization at the edge of stability?",
    "talking portrait video generation",
    "Which Hugging Face daily papers were posted in June 2024?",
]


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

    with served_assistant(args.store, "The sources say so [1].") as (url, _):
        for path in ("/v1/search", "/v1/ask"):
            asyncio.run(_load(url, path, 1, 2))  # warm up
            single, single_errors = asyncio.run(_load(url, path, 1, min(args.seconds, 10)))
            many, errors = asyncio.run(_load(url, path, args.clients, args.seconds))
            base = statistics.median(single)
            p50, p95 = percentiles(many)
            print(
                f"{path:<11} 1 client: {len(single)} requests, p50 {base:.1f} ms "
                f"({single_errors} errors) | {args.clients} clients for {args.seconds:g} s: "
                f"{len(many)} requests, {errors} errors, p50 {p50:.0f} ms, p95 {p95:.0f} ms, "
                f"{len(many) / args.seconds:.0f} req/s | p95 / single p50 = {p95 / base:.1f}x"
            )


if __name__ == "__main__":
    main()
