"""The one door in front of every route (API, docs and the mounted UI): host, origin, token, size.

One ASGI middleware rather than a FastAPI dependency, because a dependency guards only the
routes it is attached to: the Gradio app mounted at /ui has routes of its own (its config, its
API functions, its upload and file routes) that FastAPI dependencies never see.

- **Host**: on a loopback server only loopback names are accepted, so a page whose DNS name is
  rebound to 127.0.0.1 cannot talk to it. ``api.allowed_hosts`` widens or narrows that.
- **Origin**: a state-changing request (anything but GET, HEAD and OPTIONS) that a browser sent
  from another origin is refused. Browsers send ``Origin`` with every such request, including the
  "no-cors" multipart POSTs that skip the CORS preflight; clients that are not browsers send none.
- **Token**: with ``api.token`` set, every path but /healthz and the login page needs either
  ``Authorization: Bearer <token>`` or the session cookie the login page sets (HttpOnly,
  SameSite=Strict). A browser without it is sent to the login page; other clients get a 401.
- **Size**: a body is counted as it arrives, whatever its ``Content-Length`` or
  ``Transfer-Encoding``; past ``api.max_body_mb`` the request is answered with a 413 and the
  rest of the body is not read.
"""

from __future__ import annotations

import hashlib
import hmac
import html
import ipaddress
import json
import secrets
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

COOKIE = "assistant_session"
LOGIN_PATH = "/login"
LOGOUT_PATH = "/logout"
OPEN_PATHS = frozenset({"/healthz", LOGIN_PATH})
_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_LOOPBACK_NAMES = frozenset({"localhost", "127.0.0.1", "::1"})
_SESSION_DAYS = 7
_LOGIN_BODY_LIMIT = 4096


def loopback_host(host: str) -> bool:
    """Whether ``host`` (a bind address or a Host header's name) names this machine only."""
    if host.lower() in _LOOPBACK_NAMES or host.lower().endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def session_value(token: str) -> str:
    """The session cookie's value for ``token``: an HMAC, so the cookie is not the token itself
    and a new token ends every session."""
    return hmac.new(token.encode(), b"assistant-session-v1", hashlib.sha256).hexdigest()


def _host_name(host_header: str) -> str:
    """``example.org:8000`` -> ``example.org``; ``[::1]:8000`` -> ``::1``."""
    if host_header.startswith("["):
        return host_header[1:].split("]", 1)[0]
    return host_header.rsplit(":", 1)[0] if host_header.count(":") == 1 else host_header


def _cookies(header: str) -> dict[str, str]:
    found: dict[str, str] = {}
    for part in header.split(";"):
        name, _, value = part.strip().partition("=")
        if name:
            found.setdefault(name, value)
    return found


def _error(kind: str, message: str, hint: str) -> bytes:
    return json.dumps({"error": {"type": kind, "message": message, "hint": hint}}).encode()


class _BodyTooLarge(Exception):
    """Raised inside the gate when a body passes the limit while it is being read."""


class Gate:
    """ASGI middleware applying the host, origin, token and size rules to every request."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        token: str | None,
        allowed_hosts: frozenset[str] | None,
        max_body: int,
    ) -> None:
        self.app = app
        self.token = token
        self.session = session_value(token) if token else None
        self.allowed_hosts = allowed_hosts
        self.max_body = max_body

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        method = scope.get("method", "GET")
        host = headers.get("host", "")
        if self.allowed_hosts is not None and _host_name(host).lower() not in self.allowed_hosts:
            await self._refuse(
                scope,
                send,
                400,
                "BadHost",
                f"This server does not answer to the host name {host!r}",
                "use http://127.0.0.1:PORT/, or add the name to ASSISTANT_API__ALLOWED_HOSTS",
            )
            return
        if (method not in _SAFE_METHODS or scope["type"] == "websocket") and self._cross_site(
            headers, host
        ):
            await self._refuse(
                scope,
                send,
                403,
                "CrossOrigin",
                f"Refused a {method} request sent by a page on another site "
                f"({headers.get('origin') or headers.get('sec-fetch-site')})",
                "call the API from a program (no Origin header) or from this server's own pages; "
                "behind a reverse proxy, pass the Host header through unchanged",
            )
            return
        path = scope.get("path", "")
        if self.token is not None:
            if path == LOGIN_PATH:
                await self._login(scope, receive, send, headers)
                return
            if path == LOGOUT_PATH:
                await self._redirect(send, "/login", clear=True)
                return
            if path not in OPEN_PATHS and not self._authorised(headers):
                await self._unauthorised(scope, send, headers, path)
                return
        await self._limited(scope, receive, send, headers)

    # -- the rules ---------------------------------------------------------------------------

    @staticmethod
    def _cross_site(headers: dict[str, str], host: str) -> bool:
        origin = headers.get("origin")
        if origin is not None:
            return origin == "null" or urlsplit(origin).netloc.lower() != host.lower()
        # No Origin (older browsers on some same-origin requests, or not a browser at all):
        # the Fetch Metadata header, when present, still says where the request came from.
        return headers.get("sec-fetch-site", "same-origin") not in ("same-origin", "none")

    def _authorised(self, headers: dict[str, str]) -> bool:
        assert self.token is not None and self.session is not None
        given = headers.get("authorization", "")
        if given and secrets.compare_digest(given.encode(), f"Bearer {self.token}".encode()):
            return True
        cookie = _cookies(headers.get("cookie", "")).get(COOKIE, "")
        return bool(cookie) and secrets.compare_digest(cookie.encode(), self.session.encode())

    async def _unauthorised(
        self, scope: Scope, send: Send, headers: dict[str, str], path: str
    ) -> None:
        browser = scope.get("method") == "GET" and "text/html" in headers.get("accept", "")
        if browser and scope["type"] == "http":
            await self._redirect(send, f"{LOGIN_PATH}?next={quote(path, safe='/')}")
            return
        await self._refuse(
            scope,
            send,
            401,
            "Unauthorized",
            "This server needs a bearer token",
            "send 'Authorization: Bearer <ASSISTANT_API__TOKEN>', or log in at /login in a browser",
        )

    async def _limited(
        self, scope: Scope, receive: Receive, send: Send, headers: dict[str, str]
    ) -> None:
        length = headers.get("content-length", "")
        if length.isdigit() and int(length) > self.max_body:
            await self._too_large(scope, send, int(length))
            return
        seen = 0
        started = False
        cut = False

        async def counted() -> Message:
            nonlocal seen, cut
            if cut:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_body:
                    cut = True
                    raise _BodyTooLarge
            return message

        async def watched(message: Message) -> None:
            nonlocal started
            if cut:
                return  # the 413 was sent; whatever the app says after that goes nowhere
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counted, watched)
        except _BodyTooLarge:
            if not started:
                await self._too_large(scope, send, seen)
            return
        if cut and not started:
            # The app caught the interruption itself and answered nothing we let through.
            await self._too_large(scope, send, seen)

    # -- responses ---------------------------------------------------------------------------

    async def _too_large(self, scope: Scope, send: Send, size: int) -> None:
        await self._refuse(
            scope,
            send,
            413,
            "RequestTooLarge",
            f"The request body has {'more than ' if size <= self.max_body else ''}"
            f"{max(size, self.max_body + 1)} bytes; the limit is {self.max_body}",
            "send fewer papers per request, or raise ASSISTANT_API__MAX_BODY_MB",
        )

    @staticmethod
    async def _refuse(
        scope: Scope, send: Send, status: int, kind: str, message: str, hint: str
    ) -> None:
        if scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1008})
            return
        await _respond(
            send,
            status,
            _error(kind, message, hint),
            [(b"content-type", b"application/json"), (b"connection", b"close")],
        )

    @staticmethod
    async def _redirect(
        send: Send, location: str, *, cookie: str | None = None, clear: bool = False
    ) -> None:
        headers = [(b"location", location.encode())]
        if cookie is not None:
            headers.append((b"set-cookie", cookie.encode()))
        if clear:
            headers.append(
                (b"set-cookie", f"{COOKIE}=; Path=/; Max-Age=0; HttpOnly; SameSite=Strict".encode())
            )
        await _respond(send, 303, b"", headers)

    async def _login(
        self, scope: Scope, receive: Receive, send: Send, headers: dict[str, str]
    ) -> None:
        query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
        target = _local_target(query.get("next", ["/ui/"])[0])
        if scope.get("method") != "POST":
            await self._page(send, _login_page(target, ""), 200)
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if len(body) > _LOGIN_BODY_LIMIT:
                await self._page(send, _login_page(target, "That form was too large."), 413)
                return
            if not message.get("more_body"):
                break
        form = parse_qs(body.decode("utf-8", "replace"))
        given = form.get("token", [""])[0]
        target = _local_target(form.get("next", [target])[0])
        assert self.token is not None and self.session is not None
        if not secrets.compare_digest(given.encode(), self.token.encode()):
            await self._page(send, _login_page(target, "That token is not this server's."), 401)
            return
        secure = "; Secure" if scope.get("scheme") == "https" else ""
        cookie = (
            f"{COOKIE}={self.session}; Path=/; Max-Age={_SESSION_DAYS * 86400}; HttpOnly; "
            f"SameSite=Strict{secure}"
        )
        await self._redirect(send, target, cookie=cookie)

    @staticmethod
    async def _page(send: Send, page: str, status: int) -> None:
        await _respond(
            send,
            status,
            page.encode(),
            [
                (b"content-type", b"text/html; charset=utf-8"),
                (b"cache-control", b"no-store"),
                (b"content-security-policy", b"default-src 'none'; style-src 'unsafe-inline'"),
            ],
        )


async def _respond(
    send: Send, status: int, body: bytes, headers: list[tuple[bytes, bytes]]
) -> None:
    """One whole response."""
    length = (b"content-length", str(len(body)).encode())
    await send({"type": "http.response.start", "status": status, "headers": [*headers, length]})
    await send({"type": "http.response.body", "body": body})


def _local_target(target: str) -> str:
    """Where to go after logging in: a path on this server only (no open redirect)."""
    if not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/ui/"
    return target


def _login_page(target: str, problem: str) -> str:
    note = f'<p class="problem">{html.escape(problem)}</p>' if problem else ""
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>assistant: log in</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>body{{font-family:sans-serif;max-width:26em;margin:4em auto;padding:0 1em}}
input{{font-size:1em;padding:.4em;width:100%;box-sizing:border-box;margin:.5em 0}}
.problem{{color:#b00}}</style></head>
<body><h1>assistant</h1>
<p>This server needs its access token (the value of <code>ASSISTANT_API__TOKEN</code>).</p>
{note}<form method="post" action="{LOGIN_PATH}">
<input type="hidden" name="next" value="{html.escape(target)}">
<label>Token <input type="password" name="token" autocomplete="current-password" autofocus
 id="token"></label>
<input type="submit" value="Log in" id="login">
</form></body></html>
"""
