"""Demand forecast per agency and half hour, and the counters needed to meet the wait target.

Method: a seasonal mean. The demand of an agency in a half hour of a weekday
is the mean of the same weekday and half hour over the last `weeks` weeks of
history; a weekday never seen falls back to the mean over all weekdays for
that half hour. Demand counts every entry into an agency's queue (a new
ticket, the next step of a journey, a transfer), because fee and result
counters are loaded by journeys, not by the kiosk.

Error is measured honestly: fit on the history before a held-out span of
days, predict those days, and compare (MAE per slot, and WAPE: the sum of
absolute errors over the sum of actual demand, per slot and per agency-day).

Counters needed: the smallest c with P(wait <= target) >= service level in an
M/M/c queue (controller/core/erlang.py) at the forecast arrival rate and the
agency's mean service time.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from controller.core.clock import local_day, local_seconds
from controller.core.erlang import wait_within
from controller.core.site import Site

__all__ = [
    "Demand",
    "ForecastError",
    "counters_needed",
    "demand_from_events",
    "forecast_error",
    "mean_service",
    "seasonal_mean",
]

SLOT_S = 1800.0

# (day "YYYY-MM-DD", agency, open half hour of the day: Site.half_hour_starts) -> entries
Demand = dict[tuple[str, str, int], int]


def _slot(site: Site, now: float) -> int | None:
    # The open half hours of the day (Site.half_hour_starts), not half hours since opening: a lunch
    # break has no slot, and the afternoon's are not cut off at the number of weights.
    return site.half_hour_index(local_seconds(now, site.utc_offset_s))


def demand_from_events(site: Site, events: Iterable[Mapping[str, Any]]) -> Demand:
    """Entries into each agency's queue per day and half hour."""
    demand: Demand = defaultdict(int)
    for body in events:
        kind = body.get("type")
        agency: str | None = None
        if kind == "ticket.issued":
            agency = str(body["agency"])
        elif kind == "ticket.finished" and body.get("next_step"):
            step = site.procedures.get(str(body["next_step"]))
            agency = step.agency if step else None
        elif kind == "ticket.transferred" and body.get("to_agency"):
            agency = str(body["to_agency"])
        if agency is None:
            continue
        at = float(body["at"])
        slot = _slot(site, at)
        if slot is not None:
            demand[(local_day(at, site.utc_offset_s), agency, slot)] += 1
    return dict(demand)


def _weekday(day: str) -> int:
    return dt.date.fromisoformat(day).weekday()


def seasonal_mean(
    site: Site, history: Demand, days: Sequence[str], weeks: int = 4
) -> dict[tuple[str, str, int], float]:
    """Forecast demand for `days` from history (only days before each forecast day count)."""
    open_days = sorted({d for d, _, _ in history})
    slots = len(site.arrivals.half_hour_weights)
    out: dict[tuple[str, str, int], float] = {}
    for day in days:
        past = [d for d in open_days if d < day]
        same = [d for d in past if _weekday(d) == _weekday(day)][-weeks:]
        basis = same or past[-5 * weeks:]
        for agency in site.agencies:
            for slot in range(slots):
                values = [history.get((d, agency, slot), 0) for d in basis]
                out[(day, agency, slot)] = sum(values) / len(values) if values else 0.0
    return out


@dataclass(frozen=True)
class ForecastError:
    """Error of the forecast on held-out days."""

    holdout_days: tuple[str, ...]
    slot_mae: float
    slot_wape: float | None
    agency_day_wape: float | None


def forecast_error(site: Site, demand: Demand, holdout: int, weeks: int = 4) -> ForecastError:
    """Fit on the days before the last `holdout` days, predict those, and measure the error."""
    days = sorted({d for d, _, _ in demand})
    if holdout < 1 or holdout >= len(days):
        raise ValueError(f"need more than {holdout} days of history to hold {holdout} out (have {len(days)})")
    held = days[-holdout:]
    fitted = {k: v for k, v in demand.items() if k[0] < held[0]}
    predicted = seasonal_mean(site, fitted, held, weeks)
    abs_err = 0.0
    actual_sum = 0.0
    daily: dict[tuple[str, str], list[float]] = defaultdict(lambda: [0.0, 0.0])
    for key, guess in predicted.items():
        actual = float(demand.get(key, 0))
        abs_err += abs(guess - actual)
        actual_sum += actual
        pair = daily[(key[0], key[1])]
        pair[0] += guess
        pair[1] += actual
    day_err = sum(abs(g - a) for g, a in daily.values())
    day_sum = sum(a for _, a in daily.values())
    return ForecastError(
        holdout_days=tuple(held),
        slot_mae=abs_err / len(predicted) if predicted else 0.0,
        slot_wape=abs_err / actual_sum if actual_sum else None,
        agency_day_wape=day_err / day_sum if day_sum else None,
    )


def counters_needed(arrivals: float, mean_service_s: float, target_s: float, service_level: float = 0.9) -> int:
    """Smallest number of counters that calls `service_level` of a half hour's arrivals within target."""
    if arrivals <= 0:
        return 0
    lam = arrivals / SLOT_S
    mu = 1.0 / mean_service_s
    c = max(1, int(lam / mu) + 1)
    while wait_within(c, lam, mu, target_s) < service_level:
        c += 1
    return c


def mean_service(site: Site, agency: str) -> float:
    """Share-weighted mean service time of an agency's procedures (journey steps count equally)."""
    procs = [p for p in site.procedures.values() if p.agency == agency]
    weights = [p.share if p.share > 0 else 0.01 for p in procs]
    total = sum(weights)
    return sum(p.service_s * w for p, w in zip(procs, weights, strict=True)) / total if total else 300.0
