"""WS /api/v1/sites/{site}/live: every committed event in order, resumable with ?after=SEQ.

Public without a credential (what the hall shows), full with one (live_access.py).
"""

from __future__ import annotations

from fastapi import APIRouter, WebSocket, WebSocketDisconnect

from controller.api.errors import ApiError, refuse_websocket
from controller.api.follow import follow_live
from controller.api.live_access import Audience, audience
from controller.api.live_send import serve_live
from controller.core.events import Event
from controller.runtime.controller import Controller, unknown_site

__all__ = ["router"]

router = APIRouter()

SNAPSHOT_EVERY_S = 5.0
BACKLOG_PAGE = 1000


@router.websocket("/api/v1/sites/{site}/live")
async def live(websocket: WebSocket, site: str, after: int | None = None, snapshots: bool = True) -> None:
    """Stream a site's events as the caller may see them; first what the client missed after `after`."""
    controller: Controller = websocket.app.state.controller
    follower = getattr(websocket.app.state, "stream_follower", None)
    # sites partitioned over processes: any process serves any site, following its log in Redis (follow.py)
    if site not in (controller.sites if follower is not None else controller.runtimes):
        await refuse_websocket(websocket, unknown_site(site), close_code=4404)
        return
    try:
        who = await audience(websocket, site)
    except ApiError as refusal:
        await refuse_websocket(websocket, refusal, close_code=4000 + refusal.status)
        return
    snapshots = snapshots and who.snapshots
    if follower is not None:
        await follow_live(websocket, controller, follower, site, after, snapshots, who)
        return
    await _serve_local(websocket, controller, site, after, snapshots, who)


async def _serve_local(
    websocket: WebSocket, controller: Controller, site: str, after: int | None, snapshots: bool, who: Audience
) -> None:
    """The stream of a site this process writes, from its hub."""
    runtime = controller.runtimes[site]
    await websocket.accept(subprotocol=who.subprotocol)
    # Subscribe before reading the backlog, so nothing committed in between is missed.
    async with controller.hub.subscribe(site) as sub:
        last = runtime.last_seq if after is None else max(0, after)
        try:
            if after is not None:
                while True:
                    page = await controller.store.read_after(site, last, BACKLOG_PAGE)
                    for stored in page:
                        message = who.message(runtime.site, stored.seq, Event.from_dict(stored.body))
                        if message is not None:
                            await websocket.send_json(message)
                        last = stored.seq
                    if len(page) < BACKLOG_PAGE:
                        break
            await serve_live(websocket, sub, last, runtime.snapshot_message if snapshots else None,
                             SNAPSHOT_EVERY_S, who)
        except (WebSocketDisconnect, RuntimeError):
            return
