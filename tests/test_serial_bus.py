"""The bus master over a socat pty pair with emulated devices sharing the line."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from pathlib import Path
from typing import Any

import pytest

from counter_display.framing import BLINK, CLEAR, PING, POLL, SHOW, Frame
from counter_display.modbus_display import ModbusDisplay
from counter_display.serial_display import SerialDisplay, SerialKeypad
from devices.errors import DeviceTimeout, DeviceUnavailable, ProtocolError
from devices.payloads import DisplayState, KeyPress
from firmware_bridge.bus import FramedCommand, LinkStatus
from firmware_bridge.emulators import KeypadEmulator, LedDisplayEmulator, ModbusLedEmulator
from tests.bridge_support import eventually, modbus_rig, serial_rig

pytestmark = [pytest.mark.integration, pytest.mark.timing]


def run(scenario: Coroutine[Any, Any, None]) -> None:
    asyncio.run(scenario)


def frames_to(device: LedDisplayEmulator | KeypadEmulator, cmd: int) -> list[Frame]:
    return [f for f in device.received if isinstance(f, Frame) and f.cmd == cmd]


def test_show_blink_clear(tmp_path: Path) -> None:
    led = LedDisplayEmulator(3)

    async def scenario() -> None:
        async with serial_rig(tmp_path, [led]) as rig:
            display = SerialDisplay(rig.bus, 3, blink_seconds=7)
            await display.show(DisplayState("2015", 3, blink=True))
            assert (led.number, led.counter, led.blink_s) == ("2015", 3, 7)
            await display.show(DisplayState("2016", 3))
            assert (led.number, led.blink_s) == ("2016", 0)
            await display.clear()
            assert led.number is None
            await display.set_brightness(4)
            assert led.brightness == 4
            assert [f.cmd for f in led.received if isinstance(f, Frame)].count(BLINK) == 1
            assert len(frames_to(led, CLEAR)) == 1

    run(scenario())


def test_dropped_first_frame_is_acknowledged_on_retry_with_same_seq(tmp_path: Path) -> None:
    led = LedDisplayEmulator(3)

    async def scenario() -> None:
        async with serial_rig(tmp_path, [led]) as rig:
            display = SerialDisplay(rig.bus, 3)
            await display.show(DisplayState("1", 3))
            await led.wait_until(lambda: frames_to(led, PING) != [])  # first health probe done
            led.drop_frames(1)
            await display.show(DisplayState("1024", 3))
            assert led.number == "1024"
            first, retry = frames_to(led, SHOW)[-2:]
            assert first == retry  # same bytes, same SEQ
            assert rig.bus.stats.retries == 1
            assert rig.bus.availability(3) == "online"

    run(scenario())


def test_lost_ack_makes_a_duplicate_that_is_not_applied_twice(tmp_path: Path) -> None:
    led = LedDisplayEmulator(3)

    async def scenario() -> None:
        async with serial_rig(tmp_path, [led]) as rig:
            display = SerialDisplay(rig.bus, 3)
            led.lose_replies(1)
            await display.show(DisplayState("1024", 3))
            assert led.duplicates == 1
            assert [s.number for s in led.history] == ["1024"]

    run(scenario())


def test_dead_device_is_marked_unavailable_and_the_bus_goes_on(tmp_path: Path) -> None:
    dead, alive, keypad = LedDisplayEmulator(1), LedDisplayEmulator(2), KeypadEmulator(3)
    statuses: list[LinkStatus] = []

    async def scenario() -> None:
        async with serial_rig(tmp_path, [dead, alive, keypad]) as rig:
            rig.bus.on_status(statuses.append)
            one, two = SerialDisplay(rig.bus, 1), SerialDisplay(rig.bus, 2)
            keys = SerialKeypad(rig.bus, 3)
            await one.show(DisplayState("100", 1))
            await eventually(lambda: frames_to(dead, PING) != [])  # first health probe done
            dead.silent = True
            with pytest.raises(DeviceTimeout):
                await one.show(DisplayState("101", 1))
            assert rig.bus.availability(1) == "offline"
            assert any(s.address == 1 and not s.online for s in statuses)
            # the rest of the bus keeps working
            await two.show(DisplayState("200", 2))
            assert alive.number == "200"
            keypad.press("next")
            async with asyncio.timeout(3):
                assert await anext(aiter(keys)) == KeyPress("next", 0)
            # an update for the dead one is kept, not sent
            with pytest.raises(DeviceUnavailable):
                await one.show(DisplayState("102", 1))
            # it comes back: the probe finds it and it gets its current state
            dead.silent = False
            await dead.wait_until(lambda: dead.number == "102", timeout_s=5)
            await dead.wait_until(lambda: rig.bus.availability(1) == "online")
            last = [s for s in statuses if s.address == 1][-1]
            assert last.online
            assert last.health["fw"] == "emu-1.0"

    run(scenario())


def test_rebooted_display_gets_its_state_back(tmp_path: Path) -> None:
    led = LedDisplayEmulator(4)

    async def scenario() -> None:
        async with serial_rig(tmp_path, [led], health_interval_s=0.1) as rig:
            display = SerialDisplay(rig.bus, 4)
            await display.show(DisplayState("777", 4))
            await led.wait_until(lambda: frames_to(led, PING) != [])  # health ping seen
            # power cycle: blank display, uptime starts again
            led.number = None
            led.started += 3600
            await led.wait_until(lambda: led.number == "777", timeout_s=5)

    run(scenario())


def test_keypads_polled_round_robin_and_display_updates_jump_ahead(tmp_path: Path) -> None:
    keypads = [KeypadEmulator(a) for a in (11, 12, 13, 14)]
    led = LedDisplayEmulator(1)

    async def scenario() -> None:
        async with serial_rig(tmp_path, [led, *keypads], poll_interval_s=0.2) as rig:
            display = SerialDisplay(rig.bus, 1)
            for keypad in keypads:
                SerialKeypad(rig.bus, keypad.address)
            await eventually(lambda: all(len(frames_to(k, POLL)) >= 3 for k in keypads))
            await eventually(lambda: frames_to(led, PING) != [] and all(frames_to(k, PING) for k in keypads))
            for n in range(5):
                # between calls the bus only polls, keeping room for an update on the schedule
                await asyncio.sleep(0.25)
                mark = len(rig.emulator.log)  # type: ignore[union-attr]
                await display.show(DisplayState(str(n), 1))
                log = rig.emulator.log[mark:]  # type: ignore[union-attr]
                shows = [i for i, f in enumerate(log) if f.cmd == SHOW]
                # at most the exchange already on the line goes before the update
                assert shows and shows[0] <= 1
            polled = [f.addr for f in rig.emulator.log if f.cmd == POLL]  # type: ignore[union-attr]
            # round-robin: any window of 4 polls asks each keypad once
            window = polled[-8:-4]
            assert sorted(window) == [11, 12, 13, 14]

    run(scenario())


def test_presses_of_several_keypads(tmp_path: Path) -> None:
    a, b = KeypadEmulator(5), KeypadEmulator(6)

    async def scenario() -> None:
        async with serial_rig(tmp_path, [a, b]) as rig:
            keys_a, keys_b = SerialKeypad(rig.bus, 5), SerialKeypad(rig.bus, 6)
            a.press("next")
            b.rate(5)
            a.press("finish")
            async with asyncio.timeout(3):
                got_a = [await anext(aiter(keys_a)), await anext(aiter(keys_a))]
                got_b = await anext(aiter(keys_b))
            assert got_a == [KeyPress("next", 0), KeyPress("finish", 1)]
            assert (got_b.score, got_b.seq) == (5, 0)  # type: ignore[union-attr]

    run(scenario())


def test_nak_raises_protocol_error_and_device_stays_online(tmp_path: Path) -> None:
    led = LedDisplayEmulator(3)

    async def scenario() -> None:
        async with serial_rig(tmp_path, [led]) as rig:
            SerialDisplay(rig.bus, 3)
            with pytest.raises(ProtocolError, match="NAK"):
                await rig.bus.request(3, FramedCommand(0x7E))
            assert rig.bus.availability(3) == "online"

    run(scenario())


def test_modbus_exception_and_retry(tmp_path: Path) -> None:
    wrong_register = ModbusLedEmulator(2, register=1)
    flaky = ModbusLedEmulator(3)

    async def scenario() -> None:
        async with modbus_rig(tmp_path, [wrong_register, flaky]) as rig:
            with pytest.raises(ProtocolError, match="illegal data address"):
                await ModbusDisplay(rig.bus, 2).show(DisplayState("12", 2))
            flaky.drop_frames(2)
            await ModbusDisplay(rig.bus, 3).show(DisplayState("4321", 3))
            assert flaky.value == 4321
            with pytest.raises(ProtocolError, match="cannot show"):
                await ModbusDisplay(rig.bus, 3).show(DisplayState("A12", 3))

    run(scenario())


def test_unplugged_line_stops_the_bus(tmp_path: Path) -> None:
    led = LedDisplayEmulator(3)

    async def scenario() -> None:
        async with serial_rig(tmp_path, [led]) as rig:
            display = SerialDisplay(rig.bus, 3)
            await display.show(DisplayState("1", 3))
            rig.pair.close()
            with pytest.raises(DeviceUnavailable):
                await display.show(DisplayState("2", 3))
            with pytest.raises(DeviceUnavailable):
                await rig.bus.wait_closed()

    run(scenario())
