"""The SMS notifier on a real floor: "3 ahead" and "called" texts, once each, only with a number,
and the number forgotten when the visit ends, at the end of the site's day, or on request."""

from __future__ import annotations

import asyncio
from pathlib import Path

from controller.core.commands import CallNext, Finish, IssueTicket, NoShow, OpenCounter, Recall, Start
from controller.notify.contacts import ContactBook
from tests.notify_support import NotifyFloor, notify_floor

PHONE = "0912345678"
OTHER = "0987654321"


async def settle(floor: NotifyFloor) -> None:
    """Let the sending workers and deletions run."""
    for _ in range(20):
        await asyncio.sleep(0)
    await asyncio.sleep(0.05)


async def call(floor: NotifyFloor, counter: int = 1) -> str:
    """Serve whoever is at the counter, then call the next ticket; its number."""
    if floor.runtime.floor.state.counters[counter].current is not None:
        await floor.runtime.execute(Start(counter))
        await floor.runtime.execute(Finish(counter, outcome="rejected"))
    committed = await floor.runtime.execute(CallNext(counter))
    return str(committed.events[-1].data["number"])


def test_three_ahead_then_called_each_sent_once(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with notify_floor(tmp_path) as floor:
            await floor.runtime.execute(OpenCounter(1, staff="quay1"))
            for _ in range(5):
                await floor.issue()
            mine = await floor.issue(PHONE)  # 5 ahead at issue
            number = floor.runtime.floor.ticket(mine).number
            await settle(floor)
            assert floor.texts(PHONE) == []
            await call(floor)  # 4 ahead: nothing yet
            await settle(floor)
            assert floor.texts(PHONE) == []
            await call(floor)  # 3 ahead
            await settle(floor)
            [ahead] = floor.texts(PHONE)
            assert ahead.startswith(f"Trung tâm Phục vụ hành chính công xã: số {number} còn 3 người trước bạn")
            assert ahead.endswith(f"/ Number {number}: 3 people ahead of you.")
            for _ in range(3):
                await call(floor)  # 2, 1, 0 ahead: no more "ahead" texts
            await settle(floor)
            assert len(floor.texts(PHONE)) == 1
            assert await call(floor) == number
            await floor.runtime.execute(Recall(1))  # a recall sends nothing new
            await settle(floor)
            texts = floor.texts(PHONE)
            assert texts[1:] == [f"Trung tâm Phục vụ hành chính công xã: mời số {number} đến quầy 1. "
                                 f"/ Number {number}, please go to counter 1."]
            assert floor.notifier.stats.sent[("xa", "ahead")] == 1
            assert floor.notifier.stats.sent[("xa", "called")] == 1

    asyncio.run(scenario())


def test_a_number_that_returns_later_is_texted_come_now_a_targets_time_before_its_call(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with notify_floor(tmp_path) as floor:
            runtime = floor.runtime
            await runtime.execute(OpenCounter(1, staff="quay1"))
            for _ in range(4):
                await floor.issue()
            committed = await runtime.execute(IssueTicket("ht-khai-sinh", kiosk="k1", check_hours=False,
                                                          return_at=floor.now[0] + 1200))
            mine = str(committed.events[-1].data["ticket"])
            await floor.notifier.register("xa", mine, PHONE)
            number = runtime.floor.ticket(mine).number
            floor.notifier.review("xa")
            await settle(floor)
            assert floor.texts(PHONE) == []  # four services of 9 minutes ahead: over the target
            ticket = runtime.floor.ticket(mine)
            for _ in range(4):  # the line moves: silent while the predicted call is over 15 minutes away
                wait = runtime.floor.estimated_wait(ticket, floor.now[0])
                assert wait is not None
                if wait <= 900:
                    break
                assert floor.texts(PHONE) == []
                await call(floor)
                floor.now[0] += 3  # the forecast is redone at most every 2 s
                floor.notifier.review("xa")
                await settle(floor)
            floor.notifier.review("xa")
            await settle(floor)
            [come] = floor.texts(PHONE)  # within 15 minutes of its predicted call: come now
            assert come.startswith(f"Trung tâm Phục vụ hành chính công xã: số {number} ")
            assert "mời đến ngay và quét mã ở ki-ốt" in come

    asyncio.run(scenario())


def test_no_ahead_text_for_a_citizen_near_the_front_and_none_without_a_number(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with notify_floor(tmp_path) as floor:
            await floor.runtime.execute(OpenCounter(1, staff="quay1"))
            await floor.issue()
            await floor.issue()
            near = await floor.issue(PHONE)  # 2 ahead at issue: the "3 ahead" text would be news to nobody
            for _ in range(4):
                await floor.issue()  # no phone, no consent: nothing is kept, nothing is sent
            await call(floor)
            await call(floor)
            await settle(floor)
            assert floor.texts(PHONE) == []
            await call(floor)
            await settle(floor)
            assert [t for t in floor.texts(PHONE) if "mời số" in t] and len(floor.sender.sent) == 1
            assert floor.notifier.has_contact("xa", near)

    asyncio.run(scenario())


def test_the_number_is_forgotten_when_the_visit_ends_or_on_request(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with notify_floor(tmp_path) as floor:
            await floor.runtime.execute(OpenCounter(1, staff="quay1"))
            served = await floor.issue(PHONE, procedure="ht-ket-hon")
            asked = await floor.issue(OTHER)
            await call(floor)
            await floor.runtime.execute(Start(1))
            await floor.runtime.execute(Finish(1, outcome="rejected"))  # the visit is over
            assert floor.texts(PHONE)
            await settle(floor)
            assert not floor.notifier.has_contact("xa", served)
            assert await floor.notifier.forget("xa", asked)
            assert not floor.notifier.has_contact("xa", asked)
            await call(floor)
            await floor.runtime.execute(NoShow(1))
            await settle(floor)
            assert floor.texts(OTHER) == []  # asked to be forgotten before the call: no text
            assert await floor.notifier.book.load(["xa"]) == []
        assert_not_in_files(tmp_path, PHONE, OTHER)

    asyncio.run(scenario())


def test_numbers_are_deleted_at_the_end_of_the_sites_day(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with notify_floor(tmp_path) as floor:
            await floor.runtime.execute(OpenCounter(1, staff="quay1"))
            waiting = await floor.issue(PHONE)
            floor.now[0] += 14 * 3600  # 23:00 in Hanoi: still the site's day
            assert await floor.notifier.purge_past_days() == 0
            assert floor.notifier.has_contact("xa", waiting)
            floor.now[0] += 3600 + 1  # past midnight in Hanoi (16:00 UTC: the server's day may not have ended)
            assert await floor.notifier.purge_past_days() == 1
            assert not floor.notifier.has_contact("xa", waiting)
            assert floor.notifier.stats.contacts() == {"xa": 0}
        assert_not_in_files(tmp_path, PHONE)

    asyncio.run(scenario())


def test_a_restarted_notifier_sends_what_it_owed_and_nothing_twice(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with notify_floor(tmp_path) as floor:
            await floor.runtime.execute(OpenCounter(1, staff="quay1"))
            for _ in range(4):
                await floor.issue()
            await floor.issue(PHONE)
            await call(floor)
            await settle(floor)
            assert len(floor.texts(PHONE)) == 1  # "3 ahead" sent and recorded
            now = floor.now[0]
        async with ContactBook(tmp_path / "contacts.db") as book:
            [contact] = await book.load(["xa"])
            assert contact.ahead_sent and contact.phone == PHONE
        async with notify_floor(tmp_path, start=now) as again:
            for _ in range(4):
                await call(again)  # the process before had not seen these calls
            await settle(again)
            assert [t for t in again.texts(PHONE)] == [again.texts(PHONE)[0]]
            assert "mời số" in again.texts(PHONE)[0]

    asyncio.run(scenario())


def assert_not_in_files(directory: Path, *phones: str) -> None:
    """No file of the directory holds any of the numbers (deleted rows are overwritten, journals gone)."""
    files = [p for p in directory.rglob("*") if p.is_file()]
    assert any(p.name == "contacts.db" for p in files)
    for path in files:
        content = path.read_bytes()
        for phone in phones:
            assert phone.encode() not in content, f"{path.name} still holds a phone number"
