"""Citizens of one simulated day: when they come, for what, and how long they will need.

Appointment holders booked the site's first bookable half-hour slot at or after
their arrival (controller/core/appointments.py), so they come up to half an
hour early; whether the slot still had room is the day's business (sim/staff.py).

Arrivals are a non-homogeneous Poisson process with a piecewise-constant rate:
one rate per half hour of the site's arrival profile (split again where a surge
starts or ends). Everything random about a citizen (procedure, priority,
appointment, the service time of every step of the journey, a no-show or an
incomplete dossier) is drawn here, up front, from its own stream, so two
policies run on the same seed meet exactly the same people.

Day volume: `expected_daily_visits` describes a mid-week day. The weekday factor
is taken relative to Wednesday's (index 2), so a file whose factors were all
scaled means the same thing: Monday of the demo files (1.3) brings 30 % more
citizens than a Wednesday (1.0). The rate of each half hour is normalised over
the hours when tickets can be issued (the last period ends `issue_cutoff_s`
early), so the expected number of visits of the day is exactly that volume.
"""

from __future__ import annotations

import bisect
import itertools
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from controller.core.appointments import SLOT_S, slot_minutes
from controller.core.site import Site
from controller.core.tickets import PRIORITY_CLASSES
from sim.scenario import Surge

__all__ = ["Arrival", "day_arrivals", "day_factor", "issue_slots"]

# Who holds a legal priority, roughly: mostly elderly people and parents of small children.
_PRIORITY_WEIGHTS = (0.5, 0.1, 0.1, 0.2, 0.1)


@dataclass(frozen=True, slots=True)
class Arrival:
    """One citizen: arrival (local seconds), procedure, and what each journey step will take."""

    at_s: float
    procedure: str
    priority: str | None
    appointment_slot_s: float | None  # the half-hour slot booked (local s): the first one at or after arrival
    services_s: tuple[float, ...]   # one per step of site.journey(procedure)
    no_show: tuple[bool, ...]       # per step: misses the first call
    incomplete: bool                # the intake ends "incomplete"


def day_factor(site: Site, weekday: int) -> float:
    """Volume of `weekday` relative to a mid-week day (Wednesday)."""
    factors = site.arrivals.weekday_factor
    reference = factors[2] if factors[2] > 0 else max(factors)
    return factors[weekday] / reference if reference > 0 else 0.0


def issue_slots(site: Site) -> list[tuple[float, float, float]]:
    """(start_s, end_s, weight) of every half hour in which tickets can be issued."""
    weights = site.arrivals.half_hour_weights
    slots: list[tuple[float, float, float]] = []
    index = 0
    last = len(site.hours) - 1
    for p, (open_min, close_min) in enumerate(site.hours):
        issue_end = close_min * 60.0 - (site.issue_cutoff_s if p == last else 0.0)
        for j in range((close_min - open_min + 29) // 30):
            start = open_min * 60.0 + 1800.0 * j
            end = min(start + 1800.0, close_min * 60.0, issue_end)
            if end > start:
                slots.append((start, end, weights[index]))
            index += 1
    return slots


def _segments(site: Site, surges: Sequence[Surge]) -> list[tuple[float, float, float]]:
    """Half-hour slots split at surge boundaries: (start, end, rate of visits per second)."""
    slots = issue_slots(site)
    mass = sum(w * (end - start) / 1800.0 for start, end, w in slots)
    out: list[tuple[float, float, float]] = []
    cuts = sorted({s.window.start_s for s in surges} | {s.window.end_s for s in surges})
    for start, end, weight in slots:
        rate = weight / mass / 1800.0 if mass > 0 else 0.0
        edges = [start, *(c for c in cuts if start < c < end), end]
        out.extend((a, b, rate) for a, b in itertools.pairwise(edges))
    return out


def day_arrivals(
    site: Site,
    weekday: int,
    surges: Sequence[Surge],
    rng: np.random.Generator,
    no_show_share: float = 0.0,
    incomplete_share: float = 0.0,
) -> list[Arrival]:
    """Draw the citizens of one day at one site, sorted by arrival time."""
    visits = site.expected_daily_visits * day_factor(site, weekday)
    procedures = site.kiosk_procedures()
    shares = np.array([p.share for p in procedures], dtype=float)
    shares /= shares.sum()
    agencies = [p.agency for p in procedures]
    times: list[np.ndarray] = []
    chosen: list[np.ndarray] = []
    for start, end, rate in _segments(site, surges):
        weights = shares.copy()
        for surge in surges:
            if surge.window.start_s <= start < surge.window.end_s:
                weights *= np.array([surge.factor if a == surge.agency else 1.0 for a in agencies])
        total = visits * rate * (end - start) * float(weights.sum())
        n = int(rng.poisson(total)) if total > 0 else 0
        if n == 0:
            continue
        times.append(start + rng.random(n) * (end - start))
        chosen.append(rng.choice(len(procedures), size=n, p=weights / weights.sum()))
    if not times:
        return []
    at = np.concatenate(times)
    which = np.concatenate(chosen)
    order = np.argsort(at, kind="stable")
    at, which = at[order], which[order]
    n = len(at)
    # Draw every attribute for everyone, always in the same order: the stream stays aligned
    # whatever the shares, so changing one knob does not reshuffle the rest of the day.
    is_priority = rng.random(n) < site.arrivals.priority_share
    priority_class = rng.choice(len(PRIORITY_CLASSES), size=n, p=np.array(_PRIORITY_WEIGHTS))
    is_appointment = rng.random(n) < site.arrivals.appointment_share
    rng.random(n)  # drawn and unused (it was the early arrival of appointment holders): later draws stay aligned
    slots = [60.0 * m for m in slot_minutes(site)]
    normals = rng.standard_normal((n, 3))
    no_shows = rng.random((n, 3)) < no_show_share
    incomplete = rng.random(n) < incomplete_share
    out: list[Arrival] = []
    for i in range(n):
        procedure = procedures[int(which[i])].id
        steps = site.journey(procedure)
        priority = PRIORITY_CLASSES[int(priority_class[i])] if is_priority[i] else None
        out.append(Arrival(
            at_s=float(at[i]),
            procedure=procedure,
            priority=priority,
            # A citizen with legal priority is served as such, appointment or not.
            appointment_slot_s=_booked_slot(slots, float(at[i])) if is_appointment[i] and priority is None else None,
            services_s=tuple(
                _lognormal(site.procedures[step].service_s, site.procedures[step].service_cv, float(normals[i, k]))
                for k, step in enumerate(steps)
            ),
            no_show=tuple(bool(no_shows[i, k]) for k in range(len(steps))),
            incomplete=bool(incomplete[i]),
        ))
    return out


def _booked_slot(slots: Sequence[float], at_s: float) -> float | None:
    """The slot an appointment holder arriving at `at_s` booked: the first one at or after it (they come
    up to half an hour early); None when none is left that day (they come as walk-ins)."""
    index = bisect.bisect_left(slots, at_s)
    return slots[index] if index < len(slots) and slots[index] - at_s <= SLOT_S else None


def _lognormal(mean: float, cv: float, z: float) -> float:
    """A lognormal draw with the given mean and coefficient of variation, from a standard normal z."""
    if cv <= 0:
        return mean
    sigma2 = float(np.log1p(cv * cv))
    return float(np.exp(np.log(mean) - sigma2 / 2 + np.sqrt(sigma2) * z))
