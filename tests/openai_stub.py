"""An OpenAI-compatible chat server for tests: replies are scripted per test, requests recorded."""

from __future__ import annotations

import asyncio
import json
import socket
import subprocess
import threading
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse


@dataclass
class Reply:
    """What the server does with the next chat request."""

    content: str = "ok"
    status: int = 200
    delay: float = 0.0  # seconds before answering
    cut_after: int | None = None  # drop the connection after this many content chunks
    malformed: bool = False  # send a chunk that is not JSON
    usage: bool = True  # send a usage chunk at the end of a stream
    chunk_delay: float = 0.0  # seconds between streamed chunks
    retry_after: str | None = None  # a Retry-After header on an error reply


@dataclass
class StubServer:
    """Holds the script and the record; ``url`` is the /v1 base URL."""

    url: str = ""
    replies: list[Reply] = field(default_factory=list)
    default: Reply = field(default_factory=Reply)  # the reply once the script has run out
    requests: list[dict[str, Any]] = field(default_factory=list)

    def script(self, *replies: Reply | str) -> None:
        self.replies = [r if isinstance(r, Reply) else Reply(content=r) for r in replies]
        self.requests.clear()

    def _next(self) -> Reply:
        return self.replies.pop(0) if self.replies else self.default


def _chunk(text: str | None, usage: dict[str, int] | None = None) -> str:
    body: dict[str, Any] = {
        "id": "chatcmpl-stub",
        "object": "chat.completion.chunk",
        "created": int(time.time()),
        "model": "stub",
        "choices": []
        if text is None
        else [{"index": 0, "delta": {"content": text}, "finish_reason": None}],
    }
    if usage is not None:
        body["usage"] = usage
    return f"data: {json.dumps(body)}\n\n"


def build_app(state: StubServer) -> FastAPI:
    app = FastAPI()

    @app.get("/v1/models")
    def models() -> dict[str, Any]:
        return {"object": "list", "data": [{"id": "stub", "object": "model", "owned_by": "test"}]}

    @app.post("/v1/chat/completions")
    async def chat(request: Request) -> Response:
        body = await request.json()
        state.requests.append(body)
        reply = state._next()
        if reply.delay:
            await asyncio.sleep(reply.delay)
        if reply.status != 200:
            return JSONResponse(
                {"error": {"message": f"scripted {reply.status}", "type": "stub"}},
                status_code=reply.status,
                headers={"Retry-After": reply.retry_after} if reply.retry_after else None,
            )
        words = [w + " " for w in reply.content.split(" ")]
        words[-1] = words[-1].rstrip(" ")
        prompt_tokens = sum(len(str(m.get("content", "")).split()) for m in body["messages"])
        usage = {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": len(words),
            "total_tokens": prompt_tokens + len(words),
        }
        if not body.get("stream"):
            return JSONResponse(
                {
                    "id": "chatcmpl-stub",
                    "object": "chat.completion",
                    "created": int(time.time()),
                    "model": "stub",
                    "choices": [
                        {
                            "index": 0,
                            "message": {"role": "assistant", "content": reply.content},
                            "finish_reason": "stop",
                        }
                    ],
                    "usage": usage,
                }
            )

        async def events() -> AsyncIterator[str]:
            for i, word in enumerate(words):
                if reply.cut_after is not None and i >= reply.cut_after:
                    raise RuntimeError("scripted disconnect")
                if reply.malformed and i == 1:
                    yield "data: {not json\n\n"
                yield _chunk(word)
                if reply.chunk_delay:
                    await asyncio.sleep(reply.chunk_delay)
            if reply.usage:
                yield _chunk(None, usage)
            yield "data: [DONE]\n\n"

        return StreamingResponse(events(), media_type="text/event-stream")

    return app


def free_port() -> int:
    """A loopback port nobody listens on (at the time of asking)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def run_in_thread(app: Any) -> Iterator[str]:
    """Serve an ASGI app on a free loopback port in a thread; yields its base URL."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(app, log_level="critical")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    while not server.started and thread.is_alive():  # no deadline for a busy machine to miss
        time.sleep(0.02)
    ui = getattr(getattr(app, "state", None), "ui", None)
    if ui is not None:  # our app builds its browser UI once serving: wait until it is mounted
        ui.ready.wait()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=5)
        sock.close()


def wait_served(url: str, server: subprocess.Popen[str], *, page: bool = False) -> dict[str, Any]:
    """/healthz of an `assistant serve` process once it listens (it loads its models first)
    and, with ``page``, once its browser UI is mounted; fails the test if it exited. No
    deadline of ours: pytest's timeout bounds a server that hangs."""
    while server.poll() is None:
        try:
            health = dict(httpx.get(url + "/healthz", timeout=None).json())
            if not page or health["ui"] == "ready":
                return health
        except httpx.TransportError:
            pass  # not listening yet
        time.sleep(0.2)
    pytest.fail(f"assistant serve exited with {server.returncode}")


def serve() -> Iterator[StubServer]:
    """Run the stub on a free loopback port for the duration of the generator."""
    state = StubServer()
    for url in run_in_thread(build_app(state)):
        state.url = url + "/v1"
        yield state
