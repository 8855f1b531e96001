"""One contract for every CounterDisplay: the shipped fake, the serial framing, Modbus.

The serial and Modbus drivers run through the bus master over a socat pty pair,
against device emulators on the other end.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable, Coroutine
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from counter_display.fakes import QueuedKeySource, RecordingDisplay
from counter_display.modbus_display import ModbusDisplay
from counter_display.protocols import CounterDisplay, KeySource, Press
from counter_display.serial_display import SerialDisplay, SerialKeypad
from devices.errors import DeviceError
from devices.payloads import DisplayState, KeyPress, RatingPress
from firmware_bridge.emulators import KeypadEmulator, LedDisplayEmulator, ModbusLedEmulator
from tests.bridge_support import modbus_rig, serial_rig


@dataclass
class DisplayRig:
    display: CounterDisplay
    shown: Callable[[], str | None]  # what the device shows now
    unplug: Callable[[], None]  # make the device stop answering


@contextlib.asynccontextmanager
async def fake_display(tmp_path: Path) -> AsyncIterator[DisplayRig]:
    display = RecordingDisplay()
    yield DisplayRig(display, lambda: display.number, lambda: setattr(display, "available", False))


@contextlib.asynccontextmanager
async def framed_display(tmp_path: Path) -> AsyncIterator[DisplayRig]:
    led = LedDisplayEmulator(5)
    async with serial_rig(tmp_path, [led, LedDisplayEmulator(6)]) as rig:
        yield DisplayRig(
            SerialDisplay(rig.bus, 5), lambda: led.number, lambda: setattr(led, "silent", True)
        )


@contextlib.asynccontextmanager
async def modbus_display(tmp_path: Path) -> AsyncIterator[DisplayRig]:
    led = ModbusLedEmulator(5)
    async with modbus_rig(tmp_path, [led, ModbusLedEmulator(6)]) as rig:
        yield DisplayRig(
            ModbusDisplay(rig.bus, 5), lambda: led.number, lambda: setattr(led, "silent", True)
        )


RigFactory = Callable[[Path], contextlib.AbstractAsyncContextManager[DisplayRig]]


@pytest.fixture(
    params=[
        pytest.param(fake_display, id="fake"),
        pytest.param(framed_display, id="serial", marks=pytest.mark.integration),
        pytest.param(modbus_display, id="modbus", marks=pytest.mark.integration),
    ]
)
def make_rig(request: pytest.FixtureRequest) -> RigFactory:
    factory: RigFactory = request.param
    return factory


def run(scenario: Coroutine[Any, Any, None]) -> None:
    asyncio.run(scenario)


def test_is_a_counter_display(make_rig: RigFactory, tmp_path: Path) -> None:
    async def scenario() -> None:
        async with make_rig(tmp_path) as rig:
            assert isinstance(rig.display, CounterDisplay)
            assert rig.shown() is None

    run(scenario())


def test_show_puts_the_number_up(make_rig: RigFactory, tmp_path: Path) -> None:
    async def scenario() -> None:
        async with make_rig(tmp_path) as rig:
            await rig.display.show(DisplayState("2015", 5))
            assert rig.shown() == "2015"
            await rig.display.show(DisplayState("2016", 5, blink=True, text="Mời số 2016"))
            assert rig.shown() == "2016"

    run(scenario())


def test_clear_and_blank_state(make_rig: RigFactory, tmp_path: Path) -> None:
    async def scenario() -> None:
        async with make_rig(tmp_path) as rig:
            await rig.display.show(DisplayState("1024", 5))
            await rig.display.clear()
            assert rig.shown() is None
            await rig.display.show(DisplayState("1025", 5))
            await rig.display.show(DisplayState(None, 5))
            assert rig.shown() is None

    run(scenario())


def test_latest_of_concurrent_shows_wins(make_rig: RigFactory, tmp_path: Path) -> None:
    async def scenario() -> None:
        async with make_rig(tmp_path) as rig:
            await asyncio.gather(*(rig.display.show(DisplayState(str(n), 5)) for n in range(1, 6)))
            assert rig.shown() == "5"

    run(scenario())


def test_unreachable_device_raises_device_error(make_rig: RigFactory, tmp_path: Path) -> None:
    async def scenario() -> None:
        async with make_rig(tmp_path) as rig:
            await rig.display.show(DisplayState("1", 5))
            rig.unplug()
            with pytest.raises(DeviceError):
                await rig.display.show(DisplayState("2", 5))
            with pytest.raises(DeviceError):
                await rig.display.clear()
            assert rig.shown() == "1"

    run(scenario())


# KeySource: the shipped fake and the polled serial keypad


@contextlib.asynccontextmanager
async def fake_keys(tmp_path: Path) -> AsyncIterator[tuple[KeySource, Callable[[Press], None]]]:
    source = QueuedKeySource()
    yield source, source.press


@contextlib.asynccontextmanager
async def serial_keys(tmp_path: Path) -> AsyncIterator[tuple[KeySource, Callable[[Press], None]]]:
    keypad = KeypadEmulator(9)

    def push(press: Press) -> None:
        if isinstance(press, KeyPress):
            keypad.press(press.key)
        else:
            keypad.rate(press.score)

    async with serial_rig(tmp_path, [keypad]) as rig:
        yield SerialKeypad(rig.bus, 9), push


@pytest.mark.parametrize(
    "make_source",
    [
        pytest.param(fake_keys, id="fake"),
        pytest.param(serial_keys, id="serial", marks=pytest.mark.integration),
    ],
)
def test_key_source_yields_presses_in_order(
    make_source: Callable[[Path], Any], tmp_path: Path
) -> None:
    presses: list[Press] = [KeyPress("next", 0), KeyPress("no_show", 1), RatingPress(4, 2)]

    async def scenario() -> None:
        async with make_source(tmp_path) as (source, push):
            assert isinstance(source, KeySource)
            for press in presses:
                push(press)
            got: list[Press] = []
            async with asyncio.timeout(5):
                async for press in source:
                    got.append(press)
                    if len(got) == len(presses):
                        break
            assert got == presses

    run(scenario())
