"""The day so far as time series, for the monitor's charts: replayed from the log. Pure.

Replaying through the same fold as the controller (not re-deriving queue
lengths from event arithmetic) keeps the plotted queue identical to what the
floor really had at each moment, and the share within target the core's one
definition (controller/core/targets.py).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from controller.core.events import Event
from controller.core.floor import Floor
from controller.core.site import Site
from controller.core.targets import TargetTally, transaction_tallies

__all__ = ["day_series"]

HOUR_S = 3600.0


def day_series(site: Site, events: Iterable[Mapping[str, Any]], now: float, bin_s: float = 300.0) -> dict[str, Any]:
    """Per agency and for the whole site: people in line and past the target at each bin edge, the mean
    wait of the calls in each bin, and the share within target over the last hour."""
    floor = Floor(site, "fifo")  # the routing policy does not matter for a replay
    target = site.targets.transaction_wait_s
    agencies = list(site.agencies)
    bins: list[float] = []
    waiting: dict[str, list[int]] = {a: [] for a in agencies}
    over: dict[str, list[int]] = {a: [] for a in agencies}
    call_waits: dict[str, list[list[float]]] = {a: [] for a in agencies}
    hour_ago: dict[str, tuple[int, int, int]] | None = None  # the call tally an hour before now
    next_edge: float | None = None

    def sample(edge: float) -> None:
        bins.append(edge)
        in_line = floor.state.waiting_by_agency()
        for agency in agencies:
            tickets = in_line[agency]
            waiting[agency].append(len(tickets))
            over[agency].append(sum(1 for t in tickets if t.waited(edge) > target))
            call_waits[agency].append([])

    def tally_now() -> dict[str, tuple[int, int, int]]:
        return {a: (ok, late, left) for a, (ok, late, left) in floor.state.call_tally.items()}

    for body in events:
        event = Event.from_dict(body)
        if next_edge is None:
            next_edge = event.at - event.at % bin_s + bin_s
        while event.at >= next_edge and next_edge <= now:
            sample(next_edge)
            next_edge += bin_s
        if hour_ago is None and event.at > now - HOUR_S:
            hour_ago = tally_now()
        floor.apply([event])
        if event.type == "ticket.called":
            agency = str(event.data["agency"])
            if call_waits.get(agency):
                call_waits[agency][-1].append(float(event.data.get("waited_s", 0.0)))
    if next_edge is not None:
        # the quiet time since the last event up to now: the line still waits, and its wait grows
        while next_edge <= now:
            sample(next_edge)
            next_edge += bin_s
        if not bins or bins[-1] < now:
            sample(now)
    if hour_ago is None:  # nothing happened in the last hour
        hour_ago = tally_now()
    current = transaction_tallies(floor.state, now)
    before = hour_ago or {}
    last_hour: dict[str, TargetTally] = {}
    for agency in agencies:
        ok0, late0, left0 = before.get(agency, (0, 0, 0))
        ok1, late1, left1 = floor.state.call_tally.get(agency, [0, 0, 0])
        waiting_over = current[agency].waiting_over
        last_hour[agency] = TargetTally(ok1 - ok0, late1 - late0 + left1 - left0 + waiting_over, waiting_over)

    def mean(groups: list[list[float]]) -> list[float | None]:
        return [round(sum(w) / len(w), 1) if w else None for w in groups]

    def rounded(share: float | None) -> float | None:
        return None if share is None else round(share, 3)

    pooled = [[w for agency in agencies for w in call_waits[agency][i]] for i in range(len(bins))]
    return {
        "bin_s": bin_s,
        "target_s": target,
        "t": bins,
        "total": {
            "waiting": [sum(waiting[a][i] for a in agencies) for i in range(len(bins))],
            "waiting_over": [sum(over[a][i] for a in agencies) for i in range(len(bins))],
            "mean_wait_s": mean(pooled),
            "within_target_last_hour": rounded(sum(last_hour.values(), TargetTally()).share),
        },
        "agencies": {
            agency: {
                "waiting": waiting[agency],
                "waiting_over": over[agency],
                "mean_wait_s": mean(call_waits[agency]),
                "within_target_last_hour": rounded(last_hour[agency].share),
            }
            for agency in agencies
        },
    }
