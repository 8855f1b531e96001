"""The tick's levers from a site's plan: planned standby shifts and advice to defer a break.

A standby counter with a planned shift is opened for the shift's agencies at
its start where the site lets the tick open counters (else recommended) and
closed at its end once idle. A counter whose listed break comes due while a
line it serves has been at risk long enough gets one alert advising to defer
it; the alert ends when the counter pauses. The simulator's staff follow the
advice with the scenario's probability.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np

from controller.core.commands import IssueTicket, OpenCounter, PauseCounter
from controller.core.floor import Floor
from controller.core.site import Site, parse_site
from sim.arrivals import day_arrivals
from sim.metrics import DayRecorder, Tally
from sim.scenario import parse_scenario
from sim.shifts import day_plan
from sim.staff import SiteDay

MIDNIGHT = 1736096400.0  # 2025-01-06 00:00 at +07:00 (a Monday)


def _at(hhmm: str) -> float:
    hours, minutes = hhmm.split(":")
    return MIDNIGHT + 3600 * int(hours) + 60 * int(minutes)


def _site(auto_open: bool = True, **counter: Any) -> Site:
    return parse_site({
        "site": {"id": "x", "name": "Trung tâm thử", "hours": [["07:30", "11:30"]], "expected_daily_visits": 200,
                 "auto_open_standby": auto_open},
        "agency": [{"id": "A", "name": "Cơ quan A", "name_en": "Agency A", "number_block": 1000},
                   {"id": "B", "name": "Cơ quan B", "number_block": 2000}],
        "procedure": [{"id": "a", "agency": "A", "name": "Thủ tục A", "share": 0.8, "service": 10.0},
                      {"id": "b", "agency": "B", "name": "Thủ tục B", "share": 0.2, "service": 5.0}],
        "counter": [{"ids": [1], "serves": ["A"], "breaks": [["09:00", "09:15"]], **counter},
                    {"ids": [2], "serves": ["B"]},
                    {"ids": [3], "serves": ["A", "B"], "standby": True,
                     "standby_plan": [{"from": "08:00", "to": "08:30", "serves": ["A"]}]}],
    }, "test.toml")


def _ticks(floor: Floor, start: str, end: str, step_s: float = 30.0) -> list[Any]:
    events = []
    now, stop = _at(start), _at(end)
    while now <= stop:
        events.extend(_tick(floor, now))
        now += step_s
    return events


def _tick(floor: Floor, now: float) -> list[Any]:
    events = floor.tick(now)
    floor.apply(events)
    return events


def test_a_planned_standby_shift_opens_for_its_agencies_and_closes_at_its_end() -> None:
    floor = Floor(_site(), "deadline")
    events = _ticks(floor, "07:45", "08:40")
    changes = [(e.at, e.data["status"], e.data.get("serves"), e.data["by"]) for e in events
               if e.type == "counter.changed" and e.data["counter"] == 3]
    assert changes == [(_at("08:00"), "open", ["A"], "plan"), (_at("08:30"), "closed", None, "plan")]


def test_without_auto_open_the_planned_shift_is_recommended_once() -> None:
    floor = Floor(_site(auto_open=False), "deadline")
    alerts = [e for e in _ticks(floor, "07:45", "08:20") if e.type == "alert.raised"]
    assert [(a.data["code"], a.data["counter"], a.data["agencies"], a.data["window"]) for a in alerts] == [
        ("standby_planned", 3, ["A"], "08:00-08:30")]
    assert "Theo kế hoạch" in alerts[0].data["message"] and "as planned" in alerts[0].data["message"]
    floor.execute(OpenCounter(counter=3, staff="nv3", serves=("A",)), _at("08:21"))
    assert floor.state.alerts[alerts[0].data["alert"]].get("resolved")


def _crowded(site: Site) -> Floor:
    floor = Floor(site, "deadline")
    floor.execute(OpenCounter(counter=1, staff="nv1"), _at("07:30"))
    for minute in range(0, 40, 2):  # far more of A than one counter calls within 15 minutes
        floor.execute(IssueTicket(procedure="a"), _at("08:10") + 60 * minute)
    return floor


def test_a_break_due_while_its_line_is_at_risk_is_advised_to_wait_once() -> None:
    floor = _crowded(_site())
    events = _ticks(floor, "08:10", "09:05")
    advice = [e for e in events if e.type == "alert.raised" and e.data["code"] == "break_defer_recommended"]
    assert len(advice) == 1
    alert = advice[0].data
    assert (alert["counter"], alert["agencies"], alert["window"]) == (1, ["A"], "09:00-09:15")
    assert advice[0].at >= _at("08:50")  # not before the break comes into view
    assert "Nên lùi giờ nghỉ" in alert["message"] and "defer" in alert["message"]
    floor.execute(PauseCounter(counter=1, reason="break"), _at("09:06"))
    assert floor.state.alerts[alert["alert"]].get("resolved")


def test_no_advice_when_the_line_is_comfortable() -> None:
    floor = Floor(_site(), "deadline")
    floor.execute(OpenCounter(counter=1, staff="nv1"), _at("07:30"))
    floor.execute(IssueTicket(procedure="a"), _at("08:55"))
    events = _ticks(floor, "08:50", "09:10")
    assert not [e for e in events if e.type == "alert.raised" and e.data["code"] == "break_defer_recommended"]


def test_simulated_staff_defer_an_advised_break_when_they_follow_advice() -> None:
    site = replace(_site(), expected_daily_visits=400)
    taken = _break_starts(site, 0.0)
    deferred = _break_starts(site, 1.0)
    assert taken and deferred
    assert min(taken) < _at("09:15")             # not following advice: the break is taken when due
    assert min(deferred) >= min(taken) + 14 * 60  # following it: put off by a deferral (15 minutes each)


def _break_starts(site: Site, follow: float) -> list[float]:
    scenario = parse_scenario({"weekday": 0, "follow_break_advice": follow}, "test.toml", [site])
    floor = _RecordingFloor(site, "deadline")
    arrivals = day_arrivals(site, 0, [], np.random.default_rng(5), 0.0, 0.0)
    recorder = DayRecorder(Tally(sites=1), 0, 0, MIDNIGHT, {p.id: p.service_s for p in site.procedures.values()})
    SiteDay(floor, scenario, day_plan(site, scenario), arrivals, MIDNIGHT, recorder).run()
    return [e.at for e in floor.seen if e.type == "counter.changed" and e.data["counter"] == 1
            and e.data["status"] == "paused"]


class _RecordingFloor(Floor):
    """A Floor that keeps every event it applies."""

    def __init__(self, site: Site, policy: str) -> None:
        super().__init__(site, policy)
        self.seen: list[Any] = []

    def apply(self, events: Any) -> None:
        events = list(events)
        self.seen.extend(events)
        super().apply(events)
