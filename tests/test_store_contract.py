"""One contract for every event log backend: SQLite (a temp file) and Redis (a real redis-server)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Coroutine, Iterator
from pathlib import Path
from typing import Any

import pytest

from controller.store.base import EventStore, StoreError
from controller.store.redis import RedisEventStore
from controller.store.sqlite import SqliteEventStore
from tests.services import free_port

pytestmark = pytest.mark.integration

Opener = Callable[[], Awaitable[EventStore]]


def run(scenario: Coroutine[Any, Any, None]) -> None:
    asyncio.run(scenario)


def event(n: int, kind: str = "ticket.issued", **data: Any) -> dict[str, Any]:
    return {"type": kind, "at": 1_795_300_000.0 + n, "data": {"n": n, **data}}


@pytest.fixture(params=["sqlite", "redis"])
def opener(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Opener]:
    """Opens a fresh handle on the same backing log each call (so close/reopen can be tested)."""
    if request.param == "sqlite":
        path = tmp_path / "events.db"
        yield lambda: SqliteEventStore(path).open()
    else:
        server = request.getfixturevalue("redis")
        yield lambda: RedisEventStore.connect(server.url)


@pytest.fixture(params=["sqlite", "redis"])
def unreachable(request: pytest.FixtureRequest, tmp_path: Path) -> Opener:
    """A backend that cannot be opened: a directory where the SQLite file should be; a port nobody serves."""
    if request.param == "sqlite":
        (tmp_path / "events.db").mkdir()
        return lambda: SqliteEventStore(tmp_path / "events.db").open()
    url = f"redis://127.0.0.1:{free_port()}/0"
    return lambda: RedisEventStore.connect(url, retry_s=0.2)


def test_seqs_start_at_one_per_site_and_are_consecutive(opener: Opener) -> None:
    async def scenario() -> None:
        store = await opener()
        try:
            assert await store.append("a", "2026-11-02", [event(1), event(2)]) == [1, 2]
            assert await store.append("a", "2026-11-02", [event(3)]) == [3]
            assert await store.append("b", "2026-11-02", [event(1)]) == [1]
            assert await store.append("a", "2026-11-02", []) == []
            assert [s.seq for s in await store.read_after("a", 0)] == [1, 2, 3]
        finally:
            await store.close()

    run(scenario())


def test_read_day_returns_that_day_of_that_site_in_order(opener: Opener) -> None:
    async def scenario() -> None:
        store = await opener()
        try:
            await store.append("a", "2026-11-02", [event(1), event(2)])
            await store.append("b", "2026-11-02", [event(100)])
            await store.append("a", "2026-11-03", [event(3, "day.started", day="2026-11-03"), event(4)])
            await store.append("a", "2026-11-03", [event(5)])
            monday = await store.read_day("a", "2026-11-02")
            tuesday = await store.read_day("a", "2026-11-03")
            assert [(s.seq, s.day, s.body["data"]["n"]) for s in monday] == [(1, "2026-11-02", 1), (2, "2026-11-02", 2)]
            assert [s.seq for s in tuesday] == [3, 4, 5]
            assert tuesday[0].body == event(3, "day.started", day="2026-11-03")
            assert await store.read_day("a", "2026-11-04") == []
            assert await store.read_day("nobody", "2026-11-02") == []
        finally:
            await store.close()

    run(scenario())


def test_read_day_survives_days_interleaved_in_one_log(opener: Opener) -> None:
    # The runtime never goes back a day, but the contract is "every event of that day", not "a suffix".
    async def scenario() -> None:
        store = await opener()
        try:
            await store.append("a", "2026-11-02", [event(1)])
            await store.append("a", "2026-11-03", [event(2)])
            await store.append("a", "2026-11-02", [event(3), event(4)])
            assert [s.seq for s in await store.read_day("a", "2026-11-02")] == [1, 3, 4]
            assert [s.seq for s in await store.read_day("a", "2026-11-03")] == [2]
        finally:
            await store.close()

    run(scenario())


def test_read_after_pages_through_the_log(opener: Opener) -> None:
    async def scenario() -> None:
        store = await opener()
        try:
            await store.append("a", "2026-11-02", [event(n) for n in range(1, 8)])
            assert [s.seq for s in await store.read_after("a", 0, limit=3)] == [1, 2, 3]
            assert [s.seq for s in await store.read_after("a", 3, limit=3)] == [4, 5, 6]
            assert [s.seq for s in await store.read_after("a", 6, limit=3)] == [7]
            assert await store.read_after("a", 7) == []
            assert await store.read_after("nobody", 0) == []
        finally:
            await store.close()

    run(scenario())


def test_latest_day_and_days(opener: Opener) -> None:
    async def scenario() -> None:
        store = await opener()
        try:
            assert await store.latest_day("a") is None
            assert await store.days("a") == []
            await store.append("a", "2026-11-02", [event(1)])
            await store.append("a", "2026-11-03", [event(2)])
            await store.append("b", "2026-12-31", [event(3)])
            assert await store.latest_day("a") == "2026-11-03"
            assert await store.days("a") == ["2026-11-02", "2026-11-03"]
            assert await store.days("b") == ["2026-12-31"]
        finally:
            await store.close()

    run(scenario())


def test_bodies_round_trip_exactly(opener: Opener) -> None:
    body = {
        "type": "ticket.issued",
        "at": 1_795_300_123.456,
        "data": {"procedure": "tp-ly-lịch-tư-pháp", "name": "Nguyễn Thị Ánh", "priority": None, "steps": [1, 2.5]},
        "idempotency_key": "k-🙂",
    }

    async def scenario() -> None:
        store = await opener()
        try:
            await store.append("a", "2026-11-02", [body])
            (stored,) = await store.read_day("a", "2026-11-02")
            assert stored.body == body
        finally:
            await store.close()

    run(scenario())


def test_multi_event_appends_are_never_seen_in_part(opener: Opener) -> None:
    """Concurrent batches of 5: a reader only ever sees whole batches, each on consecutive seqs."""

    async def scenario() -> None:
        store = await opener()
        done = asyncio.Event()
        seen_partial: list[str] = []

        async def writer(w: int) -> None:
            for i in range(10):
                await store.append("a", "2026-11-02", [event(k, batch=f"{w}-{i}") for k in range(5)])

        async def reader() -> None:
            while not done.is_set():
                stored = await store.read_after("a", 0, limit=100_000)
                batches: dict[str, list[int]] = {}
                for s in stored:
                    batches.setdefault(s.body["data"]["batch"], []).append(s.seq)
                for name, seqs in batches.items():
                    if len(seqs) != 5 or seqs != list(range(seqs[0], seqs[0] + 5)):
                        seen_partial.append(f"{name}: {seqs}")
                await asyncio.sleep(0)

        try:
            watcher = asyncio.create_task(reader())
            await asyncio.gather(*(writer(w) for w in range(10)))
            done.set()
            await watcher
            assert seen_partial == []
            assert len(await store.read_after("a", 0, limit=100_000)) == 500
        finally:
            await store.close()

    run(scenario())


def test_concurrent_appends_from_many_tasks_get_unique_ordered_seqs(opener: Opener) -> None:
    async def scenario() -> None:
        store = await opener()
        claimed: dict[int, tuple[int, int, int]] = {}

        async def writer(w: int) -> None:
            for i in range(20):
                size = 1 + (w + i) % 3
                seqs = await store.append("a", "2026-11-02", [event(k, w=w, i=i) for k in range(size)])
                assert seqs == list(range(seqs[0], seqs[0] + size)), "one call's seqs are consecutive"
                for k, seq in enumerate(seqs):
                    assert seq not in claimed, f"seq {seq} handed out twice"
                    claimed[seq] = (w, i, k)

        try:
            await asyncio.gather(*(writer(w) for w in range(40)))
            stored = await store.read_after("a", 0, limit=100_000)
            assert [s.seq for s in stored] == list(range(1, len(claimed) + 1))
            # Each seq holds exactly the event its append was told it got.
            assert all(claimed[s.seq] == (s.body["data"]["w"], s.body["data"]["i"], s.body["data"]["n"])
                       for s in stored)
        finally:
            await store.close()

    run(scenario())


def test_close_and_reopen_keeps_everything_and_never_reuses_a_seq(opener: Opener) -> None:
    async def scenario() -> None:
        first = await opener()
        await first.append("a", "2026-11-02", [event(1), event(2)])
        await first.append("a", "2026-11-03", [event(3)])
        await first.append("b", "2026-11-03", [event(4)])
        before = (await first.read_after("a", 0), await first.days("a"), await first.latest_day("a"))
        await first.close()

        second = await opener()
        try:
            assert (await second.read_after("a", 0), await second.days("a"), await second.latest_day("a")) == before
            assert await second.append("a", "2026-11-03", [event(5)]) == [4]
            assert await second.append("b", "2026-11-03", [event(6)]) == [2]
            assert [s.seq for s in await second.read_day("a", "2026-11-03")] == [3, 4]
        finally:
            await second.close()

    run(scenario())


def test_a_backend_that_cannot_be_reached_raises_store_error(unreachable: Opener) -> None:
    async def scenario() -> None:
        with pytest.raises(StoreError):
            store = await unreachable()
            await store.close()

    run(scenario())
