"""The province feed across processes: each process posts its sites' indicators to Redis.

Every FEED_EVERY_S the process writes the indicators of the sites it serves
into one hash (`motcua:feed`, site -> JSON); a feed request at any process
reads the hash for every site and overlays its own sites' current figures.
A site being taken over keeps its last posted figures until its new writer
posts (within one period after replaying).
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

from redis.exceptions import RedisError

from controller.api.feed import FEED_EVERY_S, assemble_feed, site_indicators
from controller.runtime.controller import Controller
from controller.store.base import StoreError
from controller.store.redis import RedisEventStore

__all__ = ["SharedFeed"]

log = logging.getLogger("motcua.feed")


class SharedFeed:
    """Posts this process's indicators and assembles everybody's."""

    def __init__(self, controller: Controller, store: RedisEventStore) -> None:
        self.controller = controller
        self.client = store.client
        self.key = f"{store.prefix}:feed"

    def _local(self) -> dict[str, dict[str, Any]]:
        return {site: site_indicators(runtime.floor, runtime.clock())
                for site, runtime in list(self.controller.runtimes.items())}

    async def publish(self) -> int:
        """Post the indicators of the sites served here; how many."""
        local = self._local()
        if local:
            mapping = {site: json.dumps(v, ensure_ascii=False) for site, v in local.items()}
            try:
                await self.client.hset(self.key, mapping=mapping)  # type: ignore[arg-type]
            except RedisError as exc:
                raise StoreError(f"feed: {exc}") from exc
        return len(local)

    async def run(self) -> None:
        """Post every FEED_EVERY_S until cancelled."""
        while True:
            try:
                await self.publish()
            except StoreError as exc:
                log.warning("cannot post the feed: %s", exc)
            await asyncio.sleep(FEED_EVERY_S)

    async def snapshot(self) -> dict[str, Any]:
        """Every configured site's indicators (posted by its writer; this process's own are current)."""
        try:
            posted = await self.client.hgetall(self.key)
        except RedisError as exc:
            raise StoreError(f"feed: {exc}") from exc
        sites: dict[str, dict[str, Any]] = {}
        for raw_site, raw in posted.items():
            site = raw_site.decode() if isinstance(raw_site, bytes) else str(raw_site)
            if site in self.controller.sites:
                sites[site] = json.loads(raw)
        sites.update(self._local())
        return assemble_feed(list(sites.values()), self.controller.clock())
