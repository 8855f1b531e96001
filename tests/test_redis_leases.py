"""Site leases with fencing tokens, against a real redis-server."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Coroutine
from contextlib import asynccontextmanager
from typing import Any

import pytest
from redis.asyncio import Redis

from controller.store.base import StaleWriterError
from controller.store.lease import SiteLeases
from controller.store.redis import RedisEventStore
from tests.services import RedisServer

pytestmark = pytest.mark.integration

TTL_S = 0.5  # long enough that a loaded 2-core machine does not miss a renewal by accident
DAY = "2026-11-02"


def run(scenario: Coroutine[Any, Any, None]) -> None:
    asyncio.run(scenario)


def event(n: int) -> dict[str, Any]:
    return {"type": "ticket.issued", "at": 1_795_300_000.0 + n, "data": {"n": n}}


@asynccontextmanager
async def process(server: RedisServer, name: str) -> AsyncIterator[tuple[SiteLeases, RedisEventStore]]:
    """What one controller process holds: its own connections, its leases and its store."""
    client = Redis.from_url(server.url)
    store = await RedisEventStore.connect(server.url)
    try:
        yield SiteLeases(client, name, ttl_s=TTL_S), store
    finally:
        await store.close()
        await client.aclose()


def test_of_two_contenders_exactly_one_holds_each_site(redis: RedisServer) -> None:
    async def scenario() -> None:
        async with process(redis, "p1") as (one, _), process(redis, "p2") as (two, _):
            sites = [f"xa-{i}" for i in range(20)]
            won = await asyncio.gather(*(leases.acquire(site) for site in sites for leases in (one, two)))
            for i, site in enumerate(sites):
                first, second = won[2 * i], won[2 * i + 1]
                assert (first is None) != (second is None), f"{site}: {first} / {second}"
                holder = first or second
                assert holder is not None
                assert await one.holder_of(site) == (holder.token, holder.holder)
            # Holding a site does not let the holder take it a second time either.
            assert await one.acquire(sites[0]) is None and await two.acquire(sites[0]) is None

    run(scenario())


def test_expiry_hands_the_site_over_with_a_newer_token(redis: RedisServer) -> None:
    async def scenario() -> None:
        async with process(redis, "p1") as (one, _), process(redis, "p2") as (two, _):
            lease = await one.acquire("xa")
            assert lease is not None
            assert await two.acquire("xa") is None
            await asyncio.sleep(TTL_S + 0.1)
            taken = await two.acquire("xa")
            assert taken is not None and taken.token > lease.token
            assert await one.holder_of("xa") == (taken.token, "p2")

    run(scenario())


def test_renewing_keeps_the_site_and_release_hands_it_over_at_once(redis: RedisServer) -> None:
    async def scenario() -> None:
        async with process(redis, "p1") as (one, _), process(redis, "p2") as (two, _):
            lease = await one.acquire("xa")
            assert lease is not None
            for _ in range(6):  # twice the TTL in all, renewed well within it
                await asyncio.sleep(TTL_S / 3)
                renewed = await one.renew(lease)
                assert renewed is not None and renewed.token == lease.token
                assert await two.acquire("xa") is None
            assert await one.release(lease) is True
            assert await two.acquire("xa") is not None

    run(scenario())


def test_a_paused_process_loses_its_lease_and_cannot_touch_the_next_one(redis: RedisServer) -> None:
    async def scenario() -> None:
        async with process(redis, "p1") as (one, _), process(redis, "p2") as (two, _):
            lease = await one.acquire("xa")
            assert lease is not None
            await asyncio.sleep(TTL_S + 0.1)  # "paused": no renewal past the expiry
            assert await one.renew(lease) is None, "an expired lease is not revived by a late renewal"
            assert await one.holder_of("xa") is None
            taken = await two.acquire("xa")
            assert taken is not None
            # The woken process can neither extend nor drop the new holder's lease.
            assert await one.renew(lease) is None
            assert await one.release(lease) is False
            assert await two.holder_of("xa") == (taken.token, "p2")

    run(scenario())


def test_a_writer_whose_token_was_superseded_cannot_append(redis: RedisServer) -> None:
    async def scenario() -> None:
        async with process(redis, "p1") as (one, old_store), process(redis, "p2") as (two, new_store):
            old = await one.acquire("xa")
            assert old is not None
            old_store.fence("xa", old.token)
            assert await old_store.append("xa", DAY, [event(1)]) == [1]

            await asyncio.sleep(TTL_S + 0.1)  # p1 stalls past its lease; p2 takes the site over
            new = await two.acquire("xa")
            assert new is not None
            new_store.fence("xa", new.token)
            assert await new_store.append("xa", DAY, [event(2)]) == [2]

            with pytest.raises(StaleWriterError, match="older than"):
                await old_store.append("xa", DAY, [event(3), event(4)])
            assert [s.body["data"]["n"] for s in await new_store.read_day("xa", DAY)] == [1, 2]
            assert await new_store.append("xa", DAY, [event(5)]) == [3]

    run(scenario())


def test_fencing_is_per_site_and_optional(redis: RedisServer) -> None:
    async def scenario() -> None:
        async with process(redis, "p1") as (one, store):
            lease = await one.acquire("xa")
            assert lease is not None
            store.fence("xa", lease.token)
            # Another site without a lease, and the single-process mode (no fence), write as before.
            assert await store.append("phuong", DAY, [event(1)]) == [1]
            store.fence("xa", None)
            assert await store.append("xa", DAY, [event(2)]) == [1]

    run(scenario())


def test_bad_holder_names_and_ttls_are_refused() -> None:
    client = Redis()  # never connects: the checks happen before any I/O
    with pytest.raises(ValueError, match="holder"):
        SiteLeases(client, "a|b")
    with pytest.raises(ValueError, match="ttl"):
        SiteLeases(client, "p1", ttl_s=0)
