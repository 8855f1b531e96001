"""One contract for both appointment books: SQLite (a temp file) and Redis (a real redis-server)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Coroutine, Iterator
from pathlib import Path
from typing import Any

import pytest

from controller.core.appointments import Booking
from controller.store.appointments import AppointmentBook, CodeTaken, SlotFull
from controller.store.appointments_redis import RedisAppointmentBook
from controller.store.appointments_sqlite import SqliteAppointmentBook

pytestmark = pytest.mark.integration

Opener = Callable[[], Awaitable[AppointmentBook]]
SLOT = 1_795_320_000.0  # a half hour's start


def run(scenario: Coroutine[Any, Any, None]) -> None:
    asyncio.run(scenario)


def booking(code: str, agency: str = "TP", slot: float = SLOT, site: str = "tinh") -> Booking:
    return Booking(site=site, code=code, id=f"id-{code}", procedure="tp-ly-lich-tu-phap", agency=agency,
                   slot_at=slot, booked_at=SLOT - 86_400.5)


@pytest.fixture(params=["sqlite", "redis"])
def opener(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Opener]:
    """Opens a fresh handle on the same backing book each call (close/reopen, several clients)."""
    if request.param == "sqlite":
        path = tmp_path / "appointments.db"
        yield lambda: SqliteAppointmentBook(path).open()
    else:
        server = request.getfixturevalue("redis")
        yield lambda: RedisAppointmentBook.connect(server.url)


def test_a_booking_is_kept_across_reopen(opener: Opener) -> None:
    async def scenario() -> None:
        book = await opener()
        made = await book.book(booking("ABC234"), capacity=4)
        await book.close()
        book = await opener()
        try:
            assert await book.get("tinh", "ABC234") == made
            assert await book.get("xa", "ABC234") is None  # codes belong to a site
            assert await book.get("tinh", "ZZZ999") is None
        finally:
            await book.close()
    run(scenario())


def test_capacity_is_per_agency_and_slot_and_cancel_frees_a_place(opener: Opener) -> None:
    async def scenario() -> None:
        book = await opener()
        try:
            for code in ("AAAAA2", "AAAAA3"):
                await book.book(booking(code), capacity=2)
            with pytest.raises(SlotFull):
                await book.book(booking("AAAAA4"), capacity=2)
            await book.book(booking("AAAAA5", agency="CA"), capacity=2)      # another agency
            await book.book(booking("AAAAA6", slot=SLOT + 1800), capacity=2)  # another slot
            assert await book.counts("tinh", "TP", [SLOT, SLOT + 1800, SLOT + 3600]) == {
                SLOT: 2, SLOT + 1800: 1, SLOT + 3600: 0}
            cancelled = await book.cancel("tinh", "AAAAA2", SLOT - 100.0)
            assert cancelled is not None and cancelled.status == "cancelled" and cancelled.cancelled_at == SLOT - 100.0
            again = await book.cancel("tinh", "AAAAA2", SLOT - 50.0)  # cancelling twice changes nothing
            assert again == cancelled
            assert await book.cancel("tinh", "NNNNN2", SLOT) is None
            await book.book(booking("AAAAA7"), capacity=2)  # the freed place
            assert (await book.counts("tinh", "TP", [SLOT]))[SLOT] == 2
        finally:
            await book.close()
    run(scenario())


def test_codes_are_unique_per_site_and_a_retried_request_books_once(opener: Opener) -> None:
    async def scenario() -> None:
        book = await opener()
        try:
            first = await book.book(booking("CDE222"), capacity=4, idempotency_key="tap-1")
            with pytest.raises(CodeTaken):
                await book.book(booking("CDE222", slot=SLOT + 1800), capacity=4)
            await book.book(booking("CDE222", site="xa"), capacity=4)
            retried = await book.book(booking("CDE333"), capacity=4, idempotency_key="tap-1")
            assert retried == first
            assert await book.get("tinh", "CDE333") is None
            assert (await book.counts("tinh", "TP", [SLOT]))[SLOT] == 1
        finally:
            await book.close()
    run(scenario())


def test_concurrent_bookings_never_exceed_capacity(opener: Opener) -> None:
    async def scenario() -> None:
        books = [await opener() for _ in range(4)]  # separate connections, as separate requests or processes
        try:
            async def attempt(i: int) -> bool:
                try:
                    await books[i % len(books)].book(booking(f"RACE{'ABCDEFGHJKMNPQRSTUVWXYZ'[i]}2"), capacity=3)
                except SlotFull:
                    return False
                return True

            results = await asyncio.gather(*(attempt(i) for i in range(20)))
            assert sum(results) == 3
            assert (await books[0].counts("tinh", "TP", [SLOT]))[SLOT] == 3
        finally:
            for book in books:
                await book.close()
    run(scenario())
