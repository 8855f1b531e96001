"""Demand forecast per agency and half hour, and the counters needed to meet the wait target.

Method: a seasonal mean. The demand of an agency in a half hour of a weekday
is the mean of the same weekday and half hour over the last `weeks` weeks of
history; a weekday never seen falls back to the mean over all weekdays for
that half hour. Demand counts every entry into an agency's queue (a new
ticket, the next step of a journey, a transfer), because fee and result
counters are loaded by journeys, not by the kiosk.

Looking ahead (forecast_days), appointments are known in part: the bookings
already made for a day. Walk-ins (every entry but an appointment's check-in)
keep the seasonal mean; appointments count as the larger of the bookings made
so far and their own seasonal mean (counted at their slot), because a day a
week ahead has not been fully booked yet. A day the site is closed (weekday
factor 0) expects nobody, and a day with no history to base it on says so
(None) rather than 0.

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
    "Basis",
    "DayForecast",
    "Demand",
    "ForecastError",
    "History",
    "appointment_demand",
    "basis_for",
    "booked_demand",
    "counters_needed",
    "demand_from_events",
    "forecast_days",
    "forecast_error",
    "history_from_events",
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


def _is_appointment(body: Mapping[str, Any]) -> bool:
    return body.get("type") == "ticket.issued" and body.get("channel") == "appointment"


def demand_from_events(site: Site, events: Iterable[Mapping[str, Any]], appointments: bool = True) -> Demand:
    """Entries into each agency's queue per day and half hour (without appointments' check-ins if asked)."""
    demand: Demand = defaultdict(int)
    for body in events:
        kind = body.get("type")
        agency: str | None = None
        if kind == "ticket.issued":
            if not appointments and _is_appointment(body):
                continue
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


def appointment_demand(site: Site, events: Iterable[Mapping[str, Any]]) -> Demand:
    """Appointments' check-ins per day and half hour of their slot (where bookings are counted)."""
    demand: Demand = defaultdict(int)
    for body in events:
        if not _is_appointment(body):
            continue
        at = float(body.get("slot_at") or body["at"])
        slot = _slot(site, at)
        if slot is not None:
            demand[(local_day(at, site.utc_offset_s), str(body["agency"]), slot)] += 1
    return dict(demand)


def booked_demand(site: Site, counts: Iterable[tuple[str, float, int]]) -> Demand:
    """Bookings (agency, slot start epoch, how many) per day and half hour."""
    demand: Demand = defaultdict(int)
    for agency, at, n in counts:
        slot = _slot(site, at)
        if slot is not None and n > 0:
            demand[(local_day(at, site.utc_offset_s), agency, slot)] += n
    return dict(demand)


def _weekday(day: str) -> int:
    return dt.date.fromisoformat(day).weekday()


@dataclass(frozen=True)
class Basis:
    """What a day's forecast rests on: the days of history averaged, and how they were chosen."""

    kind: str  # "same_weekday", "all_weekdays" (no such weekday yet), "none" (no history), "closed"
    days: tuple[str, ...] = ()


def basis_for(history_days: Sequence[str], day: str, weeks: int = 4) -> Basis:
    """The history days a forecast of `day` averages: the same weekday if seen, else the latest days."""
    past = sorted(d for d in history_days if d < day)
    same = [d for d in past if _weekday(d) == _weekday(day)][-weeks:]
    if same:
        return Basis("same_weekday", tuple(same))
    if past:
        return Basis("all_weekdays", tuple(past[-5 * weeks:]))
    return Basis("none")


def seasonal_mean(
    site: Site, history: Demand, days: Sequence[str], weeks: int = 4, history_days: Sequence[str] | None = None
) -> dict[tuple[str, str, int], float]:
    """Forecast demand for `days` from history (only days before each forecast day count).

    `history_days` are the days the history covers (default: the days with demand); a day
    covered with no demand for an agency counts as 0 for it.
    """
    open_days = sorted(set(history_days) if history_days is not None else {d for d, _, _ in history})
    slots = len(site.arrivals.half_hour_weights)
    out: dict[tuple[str, str, int], float] = {}
    for day in days:
        basis = basis_for(open_days, day, weeks).days
        for agency in site.agencies:
            for slot in range(slots):
                values = [history.get((d, agency, slot), 0) for d in basis]
                out[(day, agency, slot)] = sum(values) / len(values) if values else 0.0
    return out


@dataclass(frozen=True)
class History:
    """The log's demand, split: walk-ins at their entry, appointments at their slot, over `days`."""

    days: tuple[str, ...]
    walk_ins: Demand
    appointments: Demand


def history_from_events(site: Site, events: Iterable[Mapping[str, Any]]) -> History:
    """The History of an event log (give complete days: a day still running would pull the mean down).

    Its days are those with arrivals: a day the log holds nobody on was not open (a closed day with the
    controller running, or the controller down), which says nothing of the demand.
    """
    events = list(events)
    walk_ins = demand_from_events(site, events, appointments=False)
    appointments = appointment_demand(site, events)
    days = {d for d, _, _ in walk_ins} | {d for d, _, _ in appointments}
    return History(tuple(sorted(days)), walk_ins, appointments)


@dataclass(frozen=True)
class DayForecast:
    """Expected entries per (agency, half hour) of one day; None where there is nothing to base it on."""

    day: str
    basis: Basis
    arrivals: Mapping[tuple[str, int], float | None]
    booked: Mapping[tuple[str, int], int]


def forecast_days(
    site: Site, history: History, booked: Demand, days: Sequence[str], weeks: int = 4
) -> list[DayForecast]:
    """Each day ahead: walk-ins by the seasonal mean, plus the larger of bookings made and appointments' mean."""
    walk_ins = seasonal_mean(site, history.walk_ins, days, weeks, history.days)
    appointments = seasonal_mean(site, history.appointments, days, weeks, history.days)
    slots = range(len(site.arrivals.half_hour_weights))
    out = []
    for day in days:
        held = {(agency, slot): booked.get((day, agency, slot), 0) for agency in site.agencies for slot in slots}
        closed = site.arrivals.weekday_factor[_weekday(day)] <= 0
        basis = Basis("closed") if closed else basis_for(history.days, day, weeks)
        arrivals: dict[tuple[str, int], float | None] = {}
        for (agency, slot), n in held.items():
            if closed:
                arrivals[(agency, slot)] = float(n)
            elif basis.kind == "none":
                arrivals[(agency, slot)] = None
            else:
                arrivals[(agency, slot)] = (walk_ins[(day, agency, slot)]
                                            + max(float(n), appointments[(day, agency, slot)]))
        out.append(DayForecast(day, basis, arrivals, held))
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
