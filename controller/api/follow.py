"""Live streams across processes: a site's events followed from its Redis stream.

With sites partitioned over processes, a WebSocket client may be connected to
any process, and the site's writer may change while it is connected. So every
live stream in that mode follows the site's stream in Redis instead of the
writer's in-memory hub: the stream is the log, its entry ids are the seqs, so
events arrive once, in order, whoever writes the site, and `?after=SEQ`
resumes exactly as with one process.

A process reads each followed site's stream once (one XREAD BLOCK loop per
site with live clients here, SiteTails) and fans it out to its clients
through a hub of its own, as one process does: a thousand clients cost one
Redis reader, not a thousand. Monitor snapshots are sent only while this
process writes the site (it is the one with a current floor).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

from fastapi import WebSocket, WebSocketDisconnect
from redis.asyncio import Redis
from redis.exceptions import RedisError

from controller.api.live_access import Audience
from controller.api.live_send import SnapshotSource, serve_live
from controller.core.events import Event
from controller.core.site import Site
from controller.runtime.controller import Controller
from controller.runtime.hub import Hub, Subscription
from controller.runtime.site_runtime import publish_event
from controller.store.base import StoredEvent, decode_body
from controller.store.redis_keys import DEFAULT_PREFIX, SiteKeys

__all__ = ["SiteTails", "StreamFollower", "follow_live"]

BLOCK_MS = 1000  # a quiet site's reader wakes this often
MAX_CONNECTIONS = 5000  # sites this process can follow at once (a blocked XREAD holds a connection)
PAGE = 500
SNAPSHOT_EVERY_S = 5.0


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


class StreamFollower:
    """Reads sites' event streams as they grow.

    A blocked XREAD holds its connection, one per followed site: so the follower has a
    client (and pool) of its own, and live streams can never take the connections the
    store needs for appends and lease renewals.
    """

    def __init__(self, url: str, prefix: str = DEFAULT_PREFIX, max_connections: int = MAX_CONNECTIONS) -> None:
        self.client = Redis.from_url(url, max_connections=max_connections, socket_connect_timeout=1.0,
                                     socket_timeout=BLOCK_MS / 1000 + 2.0)
        self.prefix = prefix
        self.tails = SiteTails(self)

    async def close(self) -> None:
        await self.tails.stop()
        await self.client.aclose()

    async def head(self, site: str) -> int:
        """The seq of the site's newest event (0 for an empty log)."""
        newest: Any = await self.client.xrevrange(SiteKeys(site, self.prefix).log, "+", "-", count=1)
        return int(_text(newest[0][0]).split("-", 1)[0]) if newest else 0

    async def after(self, site: str, seq: int, block_ms: int | None = BLOCK_MS) -> list[StoredEvent]:
        """Events after `seq`, waiting up to block_ms for the first one (None: not at all)."""
        log = SiteKeys(site, self.prefix).log
        reply: Any = await self.client.xread({log: f"{seq}-0"}, count=PAGE, block=block_ms)
        out: list[StoredEvent] = []
        for _, entries in reply or ():
            for entry_id, fields in entries:
                out.append(StoredEvent(seq=int(_text(entry_id).split("-", 1)[0]), day=_text(fields[b"d"]),
                                       body=decode_body(fields[b"b"])))
        return out


class SiteTails:
    """One reader of each followed site's stream in this process, fanned out to its clients by a hub."""

    def __init__(self, follower: StreamFollower) -> None:
        self.follower = follower
        self.hub = Hub()
        self._readers: dict[str, asyncio.Task[None]] = {}
        self._clients: dict[str, int] = {}

    @property
    def reading(self) -> set[str]:
        """The sites whose stream this process reads now (those with live clients here)."""
        return {site for site, reader in self._readers.items() if not reader.done()}

    async def stop(self) -> None:
        readers = list(self._readers.values())
        self._readers.clear()
        for reader in readers:
            reader.cancel()
        await asyncio.gather(*readers, return_exceptions=True)

    @contextlib.asynccontextmanager
    async def subscribe(self, where: Site) -> AsyncIterator[tuple[Subscription, int]]:
        """A subscription to the site's events after the returned seq (the stream's head as it subscribed).

        Subscribe, then read the head, then start the site's reader there if it is not running:
        a running reader publishes every event committed after the subscription, so whatever the
        reader's position, nothing after the head is missed (earlier ones are the backlog's).
        """
        site = where.id
        async with self.hub.subscribe(site) as sub:
            self._clients[site] = self._clients.get(site, 0) + 1
            try:
                head = await self.follower.head(site)
                reader = self._readers.get(site)
                if reader is None or reader.done():
                    self._readers[site] = asyncio.create_task(self._read(where, head), name=f"motcua-tail-{site}")
                yield sub, head
            finally:
                self._clients[site] -= 1
                if self._clients[site] == 0:  # the last client here left: stop reading the site
                    del self._clients[site]
                    reader = self._readers.pop(site, None)
                    if reader is not None:
                        reader.cancel()

    async def _read(self, where: Site, last: int) -> None:
        while True:
            try:
                events = await self.follower.after(where.id, last)
            except RedisError:
                await asyncio.sleep(0.2)  # a restarting Redis: resume from the same seq
                continue
            for stored in events:
                publish_event(self.hub, where, stored.seq, Event.from_dict(stored.body))
                last = stored.seq


async def follow_live(
    websocket: WebSocket, controller: Controller, follower: StreamFollower, site: str, after: int | None,
    snapshots: bool, who: Audience,
) -> None:
    """Serve WS /api/v1/sites/{site}/live from the site's stream (the site is known, the client admitted)."""
    where = controller.sites[site]
    await websocket.accept(subprotocol=who.subprotocol)
    try:
        async with follower.tails.subscribe(where) as (sub, head):
            last = max(0, after) if after is not None else head
            while True:  # the backlog, up to where the site's reader publishes from
                page = await follower.after(site, last, block_ms=None)
                for stored in page:
                    message = who.message(where, stored.seq, Event.from_dict(stored.body))
                    if message is not None:
                        await websocket.send_json(message)
                    last = stored.seq
                if len(page) < PAGE:
                    break
            await serve_live(websocket, sub, last, _snapshots(controller, site) if snapshots else None,
                             SNAPSHOT_EVERY_S, who)
    except RedisError:
        await websocket.close(code=1011, reason="event log unavailable; reconnect with ?after=SEQ")
    except (WebSocketDisconnect, RuntimeError):
        return


def _snapshots(controller: Controller, site: str) -> SnapshotSource:
    """Snapshots only while this process writes the site (it is the one with a current floor)."""
    def source(seq: int) -> dict[str, Any] | None:
        runtime = controller.runtimes.get(site)
        return None if runtime is None else runtime.snapshot_message(seq)

    return source
