"""The day so far as time series, for the monitor's plots: replayed from the log. Pure.

Replaying through the same fold as the controller (not re-deriving queue
lengths from event arithmetic) keeps the plotted queue identical to what the
floor really had at each moment.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from controller.core.events import Event
from controller.core.floor import Floor
from controller.core.site import Site

__all__ = ["day_series"]


def day_series(site: Site, events: Iterable[Mapping[str, Any]], now: float, bin_s: float = 300.0) -> dict[str, Any]:
    """Per agency: queue length at each bin edge, mean wait of the calls in each bin, share within target last hour."""
    floor = Floor(site, "fifo")  # the routing policy does not matter for a replay
    bins: list[float] = []
    waiting: dict[str, list[int]] = {a: [] for a in site.agencies}
    call_waits: dict[str, list[list[float]]] = {a: [] for a in site.agencies}
    last_hour: dict[str, list[float]] = {a: [] for a in site.agencies}
    next_edge: float | None = None
    target = site.targets.transaction_wait_s

    def sample(edge: float) -> None:
        bins.append(edge)
        for agency in site.agencies:
            waiting[agency].append(len(floor.state.queues[agency]))
            call_waits[agency].append([])

    for body in events:
        event = Event.from_dict(body)
        if next_edge is None:
            next_edge = event.at - event.at % bin_s + bin_s
        while event.at >= next_edge and next_edge <= now:
            sample(next_edge)
            next_edge += bin_s
        floor.apply([event])
        if event.type == "ticket.called":
            agency = str(event.data["agency"])
            wait = float(event.data.get("waited_s", 0.0))
            if call_waits.get(agency):
                call_waits[agency][-1].append(wait)
            if agency in last_hour and now - event.at <= 3600:
                last_hour[agency].append(wait)
    if next_edge is not None:
        sample(min(now, next_edge))
    return {
        "bin_s": bin_s,
        "t": bins,
        "agencies": {
            agency: {
                "waiting": waiting[agency],
                "mean_wait_s": [round(sum(w) / len(w), 1) if w else None for w in call_waits[agency]],
                "within_target_last_hour": (
                    round(sum(1 for w in last_hour[agency] if w <= target) / len(last_hour[agency]), 3)
                    if last_hour[agency] else None
                ),
            }
            for agency in site.agencies
        },
    }
