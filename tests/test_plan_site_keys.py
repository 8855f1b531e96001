"""The site-file keys of the layout advisor: agency cross_train, counter fixed, breaks and standby_plan.

They load strictly (a bad value is refused naming file, table, key and reason) and the simulator
follows them: listed breaks replace the staggered ones, planned standby shifts are staffed for the
agencies they name.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from controller.core.errors import SiteError
from controller.core.site import PlannedShift, Site, parse_site
from controller.sitefile import read_toml
from sim.arrivals import day_arrivals
from sim.metrics import DayRecorder, Tally
from sim.runner import RunOptions, simulate
from sim.scenario import Scenario
from sim.shifts import day_plan
from sim.staff import SiteDay
from tests.sim_support import MONDAY, CheckingFloor

SITES = Path(__file__).resolve().parent.parent / "controller" / "sites"


def commune(**counter_7: Any) -> dict[str, Any]:
    """The demo commune with a standby counter 7 (HT, DD, TKQ) carrying the given keys."""
    data = read_toml(SITES / "commune-centre.toml")
    data["counter"].append({"ids": [7], "serves": ["HT", "DD", "TKQ"], "standby": True, **counter_7})
    return data


def test_the_keys_load() -> None:
    data = commune(standby_plan=[{"from": "08:00", "to": "10:30", "serves": ["HT", "TKQ"]},
                                 {"from": "14:00", "to": "15:00"}])
    data["agency"][0]["cross_train"] = False
    data["counter"][0]["fixed"] = True
    data["counter"][1]["breaks"] = [["14:00", "14:15"], ["09:30", "09:45"]]
    site = parse_site(data, "x.toml")
    assert not site.agencies["HT"].cross_train and site.agencies["CTH"].cross_train
    assert site.counters[1].fixed and site.counters[2].fixed and not site.counters[3].fixed
    assert site.counters[3].breaks == ((570, 585), (840, 855)) and site.counters[4].breaks is None
    assert site.counters[7].standby_plan == (PlannedShift(480, 630, ("HT", "TKQ")),
                                             PlannedShift(840, 900, ("HT", "DD", "TKQ")))
    # A file without the keys may be changed anywhere.
    plain = parse_site(read_toml(SITES / "commune-centre.toml"), "x.toml")
    assert all(a.cross_train for a in plain.agencies.values())
    assert not any(c.fixed or c.breaks is not None or c.standby_plan for c in plain.counters.values())


@pytest.mark.parametrize(
    ("edit", "field", "reason"),
    [
        (lambda d: d["agency"][0].update(cross_train="no"), "agency[0].cross_train", "must be true or false"),
        (lambda d: d["counter"][0].update(fixed=1), "counter[0].fixed", "must be true or false"),
        (lambda d: d["counter"][1].update(breaks=[["12:00", "12:15"]]), "counter[1].breaks[0]",
         "within one opening period"),
        (lambda d: d["counter"][1].update(breaks=[["09:00", "09:30"], ["09:15", "09:45"]]), "counter[1].breaks[1]",
         "overlaps counter[1].breaks[0]"),
        (lambda d: d["counter"][1].update(breaks=["09:00"]), "counter[1].breaks[0]", "must be a pair"),
        (lambda d: d["counter"][1].update(breaks="09:00-09:15"), "counter[1].breaks", "must be an array"),
        (lambda d: d["counter"][1].update(standby_plan=[{"from": "08:00", "to": "09:00"}]),
         "counter[1].standby_plan", "only a standby counter"),
        (lambda d: d["counter"][5].update(standby_plan=[{"from": "08:00", "to": "09:00", "serves": ["KT"]}]),
         "counter[5].standby_plan[0].serves", "'KT' is not among the counter's serves"),
        (lambda d: d["counter"][5].update(standby_plan=[{"from": "08:00", "till": "09:00"}]),
         "counter[5].standby_plan[0].till", "unknown field"),
        (lambda d: d["counter"][5].update(standby_plan=[{"to": "09:00"}]), "counter[5].standby_plan[0].from",
         "must be a time HH:MM"),
        (lambda d: d["counter"][5].update(standby_plan=[{"from": "09:00", "to": "08:00"}]),
         "counter[5].standby_plan[0].to", "must be after 'from'"),
        (lambda d: d["counter"][5].update(standby_plan=[{"from": "06:00", "to": "08:00"}]),
         "counter[5].standby_plan[0]", "within the opening hours"),
        (lambda d: d["counter"][5].update(standby_plan=[{"from": "11:45", "to": "13:00"}]),
         "counter[5].standby_plan[0]", "falls in a break between opening periods"),
        (lambda d: d["counter"][5].update(standby_plan=[{"from": "08:00", "to": "10:00"},
                                                        {"from": "09:00", "to": "11:00"}]),
         "counter[5].standby_plan[1]", "overlaps counter[5].standby_plan[0]"),
        (lambda d: d["counter"][5].update(standby_plan={"from": "08:00", "to": "10:00"}),
         "counter[5].standby_plan", "must be an array of tables"),
    ],
)
def test_bad_values_are_refused_naming_the_field(edit: Any, field: str, reason: str) -> None:
    data = commune()
    edit(data)
    with pytest.raises(SiteError) as caught:
        parse_site(data, "x.toml")
    assert caught.value.field == field and reason in caught.value.reason and caught.value.source == "x.toml"


def test_listed_breaks_replace_the_staggered_ones() -> None:
    plain = parse_site(commune(), "x.toml")
    data = commune()
    data["counter"][1]["breaks"] = [["10:00", "10:20"]]
    data["counter"][2]["breaks"] = []
    listed = parse_site(data, "x.toml")
    before, after = day_plan(plain, Scenario()), day_plan(listed, Scenario())
    assert [(b.at_s, b.duration_s) for b in after.breaks if b.counter == 3] == [(36000.0, 1200.0)]
    assert not [b for b in after.breaks if b.counter == 4]
    # the other counters keep today's staggered breaks
    assert {b for b in before.breaks if b.counter not in (3, 4)} == {b for b in after.breaks if b.counter not in (3, 4)}


def _day(site: Site, scenario: Scenario) -> CheckingFloor:
    """One Monday on a CheckingFloor (calls checked against what each counter is open for), no enforcement
    opening standby counters."""
    site = replace(site, auto_open_standby=False)
    floor = CheckingFloor(site, "deadline")
    arrivals = day_arrivals(site, scenario.weekday, [], np.random.default_rng(3), 0.0, 0.0)
    midnight = MONDAY - site.utc_offset_s
    recorder = DayRecorder(Tally(sites=1), 0, 0, midnight, {p.id: p.service_s for p in site.procedures.values()})
    SiteDay(floor, scenario, day_plan(site, scenario), arrivals, midnight, recorder).run()
    return floor


def test_a_planned_standby_shift_is_staffed_for_the_agencies_it_names() -> None:
    site = parse_site(commune(standby_plan=[{"from": "08:00", "to": "10:30", "serves": ["HT"]},
                                            {"from": "11:00", "to": "14:00"}]), "x.toml")
    plan = day_plan(site, Scenario())
    shifts = [(s.on_s / 60, s.off_s / 60, s.ends_period) for s in plan.shifts if s.counter == 7]
    # the second shift spans the lunch break: staffed to the morning's close, then from the afternoon's opening
    assert shifts == [(480, 630, False), (660, 690, True), (810, 840, False)]
    floor = _day(site, Scenario(weekday=0))
    midnight = MONDAY - site.utc_offset_s
    calls = [(e.at - midnight, e.data["agency"]) for e in floor.events
             if e.type == "ticket.called" and e.data["counter"] == 7]
    assert calls and not floor.violations
    assert all(480 * 60 <= at < 630 * 60 or at >= 660 * 60 for at, _ in calls)
    # HT only in the morning shift (the result line, the busiest, is left to its own counters), then all of them
    assert {agency for at, agency in calls if at < 630 * 60} == {"HT"}
    assert "TKQ" in {agency for at, agency in calls if at >= 660 * 60}
    changes = [(round((e.at - midnight) / 60), e.data["status"]) for e in floor.events
               if e.type == "counter.changed" and e.data["counter"] == 7]
    assert changes[0] == (480, "open") and changes[1][1] == "closed" and 630 <= changes[1][0] < 645


def test_the_simulator_runs_a_site_with_every_key() -> None:
    data = commune(standby_plan=[{"from": "08:00", "to": "10:00", "serves": ["TKQ"]}], fixed=True,
                   breaks=[["09:00", "09:15"]])
    data["agency"][0]["cross_train"] = False
    data["counter"][0]["breaks"] = [["10:00", "10:15"], ["15:00", "15:15"]]
    site = parse_site(data, "x.toml")
    result = simulate([site], Scenario(weekday=1), RunOptions(seed=2, auto_standby=False))
    open_s = result.tally.counter_open_s
    assert sum(v for (_s, _d, hh, c), v in open_s.items() if c == 7 and 16 <= hh < 20) == pytest.approx(4 * 1800,
                                                                                                       rel=0.15)
    # after 10:00 the counter only finishes the citizen it is serving
    assert sum(v for (_s, _d, hh, c), v in open_s.items() if c == 7 and not 16 <= hh < 20) < 1200
    assert result.tally.visits > 50 and result.tally.served > 50
