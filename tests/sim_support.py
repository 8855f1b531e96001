"""Simulator test support: a Floor that checks every call, one simulated day on it, the ticket trail check.

Shared by the simulator tests on the demo sites (tests/test_sim_run.py) and on
generated sites (tests/test_unseen_sites_sim.py).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from typing import Any

import numpy as np

from controller.core.commands import Command
from controller.core.events import Event
from controller.core.floor import Floor
from controller.core.policies import fairness_violation
from controller.core.site import Site
from sim.arrivals import day_arrivals
from sim.away import away_plans
from sim.metrics import DayRecorder, Tally
from sim.scenario import Scenario, Surge
from sim.shifts import day_plan
from sim.staff import SiteDay

__all__ = ["MONDAY", "CheckingFloor", "locations_are_consistent", "run_day"]

MONDAY = 1736121600.0  # 2025-01-06 00:00 UTC


class CheckingFloor(Floor):
    """A Floor that checks every call against the routing rules before it is applied."""

    def __init__(self, site: Site, policy: str) -> None:
        super().__init__(site, policy)
        self.calls = 0
        self.violations: list[str] = []
        self.events: list[Event] = []

    def execute(self, command: Command, now: float) -> list[Event]:
        events = self.decide(command, now)
        for event in events:
            if event.type == "ticket.called":
                self._check(event)
        self.apply(events)
        return events

    def apply(self, events: Any) -> None:
        events = list(events)
        self.events.extend(events)
        super().apply(events)

    def _check(self, event: Event) -> None:
        state, now = self.state, event.at
        self.calls += 1
        counter = state.specs[event.data["counter"]]  # as opened: maybe for fewer agencies
        ticket = state.tickets[event.data["ticket"]]
        if ticket.agency not in counter.serves:
            self.violations.append(f"counter {counter.id} may not serve {ticket.agency}")
        waiting = [state.tickets[t] for a in counter.serves for t in state.queues[a].ordered()]
        overdue = [u for u in waiting if state.deadline_of(u) <= now]
        if self.policy.name == "deadline":
            unfair = fairness_violation(state, counter, ticket.id, now)
            if unfair is not None:
                self.violations.append(f"fairness: {unfair}")
        if not ticket.is_priority and not overdue and any(u.is_priority for u in waiting):
            self.violations.append(f"priority passed over by {ticket.number} at counter {counter.id}")


def run_day(site: Site, scenario: Scenario, policy: str, seed: int = 1,
            auto_standby: bool = True, day: type[SiteDay] = SiteDay) -> tuple[CheckingFloor, Tally]:
    """One simulated Monday of `site` (scenario.weekday's arrivals) on a CheckingFloor, and its tally.

    `day` runs it (a SiteDay subclass lets a test change how the simulated people act).
    """
    site = replace(site, auto_open_standby=auto_standby)
    floor = CheckingFloor(site, policy)
    tally = Tally(sites=1)
    rng = np.random.default_rng(seed)
    surges = [e for e in scenario.for_site(site.id) if isinstance(e, Surge)]
    arrivals = day_arrivals(site, scenario.weekday, surges, rng, scenario.no_show_share, scenario.incomplete_share)
    plans = away_plans(arrivals, scenario, rng)
    midnight = MONDAY - site.utc_offset_s  # 2025-01-06 00:00 local (1736096400.0 at +07:00)
    recorder = DayRecorder(tally, 0, 0, midnight, {p.id: p.service_s for p in site.procedures.values()})
    day(floor, scenario, day_plan(site, scenario), arrivals, midnight, recorder, plans=plans).run()
    return floor, tally


def locations_are_consistent(events: list[Event]) -> None:
    """Follow every ticket through the event stream: it is always in exactly one place."""
    where: dict[str, str] = {}
    finished: Counter[tuple[str, int]] = Counter()
    steps: dict[str, int] = {}
    for event in events:
        d, kind = event.data, event.type
        tid = d.get("ticket")
        if kind == "ticket.issued":
            assert tid not in where
            # an appointment checked in before its slot waits out of line until the slot; a number taken
            # from a phone is away until checked in
            where[tid] = "away" if d.get("away") else "early" if d.get("slot_at", 0) > event.at else "queue"
            steps[tid] = 0
        elif kind in ("ticket.checked_in", "ticket.expired", "ticket.rejoined"):
            assert where[tid] == ("gone" if kind == "ticket.rejoined" else "away"), (tid, kind, where[tid])
            where[tid] = {"ticket.checked_in": "queue", "ticket.expired": "gone", "ticket.rejoined": "away"}[kind]
        elif kind == "ticket.called":
            assert where[tid] in ("queue", "early"), (tid, where[tid])
            where[tid] = f"counter {d['counter']}"
        elif kind == "ticket.started":
            assert where[tid] == f"counter {d['counter']}"
        elif kind == "ticket.finished":
            assert where[tid] == f"counter {d['counter']}"
            finished[(tid, steps[tid])] += 1
            if d.get("next_step") is None:
                where[tid] = "done"
            else:
                steps[tid] += 1
                where[tid] = "back office" if d.get("ready_at", 0) > event.at else "queue"
        elif kind == "ticket.no_show":
            assert where[tid] == f"counter {d['counter']}"
            where[tid] = "held" if d.get("requeued") else "gone"
        elif kind == "ticket.ready":
            assert where[tid] in ("back office", "held", "early")
            where[tid] = "queue"
        elif kind == "ticket.abandoned":
            assert where[tid] in ("queue", "back office", "held", "early", "away")
            where[tid] = "gone"
    assert all(n == 1 for n in finished.values()), "a transaction was served twice"
    assert set(where.values()) <= {"done", "gone"}, "someone is still on the floor after the day"
