"""What the lifespan adds when sites are partitioned over processes (--store redis://).

Starts this process's Partition (leases, fair share, fail-over), the HTTP
client that forwards requests for other processes' sites, the Redis stream
follower behind the live WebSocket, and the shared province feed; stops them
in the reverse order, handing the sites over on a clean stop. With the SQLite
store nothing is added: one process owns every site.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import httpx
from fastapi import FastAPI

from controller.api.follow import StreamFollower
from controller.api.forward import Forwarder
from controller.api.shared_feed import SharedFeed
from controller.runtime.controller import Controller
from controller.runtime.partition import Partition
from controller.settings import Settings
from controller.store.base import EventStore
from controller.store.redis import RedisEventStore

__all__ = ["scale_out"]


@contextlib.asynccontextmanager
async def scale_out(app: FastAPI, settings: Settings, controller: Controller, store: EventStore) -> AsyncIterator[None]:
    """Run the partitioning machinery for the life of the app (nothing with the SQLite store)."""
    if not settings.partitioned:
        yield
        return
    assert isinstance(store, RedisEventStore), "a redis:// store opens a RedisEventStore"
    partition = Partition(controller, store, settings.advertised_url, settings.lease_ttl_s,
                          follow_only=settings.follow_only)
    # trust_env=False: peers are reached directly, never through a proxy from the environment
    client = httpx.AsyncClient(trust_env=False, limits=httpx.Limits(max_connections=200, max_keepalive_connections=50))
    shared_feed = SharedFeed(controller, store)
    app.state.partition = partition
    app.state.forwarder = Forwarder(partition, client)
    follower = StreamFollower(settings.store, store.prefix)
    app.state.stream_follower = follower
    app.state.shared_feed = shared_feed
    await partition.start()
    feed_task = asyncio.create_task(shared_feed.run(), name="motcua-feed-post")
    try:
        yield
    finally:
        feed_task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await feed_task
        await partition.stop()
        await client.aclose()
        await follower.close()
