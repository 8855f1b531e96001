"""Processes sharing sites through leases: partition, take-over after a death, clean hand-over, pauses."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Coroutine
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import pytest
from redis.asyncio import Redis

from controller.store.base import StaleWriterError
from controller.store.lease import Lease, SiteLeases
from controller.store.lease_keeper import LeaseKeeper
from controller.store.redis import RedisEventStore
from tests.services import RedisServer

pytestmark = [pytest.mark.integration, pytest.mark.timing]

TTL_S = 0.5  # long enough that a loaded 2-core machine does not miss a renewal by accident
DAY = "2026-11-02"
SITES = [f"xa-{i:02d}" for i in range(10)]


def run(scenario: Coroutine[Any, Any, None]) -> None:
    asyncio.run(scenario)


def event(n: int) -> dict[str, Any]:
    return {"type": "ticket.issued", "at": 1_795_300_000.0 + n, "data": {"n": n}}


@dataclass
class Process:
    """One controller process's view: its store (fenced per site it gains), its keeper, what happened."""

    store: RedisEventStore
    keeper: LeaseKeeper = field(init=False)
    gained: list[Lease] = field(default_factory=list)
    lost: list[str] = field(default_factory=list)

    async def on_gained(self, lease: Lease) -> None:
        self.store.fence(lease.site, lease.token)
        self.gained.append(lease)

    async def on_lost(self, site: str) -> None:
        self.lost.append(site)


@asynccontextmanager
async def process(server: RedisServer, name: str, max_sites: int | None = None) -> AsyncIterator[Process]:
    client = Redis.from_url(server.url)
    store = await RedisEventStore.connect(server.url)
    proc = Process(store)
    proc.keeper = LeaseKeeper(SiteLeases(client, name, TTL_S), SITES, proc.on_gained, proc.on_lost, max_sites)
    try:
        yield proc
    finally:
        await store.close()
        await client.aclose()


def test_processes_partition_the_sites_without_overlap(redis: RedisServer) -> None:
    async def scenario() -> None:
        async with process(redis, "p1", max_sites=4) as one, process(redis, "p2", max_sites=4) as two, \
                process(redis, "p3") as three:
            for proc in (one, two, three):
                await proc.keeper.step()
            held = [set(p.keeper.held) for p in (one, two, three)]
            assert [len(h) for h in held] == [4, 4, 2]
            assert set.union(*held) == set(SITES) and sum(map(len, held)) == len(SITES)
            assert all(p.keeper.holds(s) for p, h in zip((one, two, three), held, strict=True) for s in h)

    run(scenario())


def test_a_dead_process_s_sites_move_within_the_lease_time_and_it_cannot_write(redis: RedisServer) -> None:
    async def scenario() -> None:
        async with process(redis, "p1", max_sites=5) as one, process(redis, "p2") as two:
            await one.keeper.step()
            mine = set(one.keeper.held)
            for site in mine:
                await one.store.append(site, DAY, [event(1)])
            runners = [asyncio.create_task(p.keeper.run()) for p in (one, two)]
            await asyncio.sleep(0.05)
            runners[0].cancel()  # killed: no release, its leases just stop being renewed
            died = time.monotonic()
            with contextlib.suppress(asyncio.CancelledError):
                await runners[0]
            while set(two.keeper.held) != set(SITES):
                assert time.monotonic() - died < TTL_S + 2 * two.keeper.interval_s + 0.5, "take-over too slow"
                await asyncio.sleep(0.01)
            runners[1].cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await runners[1]

            for site in mine:
                new = two.keeper.held[site]
                old = next(lease for lease in one.gained if lease.site == site)
                assert new.token > old.token
                assert await two.store.append(site, DAY, [event(2)]) == [2]
                # The dead process, were it only frozen, still has its old token: refused.
                with pytest.raises(StaleWriterError):
                    await one.store.append(site, DAY, [event(3)])
                assert [s.body["data"]["n"] for s in await two.store.read_day(site, DAY)] == [1, 2]

    run(scenario())


def test_a_clean_stop_hands_the_sites_over_at_once(redis: RedisServer) -> None:
    async def scenario() -> None:
        async with process(redis, "p1") as one, process(redis, "p2") as two:
            await one.keeper.step()
            await two.keeper.step()
            assert len(one.keeper.held) == len(SITES) and two.keeper.held == {}
            await one.keeper.release_all()
            assert sorted(one.lost) == SITES and one.keeper.held == {}
            await two.keeper.step()  # no waiting for the TTL
            assert set(two.keeper.held) == set(SITES)

    run(scenario())


def test_a_paused_process_notices_on_waking_that_its_sites_are_gone(redis: RedisServer) -> None:
    async def scenario() -> None:
        async with process(redis, "p1") as one, process(redis, "p2") as two:
            await one.keeper.step()
            await asyncio.sleep(TTL_S + 0.1)  # paused: no renewals
            assert not any(one.keeper.holds(site) for site in SITES), "an unrenewed lease must not be trusted"
            await two.keeper.step()
            assert set(two.keeper.held) == set(SITES)
            await one.keeper.step()  # wakes up
            assert sorted(one.lost) == SITES and one.keeper.held == {}

    run(scenario())
