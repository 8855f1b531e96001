"""Any process answers for any site: requests for a site another process writes are forwarded to it.

With sites partitioned over processes (--store redis://), a request whose path
names a site this process does not serve is proxied, method, headers and body
unchanged, to the site's lease holder (its advertised URL). The owner does the
authentication, rate limiting and idempotency, exactly as for a direct call.
Reads are forwarded too rather than answered from a local replica: the owner's
floor is the only one that is current, and following every site's stream in
every process would multiply the folding work by the number of processes.

While a site changes hands (nobody holds its lease, the new holder is still
replaying, or the old holder does not answer) the answer is 503
{"error": {"code": "site_moving"}} with Retry-After: the command was not
executed (or, for a lost reply, is recognised on retry by its Idempotency-Key).
A forwarded request is marked, so a process that lost the site meanwhile
answers 503 rather than forwarding it again (no loops).
"""

from __future__ import annotations

import json
import re
from typing import Any

import httpx
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from controller.api.errors import error_body
from controller.runtime.partition import Partition
from controller.store.base import StoreError

__all__ = ["FORWARDED_HEADER", "ForwardMiddleware", "Forwarder", "site_of_path"]

FORWARDED_HEADER = "x-motcua-forwarded"
# Paths that name one site: the API's site resources and the site's pages.
_SITE_PATH = re.compile(r"^/(?:api/v1/sites|kiosk|counter|hall|t|monitor)/([^/]+)(?:/|$)")
# Hop-by-hop headers (RFC 9110 7.6.1) and those httpx recomputes.
_HOP = frozenset({
    "connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te", "trailer",
    "transfer-encoding", "upgrade", "host", "content-length",
})
_DROP_FROM_REPLY = _HOP | {"content-encoding", "date", "server"}
FORWARD_TIMEOUT_S = 10.0


def site_of_path(path: str) -> str | None:
    """The site a request path names, or None for paths that are not about one site."""
    match = _SITE_PATH.match(path)
    return match.group(1) if match else None


class Forwarder:
    """Proxies one request to the site's owner, with a client owned by the lifespan."""

    def __init__(self, partition: Partition, client: httpx.AsyncClient) -> None:
        self.partition = partition
        self.client = client
        self.forwarded = 0
        self.moving = 0

    async def handle(self, scope: Scope, receive: Receive, send: Send, site: str) -> None:
        headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in scope["headers"]]
        if any(name.lower() == FORWARDED_HEADER for name, _ in headers):
            await self._moving(send, site, "this process no longer writes the site")
            return
        try:
            holder = await self.partition.leases.holder_of(site)
        except StoreError as exc:
            await _reply_error(send, 503, "store_unavailable", str(exc))
            return
        if holder is None or holder[1] == self.partition.holder:
            await self._moving(send, site, "the site is being taken over")
            return
        body = await _read_body(receive)
        url = holder[1] + scope["raw_path"].decode("latin-1")
        if scope.get("query_string"):
            url += "?" + scope["query_string"].decode("latin-1")
        sent = [(n, v) for n, v in headers if n.lower() not in _HOP]
        sent.append((FORWARDED_HEADER, self.partition.holder))
        try:
            reply = await self.client.request(scope["method"], url, headers=sent, content=body,
                                              timeout=FORWARD_TIMEOUT_S)
        except httpx.TransportError as exc:
            await self._moving(send, site, f"its writer {holder[1]} does not answer ({type(exc).__name__})")
            return
        self.forwarded += 1
        out = [(n.encode("latin-1"), v.encode("latin-1")) for n, v in reply.headers.multi_items()
               if n.lower() not in _DROP_FROM_REPLY]
        out.append((b"content-length", str(len(reply.content)).encode()))
        await send({"type": "http.response.start", "status": reply.status_code, "headers": out})
        await send({"type": "http.response.body", "body": reply.content})

    async def _moving(self, send: Send, site: str, why: str) -> None:
        self.moving += 1
        await _reply_error(send, 503, "site_moving", f"site {site} is moving between processes: {why}; retry",
                           retry_after=1)


async def _read_body(receive: Receive) -> bytes:
    chunks: list[bytes] = []
    while True:
        message: Message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


async def _reply_error(send: Send, status: int, code: str, message: str, retry_after: int | None = None) -> None:
    body = json.dumps(error_body(code, message), ensure_ascii=False).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    if retry_after is not None:
        headers.append((b"retry-after", str(retry_after).encode()))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


class ForwardMiddleware:
    """ASGI middleware: site requests this process does not serve go to the site's owner."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        state: Any = scope["app"].state
        forwarder: Forwarder | None = getattr(state, "forwarder", None)
        site = site_of_path(scope["path"])
        if forwarder is None or site is None or site not in state.sites or forwarder.partition.serves(site):
            await self.app(scope, receive, send)
            return
        await forwarder.handle(scope, receive, send, site)
