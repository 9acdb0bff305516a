"""`assistant serve` under abuse: slowloris clients and 200 concurrent requests, some malformed.
The server drops the slow clients, answers everyone else without a 5xx, and its memory stays
bounded."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from assistant.config import Settings

from .openai_stub import free_port, wait_served

SLOW_CLIENTS = 100
CONCURRENT = 200
HEADER_TIMEOUT_S = 2


@pytest.fixture
def served(sample_settings: Settings) -> Iterator[tuple[str, int]]:
    """`assistant serve` on the sample store, in its own process: (base URL, pid)."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("ASSISTANT_")}
    env["ASSISTANT_API__HEADER_TIMEOUT_S"] = str(HEADER_TIMEOUT_S)
    cmd = [sys.executable, "-m", "assistant", "--store", str(sample_settings.store.path)]
    with subprocess.Popen(
        [*cmd, "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    ) as server:
        url = f"http://127.0.0.1:{port}"
        wait_served(url, server)  # no deadline of ours for a busy machine to miss
        try:
            yield url, server.pid
        finally:
            # It finishes a recalibration under way before it exits, however long a busy
            # machine takes: pytest's timeout bounds a server that hangs.
            server.terminate()
            server.wait()


def _rss_mb(pid: int) -> tuple[float, float]:
    """(current, peak) resident memory of a process, in MB."""
    fields = dict(
        line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines()
    )
    return tuple(int(fields[k].split()[0]) / 1024 for k in ("VmRSS", "VmHWM"))  # type: ignore[return-value]


def _slow_clients(port: int) -> list[socket.socket]:
    """Connections that start a request and never finish its headers."""
    clients = []
    for _ in range(SLOW_CLIENTS):
        sock = socket.create_connection(("127.0.0.1", port))
        sock.sendall(b"POST /v1/search HTTP/1.1\r\nHost: localhost\r\n")
        clients.append(sock)
    return clients


def _closed_by_server(sock: socket.socket) -> bool:
    sock.settimeout(0.5)
    try:
        sock.sendall(b"X-Still-Typing: yes\r\n")
        return sock.recv(1024) == b""
    except (ConnectionResetError, BrokenPipeError):
        return True
    except TimeoutError:
        return False


async def _flood(url: str) -> Counter[tuple[bool, int]]:
    """CONCURRENT requests at once: searches, extractive answers, health checks, bad bodies;
    counts of (request well-formed, status)."""
    requests = [
        (True, "POST", "/v1/search", {"json": {"query": "layer pruning for LLMs", "k": 3}}),
        (True, "POST", "/v1/ask", {"json": {"question": "How does LSUV initialization work?"}}),
        (True, "GET", "/healthz", {}),
        (False, "POST", "/v1/search", {"content": b'{"query": "cut', "headers": _JSON}),
        (False, "POST", "/v1/search", {"json": {"query": ["not", "a", "string"], "k": "many"}}),
        (False, "POST", "/v1/ask", {"json": {"question": "   "}}),
    ]
    picked = [requests[i % len(requests)] for i in range(CONCURRENT)]
    limits = httpx.Limits(max_connections=CONCURRENT)
    async with httpx.AsyncClient(base_url=url, limits=limits, timeout=120) as client:
        replies = await asyncio.gather(
            *(client.request(method, path, **kwargs) for _, method, path, kwargs in picked)
        )
    return Counter((good, r.status_code) for (good, *_), r in zip(picked, replies, strict=True))


_JSON = {"content-type": "application/json"}


def test_slow_clients_are_dropped_and_a_flood_gets_no_5xx(served: tuple[str, int]) -> None:
    url, pid = served
    port = int(url.rsplit(":", 1)[1])
    resting, _ = _rss_mb(pid)
    slow = _slow_clients(port)
    try:
        statuses = asyncio.run(_flood(url))  # served while the slow clients hold their sockets
        assert sum(statuses.values()) == CONCURRENT
        assert {status for good, status in statuses if good} == {200}, statuses
        assert {status // 100 for good, status in statuses if not good} == {4}, statuses
        time.sleep(HEADER_TIMEOUT_S + 1)
        assert sum(_closed_by_server(s) for s in slow) == SLOW_CLIENTS
    finally:
        for sock in slow:
            sock.close()
    after, peak = _rss_mb(pid)
    print(f"server RSS: {resting:.0f} MB resting, {after:.0f} MB after, {peak:.0f} MB peak")
    assert after - resting < 300, f"RSS grew from {resting:.0f} to {after:.0f} MB"
    assert peak < 1500, f"peak RSS {peak:.0f} MB"
    assert httpx.get(url + "/healthz", timeout=10).status_code == 200
