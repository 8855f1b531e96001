"""One-time codes and the remote book, offline: expiry, wrong tries and the lock; a phone kept only as a
keyed hash of the day, erased with the day; check-in codes stable across a restart."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import pytest

from controller.core.errors import DomainError
from controller.core.site import RemoteRules
from controller.remote.book import CHECK_CODE_ALPHABET, Held, RemoteBook
from controller.remote.codes import CodeBook, PhoneLocked

RULES = RemoteRules(code_ttl_s=300, code_attempts=3, code_lock_s=900)
PHONE = "0912345678"


def _refused(book: CodeBook, code: str, now: float) -> DomainError:
    with pytest.raises(DomainError) as refused:
        book.check("p", code, RULES, now)
    return refused.value


def test_a_code_works_once_within_its_time() -> None:
    book = CodeBook()
    code = book.issue("p", RULES, 0.0)
    assert len(code) == 6 and code.isdigit()
    book.check("p", code, RULES, 299.0)
    assert _refused(book, code, 299.5).code == "code_expired"  # spent
    late = book.issue("p", RULES, 1000.0)
    assert _refused(book, late, 1300.0).code == "code_expired"  # 5 minutes are over


def test_wrong_codes_lock_the_phone_whatever_it_asks_meanwhile() -> None:
    book = CodeBook()
    code = book.issue("p", RULES, 0.0)
    wrong = "000000" if code != "000000" else "111111"
    assert "còn 2 lần" in _refused(book, wrong, 1.0).message
    assert _refused(book, wrong, 2.0).code == "wrong_code"
    locked = _refused(book, wrong, 3.0)
    assert isinstance(locked, PhoneLocked) and locked.status == 429 and locked.retry_after_s == 900
    assert _refused(book, code, 4.0).code == "phone_locked"  # the right code no longer helps
    with pytest.raises(PhoneLocked):
        book.issue("p", RULES, 500.0)
    fresh = book.issue("p", RULES, 904.0)  # the lock is over
    book.check("p", fresh, RULES, 905.0)
    book.issue("other", RULES, 0.0)  # another phone was never locked


def test_the_book_keeps_a_keyed_hash_of_the_day_and_erases_it_with_the_day(tmp_path: Path) -> None:
    async def run() -> None:
        path = tmp_path / "remote.db"
        async with RemoteBook(path) as book:
            person = await book.person("xa", "2026-01-05", PHONE)
            assert person == await book.person("xa", "2026-01-05", PHONE) != await book.person("xa", "2026-01-06",
                                                                                                PHONE)
            await book.reserve("xa", "2026-01-05", person, "HT", "r-1")
            await book.settle("xa", "r-1", "20260105-1001")
            await book.reserve("xa", "2026-01-05", person, "CTH", "r-2")
            await book.settle("xa", "r-2", None)  # refused: no longer counts
            assert await book.agencies_taken("xa", "2026-01-05", person) == ["HT"]
            code = book.check_code("xa", "20260105-1001")
            assert len(code) == 6 and set(code) <= set(CHECK_CODE_ALPHABET)
        assert PHONE.encode() not in path.read_bytes()
        async with RemoteBook(path) as book:  # after a restart: the same counts, hashes and codes
            assert book.check_code("xa", "20260105-1001") == code
            assert await book.person("xa", "2026-01-05", PHONE) == person
            assert await book.agencies_taken("xa", "2026-01-05", person) == ["HT"]
            assert await book.purge([("xa", "2026-01-06")]) == 2  # the 5th: its take and its key
            assert await book.agencies_taken("xa", "2026-01-05", person) == []
            assert await book.person("xa", "2026-01-05", PHONE) != person  # the old key is gone for good
        assert person.encode() not in path.read_bytes()  # overwritten, not only unlinked (secure_delete)

    asyncio.run(run())


CARD = "001090123456"


def test_a_card_is_kept_as_a_keyed_hash_of_the_day_and_a_booking_link_until_its_day_ends(tmp_path: Path) -> None:
    async def run() -> None:
        path = tmp_path / "remote.db"
        async with RemoteBook(path) as book:
            card = await book.card("xa", "2026-01-05", CARD)
            phone = await book.person("xa", "2026-01-05", PHONE)
            assert card not in (phone, await book.person("xa", "2026-01-05", CARD))  # a card is not a phone
            await book.reserve("xa", "2026-01-05", phone, "HT", "r-1", card=card)  # from a phone, card given
            await book.settle("xa", "r-1", "20260105-1001")
            await book.reserve("xa", "2026-01-05", card, "CTH", "r-2", card=card)  # returns later, with the card
            assert await book.agencies_taken("xa", "2026-01-05", card) == ["HT", "CTH"]
            assert await book.agencies_taken("xa", "2026-01-05", phone) == ["HT"]
            assert await book.away_tickets("xa", "2026-01-05", card) == ["20260105-1001"]  # not the reservation
            await book.link_booking("xa", "2026-01-05", CARD, "ABCDEF")
            await book.link_booking("xa", "2026-01-09", CARD, "GHJKMN")
            assert await book.linked_bookings("xa", "2026-01-05", CARD) == ["ABCDEF"]
            await book.unlink_booking("xa", "ABCDEF")
            assert await book.linked_bookings("xa", "2026-01-05", CARD) == []
            await book.link_booking("xa", "2026-01-05", CARD, "PQRSTU")
        async with RemoteBook(path) as book:  # a restart: the links hold (their key is derived from the kept one)
            assert await book.linked_bookings("xa", "2026-01-05", CARD) == ["PQRSTU"]
            await book.purge([("xa", "2026-01-06")])
            assert await book.linked_bookings("xa", "2026-01-05", CARD) == []  # its day is over
            assert await book.linked_bookings("xa", "2026-01-09", CARD) == ["GHJKMN"]  # a later day's stays
        assert CARD.encode() not in path.read_bytes() and card.encode() not in path.read_bytes()

    asyncio.run(run())


def test_a_remote_db_of_the_release_before_cards_gains_the_card_column(tmp_path: Path) -> None:
    path = tmp_path / "remote.db"
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE takes (site TEXT NOT NULL, day TEXT NOT NULL, person TEXT NOT NULL, "
                   "agency TEXT NOT NULL, ref TEXT NOT NULL, PRIMARY KEY (site, ref)) WITHOUT ROWID")
        db.execute("INSERT INTO takes VALUES ('xa', '2026-01-05', 'p', 'HT', '20260105-1001')")
    db.close()

    async def run() -> None:
        async with RemoteBook(path) as book:
            assert await book.agencies_taken("xa", "2026-01-05", "p") == ["HT"]
            await book.reserve("xa", "2026-01-05", "p", "CTH", "r-9", card="c")
            assert await book.away_tickets("xa", "2026-01-05", "c") == []

    asyncio.run(run())


def test_a_number_held_for_a_later_day_counts_that_day_and_its_card_finds_its_ticket_once_issued(
    tmp_path: Path,
) -> None:
    async def run() -> None:
        async with RemoteBook(tmp_path / "remote.db") as book:
            day = "2026-01-07"
            person, card = await book.person("xa", day, PHONE), await book.card("xa", day, CARD)
            held = Held("xa", "h-" + "a" * 32, day, "ht-khai-sinh", "HT", 600.0, 1.0, "held")
            await book.hold(held, person, card, "key-1", book.digest("xa", {"phone": PHONE}))
            assert await book.agencies_taken("xa", day, person) == ["HT"] == await book.agencies_taken("xa", day, card)
            assert await book.request("xa", "key-1") == (held.ref, book.digest("xa", {"phone": PHONE}))
            assert await book.away_tickets("xa", day, card) == []  # not a ticket before its day's opening
            await book.settle_held("xa", held.ref, "20260107-1001")
            assert await book.away_tickets("xa", day, card) == ["20260107-1001"]
            assert (await book.held_day("xa", day))[0].status == "issued"
            assert await book.purge([("xa", "2026-01-06")]) == 0  # a later day keeps its numbers and limits
            assert await book.purge([("xa", "2026-01-08")]) == 3  # once over: its take, its key, the held number
            assert await book.held("xa", held.ref) is None and await book.request("xa", "key-1") is None

    asyncio.run(run())
