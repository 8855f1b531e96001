"""A tiny discrete-event loop: a heap of (time, order, action), run in time order.

Actions are plain callables scheduled at a virtual time. Ties run in the order
they were scheduled, so a run is deterministic. Nothing ticks every virtual
second: the clock jumps from one scheduled action to the next.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable

__all__ = ["Loop"]

Action = Callable[[], None]


class Loop:
    """Virtual clock and agenda of one simulated site-day."""

    __slots__ = ("_agenda", "_order", "now", "steps")

    def __init__(self, start: float) -> None:
        self.now = start
        self._agenda: list[tuple[float, int, Action]] = []
        self._order = 0
        self.steps = 0

    def at(self, when: float, action: Action) -> None:
        """Run `action` at virtual time `when` (never in the past)."""
        self._order += 1
        heapq.heappush(self._agenda, (max(when, self.now), self._order, action))

    def after(self, delay: float, action: Action) -> None:
        """Run `action` `delay` seconds from now."""
        self.at(self.now + delay, action)

    def __len__(self) -> int:
        return len(self._agenda)

    def run(self, until: float | None = None) -> None:
        """Run actions in time order until the agenda is empty (or past `until`)."""
        agenda = self._agenda
        while agenda:
            when = agenda[0][0]
            if until is not None and when > until:
                break
            _, _, action = heapq.heappop(agenda)
            self.now = when
            self.steps += 1
            action()
