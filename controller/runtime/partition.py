"""Sites partitioned over the controller processes that share one Redis.

Each process runs one `Partition`: a heartbeat in the member set tells it how
many processes are alive, so its fair share is ceil(sites / members); the
LeaseKeeper takes free site leases up to that share and renews them; a
process above its share (a new one joined) hands the excess over. Sites are
tried in an order particular to each process (rendezvous hashing on the
holder's name), so processes starting together mostly reach for different
sites and a given process tends to get the same sites back after a restart.

Gaining a site: fence the store with the lease's token, build a fresh
SiteRuntime on a FencedStore, replay the day, and only then serve it (until
then requests get 503 site_moving). A follow-only process (--follow-only) joins
no member set and takes no lease: it serves live streams, monitors and the feed
by following the sites' Redis streams and forwards every command to the site's
writer, so reads scale with processes without changing how sites are shared.
Losing one (lease lost, handed over, or an
append refused as stale): retire its FencedStore first, so not one more write
leaves this process, then stop serving it. The controller's watchers (the device router, voice,
printing) follow: the new writer drives the site's displays and takes its
keypad presses, the old one stops.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import time
from collections.abc import Sequence

from controller.runtime.controller import Controller
from controller.runtime.fenced import FencedStore
from controller.store.base import StoreError
from controller.store.lease import Lease, SiteLeases
from controller.store.lease_keeper import LeaseKeeper
from controller.store.members import Members, fair_share
from controller.store.redis import RedisEventStore

__all__ = ["Partition", "preference_order"]

log = logging.getLogger("motcua.partition")


def preference_order(sites: Sequence[str], holder: str) -> list[str]:
    """The order in which `holder` reaches for sites (rendezvous hashing: stable, different per holder)."""
    return sorted(sites, key=lambda site: hashlib.sha256(f"{holder}|{site}".encode()).digest())


class Partition:
    """This process's share of the sites, kept in step with the leases in Redis."""

    def __init__(self, controller: Controller, store: RedisEventStore, holder: str, ttl_s: float,
                 *, follow_only: bool = False) -> None:
        self.controller = controller
        self.follow_only = follow_only
        self.store = store
        self.holder = holder
        self.leases = SiteLeases(store.client, holder, ttl_s, prefix=store.prefix)
        self.members = Members(store.client, holder, ttl_s, prefix=store.prefix)
        self.keeper = LeaseKeeper(
            self.leases, preference_order(list(controller.sites), holder), self._gained, self._lost, max_sites=0
        )
        self.writers: dict[str, FencedStore] = {}
        self.peers: list[str] = []
        self.gained_total = 0
        self.lost_total = 0
        self._task: asyncio.Task[None] | None = None

    def serves(self, site: str) -> bool:
        """Whether this process is the site's writer and has replayed its day (requests run here)."""
        return site in self.controller.runtimes

    async def start(self) -> None:
        """Join the member set and take a share now (so a process that starts alone serves at once),
        then keep the share in the background."""
        if self.follow_only:
            return
        try:
            await self.step()
        except StoreError as exc:  # Redis not answering yet: the background passes keep trying
            log.warning("partition: first pass failed: %s", exc)
        self._task = asyncio.create_task(self._run(), name="motcua-partition")

    async def stop(self) -> None:
        """Clean stop: hand every site over now and leave the member set."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        await self.keeper.release_all()
        with contextlib.suppress(StoreError):
            await self.members.leave()

    async def step(self) -> None:
        """One pass: heartbeat, fair share, hand over any excess, renew and take leases."""
        if self.follow_only:
            return  # not a member (writers share the sites among themselves) and never a writer
        await self._beat()
        await self._shed()
        await self.keeper.step()

    async def _beat(self) -> None:
        self.peers = await self.members.beat()
        self.keeper.max_sites = fair_share(len(self.controller.sites), len(self.peers))

    async def _run(self) -> None:
        # Processes started together may first take more than their share; they see each other
        # at the next heartbeat and hand the excess over (_shed).
        due = time.monotonic()
        while True:
            due = max(due + self.keeper.interval_s, time.monotonic())  # a slow pass delays, never bunches
            await asyncio.sleep(due - time.monotonic())
            try:
                await self.step()
            except StoreError as exc:
                log.warning("partition step failed: %s", exc)

    async def _shed(self) -> None:
        excess = len(self.keeper.held) - self.keeper.max_sites
        if excess <= 0:
            return
        # Hand over the sites this process prefers least: another process prefers them more.
        for site in [s for s in reversed(self.keeper.sites) if s in self.keeper.held][:excess]:
            lease = self.keeper.held.pop(site)
            await self._lost(site)  # stop writing before the lease is given up
            with contextlib.suppress(StoreError):
                await self.leases.release(lease)
            log.info("site %s: handed over (share is %d)", site, self.keeper.max_sites)

    async def _gained(self, lease: Lease) -> None:
        site = lease.site
        self.store.fence(site, lease.token)
        writer = FencedStore(self.store, site, lease.token, self._stale)
        runtime = self.controller.new_runtime(site, writer)
        try:
            replayed = await runtime.recover()
        except StoreError as exc:
            # Not served without its day: give the lease back so this or another process retries.
            log.warning("site %s: replay failed, lease released: %s", site, exc)
            writer.retire()
            self.keeper.held.pop(site, None)
            with contextlib.suppress(StoreError):
                await self.leases.release(lease)
            return
        if not self.keeper.holds(site):
            writer.retire()  # the replay outlived the lease; the next pass notices the loss
            return
        self.writers[site] = writer
        self.controller.add_runtime(runtime)  # its devices are driven from here now
        self.gained_total += 1
        log.info("site %s: now its writer (token %d, %d events replayed)", site, lease.token, replayed)

    async def _lost(self, site: str) -> None:
        self._drop(site)

    def _stale(self, site: str) -> None:
        log.warning("site %s: an append was refused as stale; another process writes it now", site)
        self._drop(site)

    def _drop(self, site: str) -> None:
        writer = self.writers.pop(site, None)
        if writer is not None:
            writer.retire()
        if self.controller.remove_runtime(site) is not None:
            self.lost_total += 1
