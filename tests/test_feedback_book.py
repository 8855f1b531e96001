"""One contract for both feedback books: SQLite (a temp file) and Redis (a real redis-server)."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Awaitable, Callable, Coroutine, Iterator
from pathlib import Path
from typing import Any

import pytest
from redis import Redis

from controller.core.feedback import Feedback
from controller.store.base import StoreError
from controller.store.books import open_feedback
from controller.store.feedback import CodeInUse, FeedbackBook
from tests.services import free_port

pytestmark = pytest.mark.integration

Opener = Callable[[], Awaitable[FeedbackBook]]
T0 = 1_795_320_000.0
PHONE = "0912345678"


def run(scenario: Coroutine[Any, Any, None]) -> None:
    asyncio.run(scenario)


def item(code: str, at: float = T0, site: str = "xa", **changes: Any) -> Feedback:
    made = Feedback(site=site, code=code, category="waiting", text="Chờ lâu quá, 2 tiếng chưa được gọi",
                    channel="kiosk", received_at=at, due_at=at + 864_000)
    return dataclasses.replace(made, **changes)


@pytest.fixture(params=["sqlite", "redis"])
def opener(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Opener]:
    """Opens a fresh handle on the same backing book each call, as the command line names it."""
    spec = "sqlite" if request.param == "sqlite" else request.getfixturevalue("redis").url
    yield lambda: open_feedback(spec, tmp_path)


def test_an_item_is_kept_across_reopen_and_belongs_to_its_site(opener: Opener) -> None:
    async def scenario() -> None:
        book = await opener()
        sent = item("AAAAAAA2", ticket="20261026-1001", agency="HT", staff="an", counter=1)
        await book.add(sent, None)
        await book.close()
        book = await opener()
        try:
            assert await book.get("xa", "AAAAAAA2") == sent
            assert await book.get("tinh", "AAAAAAA2") is None   # codes belong to a site
            assert await book.get("xa", "ZZZZZZZ9") is None
            assert await book.phone("xa", "AAAAAAA2") is None   # none was given
        finally:
            await book.close()
    run(scenario())


def test_a_code_in_use_is_refused_and_changes_nothing(opener: Opener) -> None:
    async def scenario() -> None:
        book = await opener()
        try:
            first = item("BBBBBBB2", has_phone=True)
            await book.add(first, PHONE)
            with pytest.raises(CodeInUse):
                await book.add(item("BBBBBBB2", at=T0 + 5, category="other"), "0987654321")
            assert await book.get("xa", "BBBBBBB2") == first
            assert await book.phone("xa", "BBBBBBB2") == PHONE
            assert [i.code for i in await book.since("xa", T0 - 1)] == ["BBBBBBB2"]
            await book.add(item("BBBBBBB2", site="tinh"), None)  # another site's codes are its own
        finally:
            await book.close()
    run(scenario())


def test_a_request_key_seen_before_returns_its_item_and_stores_nothing(opener: Opener) -> None:
    async def scenario() -> None:
        book = await opener()
        try:
            first = item("CCCCCCC2", has_phone=True)
            assert await book.add(first, PHONE, ("retry-1", "d1")) is None
            again = item("CCCCCCC3", at=T0 + 5, has_phone=True)  # the retry draws another code
            assert await book.add(again, "0987654321", ("retry-1", "d2")) == ("CCCCCCC2", "d1")
            assert await book.get("xa", "CCCCCCC3") is None and await book.phone("xa", "CCCCCCC3") is None
            assert await book.phone("xa", "CCCCCCC2") == PHONE
            assert await book.add(item("CCCCCCC2", site="tinh"), None, ("retry-1", "d1")) is None  # per site
        finally:
            await book.close()
    run(scenario())


def test_since_is_the_half_open_window_oldest_first(opener: Opener) -> None:
    async def scenario() -> None:
        book = await opener()
        try:
            for code, at in (("CCCCCCC4", T0 + 20), ("CCCCCCC2", T0), ("CCCCCCC3", T0 + 10.25), ("CCCCCCC5", T0 + 30)):
                await book.add(item(code, at=at), None)
            await book.add(item("CCCCCCC6", at=T0 + 15, site="tinh"), None)
            assert [i.code for i in await book.since("xa", T0)] == ["CCCCCCC2", "CCCCCCC3", "CCCCCCC4", "CCCCCCC5"]
            assert [i.code for i in await book.since("xa", T0 + 10.25, T0 + 30)] == ["CCCCCCC3", "CCCCCCC4"]
            assert await book.since("xa", T0 + 31) == []
            assert [i.code for i in await book.since("tinh", 0.0)] == ["CCCCCCC6"]
        finally:
            await book.close()
    run(scenario())


def test_the_phone_waits_for_the_answer_then_is_deleted(opener: Opener) -> None:
    async def scenario() -> None:
        book = await opener()
        try:
            sent = item("DDDDDDD2", has_phone=True)
            await book.add(sent, PHONE)
            assigned = dataclasses.replace(sent, status="assigned", agency="HT", assigned_by="quanly")
            await book.save(assigned)
            assert await book.get("xa", "DDDDDDD2") == assigned
            assert await book.phone("xa", "DDDDDDD2") == PHONE           # still waiting for the answer
            answered = dataclasses.replace(assigned, status="answered", answer="Đã nhắc cán bộ.", upheld=True,
                                           answered_at=T0 + 60, has_phone=False, text_sent=True)
            await book.save(answered)
            assert await book.phone("xa", "DDDDDDD2") is None            # handed to the gateway: gone
            assert await book.get("xa", "DDDDDDD2") == answered
            closed = item("DDDDDDD3", has_phone=True)
            await book.add(closed, PHONE)
            await book.save(dataclasses.replace(closed, status="closed", closed_at=T0 + 5, has_phone=False))
            assert await book.phone("xa", "DDDDDDD3") is None            # closed unanswered: gone too
            await book.save(item("DDDDDDD4"))                            # never added: stays unknown
            assert await book.get("xa", "DDDDDDD4") is None
        finally:
            await book.close()
    run(scenario())


def test_redis_holds_no_number_once_deleted(redis: Any) -> None:
    async def scenario() -> None:
        book = await open_feedback(redis.url, "unused")
        try:
            sent = item("EEEEEEE2", has_phone=True)
            await book.add(sent, PHONE)
            await book.save(dataclasses.replace(sent, status="closed", closed_at=T0 + 5, has_phone=False))
        finally:
            await book.close()
    run(scenario())
    client = Redis.from_url(redis.url)
    kept = [client.get(key) if client.type(key) == b"string" else b" ".join(client.zrange(key, 0, -1))
            for key in client.scan_iter()]
    assert len(kept) == 2 and not any(PHONE.encode() in value for value in kept)  # the item and the times


def test_a_book_that_cannot_open_says_so(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("")

    async def scenario() -> None:
        with pytest.raises(StoreError, match="feedback"):
            await open_feedback("sqlite", tmp_path / "file")                        # its directory is a file
        with pytest.raises(StoreError, match="feedback book unavailable"):
            await open_feedback(f"redis://127.0.0.1:{free_port()}/0", tmp_path)    # nothing listens
        with pytest.raises(StoreError, match="unknown store"):
            await open_feedback("postgres://x", tmp_path)
    run(scenario())
