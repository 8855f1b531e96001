"""The Announcer: one queue per zone, in order, no overlap, stale tickets skipped, clean exit."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Iterator
from itertools import pairwise

import pytest

from devices.errors import DeviceUnavailable
from devices.voice.announcer import Announcer
from devices.voice.fake_renderer import ToneRenderer
from devices.voice.library import ClipLibrary
from devices.voice.pcm import Pcm
from devices.voice.player import FakePlayer, Player, PlayRecord
from devices.voice.pygame_player import PygamePlayer, mixer_session
from devices.voice.template import Announcement, AnnouncementTemplate

# Short announcements (about 0.2 s each) so a burst plays out in real time quickly.
TEMPLATE = AnnouncementTemplate(
    call="Mời số {number} quầy {counter}",
    recall="Lần nữa số {number} quầy {counter}",
    chime=False,
    repeat=1,
    word_gap_s=0.0,
    phrase_gap_s=0.01,
)


def library() -> ClipLibrary:
    return ClipLibrary(ToneRenderer(seconds_per_char=0.004))


class RecordingPlayer:
    """Wraps a real player and keeps every record, as a zone's speaker log."""

    def __init__(self, inner: Player) -> None:
        self.inner = inner
        self.records: list[PlayRecord] = []

    def play(self, audio: Pcm, label: str) -> PlayRecord:
        record = self.inner.play(audio, label)
        self.records.append(record)
        return record

    def stop(self) -> None:
        self.inner.stop()


@pytest.fixture(params=["pygame", "fake"])
def player_kind(request: pytest.FixtureRequest) -> Iterator[Callable[..., Player]]:
    if request.param == "pygame":
        with mixer_session():
            yield PygamePlayer
    else:
        yield FakePlayer


def ticket(n: int, zone: str = "hall", kind: str = "call") -> Announcement:
    return Announcement(f"t{n}", str(1000 + n), counter=n % 7 + 1, zone=zone, kind=kind)  # type: ignore[arg-type]


def test_burst_plays_in_order_without_overlap_and_skips_stale(
    player_kind: Callable[..., Player],
) -> None:
    playing = threading.Event()
    speaker = RecordingPlayer(player_kind(on_start=lambda label, at: playing.set()))
    served: set[str] = set()

    async def scenario() -> Announcer:
        async with Announcer(
            TEMPLATE, library(), lambda zone: speaker, is_stale=lambda tid: tid in served
        ) as announcer:
            for n in range(6):
                await announcer.announce(ticket(n))
            # t3 and t4 are served at other counters while t0 is being called.
            assert await asyncio.to_thread(playing.wait, 5.0)
            served.update({"t3", "t4"})
            await announcer.join()
            return announcer

    announcer = asyncio.run(scenario())
    assert [r.label.split(":")[1] for r in speaker.records] == ["t0", "t1", "t2", "t5"]
    for earlier, later in pairwise(speaker.records):
        assert earlier.ended_at <= later.started_at
    assert all(r.completed for r in speaker.records)
    statuses = {o.announcement.ticket_id: o.status for o in announcer.outcomes}
    assert statuses == {"t0": "played", "t1": "played", "t2": "played", "t3": "stale", "t4": "stale", "t5": "played"}


def test_zones_play_independently_each_in_order() -> None:
    speakers = {"hall": RecordingPlayer(FakePlayer()), "floor-2": RecordingPlayer(FakePlayer())}

    async def scenario() -> None:
        async with Announcer(TEMPLATE, library(), lambda zone: speakers[zone]) as announcer:
            for n in range(3):
                await announcer.announce(ticket(n, zone="hall"))
                await announcer.announce(ticket(10 + n, zone="floor-2"))
            await announcer.join()

    asyncio.run(scenario())
    hall = [r.label.split(":")[1] for r in speakers["hall"].records]
    floor = [r.label.split(":")[1] for r in speakers["floor-2"].records]
    assert hall == ["t0", "t1", "t2"]
    assert floor == ["t10", "t11", "t12"]
    records = speakers["hall"].records + speakers["floor-2"].records
    span_s = max(r.ended_at for r in records) - min(r.started_at for r in records)
    # Concurrent zones: both play out in less time than one after the other would take.
    assert span_s < sum(r.duration_s for r in records)
    # The two zones overlapped in time (they are different speakers).
    assert speakers["floor-2"].records[0].started_at < speakers["hall"].records[-1].ended_at


def test_async_stale_predicate_and_recall_wording() -> None:
    speaker = RecordingPlayer(FakePlayer(time_scale=0))

    async def is_stale(ticket_id: str) -> bool:
        await asyncio.sleep(0)
        return ticket_id == "t1"

    async def scenario() -> None:
        lib = library()
        async with Announcer(TEMPLATE, lib, lambda zone: speaker, is_stale=is_stale) as announcer:
            await announcer.announce(ticket(0, kind="recall"))
            await announcer.announce(ticket(1))
            await announcer.join()
        assert "Lần nữa số" in lib.renderer.rendered  # type: ignore[attr-defined]

    asyncio.run(scenario())
    assert [r.label for r in speaker.records] == ["recall:t0:1000@1"]


def test_a_failing_stale_predicate_still_announces() -> None:
    speaker = RecordingPlayer(FakePlayer(time_scale=0))

    def broken(ticket_id: str) -> bool:
        raise KeyError(ticket_id)

    async def scenario() -> None:
        async with Announcer(TEMPLATE, library(), lambda zone: speaker, is_stale=broken) as a:
            await a.announce(ticket(0))
            await a.join()

    asyncio.run(scenario())
    assert len(speaker.records) == 1


class BrokenPlayer:
    """A speaker whose amplifier is off for the first sound."""

    def __init__(self) -> None:
        self.inner = FakePlayer(time_scale=0)
        self.failures: list[Exception] = [DeviceUnavailable("amplifier off"), OSError("bug")]

    def play(self, audio: Pcm, label: str) -> PlayRecord:
        if self.failures:
            raise self.failures.pop(0)
        return self.inner.play(audio, label)

    def stop(self) -> None:
        self.inner.stop()


def test_a_failure_fails_one_announcement_and_the_queue_goes_on() -> None:
    speaker = BrokenPlayer()

    async def scenario() -> Announcer:
        async with Announcer(TEMPLATE, library(), lambda zone: speaker) as announcer:
            for n in range(3):
                await announcer.announce(ticket(n))
            await announcer.join()
            return announcer

    announcer = asyncio.run(scenario())
    assert [(o.announcement.ticket_id, o.status) for o in announcer.outcomes] == [
        ("t0", "failed"),
        ("t1", "failed"),
        ("t2", "played"),
    ]
    assert "amplifier off" in announcer.outcomes[0].detail
    assert "bug" in announcer.outcomes[1].detail
    assert [r.label.split(":")[1] for r in speaker.inner.history] == ["t2"]


def test_leaving_the_block_cuts_the_sound_and_discards_the_queue(
    player_kind: Callable[..., Player],
) -> None:
    playing = threading.Event()
    speaker = RecordingPlayer(player_kind(on_start=lambda label, at: playing.set()))
    long_template = AnnouncementTemplate(repeat=5)  # several seconds of audio

    async def scenario() -> tuple[Announcer, float]:
        async with Announcer(long_template, library(), lambda zone: speaker) as announcer:
            for n in range(3):
                await announcer.announce(ticket(n))
            assert await asyncio.to_thread(playing.wait, 5.0)
            leaving = time.perf_counter()
        return announcer, time.perf_counter() - leaving

    announcer, exit_s = asyncio.run(scenario())
    assert exit_s < 1.0
    assert [(o.announcement.ticket_id, o.status) for o in announcer.outcomes] == [
        ("t1", "discarded"),
        ("t2", "discarded"),
        ("t0", "cut"),
    ]
    assert [r.completed for r in speaker.records] == [False]
    with pytest.raises(RuntimeError):
        asyncio.run(announcer.announce(ticket(9)))


def test_a_full_zone_queue_refuses_more() -> None:
    async def scenario() -> None:
        speaker = FakePlayer()
        announcer = Announcer(TEMPLATE, library(), lambda zone: speaker, max_pending=2, warm=False)
        async with announcer:
            await announcer.announce(ticket(0))
            await announcer.announce(ticket(1))
            with pytest.raises(DeviceUnavailable, match="2 announcements"):
                for n in range(2, 5):
                    await announcer.announce(ticket(n))

    asyncio.run(scenario())


def test_entering_warms_the_library_with_the_template_inventory() -> None:
    lib = library()

    async def scenario() -> Announcer:
        async with Announcer(TEMPLATE, lib, lambda zone: FakePlayer()) as announcer:
            return announcer

    announcer = asyncio.run(scenario())
    assert announcer.warm_report is not None
    assert announcer.warm_report.ready == len(TEMPLATE.clip_inventory())
    assert len(lib) == len(TEMPLATE.clip_inventory())
