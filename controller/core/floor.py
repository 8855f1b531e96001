"""Floor: one site's state, its routing policy and its forecast, behind one object.

The server's runtime and the simulator both drive a Floor, so a policy that
wins in simulation is the policy that runs on the floor:

    events = floor.decide(command, now)   # pure: raises DomainError or returns events
    ...commit events (runtime) ...
    floor.apply(events)                   # fold

`execute` does both, for the simulator and tests.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from controller.core.clock import local_day, local_seconds
from controller.core.commands import Command, decide
from controller.core.errors import DomainError
from controller.core.estimator import Forecast, forecast
from controller.core.events import Event
from controller.core.policies import RoutingPolicy, make_policy
from controller.core.remote import away_position, expires_next
from controller.core.site import Site
from controller.core.state import SiteState
from controller.core.targets import enforce, next_due
from controller.core.tickets import Ticket, TicketState

__all__ = ["Floor"]

# Tick events that only flag tickets or warn the manager: they change no prediction.
_FLAGS = frozenset({"target.at_risk", "target.at_risk_cleared", "target.breached", "alert.raised"})

# Enforcement judges risk on a forecast at most this old (by default: the simulator's choice,
# where a risk seen a minute later still leaves minutes to act and speed matters). The server
# passes a shorter age: a manager watching the monitor should see risk within seconds.
ENFORCE_REFRESH_S = 60.0

# A forecast this old still places a ticket issued since (services may have run over meanwhile).
JUST_ISSUED_MAX_AGE_S = 60.0

# Predictions are recomputed when the state changed and at least this much time passed.
FORECAST_REFRESH_S = 2.0


class Floor:
    """The pure controller of one site."""

    def __init__(
        self,
        site: Site,
        policy: RoutingPolicy | str = "deadline",
        day: str = "",
        enforce_refresh_s: float = ENFORCE_REFRESH_S,
    ) -> None:
        self.site = site
        self.enforce_refresh_s = enforce_refresh_s
        self.policy: RoutingPolicy = make_policy(policy) if isinstance(policy, str) else policy
        self.state = SiteState(site, day)
        self._forecast: Forecast | None = None
        self._day_bounds = (0.0, 0.0)  # epoch range of state.day, so most calls skip date formatting
        self._positions: tuple[int, dict[str, int]] = (-1, {})
        self._quiet = (-1, 0.0)  # (state enforce_version, until): a tick found nothing to do
        self._ticked: tuple[list[Event], float] = ([], 0.0)  # the last tick's events, and when

    # ------------------------------------------------------------- commands
    def day_event(self, now: float) -> Event | None:
        """A day.started event when `now` is on a new local day, else None."""
        lo, hi = self._day_bounds
        if lo <= now < hi:
            return None
        day = local_day(now, self.site.utc_offset_s)
        if day == self.state.day:
            midnight = now - local_seconds(now, self.site.utc_offset_s)
            self._day_bounds = (midnight, midnight + 86400.0)
            return None
        return Event("day.started", now, {"day": day, "site": self.site.id})

    def decide(self, command: Command, now: float) -> list[Event]:
        """Events the command causes (DomainError if it cannot happen); nothing changes."""
        day = self.day_event(now)
        if day is not None:
            # Decide against the fresh day, without touching the current state.
            fresh = Floor(self.site, self.policy, day.data["day"])
            return [day, *decide(fresh.state, command, now, self.policy)]
        return decide(self.state, command, now, self.policy)

    def apply(self, events: Iterable[Event]) -> None:
        """Fold committed events into the state."""
        ticked, at = self._ticked
        if events is ticked and ticked:
            self._ticked = ([], 0.0)
            self._fold(ticked)
            if all(e.type in _FLAGS for e in ticked) and self._forecast is not None:
                # Only flags were raised: the tick has nothing more to do until something falls due.
                self._quiet = (self.state.enforce_version, next_due(self.state, at, self._forecast))
            return
        self._fold(events)

    def _fold(self, events: Iterable[Event]) -> None:
        for event in events:
            if event.type == "day.started":
                self.state = SiteState(self.site, str(event.data["day"]))
                self._forecast = None
                self._day_bounds = (0.0, 0.0)
                self._positions = (-1, {})
                self._quiet = (-1, 0.0)
            self.state.apply(event)

    def execute(self, command: Command, now: float) -> list[Event]:
        """Decide and apply at once (simulator, tests)."""
        events = self.decide(command, now)
        self.apply(events)
        return events

    def tick(self, now: float) -> list[Event]:
        """Target enforcement events due at `now` (not applied)."""
        day = self.day_event(now)
        if day is not None:
            return [day]
        version, until = self._quiet
        if version == self.state.enforce_version and now < until:
            return []  # nothing changed and nothing falls due before `until`
        fc = self.forecast(now, self.enforce_refresh_s)
        events = enforce(self.state, now, fc)
        self._quiet = (-1, 0.0) if events else (self.state.enforce_version, next_due(self.state, now, fc))
        self._ticked = (events, now)
        return events

    def next_tick_at(self, now: float) -> float:
        """When a tick may next return events, if nothing happens before (a driver on virtual time wakes then).

        After a quiet tick: when its `next_due` said. After a change: the tick judges
        risk on the forecast it has until that forecast may be refreshed, so only a
        ticket ready again or a deadline can make it act sooner; anything else due
        (standby timers) is found by that refresh tick, at most `enforce_refresh_s` on.
        """
        version, until = self._quiet
        state = self.state
        if version == state.enforce_version:
            return until
        fc = self._forecast
        if fc is None or now < fc.computed_at:
            return now
        at = fc.computed_at + self.enforce_refresh_s
        if fc.state_version == state.routing_version and fc.stable_until > at:
            at = fc.stable_until
        if state.pending:
            at = min(at, min(state.pending.values()))
        if state.expiring:
            at = min(at, expires_next(state))
        timer = state.next_timer()
        if timer is not None and timer < at:
            at = timer
        return max(now, at)

    # ------------------------------------------------------------- reading
    def forecast(self, now: float, refresh_s: float = FORECAST_REFRESH_S) -> Forecast:
        """Predicted call times, recomputed when stale (changed and older than `refresh_s`)."""
        cached = self._forecast
        if (
            cached is None
            or now < cached.computed_at
            or (
                now - cached.computed_at >= refresh_s
                and (cached.state_version != self.state.routing_version or now >= cached.stable_until)
            )
        ):
            cached = forecast(self.state, now, by_deadline=self.policy.name == "deadline")
            self._forecast = cached
        return cached

    def estimated_wait(self, ticket: Ticket, now: float) -> float | None:
        """Seconds until the ticket is likely called; None when no open counter serves it."""
        if ticket.state not in (TicketState.WAITING, TicketState.HELD, TicketState.BACK_OFFICE, TicketState.EARLY,
                                TicketState.AWAY):
            return 0.0
        if ticket.state is TicketState.AWAY:
            # Dispatched at its place as if in the hall (estimator.py): when it would be called.
            placed = self.forecast(now)
            if ticket.id not in placed.call_at:
                placed = self.forecast(now, refresh_s=0.0)
            return placed.ticket_wait(ticket.id, now)
        if ticket.state is TicketState.EARLY and ticket.ready_at is not None:
            if not self.state.open_counters(ticket.agency):
                return None
            # Its deadline (the grace window) puts it near the front of its line once the slot comes,
            # and a counter that runs out of other work before then calls it early.
            idle = self.forecast(now).new_ticket_call_at.get(ticket.agency)
            slot = ticket.ready_at if idle is None else min(ticket.ready_at, max(now, idle))
            return max(0.0, slot - now)
        fc = self._forecast
        if fc is None or not self._just_issued(ticket, fc, now):
            fc = self.forecast(now)
        at = fc.call_at.get(ticket.id)
        if at is not None:
            return max(0.0, at - now)
        # Issued after the last forecast: behind everyone it knew of.
        base = fc.new_ticket_call_at.get(ticket.agency)
        if base is None:
            return None
        newer = self.state.issued_per_agency.get(ticket.agency, 0) - fc.issued_since.get(ticket.agency, 0)
        counters = max(1, len(self.state.open_counters(ticket.agency)))
        per_ticket = self.state.service_times.expected(ticket.procedure) / counters
        start = max(now, base, ticket.ready_at or now)
        return max(0.0, start + max(0, newer - 1) * per_ticket - now)

    def _just_issued(self, ticket: Ticket, fc: Forecast, now: float) -> bool:
        """Is the ticket the only change since the forecast, and behind everyone it knew of?

        Then the forecast already says when it will be called: the first moment a
        counter that serves its agency runs out of other work (its deadline is the
        latest; legal priority would go first, so it does not count). The kiosk
        asks this at every issue; re-running the dispatch for it would change nothing.
        """
        state = self.state
        return (
            state.routing_version == fc.state_version + 1
            and ticket.state == TicketState.WAITING
            and not ticket.is_priority
            and ticket.target_counter is None
            and state.issued_per_agency.get(ticket.agency, 0) == fc.issued_since.get(ticket.agency, 0) + 1
            and state.tickets.get(next(reversed(state.tickets))) is ticket
            and 0.0 <= now - fc.computed_at <= JUST_ISSUED_MAX_AGE_S
        )

    def position(self, ticket: Ticket) -> int | None:
        """1-based place in its line (1 = next), None when not waiting (an away number: its place kept)."""
        if ticket.state is TicketState.AWAY:
            return away_position(self.state, ticket)
        if ticket.state != TicketState.WAITING:
            return None
        if ticket.target_counter is not None:
            return self.state.directed[ticket.target_counter].index(ticket.id) + 1
        version, positions = self._positions
        if version != self.state.version:
            # Every line is ordered once per state change, not once per ticket asked about.
            by_deadline = self.policy.name == "deadline"
            positions = {
                tid: place
                for queue in self.state.queues.values()
                for place, tid in enumerate(queue.ordered(by_deadline), start=1)
            }
            self._positions = (self.state.version, positions)
        return positions.get(ticket.id)

    def ticket(self, ticket_id: str) -> Ticket:
        """A ticket of today; DomainError 404 when unknown."""
        ticket = self.state.tickets.get(ticket_id)
        if ticket is None:
            raise DomainError("unknown_ticket", f"no ticket {ticket_id!r} today", 404)
        return ticket

    def ticket_view(self, ticket: Ticket, now: float) -> dict[str, Any]:
        """What a citizen (and the API) sees of a ticket."""
        site = self.site
        procedure = site.procedures[ticket.procedure]
        estimate = self.estimated_wait(ticket, now)
        return {
            "id": ticket.id,
            "number": ticket.number,
            "site": site.id,
            "procedure": ticket.procedure,
            "procedure_name": procedure.name,
            "procedure_name_en": procedure.name_en,
            "agency": ticket.agency,
            "agency_name": site.agencies[ticket.agency].name,
            "agency_name_en": site.agencies[ticket.agency].name_en,
            "state": str(ticket.state),
            "priority": ticket.priority,
            "channel": ticket.channel,
            "position": self.position(ticket),
            "estimated_wait_s": None if estimate is None else round(estimate),
            "counter": ticket.counter,
            "counters": [c.id for c in site.counters_for(ticket.agency)],
            "step": ticket.step,
            "steps": list(ticket.steps),
            "waited_s": round(ticket.waited(now)),
            "visit_waited_s": round(ticket.visit_waited + ticket.waited(now)),
            "deadline": self.state.deadline_of(ticket) if ticket.is_open else None,
            "at_risk": ticket.at_risk,
            "outcome": ticket.outcome,
            "issued_at": ticket.issued_at,
            "slot_at": ticket.slot_at,
            "place_at": ticket.place_at,
            "travel_s": ticket.travel_s if ticket.place_at is not None else None,
            "return_at": ticket.return_at,
            "checked_in_at": ticket.checked_in_at,
            "turn_passed_at": ticket.turn_passed_at,
            "expires_at": ticket.expires_at,
            "more_time": ticket.more_time,
            "rejoined": ticket.rejoined,
        }
