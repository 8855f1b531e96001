"""WS /api/v1/sites/{site}/live: every committed event in order, resumable with ?after=SEQ."""

from __future__ import annotations

from fastapi import APIRouter, WebSocket, WebSocketDisconnect

from controller.api.errors import refuse_websocket
from controller.api.follow import follow_live
from controller.api.live_send import serve_live
from controller.core.events import Event
from controller.runtime.controller import Controller, unknown_site

__all__ = ["router"]

router = APIRouter()

SNAPSHOT_EVERY_S = 5.0
BACKLOG_PAGE = 1000


@router.websocket("/api/v1/sites/{site}/live")
async def live(websocket: WebSocket, site: str, after: int | None = None, snapshots: bool = True) -> None:
    """Stream a site's events; first what the client missed after `after`."""
    controller: Controller = websocket.app.state.controller
    follower = getattr(websocket.app.state, "stream_follower", None)
    if follower is not None:  # sites partitioned over processes: follow the log in Redis (follow.py)
        await follow_live(websocket, controller, follower, site, after, snapshots)
        return
    runtime = controller.runtimes.get(site)
    if runtime is None:
        await refuse_websocket(websocket, unknown_site(site), close_code=4404)
        return
    await websocket.accept()
    # Subscribe before reading the backlog, so nothing committed in between is missed.
    async with controller.hub.subscribe(site) as sub:
        last = runtime.last_seq if after is None else max(0, after)
        try:
            if after is not None:
                while True:
                    page = await controller.store.read_after(site, last, BACKLOG_PAGE)
                    for stored in page:
                        await websocket.send_json(runtime.message(stored.seq, Event.from_dict(stored.body)))
                        last = stored.seq
                    if len(page) < BACKLOG_PAGE:
                        break
            await serve_live(websocket, sub, last, runtime.snapshot_message if snapshots else None, SNAPSHOT_EVERY_S)
        except (WebSocketDisconnect, RuntimeError):
            return
