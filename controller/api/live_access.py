"""Who follows a site's live stream, and what they get (CONTRACT.md section 3).

Without a credential: the public stream of the hall display and the citizen's ticket
page, only the events the hall shows in their public form (controller/core/public_events.py).
With one: the full stream, for the site's staff, managers, admins and the operations
centre; its periodic monitor snapshots only for those who may read GET /monitor.

A credential never rides in the URL, which proxies and access logs keep. A browser,
which cannot set a header on a WebSocket, offers two subprotocols, `motcua.live.v1`
and `motcua.bearer.TOKEN`, and is answered `motcua.live.v1` (never the token). Other
clients may send `Authorization: Bearer TOKEN` or `X-Api-Key` with the handshake. The
credential is checked again while the stream runs, so a logout or an expiry ends it.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from fastapi import WebSocket

from controller.accounts import AccountStore, Principal
from controller.api.errors import ApiError
from controller.api.security import MONITOR_READERS, Credential, presented, resolve, unknown_credential
from controller.core.events import Event
from controller.core.site import Site
from controller.runtime.site_runtime import live_message, public_message
from controller.settings import Settings
from controller.store.base import StoreError

__all__ = ["BEARER_PREFIX", "FULL_ROLES", "SNAPSHOT_ROLES", "SUBPROTOCOL", "Audience", "Guard", "audience"]

SUBPROTOCOL = "motcua.live.v1"
BEARER_PREFIX = "motcua.bearer."
FULL_ROLES = ("staff", "manager", "admin", "ops")
SNAPSHOT_ROLES = MONITOR_READERS  # the snapshot is GET /monitor's


# whether a client's credential still stands for someone
Guard = Callable[[], Awaitable[bool]]


@dataclass(frozen=True)
class Audience:
    """One live client: public (principal None) or the principal it authenticated as."""

    principal: Principal | None = None
    subprotocol: str | None = None  # what the handshake answers (one the client offered)
    guard: Guard | None = None  # checked every recheck_s while the stream runs (None: nothing to lose)
    recheck_s: float = 30.0

    @property
    def public(self) -> bool:
        return self.principal is None

    @property
    def snapshots(self) -> bool:
        """Whether monitor snapshots may be sent to this client."""
        return self.principal is not None and self.principal.role in SNAPSHOT_ROLES

    def message(self, site: Site, seq: int, event: Event) -> dict[str, Any] | None:
        """The event as this client may see it; None when it may not see it at all."""
        return public_message(site, seq, event) if self.public else live_message(site, seq, event)


async def _still_valid(accounts: AccountStore, credential: Credential) -> bool:
    try:
        return await asyncio.to_thread(resolve, accounts, credential) is not None
    except StoreError:
        return True  # the token store does not answer: no proof of a logout; asked again at the next check


def _offered(websocket: WebSocket) -> tuple[list[str], str | None]:
    """The bearer tokens among the offered subprotocols, and the subprotocol to answer."""
    offered = [str(p) for p in websocket.scope.get("subprotocols") or ()]
    tokens = [p[len(BEARER_PREFIX):] for p in offered if p.startswith(BEARER_PREFIX)]
    return tokens, SUBPROTOCOL if SUBPROTOCOL in offered else None


async def audience(websocket: WebSocket, site: str) -> Audience:
    """Who is asking for the site's stream; ApiError (refused at the handshake) when it may not have it."""
    tokens, answer = _offered(websocket)
    header = presented(websocket)
    if tokens and answer is None:
        raise ApiError(400, "subprotocol_required",
                       f"offer the subprotocol {SUBPROTOCOL} beside {BEARER_PREFIX}TOKEN")
    if len(tokens) + (header is not None) > 1:
        raise ApiError(400, "one_credential", "send one credential: one bearer subprotocol or one header")
    credential = Credential("bearer", tokens[0]) if tokens else header
    if credential is None:
        return Audience(subprotocol=answer)
    accounts: AccountStore = websocket.app.state.accounts
    settings: Settings = websocket.app.state.settings
    try:
        principal = await asyncio.to_thread(resolve, accounts, credential)
    except StoreError as exc:
        raise ApiError(503, "store_unavailable", str(exc)) from None
    if principal is None:
        raise unknown_credential(credential)
    if principal.role not in FULL_ROLES:
        raise ApiError(403, "forbidden", "the full stream is for staff, managers and the operations centre; "
                                         "the public stream needs no credential")
    if not principal.covers_site(site):
        raise ApiError(403, "forbidden", f"this account is not for site {site}")
    return Audience(principal, answer, functools.partial(_still_valid, accounts, credential), settings.live_recheck_s)
