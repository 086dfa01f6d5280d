"""The studio's guard: who may talk to it, and the headers every answer carries.

In: every HTTP request (an ASGI middleware in front of all routes). Out: the request passed on,
or a 403. The rules (the comments are often from minors, and a web page elsewhere must not
reach this one):

- the Host header must name the studio's own address (defeats DNS rebinding);
- a per-launch token, given in the opened URL (`/?token=...`, as Jupyter does), is turned into
  an HttpOnly SameSite=Strict cookie on the first visit; every request must carry it;
- a request that changes anything (not GET/HEAD) must carry an `Origin` of the studio itself (CSRF);
- every answer gets `Cache-Control: no-store`, a `default-src 'self'` content security policy
  (nothing is fetched from anywhere else) and `nosniff` / `no-referrer`.
"""

from __future__ import annotations

import hmac
import logging
from collections.abc import Iterable
from http.cookies import SimpleCookie
from urllib.parse import parse_qs

from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger(__name__)

COOKIE = "sossut_studio"
SAFE_METHODS = frozenset({"GET", "HEAD"})
CSP = ("default-src 'self'; img-src 'self' blob: data:; media-src 'self' blob:; object-src 'none'; "
       "base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
HEADERS: list[tuple[bytes, bytes]] = [
    (b"cache-control", b"no-store"),
    (b"content-security-policy", CSP.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
    (b"cross-origin-resource-policy", b"same-origin"),
]
_FORBIDDEN_PAGE = (
    "<!doctype html><meta charset=utf-8><title>Sossut-studio</title>"
    "<p>Pääsy estetty. Avaa studio osoitteesta, jonka <code>sossut studio</code> tulosti "
    "(siinä on avain <code>?token=…</code>).</p>"
).encode()


class Guard:
    """ASGI middleware enforcing the rules of the module docstring.

    `hosts` is the set of accepted Host header values (e.g. "127.0.0.1:8765"); it may be filled
    in after the socket is bound.
    """

    def __init__(self, app: ASGIApp, token: str, hosts: Iterable[str]) -> None:
        self.app = app
        self.token = token
        self.hosts = set(hosts)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        host = headers.get("host", "")
        method = scope["method"]
        if host not in self.hosts:
            await _deny(send, "host")
            return
        query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
        given = query.get("token", [""])[0]
        if scope["path"] == "/" and method == "GET" and given:
            if hmac.compare_digest(given, self.token):
                await _redirect_with_cookie(send, cookie_name(host), self.token)
            else:
                await _deny(send, "token")
            return
        if not hmac.compare_digest(_cookie(headers.get("cookie", ""), cookie_name(host)), self.token):
            await _deny(send, "token")
            return
        if method not in SAFE_METHODS and headers.get("origin", "") != f"http://{host}":
            await _deny(send, "origin")
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                names = {k.lower() for k, _ in message.get("headers", [])}
                extra = [(k, v) for k, v in HEADERS if k not in names or k == b"cache-control"]
                kept = [(k, v) for k, v in message.get("headers", []) if k.lower() != b"cache-control"]
                message["headers"] = kept + extra
            await send(message)

        await self.app(scope, receive, send_with_headers)


def cookie_name(host: str) -> str:
    """The token cookie's name; cookies ignore ports, so two studios side by side need two names."""
    port = host.rsplit(":", 1)[-1] if ":" in host else ""
    return f"{COOKIE}_{port}" if port.isdigit() else COOKIE


def _cookie(header: str, name: str) -> str:
    jar: SimpleCookie = SimpleCookie()
    try:
        jar.load(header)
    except Exception:  # a malformed cookie header is the same as none
        return ""
    morsel = jar.get(name)
    return morsel.value if morsel is not None else ""


async def _deny(send: Send, reason: str) -> None:
    log.warning("studio: refused a request (%s)", reason)  # never the URL: it may hold the token
    await send({"type": "http.response.start", "status": 403,
                "headers": [(b"content-type", b"text/html; charset=utf-8"), *HEADERS]})
    await send({"type": "http.response.body", "body": _FORBIDDEN_PAGE})


async def _redirect_with_cookie(send: Send, name: str, token: str) -> None:
    cookie = f"{name}={token}; Path=/; HttpOnly; SameSite=Strict"
    await send({"type": "http.response.start", "status": 303,
                "headers": [(b"location", b"/"), (b"set-cookie", cookie.encode()), *HEADERS]})
    await send({"type": "http.response.body", "body": b""})
