"""Fan-out of committed events to live subscribers (the WebSocket clients of the live stream).

Each event is encoded to JSON once, whatever the number of subscribers. Each
subscriber has a bounded queue that its own writer task drains, so a slow
client delays nobody else; one too slow to keep up is dropped (it reconnects
with ?after=SEQ and catches up from the log) rather than letting memory grow
or slowing the writer.
"""

from __future__ import annotations

import asyncio
import json
from collections import defaultdict
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

__all__ = ["Frame", "Hub", "Subscription", "encode"]

QUEUE_LIMIT = 2000


def encode(message: Mapping[str, Any]) -> str:
    """A live message as the stream sends it (the same text as Starlette's send_json)."""
    return json.dumps(message, separators=(",", ":"), ensure_ascii=False)


@dataclass(frozen=True)
class Frame:
    """One published message, encoded once for every subscriber."""

    seq: int
    text: str


class Subscription:
    """One subscriber's queue of frames; `overflowed` when it fell behind."""

    def __init__(self, limit: int = QUEUE_LIMIT) -> None:
        self.queue: asyncio.Queue[Frame] = asyncio.Queue(maxsize=limit)
        self.overflowed = False

    def offer(self, message: Frame) -> None:
        if self.overflowed:
            return
        try:
            self.queue.put_nowait(message)
        except asyncio.QueueFull:
            self.overflowed = True

    async def get(self) -> Frame:
        return await self.queue.get()


class Hub:
    """Per-site publish/subscribe inside one process."""

    def __init__(self) -> None:
        self._subs: dict[str, set[Subscription]] = defaultdict(set)
        self._all: set[Subscription] = set()

    def publish(self, site: str, message: Mapping[str, Any]) -> None:
        """Deliver a message (an event with seq and site) to the site's subscribers."""
        subs = self._subs.get(site, ())
        if not subs and not self._all:
            return
        frame = Frame(int(message["seq"]), encode(message))
        for sub in subs:
            sub.offer(frame)
        for sub in self._all:
            sub.offer(frame)

    @asynccontextmanager
    async def subscribe(self, site: str | None, limit: int = QUEUE_LIMIT) -> AsyncIterator[Subscription]:
        """Subscribe to one site (or every site with None) for the life of the context."""
        sub = Subscription(limit)
        group = self._all if site is None else self._subs[site]
        group.add(sub)
        try:
            yield sub
        finally:
            group.discard(sub)
