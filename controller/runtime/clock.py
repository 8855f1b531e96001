"""Clocks for the runtime: the wall clock, and one that tests can move forward."""

from __future__ import annotations

import threading
import time

__all__ = ["AdjustableClock"]


class AdjustableClock:
    """Wall time plus an offset that only grows (time never runs backwards for the core)."""

    def __init__(self) -> None:
        self._offset = 0.0
        self._lock = threading.Lock()

    def __call__(self) -> float:
        return time.time() + self._offset

    def advance(self, seconds: float) -> float:
        """Move the clock forward; returns the new time."""
        if seconds < 0:
            raise ValueError("the clock only moves forward")
        with self._lock:
            self._offset += seconds
        return self()
