"""Where a site's counters fall short of the wait target, whatever the routing.

Routing can only call a ticket at a counter that may serve it. This module
asks, for every agency and half hour of a run, how many counters an M/M/c
queue would need to call `service_level` of that half hour's transactions
within the target (controller/core/forecast.counters_needed, as the staffing
report does), and compares it with the counters that may serve the agency and
were open then, shared ones counted in full (staff breaks lower it). Half hours
short of counters are merged into spans, each with the transactions the same
queue expects to be late with the counters the agency had; spans expecting
fewer than MIN_LATE late transactions a day are left out (a one-counter agency
always has some chance of a clump). What remains is what a centre changes in
its layout (train a standby or cross-trained counter for the agency, open one
of its own, stagger breaks), not in its routing. M/M/c per half hour (the
usual staffing model) treats each half hour as steady: an overloaded half
hour counts all its transactions late, and its backlog is not carried over.

Demand is the run's own: transactions entering each agency's line (new
tickets, journey steps, transfers), averaged over the run's days of the same
weekday.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from controller.core.erlang import wait_within
from controller.core.forecast import counters_needed
from sim.metrics import HALF_HOUR_S
from sim.runner import RunResult

__all__ = ["MIN_LATE", "SERVICE_LEVEL", "StaffingGap", "staffing_gaps"]

SERVICE_LEVEL = 0.95
MIN_LATE = 1.0   # expected late transactions a day below which a span is not worth a layout change


@dataclass(frozen=True)
class StaffingGap:
    """A span of half hours in which an agency has fewer counters than it needs."""

    site: str
    weekday: int                # 0 = Monday
    agency: str
    start_s: float              # local seconds from midnight, first half hour of the span
    end_s: float                # end of its last half hour
    transactions: float         # entering the agency's line in the span, per day
    late: float                 # of those, expected late with the counters it had (M/M/c), per day
    needed: int                 # counters needed in the span's busiest half hour
    serving: float              # counters that may serve it, open on average over the span


def staffing_gaps(run: RunResult, service_level: float = SERVICE_LEVEL) -> list[StaffingGap]:
    """Every span where an agency's open counters fall short, by site, weekday, agency and time."""
    tally = run.tally
    days_of: dict[int, int] = defaultdict(int)
    for weekday in run.weekdays:
        days_of[weekday] += 1
    # (site, weekday, agency, half hour) -> [transactions, nominal service, counter-seconds open], summed over days
    slots: dict[tuple[int, int, str, int], list[float]] = defaultdict(lambda: [0.0, 0.0, 0.0])
    for (site_index, day, half_hour, agency), (entries, service) in tally.agency_bins.items():
        if site_index >= len(run.sites) or day >= len(run.weekdays):
            continue
        slot = slots[(site_index, run.weekdays[day], agency, half_hour)]
        slot[0] += entries
        slot[1] += service
    for (site_index, day, half_hour), _bin in tally.bins.items():
        if site_index >= len(run.sites) or day >= len(run.weekdays):
            continue
        site = run.sites[site_index]
        weekday = run.weekdays[day]
        for agency in site.agencies:
            key = (site_index, weekday, agency, half_hour)
            if key not in slots:
                continue
            slots[key][2] += sum(tally.counter_open_s.get((site_index, day, half_hour, c.id), 0.0)
                                 for c in site.counters_for(agency))
    target = tally.transaction_target_s
    short: dict[tuple[int, int, str], list[_Half]] = defaultdict(list)
    for (site_index, weekday, agency, half_hour), (entries, service, open_s) in sorted(slots.items()):
        # a half hour that starts while the site is closed (lines left at a break) is not a staffing question
        if entries <= 0 or run.sites[site_index].half_hour_index(half_hour * HALF_HOUR_S) is None:
            continue
        days = days_of[weekday]
        arrivals, mean_service = entries / days, service / entries
        needed = counters_needed(arrivals, mean_service, target, service_level)
        serving = open_s / days / HALF_HOUR_S
        if needed > serving + 1e-9:
            within = wait_within(serving, arrivals / HALF_HOUR_S, 1.0 / mean_service, target)
            short[(site_index, weekday, agency)].append(
                _Half(half_hour, arrivals, arrivals * (1.0 - within), needed, serving))
    gaps: list[StaffingGap] = []
    for (site_index, weekday, agency), halves in short.items():
        span: list[_Half] = []
        for half in [*halves, None]:
            if span and (half is None or half.index != span[-1].index + 1):
                gap = _gap(run, site_index, weekday, agency, span)
                if gap.late >= MIN_LATE:
                    gaps.append(gap)
                span = []
            if half is not None:
                span.append(half)
    gaps.sort(key=lambda g: (g.site, g.weekday, -g.late, g.agency, g.start_s))
    return gaps


@dataclass(frozen=True)
class _Half:
    index: int
    arrivals: float
    late: float
    needed: int
    serving: float


def _gap(run: RunResult, site_index: int, weekday: int, agency: str, span: list[_Half]) -> StaffingGap:
    return StaffingGap(
        site=run.sites[site_index].id,
        weekday=weekday,
        agency=agency,
        start_s=span[0].index * HALF_HOUR_S,
        end_s=(span[-1].index + 1) * HALF_HOUR_S,
        transactions=sum(h.arrivals for h in span),
        late=sum(h.late for h in span),
        needed=max(h.needed for h in span),
        serving=sum(h.serving for h in span) / len(span),
    )
