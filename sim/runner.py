"""One simulation run: every site, every day, each site on its own Floor, into one tally.

Days are consecutive calendar days from the scenario's weekday; a day on which
no site opens (weekday factor 0 everywhere, e.g. Sunday) is skipped, so
`--days 5` from a Monday simulates Monday to Friday. Sites are independent
(one Floor each), so they run one after the other; the Floor notices each new
local day itself (day.started).

Sites are independent, so with `jobs` > 1 they run in forked worker
processes, in contiguous chunks, and the chunks' tallies are merged in site
order: the result is identical to a run in one process (each site-day draws
from its own seed), only sooner on a machine with more than one core.

Standby counters: enforcement may open them when the site allows it. The run
forces `site.auto_open_standby` to `RunOptions.auto_standby` (the CLI passes
the scenario's `auto_open_standby`, default true, or false with --no-standby).
`replay` staffs given standby shifts as planned instead, to compare a policy
with another on exactly the counters the other opened.
"""

from __future__ import annotations

import datetime as dt
import math
import multiprocessing
import time
import zlib
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from controller.core.floor import Floor
from controller.core.policies import RoutingPolicy, make_policy
from controller.core.site import Site
from sim.arrivals import day_arrivals, day_factor
from sim.away import away_plans
from sim.erlang import pooled_within
from sim.metrics import HALF_HOUR_S, DayRecorder, Tally
from sim.scenario import Scenario, Surge
from sim.shifts import Shift, day_plan
from sim.staff import SiteDay

__all__ = ["RunOptions", "RunResult", "StandbyShift", "calendar", "simulate"]

# A Monday: simulated dates are fixed so a run does not depend on the day it is made.
_FIRST_MONDAY = dt.date(2025, 1, 6)

StandbyShift = tuple[int, int, int, float, float]  # site index, day index, counter, on (local s), off


@dataclass(frozen=True)
class RunOptions:
    """How to run: policy, seed, days, standby behaviour."""

    policy: str = "deadline"
    seed: int = 1
    days: int = 1
    auto_standby: bool = True
    replay: tuple[StandbyShift, ...] = ()
    record_estimates: bool = True
    jobs: int = 1  # worker processes for a multi-site run (the result does not depend on it)


@dataclass
class RunResult:
    """A finished run: its options, tally and timings."""

    options: RunOptions
    scenario: Scenario
    tally: Tally
    weekdays: list[int]
    wall_s: float = 0.0
    extra: dict[str, Any] = field(default_factory=dict)
    sites: tuple[Site, ...] = ()

    def bound(self) -> float | None:
        """Pooled Erlang C share within the transaction target for this run's arrivals and counters."""
        return pooled_within(
            ((entries, service / entries if entries else 0.0, open_s / HALF_HOUR_S, HALF_HOUR_S)
             for (entries, service, open_s) in self.tally.bins.values()),
            self.tally.transaction_target_s,
        )

    def layout_bound(self) -> float | None:
        """Erlang C per agency, each agency with every open counter that may serve it counted in full.

        Still optimistic (a shared counter counts for each of its agencies at once), but unlike
        the pooled bound it never lends an agency a counter that cannot serve it: the fee line
        keeps its own counters, a one-counter agency its one counter.
        """
        open_s = self.tally.counter_open_s
        slots = []
        for (site_index, day, half_hour, agency), (entries, service) in self.tally.agency_bins.items():
            if site_index >= len(self.sites) or entries <= 0:
                continue
            servers = sum(open_s.get((site_index, day, half_hour, c.id), 0.0)
                          for c in self.sites[site_index].counters_for(agency)) / HALF_HOUR_S
            slots.append((entries, service / entries, servers, HALF_HOUR_S))
        return pooled_within(slots, self.tally.transaction_target_s)

    def to_json(self) -> dict[str, Any]:
        """The JSON object of `motcua sim --json` (CONTRACT.md keys first)."""
        summary = self.tally.summary()
        head = {"policy": self.options.policy, "seed": self.options.seed}
        contract = ("sites", "visits", "transactions", "served", "abandoned", "wait_s",
                    "within_transaction_target", "visits_over_visit_target", "utilisation")
        out: dict[str, Any] = {**head, **{k: summary.pop(k) for k in contract}}
        out["wall_s"] = round(self.wall_s, 3)
        out["simulated_s"] = round(self.tally.simulated_s, 1)
        bound = self.bound()
        out.update(
            days=self.options.days,
            weekdays=self.weekdays,
            auto_standby=self.options.auto_standby,
            erlang_c_within_target=None if bound is None else round(bound, 4),
            **summary,
            **self.extra,
        )
        return out


def calendar(sites: Sequence[Site], first_weekday: int, days: int) -> list[tuple[int, dt.date]]:
    """(weekday, date) of the simulated days: consecutive, skipping days no site opens."""
    out: list[tuple[int, dt.date]] = []
    offset = 0
    while len(out) < days and offset < days * 7 + 7:
        weekday = (first_weekday + offset) % 7
        if any(day_factor(s, weekday) > 0 for s in sites):
            out.append((weekday, _FIRST_MONDAY + dt.timedelta(days=first_weekday + offset)))
        offset += 1
    return out


def _midnight(date: dt.date, utc_offset_s: int) -> float:
    """Epoch seconds of the site's local midnight on `date`."""
    utc = dt.datetime(date.year, date.month, date.day, tzinfo=dt.UTC).timestamp()
    return utc - utc_offset_s


def simulate(
    sites: Sequence[Site],
    scenario: Scenario,
    options: RunOptions,
    progress: Callable[[int, int], None] | None = None,
    make: Callable[[str], RoutingPolicy] = make_policy,
) -> RunResult:
    """Run every site over the scenario's days and tally the outcome (`make` builds each site's policy)."""
    if options.days < 1:
        raise ValueError("days must be >= 1")
    if options.jobs < 1:
        raise ValueError("jobs must be >= 1")
    started = time.perf_counter()
    tally = Tally(sites=len(sites))
    if sites:
        tally.transaction_target_s = sites[0].targets.transaction_wait_s
        tally.visit_target_s = sites[0].targets.visit_wait_s
    days = calendar(sites, scenario.weekday, options.days)
    span: dict[int, float] = {}
    job = _Job(tuple(sites), scenario, options, make, days, tally.transaction_target_s, tally.visit_target_s)
    for done, (part, part_span) in _chunks_run(job):
        tally.merge(part)
        for day_index, length in part_span.items():
            span[day_index] = max(span.get(day_index, 0.0), length)
        if progress is not None:
            progress(done, len(sites))
    tally.simulated_s = sum(span.values())
    return RunResult(options, scenario, tally, [w for w, _ in days], wall_s=time.perf_counter() - started,
                     sites=tuple(sites))


@dataclass(frozen=True)
class _Job:
    """What every worker needs to run its share of the sites."""

    sites: tuple[Site, ...]
    scenario: Scenario
    options: RunOptions
    make: Callable[[str], RoutingPolicy]
    days: list[tuple[int, dt.date]]
    transaction_target_s: float
    visit_target_s: float


_FORKED_JOB: _Job | None = None  # set in the parent just before forking; workers read it


def _chunks_run(job: _Job) -> Iterator[tuple[int, tuple[Tally, dict[int, float]]]]:
    """(sites done so far, (tally, day spans)) per chunk of sites, in site order."""
    count = len(job.sites)
    jobs = min(job.options.jobs, count)
    if jobs <= 1:
        # One site at a time, so a progress bar moves with every site.
        for index in range(count):
            yield index + 1, _run_sites(job, range(index, index + 1))
        return
    # Several chunks per worker even out sites of different sizes (a centre beside small communes).
    size = max(1, math.ceil(count / (jobs * 8)))
    chunks = [range(lo, min(count, lo + size)) for lo in range(0, count, size)]
    global _FORKED_JOB
    _FORKED_JOB = job
    try:
        # fork: workers inherit the job (sites, scenario, policy factory) instead of unpickling it.
        context = multiprocessing.get_context("fork")
        with ProcessPoolExecutor(max_workers=jobs, mp_context=context) as pool:
            for chunk, result in zip(chunks, pool.map(_run_forked, chunks), strict=True):
                yield chunk.stop, result
    finally:
        _FORKED_JOB = None


def _run_forked(indices: range) -> tuple[Tally, dict[int, float]]:
    assert _FORKED_JOB is not None, "a worker runs only in a process forked by _chunks_run"
    return _run_sites(_FORKED_JOB, indices)


def _run_sites(job: _Job, indices: range) -> tuple[Tally, dict[int, float]]:
    """Run the given sites (by index) over every day into a tally of their own."""
    options, scenario = job.options, job.scenario
    tally = Tally(transaction_target_s=job.transaction_target_s, visit_target_s=job.visit_target_s)
    span: dict[int, float] = {}
    for index in indices:
        site = replace(job.sites[index], auto_open_standby=options.auto_standby)
        floor = Floor(site, job.make(options.policy))
        surges = [e for e in scenario.for_site(site.id) if isinstance(e, Surge)]
        nominal = {p.id: p.service_s for p in site.procedures.values()}
        agency_of = {p.id: p.agency for p in site.procedures.values()}
        for day_index, (weekday, date) in enumerate(job.days):
            if day_factor(site, weekday) <= 0:
                continue
            midnight = _midnight(date, site.utc_offset_s)
            rng = np.random.default_rng(
                np.random.SeedSequence(options.seed, spawn_key=(zlib.crc32(site.id.encode()), day_index))
            )
            arrivals = day_arrivals(site, weekday, surges, rng, scenario.no_show_share, scenario.incomplete_share)
            plans = away_plans(arrivals, scenario, rng)  # drawn after the arrivals: the same people either way
            extra = [Shift(c, on, off, ends_period=False)
                     for (s, d, c, on, off) in options.replay if s == index and d == day_index]
            plan = day_plan(site, scenario, extra)
            recorder = DayRecorder(tally, index, day_index, midnight, nominal, agency_of)
            day = SiteDay(floor, scenario, plan, arrivals, midnight, recorder, options.record_estimates, plans)
            day.run()
            length = day.loop.now - (midnight + plan.periods[0][0])
            span[day_index] = max(span.get(day_index, 0.0), length)
    return tally, span
