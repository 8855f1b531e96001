"""The province operations feed (version 1): live indicators of every site, by API key.

    GET /api/v1/feed                 snapshot of every site this process serves
    WS  /api/v1/feed/live?key=KEY    the same snapshot every FEED_EVERY_S seconds

Authenticate with `X-Api-Key` (a key with the ops role: `motcua users add --role
apikey`), or an ops/manager/admin bearer token. Browsers cannot set headers on
a WebSocket, so the live feed also takes the key as `?key=`.

Sites are sorted by risk (tickets at risk, then longest wait, then queue length), so the
operations centre sees the site that needs a call first. Fields are only ever
added within version 1; a breaking change gets /api/v2/feed.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from fastapi import APIRouter, Request, WebSocket, WebSocketDisconnect

from controller.accounts import AccountStore
from controller.api.errors import ApiError, refuse_websocket
from controller.api.security import require_role
from controller.core.clock import iso
from controller.core.floor import Floor
from controller.core.targets import TargetTally, at_risk_now, transaction_tallies
from controller.core.tickets import CounterStatus
from controller.runtime.controller import Controller

__all__ = ["FEED_VERSION", "assemble_feed", "feed_snapshot", "router", "site_indicators"]

router = APIRouter()

FEED_VERSION = 1
FEED_EVERY_S = 2.0


def site_indicators(floor: Floor, now: float) -> dict[str, Any]:
    """The live indicators of one site."""
    state = floor.state
    site = floor.site
    in_line = state.waiting_by_agency()
    waiting = [t for tickets in in_line.values() for t in tickets]
    tally = sum(transaction_tallies(state, now).values(), TargetTally())
    share = tally.share
    satisfaction, ratings = state.satisfaction()
    return {
        "site": site.id,
        "name": site.name,
        "level": site.level,
        "day": state.day,
        "waiting": len(waiting),
        "longest_wait_s": round(max((t.waited(now) for t in waiting), default=0.0)),
        "at_risk": sum(1 for t in waiting if at_risk_now(state, t, now)),
        "waiting_over_target": tally.waiting_over,
        "served_today": sum(state.served_per_agency.values()),
        "issued_today": len(state.tickets),
        # transactions called within target / (called + not called past it): controller/core/targets.py
        "within_transaction_target": None if share is None else round(share, 4),
        "satisfaction": None if satisfaction is None else round(satisfaction, 4),
        "ratings": ratings,
        "counters_open": sum(1 for c in state.counters.values() if c.status == CounterStatus.OPEN),
        "counters": len(state.counters),
        "alerts": len(state.open_alerts()),
        "breaches_today": len(state.breaches),
    }


def feed_snapshot(controller: Controller) -> dict[str, Any]:
    """Every site's indicators, riskiest first."""
    sites = [site_indicators(runtime.floor, runtime.clock()) for runtime in controller.runtimes.values()]
    return assemble_feed(sites, controller.clock())


def assemble_feed(sites: list[dict[str, Any]], now: float) -> dict[str, Any]:
    """The feed document from sites' indicators, riskiest first."""
    sites.sort(key=lambda s: (-s["at_risk"], -s["longest_wait_s"], -s["waiting"], s["site"]))
    return {"version": FEED_VERSION, "generated_at": iso(now), "sites": sites}


async def _snapshot(state: Any) -> dict[str, Any]:
    # with sites partitioned over processes, every process's sites come from Redis (shared_feed.py)
    shared = getattr(state, "shared_feed", None)
    if shared is not None:
        snapshot: dict[str, Any] = await shared.snapshot()
        return snapshot
    return feed_snapshot(state.controller)


@router.get("/api/v1/feed")
async def feed(request: Request) -> dict[str, Any]:
    """Snapshot of every site's live indicators for the province's operations centre."""
    require_role(request, None, "ops", "manager", "admin")
    return await _snapshot(request.app.state)


@router.websocket("/api/v1/feed/live")
async def feed_live(websocket: WebSocket, key: str | None = None) -> None:
    """The snapshot pushed every few seconds."""
    accounts: AccountStore = websocket.app.state.accounts
    header = websocket.headers.get("x-api-key")
    if accounts.key(key or header or "", "ops") is None:
        refusal = ApiError(401, "invalid_api_key", "an ops API key is required (X-Api-Key or ?key=)")
        await refuse_websocket(websocket, refusal, close_code=4401)
        return
    await websocket.accept()
    with contextlib.suppress(WebSocketDisconnect, RuntimeError):
        while True:
            await websocket.send_json(await _snapshot(websocket.app.state))
            await asyncio.sleep(FEED_EVERY_S)
