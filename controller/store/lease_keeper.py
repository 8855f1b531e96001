"""A process's share of the sites: take free site leases, keep renewing them, notice when one is lost.

The keeper is the piece of partitioning that decides *which* sites this process
writes; the caller decides what gaining or losing one means (fence the store
with the new token and replay the site's day; stop serving it as its writer).

Renewal runs at a third of the TTL, so one missed renewal (a slow Redis, a
busy loop) does not lose a site. A lease whose renewal could not be confirmed
before it ran out is treated as lost even if Redis is unreachable: the other
processes will see it expire at the same moment, and the fencing token refuses
any write this process still attempts.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Sequence

from controller.store.base import StoreError
from controller.store.lease import Lease, SiteLeases

__all__ = ["LeaseKeeper"]

log = logging.getLogger("motcua.leases")

Gained = Callable[[Lease], Awaitable[None]]
Lost = Callable[[str], Awaitable[None]]


class LeaseKeeper:
    """Holds up to `max_sites` of `sites` for one process, in the order given."""

    def __init__(
        self,
        leases: SiteLeases,
        sites: Sequence[str],
        on_gained: Gained,
        on_lost: Lost,
        max_sites: int | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.leases = leases
        self.sites = list(sites)
        self.on_gained = on_gained
        self.on_lost = on_lost
        self.max_sites = len(self.sites) if max_sites is None else max_sites
        self.clock = clock
        self.held: dict[str, Lease] = {}
        self.interval_s = leases.ttl_ms / 3000

    def holds(self, site: str) -> bool:
        """Whether this process may act as the site's writer right now."""
        lease = self.held.get(site)
        return lease is not None and self.clock() < lease.valid_until

    async def step(self) -> None:
        """One pass: renew what is held (dropping what is lost), then take free sites up to the cap."""
        for site, lease in list(self.held.items()):
            try:
                renewed = await self.leases.renew(lease)
            except StoreError as exc:
                if self.clock() < lease.valid_until:
                    continue  # not confirmed yet, not expired yet: try again next pass
                log.warning("site %s: lease ran out while Redis was unreachable: %s", site, exc)
                renewed = None
            if renewed is None:
                await self._lose(site)
            else:
                self.held[site] = renewed
        for site in self.sites:
            if len(self.held) >= self.max_sites:
                break
            if site in self.held:
                continue
            try:
                taken = await self.leases.acquire(site)
            except StoreError as exc:
                log.warning("site %s: cannot try its lease: %s", site, exc)
                return
            if taken is not None:
                self.held[site] = taken
                await self.on_gained(taken)

    async def _lose(self, site: str) -> None:
        del self.held[site]
        log.warning("site %s: lease lost; no longer its writer", site)
        await self.on_lost(site)

    async def run(self) -> None:
        """Step every third of the TTL until cancelled."""
        while True:
            started = self.clock()
            await self.step()
            await asyncio.sleep(max(0.0, self.interval_s - (self.clock() - started)))

    async def release_all(self) -> None:
        """Clean shutdown: hand every site over now instead of after the TTL."""
        for site, lease in list(self.held.items()):
            del self.held[site]
            try:
                await self.leases.release(lease)
            except StoreError as exc:  # it expires by itself; the shutdown goes on
                log.warning("site %s: lease not released: %s", site, exc)
            await self.on_lost(site)
