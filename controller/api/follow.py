"""Live streams across processes: a site's events followed from its Redis stream.

With sites partitioned over processes, a WebSocket client may be connected to
any process, and the site's writer may change while it is connected. So every
live stream in that mode follows the site's stream in Redis (XREAD BLOCK from
the last seq sent) instead of the process's in-memory hub: the stream is the
log, its entry ids are the seqs, so events arrive once, in order, whoever
writes the site, and `?after=SEQ` resumes exactly as with one process.
Monitor snapshots are sent only while this process writes the site (it is the
one with a current floor).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from typing import Any

from fastapi import WebSocket, WebSocketDisconnect
from redis.asyncio import Redis
from redis.exceptions import RedisError

from controller.core.events import Event
from controller.core.views import monitor_snapshot
from controller.runtime.controller import Controller
from controller.runtime.site_runtime import live_message
from controller.store.base import StoredEvent
from controller.store.redis_keys import DEFAULT_PREFIX, SiteKeys

__all__ = ["StreamFollower", "follow_live"]

BLOCK_MS = 1000  # a quiet site's reader wakes this often (and notices a closed client)
MAX_CONNECTIONS = 5000  # live clients this process can follow at once (Redis allows 10,000 clients)
PAGE = 500
SNAPSHOT_EVERY_S = 5.0


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


class StreamFollower:
    """Reads sites' event streams as they grow.

    A blocked XREAD holds its connection, one per live client: so the follower has a
    client (and pool) of its own, and live clients can never take the connections the
    store needs for appends and lease renewals.
    """

    def __init__(self, url: str, prefix: str = DEFAULT_PREFIX, max_connections: int = MAX_CONNECTIONS) -> None:
        self.client = Redis.from_url(url, max_connections=max_connections, socket_connect_timeout=1.0,
                                     socket_timeout=BLOCK_MS / 1000 + 2.0)
        self.prefix = prefix

    async def close(self) -> None:
        await self.client.aclose()

    async def head(self, site: str) -> int:
        """The seq of the site's newest event (0 for an empty log)."""
        newest: Any = await self.client.xrevrange(SiteKeys(site, self.prefix).log, "+", "-", count=1)
        return int(_text(newest[0][0]).split("-", 1)[0]) if newest else 0

    async def after(self, site: str, seq: int, block_ms: int = BLOCK_MS) -> list[StoredEvent]:
        """Events after `seq`, waiting up to block_ms for the first one."""
        log = SiteKeys(site, self.prefix).log
        reply: Any = await self.client.xread({log: f"{seq}-0"}, count=PAGE, block=block_ms)
        out: list[StoredEvent] = []
        for _, entries in reply or ():
            for entry_id, fields in entries:
                out.append(StoredEvent(seq=int(_text(entry_id).split("-", 1)[0]), day=_text(fields[b"d"]),
                                       body=json.loads(fields[b"b"])))
        return out


async def follow_live(
    websocket: WebSocket, controller: Controller, follower: StreamFollower, site: str, after: int | None,
    snapshots: bool,
) -> None:
    """Serve WS /api/v1/sites/{site}/live from the site's stream."""
    where = controller.sites.get(site)
    if where is None:
        await websocket.close(code=4404, reason=f"unknown site {site}")
        return
    await websocket.accept()
    try:
        last = max(0, after) if after is not None else await follower.head(site)
    except RedisError:
        await websocket.close(code=1011, reason="event log unavailable; reconnect with ?after=SEQ")
        return

    async def forward() -> None:
        nonlocal last
        while True:
            try:
                events = await follower.after(site, last)
            except RedisError:
                await asyncio.sleep(0.2)  # a restarting Redis: resume from the same seq
                continue
            for stored in events:
                await websocket.send_json(live_message(where, stored.seq, Event.from_dict(stored.body)))
                last = stored.seq

    async def snapshot_loop() -> None:
        while True:
            await asyncio.sleep(SNAPSHOT_EVERY_S)
            runtime = controller.runtimes.get(site)
            if runtime is not None:
                await websocket.send_json({
                    "seq": runtime.last_seq, "type": "monitor.snapshot", "site": site,
                    "snapshot": monitor_snapshot(runtime.floor, runtime.clock(), runtime.device_view()),
                })

    tasks: list[asyncio.Task[Any]] = [asyncio.create_task(_quietly(forward()))]
    if snapshots:
        tasks.append(asyncio.create_task(_quietly(snapshot_loop())))
    try:
        while True:  # reading keeps the close handshake flowing; clients send nothing else
            await websocket.receive_text()
    except (WebSocketDisconnect, RuntimeError):
        return
    finally:
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task


async def _quietly(work: Any) -> None:
    with contextlib.suppress(WebSocketDisconnect, RuntimeError):
        await work
