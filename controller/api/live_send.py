"""Sending a hub subscription's frames to one live WebSocket client, for both kinds of live stream."""

from __future__ import annotations

import contextlib

from fastapi import WebSocket, WebSocketDisconnect

from controller.runtime.hub import Subscription

__all__ = ["forward"]


async def forward(websocket: WebSocket, sub: Subscription, last: int) -> None:
    """Send every frame after seq `last`, in order; a client that fell too far behind is closed with 4008."""
    with contextlib.suppress(WebSocketDisconnect, RuntimeError):
        while True:
            if sub.overflowed:
                await websocket.close(code=4008, reason="too slow: reconnect with ?after=SEQ")
                return
            frame = await sub.get()
            if frame.seq <= last:
                continue
            last = frame.seq
            await websocket.send_text(frame.text)
