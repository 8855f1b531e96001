"""Sending one live WebSocket client its events and periodic snapshots, for both kinds of live stream.

One lock orders every send on the socket, and a snapshot carries the seq of the last event this
client was sent (CONTRACT.md section 3: every message has seq, type and at). Were it stamped with
the site's newest seq instead, it could overtake an event still queued for this client, and a
client resuming with ?after= the highest seq it saw would miss that event.

A public client is sent each frame's public form and skips the frames that have none; an
authenticated one has its credential checked every `recheck_s` and is closed with 4401 once
it stands for nobody (logged out, expired, revoked).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from typing import Any

from fastapi import WebSocket, WebSocketDisconnect

from controller.api.live_access import Audience, Guard
from controller.runtime.hub import Subscription

__all__ = ["CLOSE_CREDENTIAL_GONE", "SnapshotSource", "serve_live"]

# the snapshot message for the last seq sent, or None when there is none to send now
SnapshotSource = Callable[[int], dict[str, Any] | None]
CLOSE_CREDENTIAL_GONE = 4401


class _Sender:
    def __init__(self, websocket: WebSocket, last: int, public: bool) -> None:
        self.websocket = websocket
        self.last = last
        self.public = public
        self.lock = asyncio.Lock()

    async def forward(self, sub: Subscription) -> None:
        """Send every frame after seq `last`, in order; a client that fell too far behind is closed with 4008."""
        while True:
            if sub.overflowed:
                await self.websocket.close(code=4008, reason="too slow: reconnect with ?after=SEQ")
                return
            frame = await sub.get()
            text = frame.public if self.public else frame.text
            if frame.seq <= self.last or text is None:
                continue
            async with self.lock:
                await self.websocket.send_text(text)
                self.last = frame.seq

    async def guard(self, still_valid: Guard, every_s: float) -> None:
        while True:
            await asyncio.sleep(every_s)
            if not await still_valid():
                async with self.lock:
                    await self.websocket.close(code=CLOSE_CREDENTIAL_GONE,
                                               reason="logged out, expired or revoked: log in again")
                return

    async def snapshots(self, source: SnapshotSource, every_s: float) -> None:
        while True:
            await asyncio.sleep(every_s)
            async with self.lock:
                message = source(self.last)
                if message is not None:
                    await self.websocket.send_json(message)


async def _quietly(work: Any) -> None:
    with contextlib.suppress(WebSocketDisconnect, RuntimeError):
        await work


async def serve_live(
    websocket: WebSocket, sub: Subscription, last: int, snapshots: SnapshotSource | None, every_s: float,
    audience: Audience,
) -> None:
    """After the backlog (up to seq `last`): live events as the audience may see them, and snapshots
    every `every_s` when asked for (the caller decides whether this audience may have them)."""
    sender = _Sender(websocket, last, audience.public)
    tasks = [asyncio.create_task(_quietly(sender.forward(sub)))]
    if snapshots is not None:
        tasks.append(asyncio.create_task(_quietly(sender.snapshots(snapshots, every_s))))
    if audience.guard is not None:
        tasks.append(asyncio.create_task(_quietly(sender.guard(audience.guard, audience.recheck_s))))
    try:
        while True:  # reading keeps the close handshake flowing; clients send nothing else
            await websocket.receive_text()
    finally:
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
