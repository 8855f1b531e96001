"""The poll guarantee of SERIAL.md on a loaded bus at 9600 baud over a socat pty.

Every keypad must be polled at least every 200 ms while display updates go ahead of
polls. The emulated keypads stamp the arrival of each POLL, so the intervals are
measured on the device side of the line, as a keypad would see them.

The bounds allow OS jitter, and only that: on a shared machine the test process is at
times not scheduled for tens of ms. A 5 ms ticker in the same event loop measures those
stalls (waking more than 2 ms late); each bound is widened by the stalls S measured
inside the interval it checks, plus the backlog they leave: the polls that fell due
during S then run back to back (at most S x 8 / 200 ms + 1 polls of ~17.5 ms). On a
quiet machine S is ~0 and the bounds are the plain ones.

Wire figures at 9600 baud (10 bits a byte, ~1.04 ms): POLL + ACK is 14 bytes
(~17.5 ms measured with turn-around), SHOW "1234|05" + ACK 21 bytes (~22 ms). One
round of 8 polls takes ~140 ms, which leaves ~50 ms of each 200 ms for updates.
"""

from __future__ import annotations

import asyncio
import itertools
import math
import time
from collections.abc import Sequence
from pathlib import Path

import pytest

from counter_display.framing import CLEAR, PING, POLL, SHOW, Frame
from counter_display.serial_display import SerialDisplay, SerialKeypad
from devices.errors import DeviceTimeout
from devices.payloads import DisplayState
from firmware_bridge.emulators import KeypadEmulator, LedDisplayEmulator
from firmware_bridge.line import BITS_PER_BYTE
from tests.bridge_support import eventually, serial_rig

pytestmark = [pytest.mark.integration, pytest.mark.timing]

POLL_INTERVAL_S = 0.2
TIMEOUT_S = 0.3  # SERIAL.md at 9600 baud
# Tolerance for timer jitter: the emulator stamps a POLL when the shared event loop (bus
# master, emulator and two pty readers in one thread) gets to decode it, which can be a
# few ms late. The bus itself aims 10 ms inside the interval (BusMaster.guard_s).
JITTER_S = 0.010
POLL_S = 14 * BITS_PER_BYTE / 9600 + 0.003  # POLL + ACK on the wire, with turn-around
TICK_S = 0.005
LATE_S = 0.002  # a wake-up later than this is the OS, not our own callbacks
MEASURE_S = 4.0


class TimedKeypad(KeypadEmulator):
    """A keypad emulator that stamps the arrival of every POLL addressed to it."""

    def __init__(self, address: int) -> None:
        super().__init__(address)
        self.polls: list[float] = []

    def handle(self, frame: Frame) -> Frame | None:
        if frame.cmd == POLL:
            self.polls.append(time.monotonic())
        return super().handle(frame)


class TimedDisplay(LedDisplayEmulator):
    """A display emulator that stamps the arrival of every frame addressed to it."""

    def __init__(self, address: int) -> None:
        super().__init__(address)
        self.stamped: list[tuple[float, int]] = []

    def handle(self, frame: Frame) -> Frame | None:
        self.stamped.append((time.monotonic(), frame.cmd))
        return super().handle(frame)


class StallMeter:
    """Measures when the process was not scheduled: a ticker that notes how late it wakes."""

    def __init__(self) -> None:
        self.samples: list[tuple[float, float]] = []  # (woke at, late by beyond LATE_S)
        self._task: asyncio.Task[None] | None = None

    async def _tick(self) -> None:
        while True:
            asked = time.monotonic()
            await asyncio.sleep(TICK_S)
            woke = time.monotonic()
            late = woke - asked - TICK_S - LATE_S
            if late > 0:
                self.samples.append((woke, late))

    def start(self) -> None:
        self._task = asyncio.create_task(self._tick())

    def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()

    def stalled(self, since: float, until: float) -> float:
        """Time lost to stalls between since and until (a stall ending just after counts)."""
        return sum(late for woke, late in self.samples if since <= woke <= until + TICK_S + late)

    def allowance(self, since: float, until: float, keypads: int) -> float:
        """Stalls between since and until, plus the polls they left to run back to back."""
        stalled = self.stalled(since, until)
        if not stalled:
            return 0.0
        return stalled + (math.ceil(stalled * keypads / POLL_INTERVAL_S) + 1) * POLL_S


def gaps(times: list[float], since: float, until: float) -> list[tuple[float, float]]:
    kept = [t for t in times if since <= t <= until]
    assert len(kept) >= 2, "keypad was not polled during the measurement"
    return list(itertools.pairwise(kept))


def assert_polled_in_time(keypads: list[TimedKeypad], meter: StallMeter, since: float, until: float) -> float:
    """Every keypad polled within 200 ms (+ jitter and stalls) on the device side.

    Returns the widest stall allowance among the gaps near the bound (longer than 200 ms
    less JITTER_S): the bus's own longest gap is one of those, as the keypad saw it.
    """
    widest = 0.0
    for keypad in keypads:
        for a, b in gaps(keypad.polls, since, until):
            allowance = meter.allowance(a, b, len(keypads))
            if b - a > POLL_INTERVAL_S - JITTER_S:
                widest = max(widest, allowance)
            assert b - a <= POLL_INTERVAL_S + JITTER_S + allowance, (
                f"keypad {keypad.address} waited {(b - a) * 1000:.1f} ms between polls "
                f"(process stalled {meter.stalled(a, b) * 1000:.1f} ms meanwhile)"
            )
    return widest


def pinged(devices: Sequence[LedDisplayEmulator | KeypadEmulator]) -> bool:
    return all(any(isinstance(f, Frame) and f.cmd == PING for f in d.received) for d in devices)


def test_every_keypad_polled_within_200_ms_under_back_to_back_display_updates(tmp_path: Path) -> None:
    displays = [LedDisplayEmulator(a) for a in range(1, 9)]
    keypads = [TimedKeypad(a) for a in range(101, 109)]
    updates: dict[int, list[tuple[float, float]]] = {d.address: [] for d in displays}
    meter = StallMeter()

    async def hammer(display: SerialDisplay, address: int, stop: float) -> None:
        n = 0
        while time.monotonic() < stop:
            n += 1
            started = time.monotonic()
            await display.show(DisplayState(str(1000 + n), address))
            updates[address].append((started, time.monotonic()))

    async def scenario() -> tuple[float, float]:
        # A health PING answered by a ~46-byte STATUS takes ~65 ms here, more than one round
        # of polls frees (bus.py says so): the first ones run before the measurement, the
        # next are 30 s away.
        async with serial_rig(
            tmp_path, [*displays, *keypads], timeout_s=TIMEOUT_S, poll_interval_s=POLL_INTERVAL_S,
            probe_interval_s=1.0, health_interval_s=30.0,
        ) as rig:
            drivers = [SerialDisplay(rig.bus, d.address) for d in displays]
            for keypad in keypads:
                SerialKeypad(rig.bus, keypad.address)
            await eventually(lambda: pinged(displays) and pinged(keypads))
            await asyncio.sleep(2 * POLL_INTERVAL_S)
            meter.start()
            began = time.monotonic()
            await asyncio.gather(
                *(hammer(drv, d.address, began + MEASURE_S) for drv, d in zip(drivers, displays, strict=True))
            )
            meter.stop()
            assert rig.bus.stats.timeouts == 0 and rig.bus.stats.retries == 0
            return began, time.monotonic()

    began, ended = asyncio.run(scenario())
    assert_polled_in_time(keypads, meter, began, ended)
    # Updates still get through: each round of polls frees ~50 ms, room for at least one
    # ~22 ms SHOW; the 8 displays take turns, so an update waits for at most 8 others and
    # its own, one per round at worst: 9 rounds (~5 expected with two a round).
    count = sum(len(v) for v in updates.values())
    assert count >= (MEASURE_S - meter.stalled(began, ended)) / POLL_INTERVAL_S, f"only {count} updates"
    assert all(len(v) >= 2 for v in updates.values())
    for address, spans in updates.items():
        for started, done in spans:
            allowed = 9 * POLL_INTERVAL_S + meter.allowance(started, done, len(keypads))
            assert done - started <= allowed, f"an update to {address} took {(done - started) * 1000:.0f} ms"


def test_keypads_are_polled_between_the_retries_to_a_silent_display(tmp_path: Path) -> None:
    dead = LedDisplayEmulator(1)
    keypads = [TimedKeypad(a) for a in (101, 102, 103, 104)]
    meter = StallMeter()

    async def scenario() -> tuple[float, float]:
        async with serial_rig(
            tmp_path, [dead, *keypads], timeout_s=TIMEOUT_S, poll_interval_s=POLL_INTERVAL_S,
            probe_interval_s=1.0, health_interval_s=30.0,
        ) as rig:
            display = SerialDisplay(rig.bus, 1)
            for keypad in keypads:
                SerialKeypad(rig.bus, keypad.address)
            await eventually(lambda: pinged([dead]) and pinged(keypads))
            dead.silent = True
            meter.start()
            began = time.monotonic()
            with pytest.raises(DeviceTimeout):
                await display.show(DisplayState("7", 1))  # 4 attempts of 300 ms
            ended = time.monotonic()
            meter.stop()
            assert rig.bus.availability(1) == "offline"
            assert rig.bus.stats.retries == 3
            return began, ended

    began, ended = asyncio.run(scenario())
    assert ended - began >= 4 * TIMEOUT_S
    # Without polls between attempts a keypad would wait >= 4 x 300 ms. With them the worst
    # gap is the first attempt, which may start up to one interval after a keypad's poll
    # (when the slack allowed the 22 ms SHOW) and lasts 300 ms + the 7-byte SHOW: ~500 ms.
    # Later attempts are preceded by polls. Bound: 2 x 300 ms, half the gap without them.
    for keypad in keypads:
        for a, b in gaps(keypad.polls, began - POLL_INTERVAL_S, ended):
            allowed = 2 * TIMEOUT_S + meter.allowance(a, b, len(keypads))
            assert b - a < allowed, f"keypad {keypad.address} waited {(b - a) * 1000:.0f} ms"


def test_polled_keypads_get_no_periodic_health_ping(tmp_path: Path) -> None:
    # A keypad's answer to every poll says it is there: PINGed once for its health when
    # first heard, while a display (never polled) is PINGed every health interval (one
    # keypad's polls leave room for its STATUS answer in every 200 ms).
    display = LedDisplayEmulator(1)
    keypad = TimedKeypad(101)

    async def scenario() -> None:
        async with serial_rig(
            tmp_path, [display, keypad], poll_interval_s=POLL_INTERVAL_S, health_interval_s=0.15
        ) as rig:
            SerialDisplay(rig.bus, 1)
            SerialKeypad(rig.bus, 101)
            await eventually(
                lambda: len([f for f in display.received if f.cmd == PING]) >= 4 and len(keypad.polls) >= 10
            )
            assert [f.cmd for f in keypad.received].count(PING) == 1

    asyncio.run(scenario())


def test_the_number_a_press_calls_goes_right_after_the_poll_that_brought_it(tmp_path: Path) -> None:
    # 8 keypads and 8 displays at 9600 baud, each display checked every 2 s (a SHOW or CLEAR:
    # a ~65 ms health PING does not fit the slack): the controller's answer to a press (a
    # SHOW + BLINK state) is neither put behind a check nor behind a round of polls; the
    # BLINK may wait. The "controller" here answers at once, in the same loop.
    displays = [LedDisplayEmulator(a) for a in range(1, 9)]
    keypads = [TimedKeypad(a) for a in range(101, 109)]
    between: list[list[int]] = []

    async def scenario() -> None:
        async with serial_rig(
            tmp_path, [*displays, *keypads], timeout_s=TIMEOUT_S, poll_interval_s=POLL_INTERVAL_S,
            health_interval_s=2.0,
        ) as rig:
            drivers = [SerialDisplay(rig.bus, d.address) for d in displays]
            keys = [SerialKeypad(rig.bus, k.address) for k in keypads]
            # 16 first PINGs, one per round of polls at most
            await eventually(lambda: pinged(displays) and pinged(keypads), timeout_s=15)
            log = rig.emulator.log  # type: ignore[union-attr]
            for n in range(12):
                counter = n % 8
                await asyncio.sleep(0.1 + 0.013 * n)  # at different phases of the poll round
                keypads[counter].press("next")
                async with asyncio.timeout(2):
                    await anext(aiter(keys[counter]))
                mark = max(i for i, f in enumerate(log) if f.cmd == POLL and f.addr == 101 + counter)
                await drivers[counter].show(DisplayState(str(2000 + n), counter + 1, blink=True))
                show = next(
                    i for i, f in enumerate(log) if i > mark and f.cmd == SHOW and f.addr == counter + 1
                )
                between.append([f.cmd for f in log[mark + 1 : show]])

    asyncio.run(scenario())
    assert not any(PING in cmds for cmds in between), between
    # the poll on the line when the update came, at most: not a round of them
    assert sorted(len(cmds) for cmds in between)[len(between) // 2] <= 1, between
    assert max(len(cmds) for cmds in between) <= 2, between


def test_display_checks_keep_every_keypad_polled_within_200_ms_and_find_a_silent_display(
    tmp_path: Path,
) -> None:
    # 8 displays (6 showing a number, 2 given none) and 8 keypads, each display due for a
    # check 0.5 s after its last: the 4 s measurement holds several checks of each. A health
    # PING (STATUS ~46 bytes, ~65 ms) cannot fit the ~50 ms a round of 8 polls leaves, so
    # after the first-contact PINGs the checks re-send a display's number (SHOW, ~22 ms), or
    # CLEAR when it has none. One or two fit a round: a check that falls due waits for at
    # most the other displays' checks, one a round (here 16 checks a second are asked for).
    displays = [TimedDisplay(a) for a in range(1, 9)]
    keypads = [TimedKeypad(a) for a in range(101, 109)]
    shown = {d.address: str(100 + d.address) for d in displays[:6]}
    meter = StallMeter()
    health_s = 0.5

    async def scenario() -> tuple[float, float, float, float]:
        async with serial_rig(
            tmp_path, [*displays, *keypads], timeout_s=TIMEOUT_S, poll_interval_s=POLL_INTERVAL_S,
            probe_interval_s=1.0, health_interval_s=health_s,
        ) as rig:
            drivers = {d.address: SerialDisplay(rig.bus, d.address) for d in displays}
            for keypad in keypads:
                SerialKeypad(rig.bus, keypad.address)
            await eventually(lambda: pinged(displays) and pinged(keypads), timeout_s=15)
            for address, number in shown.items():
                await drivers[address].show(DisplayState(number, address))
            # the first-contact PINGs, which go whatever the slack, are behind us: from here
            # the bus's own record of the longest gap must stay within the interval
            for _window in range(2):
                rig.bus.stats.max_poll_gap_s = 0.0
                missed = (rig.bus.stats.timeouts, rig.bus.stats.retries)
                meter.start()
                began = time.monotonic()
                await asyncio.sleep(MEASURE_S)
                ended = time.monotonic()
                meter.stop()
                if (rig.bus.stats.timeouts, rig.bus.stats.retries) == missed:
                    break
                # An answer missed its 300 ms timeout: the machine held the rig up for that long
                # (the emulators answer in milliseconds). A retry breaks the 200 ms bound by design
                # (README), so this window says nothing about the schedule: measure another.
            else:
                pytest.fail(f"an answer timed out in every measurement window: {rig.bus.stats}")
            host_gap = rig.bus.stats.max_poll_gap_s
            # a display that stops answering is found by its next check
            displays[0].silent = True
            silenced = time.monotonic()
            await eventually(lambda: rig.bus.availability(1) == "offline", timeout_s=10)
            return began, ended, host_gap, time.monotonic() - silenced

    began, ended, host_gap, found_s = asyncio.run(scenario())
    widest = assert_polled_in_time(keypads, meter, began, ended)
    # The bus's own record: it notes each poll as the poll starts, aiming guard_s (10 ms)
    # inside the interval for its own timer jitter, so 200 ms holds as is but for the event
    # loop waking late. LATE_S (2 ms) is the most the loop wakes late without the meter
    # counting a stall; a stall it counted widens the bound as much as it widened the
    # bound of a device-side gap near 200 ms (0 when none of those held a stall).
    assert host_gap <= POLL_INTERVAL_S + LATE_S + widest, f"bus saw a {host_gap * 1000:.1f} ms gap"
    checked_within = health_s + len(displays) * POLL_INTERVAL_S
    for d in displays:
        check = SHOW if d.address in shown else CLEAR
        cmds = {cmd for at, cmd in d.stamped if began <= at <= ended}
        assert cmds == {check}, (d.address, cmds)
        times = [began] + [at for at, _ in d.stamped if began <= at <= ended] + [ended]
        for a, b in itertools.pairwise(times):
            allowed = checked_within + meter.allowance(a, b, len(keypads))
            assert b - a <= allowed, f"display {d.address} unchecked for {(b - a) * 1000:.0f} ms"
    assert all(d.number == shown.get(d.address) for d in displays)
    # Found within: its next check, and that check's 4 attempts of 300 ms with the polls
    # between them.
    bound = checked_within + 4 * (TIMEOUT_S + len(keypads) * POLL_S)
    assert found_s <= bound + meter.stalled(ended, ended + found_s), f"found after {found_s:.2f} s"


def test_a_display_check_that_resends_the_number_waits_for_the_blink(tmp_path: Path) -> None:
    # With 8 keypads the check re-sends the SHOW, which stops a blink: it waits until the
    # blink (1 s here) is over, though a check falls due every 0.2 s.
    display = TimedDisplay(1)
    keypads = [TimedKeypad(a) for a in range(101, 109)]

    async def scenario() -> tuple[float, list[tuple[float, int]]]:
        async with serial_rig(
            tmp_path, [display, *keypads], timeout_s=TIMEOUT_S, poll_interval_s=POLL_INTERVAL_S,
            health_interval_s=0.2,
        ) as rig:
            driver = SerialDisplay(rig.bus, 1, blink_seconds=1)
            for keypad in keypads:
                SerialKeypad(rig.bus, keypad.address)
            await eventually(lambda: pinged([display, *keypads]), timeout_s=15)
            await driver.show(DisplayState("42", 1, blink=True))
            blinked = time.monotonic()
            assert display.blink_s == 1
            await eventually(lambda: display.stamped[-1][0] > blinked, timeout_s=3)
            return blinked, [(at, cmd) for at, cmd in display.stamped if at > blinked]

    blinked, after = asyncio.run(scenario())
    at, cmd = after[0]
    assert cmd == SHOW and at - blinked >= 1.0, (at - blinked, cmd)
