"""Counter display and keypad drivers for the motcua serial framing, over the bus master."""

from __future__ import annotations

from collections.abc import AsyncIterator

from counter_display.framing import (
    BLINK,
    BRIGHTNESS,
    CLEAR,
    SHOW,
    blink_payload,
    brightness_payload,
    show_payload,
)
from counter_display.protocols import Press
from devices.payloads import DisplayState, KeyPress, RatingPress
from firmware_bridge.bus import BusMaster, FramedCommand

__all__ = ["SerialDisplay", "SerialKeypad"]


class SerialDisplay:
    """CounterDisplay on the serial framing: SHOW, then BLINK when the state blinks.

    SHOW replaces the number and stops any blinking on the device, so a
    non-blinking state needs no BLINK frame (one frame per update on the bus).
    """

    def __init__(self, bus: BusMaster, address: int, *, blink_seconds: int = 5) -> None:
        blink_payload(blink_seconds)  # check it now, not at the first call
        self.bus = bus
        self.address = address
        self.blink_seconds = blink_seconds
        bus.attach(address, "framed")

    async def show(self, state: DisplayState) -> None:
        """Send state; the bus resends it if the device comes back after a failure."""
        if state.number is None:
            await self.clear()
            return
        ops = [FramedCommand(SHOW, show_payload(state.number, state.counter))]
        if state.blink:
            ops.append(FramedCommand(BLINK, blink_payload(self.blink_seconds)))
        await self.bus.apply(self.address, ops)

    async def clear(self) -> None:
        """Blank the display."""
        await self.bus.apply(self.address, [FramedCommand(CLEAR)])

    async def set_brightness(self, level: int) -> None:
        """Set brightness 0-15 (a one-off command, not part of the state)."""
        await self.bus.request(self.address, FramedCommand(BRIGHTNESS, brightness_payload(level)))


class SerialKeypad:
    """KeySource of a wired keypad polled by the bus: staff keys and rating keys."""

    def __init__(self, bus: BusMaster, address: int) -> None:
        self.bus = bus
        self.address = address
        bus.attach(address, "framed", polled=True)

    def __aiter__(self) -> AsyncIterator[Press]:
        return self

    async def __anext__(self) -> Press:
        event = await self.bus.presses(self.address).get()
        # the device's PRESS_SEQ (0-255, wraps) is what lets the controller drop repeats
        if event.action is not None:
            return KeyPress(key=event.action, seq=event.press_seq)  # type: ignore[arg-type]
        assert event.score is not None
        return RatingPress(score=event.score, seq=event.press_seq)
