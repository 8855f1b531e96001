"""The Player contract: the pygame player (SDL dummy driver) and the fake pass the same tests."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from itertools import pairwise

import pytest

from devices.errors import DeviceUnavailable
from devices.voice.chime import tone
from devices.voice.player import FakePlayer, Player, PlayRecord
from devices.voice.pygame_player import PygamePlayer, mixer_session

PlayerFactory = Callable[[], Player]
pytestmark = pytest.mark.timing  # sounds are timed on the wall clock


@pytest.fixture(params=["pygame", "fake"])
def make_player(request: pytest.FixtureRequest) -> Iterator[PlayerFactory]:
    if request.param == "pygame":
        with mixer_session():
            yield PygamePlayer
    else:
        yield FakePlayer


def play_from_threads(player: Player, sounds: list[tuple[str, float]]) -> list[PlayRecord]:
    records: list[PlayRecord] = []
    lock = threading.Lock()

    def worker(label: str, seconds: float) -> None:
        record = player.play(tone(440, seconds), label)
        with lock:
            records.append(record)

    threads = [threading.Thread(target=worker, args=sound) for sound in sounds]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)
    return sorted(records, key=lambda r: r.started_at)


def test_play_blocks_for_the_length_of_the_sound(make_player: PlayerFactory) -> None:
    player = make_player()
    started = time.perf_counter()
    record = player.play(tone(440, 0.3), "one")
    elapsed = time.perf_counter() - started
    assert record.label == "one"
    assert record.completed
    assert record.duration_s == pytest.approx(0.3, abs=0.001)
    # SDL reports the channel idle once the last buffer (512 frames, 23 ms) is mixed;
    # the upper bound only guards against hanging on a loaded machine.
    assert 0.25 <= record.ended_at - record.started_at <= 1.5
    assert elapsed >= 0.25


def test_concurrent_plays_never_overlap(make_player: PlayerFactory) -> None:
    player = make_player()
    records = play_from_threads(player, [("a", 0.15), ("b", 0.1), ("c", 0.2), ("d", 0.1)])
    assert sorted(r.label for r in records) == ["a", "b", "c", "d"]
    for earlier, later in pairwise(records):
        assert earlier.ended_at <= later.started_at, (earlier, later)
    for record in records:
        assert record.completed
        assert record.ended_at - record.started_at >= record.duration_s - 0.05


def test_stop_cuts_the_current_sound_only(make_player: PlayerFactory) -> None:
    player = make_player()
    cutter = threading.Timer(0.15, player.stop)
    cutter.start()
    started = time.perf_counter()
    cut = player.play(tone(440, 2.0), "long")
    assert time.perf_counter() - started < 1.0
    assert not cut.completed
    cutter.join()
    after = player.play(tone(440, 0.1), "next")
    assert after.completed


def test_on_start_reports_the_start_before_the_sound_ends() -> None:
    starts: list[tuple[str, float]] = []
    player = FakePlayer(on_start=lambda label, at: starts.append((label, at)))
    record = player.play(tone(440, 0.05), "x")
    assert starts == [("x", record.started_at)]
    assert player.history == [record]


def test_fake_player_time_scale_zero_is_instant_but_keeps_durations() -> None:
    player = FakePlayer(time_scale=0)
    record = player.play(tone(440, 5.0), "long")
    assert record.duration_s == pytest.approx(5.0)
    assert record.ended_at - record.started_at < 0.1


def test_pygame_player_needs_an_open_mixer() -> None:
    with pytest.raises(DeviceUnavailable, match="mixer"):
        PygamePlayer().play(tone(440, 0.1), "x")
