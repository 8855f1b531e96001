"""The small contracts of counter devices: a display that shows a state, a source of presses.

Real drivers (serial framing, Modbus, MQTT) and the shipped fakes implement these
and pass the same contract tests; the simulator and demos use the fakes.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Protocol, runtime_checkable

from devices.payloads import DisplayState, KeyPress, RatingPress

__all__ = ["CounterDisplay", "KeySource", "Press"]

Press = KeyPress | RatingPress


@runtime_checkable
class CounterDisplay(Protocol):
    """The LED display of a counter."""

    async def show(self, state: DisplayState) -> None:
        """Show state (a state with number None blanks the display); DeviceError on failure."""

    async def clear(self) -> None:
        """Blank the display; DeviceError on failure."""


@runtime_checkable
class KeySource(Protocol):
    """A keypad: an async iterator of staff key and rating presses, in press order."""

    def __aiter__(self) -> AsyncIterator[Press]:
        """Iterate over presses as they happen."""
        ...
