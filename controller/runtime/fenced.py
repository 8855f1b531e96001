"""The event store as one site's writer sees it while this process holds the site's lease.

The Redis store refuses an append whose fencing token is stale (another
process acquired the site since). This wrapper adds the local half: once the
process has decided it no longer writes the site (lease lost, shed, or one
append refused as stale), the writer's appends fail at once without a round
trip, and a StaleWriterError from Redis retires the writer immediately rather
than at the next lease renewal.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from controller.store.base import EventStore, StaleWriterError, StoredEvent

__all__ = ["FencedStore"]


class FencedStore:
    """EventStore for one acquisition of one site: refuses appends once retired."""

    def __init__(self, inner: EventStore, site: str, token: int, on_stale: Callable[[str], None]) -> None:
        self.inner = inner
        self.site = site
        self.token = token
        self.on_stale = on_stale
        self.retired = False

    def retire(self) -> None:
        """From now on this acquisition writes nothing."""
        self.retired = True

    async def append(self, site: str, day: str, events: Sequence[Mapping[str, Any]]) -> list[int]:
        if self.retired or site != self.site:
            raise StaleWriterError(f"site {site}: this process is no longer its writer (token {self.token})")
        try:
            return await self.inner.append(site, day, events)
        except StaleWriterError:
            self.retired = True
            self.on_stale(site)
            raise

    async def read_day(self, site: str, day: str) -> list[StoredEvent]:
        return await self.inner.read_day(site, day)

    async def read_after(self, site: str, after_seq: int, limit: int = 1000) -> list[StoredEvent]:
        return await self.inner.read_after(site, after_seq, limit)

    async def latest_day(self, site: str) -> str | None:
        return await self.inner.latest_day(site)

    async def days(self, site: str) -> list[str]:
        return await self.inner.days(site)

    async def close(self) -> None:
        """The shared store is closed by its owner (the lifespan), not by one site's writer."""
