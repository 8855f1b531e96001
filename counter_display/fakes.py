"""Shipped fakes of the counter device contracts, for the simulator, demos and tests."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from counter_display.protocols import Press
from devices.errors import DeviceUnavailable
from devices.payloads import DisplayState

__all__ = ["QueuedKeySource", "RecordingDisplay"]


class RecordingDisplay:
    """A CounterDisplay that remembers what it shows; `available=False` makes it fail."""

    def __init__(self) -> None:
        self.shown: DisplayState | None = None
        self.history: list[DisplayState | None] = []
        self.available = True

    @property
    def number(self) -> str | None:
        """The number on the display now, None when blank."""
        return None if self.shown is None else self.shown.number

    async def show(self, state: DisplayState) -> None:
        """Record state as shown (a None number blanks it)."""
        self._check()
        self.shown = state if state.number is not None else None
        self.history.append(self.shown)

    async def clear(self) -> None:
        """Record a blank display."""
        self._check()
        self.shown = None
        self.history.append(None)

    def _check(self) -> None:
        if not self.available:
            raise DeviceUnavailable("recording display set unavailable")


class QueuedKeySource:
    """A KeySource fed by `press()`; iteration yields presses in order."""

    def __init__(self) -> None:
        self._queue: asyncio.Queue[Press] = asyncio.Queue()

    def press(self, press: Press) -> None:
        """Queue a press as if a key was pushed."""
        self._queue.put_nowait(press)

    def __aiter__(self) -> AsyncIterator[Press]:
        return self

    async def __anext__(self) -> Press:
        return await self._queue.get()
