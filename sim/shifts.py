"""The staffing plan of one site-day: who sits at which counter when, and their breaks.

Regular (non-standby) counters are staffed from each opening to each closing;
`staff_late` delays the morning opening, `counter_closed` takes a counter out
for a window. A counter whose site-file entry lists its `breaks` rests then;
the others' breaks are staggered across counters (consecutive counters of an
agency rest at different times) and skipped when they would end in the last
half hour of a period. A standby counter is staffed during the shifts of its
`standby_plan`, opened for the agencies each shift names (the core then calls
only from those lines); otherwise
target enforcement opens it (or a replayed plan, to compare policies on the same
counters). Nobody staffs any counter while `counter_closed` takes it out.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from controller.core.site import Site
from sim.scenario import CounterClosed, Scenario, StaffLate

__all__ = ["Break", "DayPlan", "Shift", "day_plan"]

_FIRST_BREAK_AFTER_S = 45 * 60.0
_NO_BREAK_BEFORE_CLOSE_S = 30 * 60.0


@dataclass(frozen=True, slots=True)
class Shift:
    """A counter staffed from on_s to off_s (local seconds); ends_period: closes with the period."""

    counter: int
    on_s: float
    off_s: float
    ends_period: bool
    serves: tuple[str, ...] = ()  # a planned standby shift: opened for these agencies (empty: all)


@dataclass(frozen=True, slots=True)
class Break:
    """A staff break: the counter pauses once idle at or after at_s, for duration_s."""

    counter: int
    at_s: float
    duration_s: float


@dataclass(frozen=True)
class DayPlan:
    """Working periods, shifts and breaks of one site-day."""

    periods: tuple[tuple[float, float], ...]
    shifts: tuple[Shift, ...]
    breaks: tuple[Break, ...]
    # counter_closed windows of every counter (standby ones too): (counter, from, to), local seconds
    closures: tuple[tuple[int, float, float], ...] = ()

    def closed(self, counter: int, local_s: float) -> bool:
        """Is the counter out of service (no staff) at this local time?"""
        return any(c == counter and start <= local_s < end for c, start, end in self.closures)


def _subtract(on: float, off: float, holes: Sequence[tuple[float, float]]) -> list[tuple[float, float]]:
    """[on, off) minus the holes, as sorted intervals (none when staff come after `off`)."""
    parts = [(on, off)] if on < off else []
    for hole_start, hole_end in sorted(holes):
        next_parts = []
        for a, b in parts:
            if hole_end <= a or hole_start >= b:
                next_parts.append((a, b))
                continue
            if a < hole_start:
                next_parts.append((a, hole_start))
            if hole_end < b:
                next_parts.append((hole_end, b))
        parts = next_parts
    return parts


def day_plan(site: Site, scenario: Scenario, extra: Sequence[Shift] = ()) -> DayPlan:
    """Build the plan of one day from the site's hours, counters and the scenario incidents."""
    periods = tuple((start * 60.0, end * 60.0) for start, end in site.hours)
    events = scenario.for_site(site.id)
    late: dict[int, float] = {}
    closed: dict[int, list[tuple[float, float]]] = {}
    for event in events:
        if isinstance(event, StaffLate):
            for c in event.counters:
                late[c] = max(late.get(c, 0.0), event.late_s)
        elif isinstance(event, CounterClosed):
            for c in event.counters:
                closed.setdefault(c, []).append((event.window.start_s, event.window.end_s))
    regular = [c for c in site.counters.values() if not c.standby]
    shifts: list[Shift] = []
    breaks: list[Break] = []
    for p, (start, end) in enumerate(periods):
        usable = end - _NO_BREAK_BEFORE_CLOSE_S - (start + _FIRST_BREAK_AFTER_S)
        n = scenario.breaks_per_half_day
        for counter in site.counters.values():
            if counter.standby:
                for planned in counter.standby_plan:
                    on, off = max(start, planned.start_min * 60.0), min(end, planned.end_min * 60.0)
                    if p == 0:
                        on = max(on, start + late.get(counter.id, 0.0))
                    for a, b in _subtract(on, off, closed.get(counter.id, [])):
                        shifts.append(Shift(counter.id, a, b, ends_period=b >= end, serves=planned.serves))
            if counter.breaks is not None:
                # The site file says when this counter's staff rest (they rest only while staffed).
                breaks.extend(Break(counter.id, a * 60.0, (b - a) * 60.0) for a, b in counter.breaks
                              if start <= a * 60.0 < end)
        for k, counter in enumerate(regular):
            on = start + (late.get(counter.id, 0.0) if p == 0 else 0.0)
            for a, b in _subtract(on, end, closed.get(counter.id, [])):
                shifts.append(Shift(counter.id, a, b, ends_period=b >= end))
            if n == 0 or scenario.break_s <= 0 or usable <= 0 or counter.breaks is not None:
                continue
            span = usable / n
            slots = max(1, int(span // scenario.break_s))
            for b_index in range(n):
                at = start + _FIRST_BREAK_AFTER_S + b_index * span + (k % slots) * scenario.break_s
                if at + scenario.break_s <= end - _NO_BREAK_BEFORE_CLOSE_S:
                    breaks.append(Break(counter.id, at, scenario.break_s))
    shifts.extend(extra)
    closures = tuple((c, start, end) for c, windows in sorted(closed.items()) for start, end in windows)
    return DayPlan(periods, tuple(shifts), tuple(breaks), closures)
