"""A small text progress bar on stderr, shown only for long runs on a terminal."""

from __future__ import annotations

import sys
import time
from typing import TextIO

__all__ = ["ProgressBar"]


class ProgressBar:
    """Call it with (done, total); it draws only after `delay_s` and only on a TTY (or when forced)."""

    def __init__(self, label: str, stream: TextIO | None = None, delay_s: float = 2.0, force: bool = False,
                 width: int = 30) -> None:
        self.label = label
        self.stream = stream if stream is not None else sys.stderr
        self.delay_s = delay_s
        self.enabled = force or self.stream.isatty()
        self.width = width
        self.started = time.monotonic()
        self.drawn = False
        self._last = 0.0

    def __call__(self, done: int, total: int) -> None:
        if not self.enabled or total <= 0:
            return
        now = time.monotonic()
        # Quick runs stay silent; long ones redraw a few times a second at most.
        if now - self.started < self.delay_s or (now - self._last < 0.2 and done < total):
            return
        self._last = now
        filled = int(self.width * done / total)
        bar = "#" * filled + "." * (self.width - filled)
        self.stream.write(f"\r{self.label} [{bar}] {done}/{total} {now - self.started:5.1f}s")
        self.drawn = True
        if done >= total:
            self.close()

    def close(self) -> None:
        """End the bar's line if one was drawn."""
        if self.drawn:
            self.stream.write("\n")
            self.stream.flush()
            self.drawn = False
