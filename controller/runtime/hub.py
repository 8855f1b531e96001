"""Fan-out of committed events to live subscribers (WebSocket clients, device router).

Each subscriber has a bounded queue: a client too slow to keep up is dropped
(it reconnects with ?after=SEQ and catches up from the log) rather than
letting memory grow or slowing the writer.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Any

__all__ = ["Hub", "Subscription"]

QUEUE_LIMIT = 2000


class Subscription:
    """One subscriber's queue of (seq, message) pairs; `overflowed` when it fell behind."""

    def __init__(self, limit: int = QUEUE_LIMIT) -> None:
        self.queue: asyncio.Queue[Mapping[str, Any]] = asyncio.Queue(maxsize=limit)
        self.overflowed = False

    def offer(self, message: Mapping[str, Any]) -> None:
        if self.overflowed:
            return
        try:
            self.queue.put_nowait(message)
        except asyncio.QueueFull:
            self.overflowed = True

    async def get(self) -> Mapping[str, Any]:
        return await self.queue.get()


class Hub:
    """Per-site publish/subscribe inside one process."""

    def __init__(self) -> None:
        self._subs: dict[str, set[Subscription]] = defaultdict(set)
        self._all: set[Subscription] = set()

    def publish(self, site: str, message: Mapping[str, Any]) -> None:
        """Deliver a message (an event with seq and site) to the site's subscribers."""
        for sub in self._subs.get(site, ()):
            sub.offer(message)
        for sub in self._all:
            sub.offer(message)

    @asynccontextmanager
    async def subscribe(self, site: str | None) -> AsyncIterator[Subscription]:
        """Subscribe to one site (or every site with None) for the life of the context."""
        sub = Subscription()
        group = self._all if site is None else self._subs[site]
        group.add(sub)
        try:
            yield sub
        finally:
            group.discard(sub)
