"""Partition in-process on a real redis-server: gaining, handing over, and a stale writer refused."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from controller.core import commands as cmd
from controller.core.events import Event
from controller.runtime.controller import Controller
from controller.runtime.partition import Partition
from controller.sitefile import load_sites
from controller.store.base import StaleWriterError
from controller.store.redis import RedisEventStore
from tests.partition_support import province_file
from tests.services import RedisServer

pytestmark = pytest.mark.integration


def _issued_number(events: list[Event]) -> str:
    return str(next(e for e in events if e.type == "ticket.issued").data["number"])


def _procedure(controller: Controller, site: str) -> str:
    return next(p.id for p in controller.sites[site].procedures.values() if not p.step_only)


async def _pair(redis_url: str, province: Path, ttl_s: float) -> tuple[list[RedisEventStore], list[Partition]]:
    sites = load_sites(province)
    stores = [await RedisEventStore.connect(redis_url) for _ in range(2)]
    partitions = []
    for i, store in enumerate(stores):
        controller = Controller(sites, store, check_hours=False, serve_all=False)
        partitions.append(Partition(controller, store, f"http://127.0.0.1:{9000 + i}", ttl_s))
    return stores, partitions


def test_shares_balance_and_a_stale_writer_is_refused(redis: RedisServer, tmp_path: Path) -> None:
    async def scenario() -> None:
        stores, (first, second) = await _pair(redis.url, province_file(tmp_path, communes=5), ttl_s=0.6)
        try:
            await first.step()
            assert len(first.controller.runtimes) == 6  # alone: it takes every site
            await second.step()  # joins: share 3 each, but nothing is free yet
            await first.step()   # sees two members: hands its least preferred three over
            await second.step()
            assert len(first.controller.runtimes) == len(second.controller.runtimes) == 3
            assert set(first.controller.runtimes).isdisjoint(second.controller.runtimes)

            site = next(iter(first.controller.runtimes))
            old = first.controller.runtimes[site]
            issued = await old.execute(cmd.IssueTicket(procedure=_procedure(first.controller, site), check_hours=False))
            number = _issued_number(issued.events)
            # `first` stalls past its lease; `second` alone now: takes the site over and replays the ticket
            await asyncio.sleep(0.7)
            await second.step()
            await second.step()
            assert site in second.controller.runtimes
            new = second.controller.runtimes[site]
            assert number in new.floor.state.by_number
            # `first` wakes and writes with its old token: Redis refuses, the site is dropped at once
            with pytest.raises(StaleWriterError):
                await old.execute(cmd.IssueTicket(procedure=_procedure(first.controller, site), check_hours=False))
            assert site not in first.controller.runtimes
            with pytest.raises(StaleWriterError):  # and nothing more leaves that writer, without asking Redis
                await old.tick()
            after = await new.execute(cmd.IssueTicket(procedure=_procedure(second.controller, site), check_hours=False))
            assert _issued_number(after.events) != number
            await first.step()  # the lost lease is noticed; first takes its share back later
            await second.stop()
            await first.stop()
            assert not first.controller.runtimes and not second.controller.runtimes
        finally:
            for store in stores:
                await store.close()

    asyncio.run(scenario())
