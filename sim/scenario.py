"""The [scenario] table of a site or province file: strict parsing into frozen values.

A scenario says which day is simulated (seed, weekday), what goes wrong on it
(counters closed, staff late, surges, devices down) and a few knobs of staff
and citizen behaviour. Every refusal is a SiteError naming the field, like a
bad site file, so nothing runs half-configured.

Times in events are local "HH:MM". Events apply to the first site of the file
(the centre of a province file) unless they name another with `site = "id"`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from controller.core.errors import SiteError
from controller.core.site import Site

__all__ = [
    "CounterClosed",
    "DeviceDown",
    "Scenario",
    "ScenarioEvent",
    "StaffLate",
    "Surge",
    "Window",
    "parse_scenario",
]

_HHMM = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")
_DEVICE = re.compile(r"^(printer|display:(\d+)|keypad:(\d+))$")


@dataclass(frozen=True, slots=True)
class Window:
    """A time window of a day, in local seconds since midnight, [start, end)."""

    start_s: float
    end_s: float

    def contains(self, local_s: float) -> bool:
        return self.start_s <= local_s < self.end_s


@dataclass(frozen=True, slots=True)
class CounterClosed:
    """Counters out of service in a window (no staff)."""

    site: str
    counters: tuple[int, ...]
    window: Window


@dataclass(frozen=True, slots=True)
class StaffLate:
    """Counters that open late at the morning opening."""

    site: str
    counters: tuple[int, ...]
    late_s: float


@dataclass(frozen=True, slots=True)
class Surge:
    """Arrivals for one agency multiplied in a window."""

    site: str
    agency: str
    factor: float
    window: Window


@dataclass(frozen=True, slots=True)
class DeviceDown:
    """A device out of order in a window: recorded and counted, the floor goes on."""

    site: str
    device: str
    window: Window


ScenarioEvent = CounterClosed | StaffLate | Surge | DeviceDown


@dataclass(frozen=True)
class Scenario:
    """One simulated situation: the day, the incidents, the behaviour knobs."""

    seed: int = 1
    weekday: int = 2                 # 0 = Monday; default a mid-week day
    auto_open_standby: bool = True   # enforcement may open standby counters itself
    walk_s: float = 30.0             # from the call to the counter
    break_s: float = 15 * 60.0       # one staff break
    breaks_per_half_day: int = 1
    no_show_share: float = 0.0       # called citizens who do not come
    incomplete_share: float = 0.0    # intakes that end "incomplete" (no fee/result step)
    tick_s: float = 30.0             # queue-length sampling interval (enforcement wakes on its own)
    lunch_serve_out: bool = True     # at noon, serve who already holds a number
    follow_break_advice: float = 0.0  # chance staff defer a break the tick advises deferring
    rating_share: float = 0.0        # citizens who rate the service at the counter's keypad after it
    rating_patience_s: float = 20 * 60.0  # each this much waiting costs one level of the rating, on average
    # Numbers that hold a place away (sim/away.py): citizens who take theirs from a phone at home when they
    # would have set off, the trips they announce (drawn evenly), whether they read the predicted wait; at the
    # kiosk, the share who accept to come back later when the wait is over the target; and for both, how late
    # they check in (mean, exponential) and the share who never come.
    remote_share: float = 0.0
    remote_travel_s: tuple[float, ...] = (600.0, 1200.0, 1800.0)
    remote_reads_wait: bool = True   # come directly when the page's predicted wait is shorter than the trip
    return_later_share: float = 0.0
    check_in_late_s: float = 3 * 60.0
    away_no_show_share: float = 0.1
    events: tuple[ScenarioEvent, ...] = field(default_factory=tuple)

    def for_site(self, site_id: str) -> tuple[ScenarioEvent, ...]:
        """The incidents of one site."""
        return tuple(e for e in self.events if e.site == site_id)


_KNOBS: dict[str, tuple[str, float | None, float | None]] = {
    # key: (kind, low, high)
    "seed": ("int", 0, 2**63 - 1),
    "weekday": ("int", 0, 6),
    "auto_open_standby": ("bool", None, None),
    "walk_s": ("number", 0, 600),
    "break_min": ("number", 0, 120),
    "breaks_per_half_day": ("int", 0, 4),
    "no_show_share": ("number", 0, 1),
    "incomplete_share": ("number", 0, 1),
    "tick_s": ("number", 1, 600),
    "lunch_serve_out": ("bool", None, None),
    "follow_break_advice": ("number", 0, 1),
    "rating_share": ("number", 0, 1),
    "rating_patience_min": ("number", 1, 600),
    "remote_share": ("number", 0, 1),
    "remote_travel_min": ("minutes", 1, 240),
    "check_in_late_min": ("number", 0, 120),
    "away_no_show_share": ("number", 0, 1),
    "remote_reads_wait": ("bool", None, None),
    "return_later_share": ("number", 0, 1),
}
_EVENT_KEYS = {
    "counter_closed": {"kind", "site", "counters", "from", "to"},
    "staff_late": {"kind", "site", "counters", "minutes"},
    "surge": {"kind", "site", "agency", "factor", "from", "to"},
    "device_down": {"kind", "site", "device", "from", "to"},
}


class _Parser:
    def __init__(self, source: str, sites: Sequence[Site]) -> None:
        self.source = source
        self.sites = {s.id: s for s in sites}
        self.default_site = sites[0].id if sites else ""

    def fail(self, where: str, reason: str) -> SiteError:
        return SiteError(self.source, where, reason)

    def knob(self, table: Mapping[str, Any], key: str) -> Any:
        kind, low, high = _KNOBS[key]
        value = table[key]
        where = f"scenario.{key}"
        if kind == "bool":
            if not isinstance(value, bool):
                raise self.fail(where, f"must be true or false, got {value!r}")
            return value
        if kind == "minutes":  # a non-empty array of numbers in low..high
            if not isinstance(value, list) or not value or any(
                    isinstance(v, bool) or not isinstance(v, int | float) or not low <= v <= high  # type: ignore[operator]
                    for v in value):
                raise self.fail(where, f"must be a non-empty array of minutes in {low:g}..{high:g}, got {value!r}")
            return tuple(float(v) for v in value)
        if isinstance(value, bool) or not isinstance(value, int if kind == "int" else int | float):
            raise self.fail(where, f"must be {'an integer' if kind == 'int' else 'a number'}, got {value!r}")
        if (low is not None and value < low) or (high is not None and value > high):
            raise self.fail(where, f"must be in {low:g}..{high:g}, got {value}")
        return value

    def time(self, event: Mapping[str, Any], key: str, where: str) -> float:
        value = event.get(key)
        if not isinstance(value, str) or not _HHMM.match(value):
            raise self.fail(f"{where}.{key}", f"must be a time HH:MM, got {value!r}")
        hh, mm = value.split(":")
        return float(int(hh) * 3600 + int(mm) * 60)

    def window(self, event: Mapping[str, Any], where: str) -> Window:
        start, end = self.time(event, "from", where), self.time(event, "to", where)
        if end <= start:
            raise self.fail(f"{where}.to", "must be after 'from'")
        return Window(start, end)

    def site(self, event: Mapping[str, Any], where: str) -> Site:
        site_id = event.get("site", self.default_site)
        if not isinstance(site_id, str) or site_id not in self.sites:
            raise self.fail(f"{where}.site", f"unknown site {site_id!r}")
        return self.sites[site_id]

    def counters(self, event: Mapping[str, Any], where: str, site: Site) -> tuple[int, ...]:
        value = event.get("counters")
        if not isinstance(value, list) or not value:
            raise self.fail(f"{where}.counters", "must be a non-empty array of counter numbers")
        for number in value:
            if isinstance(number, bool) or not isinstance(number, int) or number not in site.counters:
                raise self.fail(f"{where}.counters", f"site {site.id} has no counter {number!r}")
        return tuple(value)

    def event(self, event: Any, where: str) -> ScenarioEvent:
        if not isinstance(event, Mapping):
            raise self.fail(where, "must be a table")
        kind = event.get("kind")
        if kind not in _EVENT_KEYS:
            raise self.fail(f"{where}.kind", f"must be one of {', '.join(_EVENT_KEYS)}, got {kind!r}")
        for key in sorted(set(event) - _EVENT_KEYS[kind]):
            raise self.fail(f"{where}.{key}", f"unknown field for a {kind} event")
        site = self.site(event, where)
        if kind == "counter_closed":
            return CounterClosed(site.id, self.counters(event, where, site), self.window(event, where))
        if kind == "staff_late":
            minutes = event.get("minutes")
            if isinstance(minutes, bool) or not isinstance(minutes, int | float) or not 0 <= minutes <= 600:
                raise self.fail(f"{where}.minutes", f"must be a number 0..600, got {minutes!r}")
            return StaffLate(site.id, self.counters(event, where, site), 60.0 * minutes)
        if kind == "surge":
            agency = event.get("agency")
            if not isinstance(agency, str) or agency not in site.agencies:
                raise self.fail(f"{where}.agency", f"site {site.id} has no agency {agency!r}")
            factor = event.get("factor")
            if isinstance(factor, bool) or not isinstance(factor, int | float) or not 0 <= factor <= 100:
                raise self.fail(f"{where}.factor", f"must be a number 0..100, got {factor!r}")
            return Surge(site.id, agency, float(factor), self.window(event, where))
        device = event.get("device")
        match = _DEVICE.match(device) if isinstance(device, str) else None
        if match is None:
            raise self.fail(f"{where}.device", f'must be "printer", "display:N" or "keypad:N", got {device!r}')
        number = match.group(2) or match.group(3)
        if number is not None and int(number) not in site.counters:
            raise self.fail(f"{where}.device", f"site {site.id} has no counter {number}")
        return DeviceDown(site.id, str(device), self.window(event, where))


def parse_scenario(table: Mapping[str, Any], source: str, sites: Sequence[Site]) -> Scenario:
    """Validate a [scenario] table against the sites it runs on; SiteError names the bad field."""
    parser = _Parser(source, sites)
    for key in sorted(table):
        if key not in _KNOBS and key != "event":
            raise parser.fail(f"scenario.{key}", "unknown field")
    knobs = {key: parser.knob(table, key) for key in _KNOBS if key in table}
    raw_events = table.get("event", [])
    if not isinstance(raw_events, list):
        raise parser.fail("scenario.event", "must be an array of tables ([[scenario.event]])")
    events = tuple(parser.event(e, f"scenario.event[{i}]") for i, e in enumerate(raw_events))
    return Scenario(
        seed=int(knobs.get("seed", 1)),
        weekday=int(knobs.get("weekday", 2)),
        auto_open_standby=bool(knobs.get("auto_open_standby", True)),
        walk_s=float(knobs.get("walk_s", 30.0)),
        break_s=60.0 * float(knobs.get("break_min", 15.0)),
        breaks_per_half_day=int(knobs.get("breaks_per_half_day", 1)),
        no_show_share=float(knobs.get("no_show_share", 0.0)),
        incomplete_share=float(knobs.get("incomplete_share", 0.0)),
        tick_s=float(knobs.get("tick_s", 30.0)),
        lunch_serve_out=bool(knobs.get("lunch_serve_out", True)),
        follow_break_advice=float(knobs.get("follow_break_advice", 0.0)),
        rating_share=float(knobs.get("rating_share", 0.0)),
        rating_patience_s=60.0 * float(knobs.get("rating_patience_min", 20.0)),
        remote_share=float(knobs.get("remote_share", 0.0)),
        remote_travel_s=tuple(60.0 * m for m in knobs.get("remote_travel_min", (10.0, 20.0, 30.0))),
        check_in_late_s=60.0 * float(knobs.get("check_in_late_min", 3.0)),
        away_no_show_share=float(knobs.get("away_no_show_share", 0.1)),
        remote_reads_wait=bool(knobs.get("remote_reads_wait", True)),
        return_later_share=float(knobs.get("return_later_share", 0.0)),
        events=events,
    )
