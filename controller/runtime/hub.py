"""Fan-out of committed events to live subscribers (the WebSocket clients of the live stream).

Each event is encoded to JSON once, whatever the number of subscribers (twice
when it has a public form: the hall and ticket pages' stream, CONTRACT.md section 3). Each
subscriber has a bounded queue that its own writer task drains, so a slow
client delays nobody else; one too slow to keep up is dropped (it reconnects
with ?after=SEQ and catches up from the log) rather than letting memory grow
or slowing the writer.

Waking a thousand writers is tens of milliseconds of the event loop's time, so
a large fan-out is spread over loop passes of FANOUT_CHUNK subscribers: HTTP
requests (a snapshot, a call-next) are served between the passes instead of
waiting behind the whole fan-out. Each subscriber still gets every event in
commit order.
"""

from __future__ import annotations

import asyncio
import json
from collections import defaultdict, deque
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

__all__ = ["Frame", "Hub", "Subscription", "encode"]

QUEUE_LIMIT = 2000
FANOUT_CHUNK = 100  # subscribers woken per event-loop pass


def encode(message: Mapping[str, Any]) -> str:
    """A live message as the stream sends it (the same text as Starlette's send_json)."""
    return json.dumps(message, separators=(",", ":"), ensure_ascii=False)


@dataclass(frozen=True)
class Frame:
    """One published message, encoded once for every subscriber.

    text: what the authenticated stream sends; public: what the public stream sends of the
    same event (None: the public stream does not show it).
    """

    seq: int
    text: str
    public: str | None = None


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
        # frames waiting for the distributor, each with the subscribers it had when published
        self._pending: deque[tuple[Frame, list[Subscription]]] = deque()
        self._distributor: asyncio.Task[None] | None = None

    def publish(self, site: str, message: Mapping[str, Any], public: Mapping[str, Any] | None = None) -> None:
        """Deliver a message (an event with seq and site), and its public form if any, to the site's subscribers."""
        subs = [*self._subs.get(site, ()), *self._all]
        if not subs:
            return
        frame = Frame(int(message["seq"]), encode(message), None if public is None else encode(public))
        if len(subs) <= FANOUT_CHUNK and not self._pending:
            for sub in subs:
                sub.offer(frame)
            return
        # behind any frame still being distributed, so every subscriber keeps commit order
        self._pending.append((frame, subs))
        if self._distributor is None or self._distributor.done():
            self._distributor = asyncio.get_running_loop().create_task(self._distribute(), name="motcua-hub-fanout")

    async def _distribute(self) -> None:
        while self._pending:
            frame, subs = self._pending[0]
            for start in range(0, len(subs), FANOUT_CHUNK):
                for sub in subs[start:start + FANOUT_CHUNK]:
                    sub.offer(frame)
                await asyncio.sleep(0)  # the woken writers run, and the loop polls I/O, before the next chunk
            self._pending.popleft()

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
