"""Serving the app: uvicorn plumbing, the address probe, the exposure policy, header deadline."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from uvicorn.protocols.http.h11_impl import H11Protocol

from assistant.config import Settings
from assistant.errors import ConfigError
from assistant.gate import loopback_host


def check_exposure(settings: Settings) -> None:
    """Refuse to serve where it would be unsafe: on a network address without a token (unless
    ``api.allow_remote`` accepts the risk), or with several workers on the embedded store."""
    api = settings.api
    if not loopback_host(api.host) and api.token is None and not api.allow_remote:
        raise ConfigError(
            f"Refusing to listen on {api.host} without a token: anyone on the network could use it",
            hint="set ASSISTANT_API__TOKEN (clients send 'Authorization: Bearer ...'), or "
            "ASSISTANT_API__ALLOW_REMOTE=true to accept the risk",
        )
    if api.workers > 1 and not settings.store.url:
        raise ConfigError(
            f"Refusing to start {api.workers} workers on the embedded store at "
            f"{settings.store.path}: Chroma's embedded store is not safe to share between "
            "processes",
            hint=f"serve the store with `chroma run --path {settings.store.path} --port 8001` and "
            "set ASSISTANT_STORE__URL=http://127.0.0.1:8001, or use one worker",
        )


class HeaderDeadline(H11Protocol):
    """uvicorn's HTTP/1.1 protocol with a deadline for each request's headers.

    uvicorn closes a keep-alive connection that goes quiet, but not one that never sends a
    request or trickles its headers a byte at a time (slowloris): each such client would hold
    a connection for ever. The deadline runs from the connection, or from the previous
    response, until a request's headers are complete. (A subclass, because uvicorn has no
    setting for it; its `http` option takes a protocol class for this purpose, and calls it
    with keyword arguments, so ``functools.partial(HeaderDeadline, timeout_s=...)`` passes the
    deadline in, and pickles for worker processes.)
    """

    def __init__(self, *args: Any, timeout_s: float, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.timeout_s = timeout_s
        self._deadline: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm()

    def data_received(self, data: bytes) -> None:
        cycle = self.cycle
        super().data_received(data)
        if self.cycle is not cycle:  # a request's headers arrived
            self._disarm()

    def on_response_complete(self) -> None:
        self._arm()
        cycle = self.cycle
        super().on_response_complete()
        if self.cycle is not cycle or self.transport.is_closing():  # a pipelined request
            self._disarm()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def _arm(self) -> None:
        self._disarm()
        self._deadline = self.loop.call_later(self.timeout_s, self._too_slow)

    def _disarm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _too_slow(self) -> None:
        self._deadline = None
        if (self.cycle is None or self.cycle.response_complete) and not self.transport.is_closing():
            self.transport.close()


def check_address(host: str, port: int) -> None:
    """Fail at once, with the next step, when ``host:port`` cannot be listened on.

    uvicorn finds out only after the app (and its models) are loaded, then logs an errno and
    exits with status 3. A probe bind says why first; a port taken in the instant between the
    probe and uvicorn's own bind is still reported by uvicorn.
    """
    import errno
    import socket

    try:
        family, kind, proto, _, address = socket.getaddrinfo(
            host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )[0]
    except (socket.gaierror, UnicodeError) as exc:
        raise ConfigError(
            f"Cannot listen on {host!r}: not an address of this machine ({exc})",
            hint="use an IP address such as 127.0.0.1: `assistant serve --host 127.0.0.1`",
        ) from None
    with socket.socket(family, kind, proto) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn binds
        try:
            probe.bind(address)
        except OSError as exc:
            other = port + 1 if 0 < port < 65535 else 8000
            if exc.errno == errno.EADDRINUSE:
                raise ConfigError(
                    f"Port {port} on {host} is already in use (another server, or an "
                    "`assistant serve` still running)",
                    hint=f"stop it, or serve on another port: `assistant serve --port {other}` "
                    f"(`make run PORT={other}`)",
                ) from None
            if exc.errno == errno.EACCES:
                raise ConfigError(
                    f"Not allowed to listen on port {port} (ports below 1024 need root)",
                    hint="serve on a port above 1023: `assistant serve --port 8000`",
                ) from None
            raise ConfigError(
                f"Cannot listen on {host}:{port}: {exc.strerror}",
                hint="--host must be an address of this machine (127.0.0.1 for this one only)",
            ) from None


def run_server(settings: Settings, ingest: Sequence[Path] = ()) -> None:
    """Serve the app with uvicorn: one process, or ``api.workers`` processes each building the
    app from the settings exported to the environment (those need a Chroma server). One
    process indexes the files in ``ingest`` in the background (see create_app)."""
    import uvicorn

    api = settings.api
    options: dict[str, Any] = {
        "host": api.host,
        "port": api.port,
        "log_level": "warning",
        "http": functools.partial(HeaderDeadline, timeout_s=api.header_timeout_s),
        "timeout_keep_alive": 5,
        # An open page holds an event stream that never ends by itself: without a limit,
        # Ctrl-C (or SIGTERM) would wait for every browser tab to be closed, saying nothing.
        "timeout_graceful_shutdown": 5,
    }
    if api.workers > 1:
        settings.export_environment()
        uvicorn.run(
            "assistant.server:app_from_environment", factory=True, workers=api.workers, **options
        )
    else:
        # Imported here: `serve` checks its address and starts opening the store (store.preload)
        # before the API's imports, about 2 s of them.
        from assistant.api import create_app

        uvicorn.run(create_app(settings, ingest=ingest), **options)


def app_from_environment() -> FastAPI:
    """The app of one worker process when several serve the API (``serve --workers N``): the
    parent exported its settings to ASSISTANT_* variables before starting them."""
    from assistant.api import create_app

    return create_app(Settings())
