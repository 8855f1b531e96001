"""Numbers taken from a phone: the place kept while away, the share of capacity, held aside, expired.

A remote number (channel "remote") is issued AWAY: it holds a place in its
agency's line by the time it was taken (`Ticket.place_at`), but it is in no
queue, so no routing policy can call it. Check-in puts it in line at that
place (controller/core/state.py). While it is away:

- its turn passes when a counter calls a ticket of its agency placed after it
  (legal priority and transfers directed to a counter do not count): it is then
  held aside for the site's grace period (`ticket.turn_passed`), counted from
  when the holder could be in the hall at the earliest (taken plus the trip they
  said, or the time printed to come back: `arrival_due`), and expires as
  a no-show when that is over unchecked (`ticket.expired`); the citizen may
  rejoin once, at the back (`ticket.rejoined`);
- "I need more time" moves it back once by `more_time_places` places
  (`ticket.postponed`);
- the forecast dispatches it at its place as if it were in the hall, so the
  walk-ins behind it are told the truth and its own predicted call says when
  to text "come now" (controller/notify).

Remote numbers take at most `share` of each agency's capacity in each half
hour, so walk-ins keep flowing.
"""

from __future__ import annotations

import math

from controller.core.clock import local_seconds
from controller.core.events import Event
from controller.core.site import Site
from controller.core.state import SiteState
from controller.core.tickets import Ticket

__all__ = [
    "PLACE_STEP_S",
    "arrival_due",
    "away_position",
    "come_now",
    "expires_next",
    "half_hour_capacity",
    "next_half_hour",
    "postponed_place",
    "remote_cap",
    "remote_tick",
]

# A moved place goes just behind the ticket it moves behind (queue ties break on issue order otherwise).
PLACE_STEP_S = 0.001
HALF_HOUR_S = 1800.0


def next_half_hour(site: Site, at: float) -> float:
    """When the next local half hour starts (epoch seconds)."""
    local = local_seconds(at, site.utc_offset_s)
    return at + (HALF_HOUR_S - local % HALF_HOUR_S)


def half_hour_capacity(site: Site, agency: str) -> float:
    """Transactions an agency's regular counters serve in half an hour, by the site file's service times.

    A counter that serves several agencies gives each an equal part of its time.
    """
    procedures = [p for p in site.procedures.values() if p.agency == agency]
    if not procedures:
        return 0.0
    mean_service = sum(p.service_s for p in procedures) / len(procedures)
    counters = [c for c in site.counters_for(agency) if not c.standby]
    return sum(HALF_HOUR_S / max(mean_service, 1.0) / len(c.serves) for c in counters)


def remote_cap(site: Site, agency: str) -> int:
    """Remote numbers an agency takes in one half hour: the site's share of its capacity (at least 1 if any)."""
    share = site.remote.share
    if share <= 0:
        return 0
    return max(1, math.floor(share * half_hour_capacity(site, agency)))


def _line_places(state: SiteState, agency: str, skip: str) -> list[float]:
    """The places in an agency's line, in the hall and away, sorted; `skip` left out."""
    tickets = state.tickets
    queue = state.queues[agency]
    places = [tickets[tid].place() for index in (queue.priority, queue.normal) for tid in index.members()
              if tid != skip]
    places.extend(place for tid, place in state.away.get(agency, {}).items() if tid != skip)
    places.sort()
    return places


def away_position(state: SiteState, ticket: Ticket) -> int:
    """1-based place in its line of an away ticket, counting those in the hall and away ahead of it."""
    assert ticket.place_at is not None
    return 1 + sum(1 for place in _line_places(state, ticket.agency, ticket.id) if place < ticket.place_at)


def postponed_place(state: SiteState, ticket: Ticket, now: float) -> float:
    """The place "I need more time" gives: just behind the `more_time_places`-th ticket behind it.

    With fewer behind it, just behind the last; with nobody behind, now (it is last already).
    """
    assert ticket.place_at is not None
    behind = [p for p in _line_places(state, ticket.agency, ticket.id) if p > ticket.place_at]
    if not behind:
        return max(ticket.place_at, now)
    return behind[min(state.site.remote.more_time_places, len(behind)) - 1] + PLACE_STEP_S


def come_now(predicted_wait_s: float | None, travel_s: float) -> bool:
    """Whether an away number's holder should set off now: its predicted call is within the trip they said it
    takes (the "come now" text, controller/notify/planner.py; the simulated citizens, sim/away.py)."""
    return predicted_wait_s is not None and predicted_wait_s <= travel_s


def arrival_due(ticket: Ticket) -> float:
    """The earliest its holder could be in the hall: the time printed to come back, else taking it plus the trip.

    A turn that passes sooner (the line ran faster than the trip) holds the number aside from then on, so
    the grace period counts from when the citizen could be there, not from when they set off.
    """
    return ticket.return_at if ticket.return_at is not None else ticket.issued_at + ticket.travel_s


def remote_tick(state: SiteState, now: float) -> list[Event]:
    """Away tickets whose turn passed (held aside) and held ones whose grace is over (expired)."""
    events: list[Event] = []
    grace = state.site.remote.grace_s
    for agency, away in state.away.items():
        passed = state.called_place.get(agency)
        if passed is None or not away:
            continue
        for tid, place in sorted(away.items(), key=lambda kv: kv[1]):
            ticket = state.tickets[tid]
            if ticket.turn_passed_at is None and place < passed:
                events.append(Event("ticket.turn_passed", now, {
                    "ticket": tid, "number": ticket.number, "agency": agency,
                    "until": max(now, arrival_due(ticket)) + grace}))
    for tid, until in sorted(state.expiring.items(), key=lambda kv: kv[1]):
        if until <= now:
            ticket = state.tickets[tid]
            events.append(Event("ticket.expired", now, {"ticket": tid, "number": ticket.number,
                                                        "agency": ticket.agency}))
    return events


def expires_next(state: SiteState) -> float:
    """When the next held-aside ticket expires (inf: none)."""
    return min(state.expiring.values(), default=math.inf)
