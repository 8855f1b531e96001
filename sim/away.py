"""Citizens whose number holds a place while they are elsewhere: taken from a phone at home, or at the kiosk to
come back later.

Each citizen of the day (sim/arrivals.py) has a plan drawn here, from the same stream
after everything else about them, so a run with numbers from phones meets exactly the
people a walk-in-only run meets (common random numbers):

- remote (scenario `remote_share`, among those without legal priority or an appointment):
  when they would have set off to arrive (their arrival less their trip, at the earliest
  the opening), they take a number from their phone (the core's `TakeRemote`, with the
  trip they announce, `remote_travel_min`). Refused (the half hour's share is taken, the
  centre closed), they come as a walk-in, as they would have. The page shows the
  predicted wait: when it is shorter than their trip, they come directly instead (a
  number's turn would pass before they could arrive; `remote_reads_wait = false` takes
  the number anyway).
- at home, they set off when the server would text "come now" (the core's `come_now`:
  the predicted call within their trip), or when their page says their turn came (held
  aside), looked at every `tick_s` as the notifier looks at away numbers;
- they check in at the kiosk (`CheckInRemote`) after the trip and their lateness
  (`check_in_late_min`, exponential); found expired, they rejoin once at the back
  (`Rejoin`) and check in; a share (`away_no_show_share`) never comes.
- return later (scenario `return_later_share`, among those without legal priority or an
  appointment): at the kiosk, when the kiosk offers it (the core's `return_offer`: the
  predicted wait is over the target), they take the number to come back at the printed time
  (`IssueTicket(return_at)`), leave, and check in on their return, as late and as often
  never as phone holders.

Nothing here routes or times the floor: the core decides who is called, when a turn
passes and when a held-aside number expires.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import partial

import numpy as np

from controller.core.commands import CheckInRemote, Command, IssueTicket, Rejoin, TakeRemote
from controller.core.events import Event
from controller.core.floor import Floor
from controller.core.remote import come_now
from controller.core.return_later import return_offer
from controller.core.tickets import TicketState
from sim.arrivals import Arrival
from sim.engine import Loop
from sim.scenario import Scenario

__all__ = ["AwayCitizens", "AwayPlan", "away_plans"]


@dataclass(frozen=True, slots=True)
class AwayPlan:
    """What one citizen does with a number that holds a place away."""

    remote: bool = False        # takes the number from a phone, at home
    travel_s: float = 0.0       # the trip they announce (and take)
    late_s: float = 0.0         # how much later than "come now" + the trip they check in
    never_comes: bool = False   # a number held away whose holder never comes
    accepts_return: bool = False  # at the kiosk, takes a number to come back later when it is offered


def away_plans(arrivals: Sequence[Arrival], scenario: Scenario, rng: np.random.Generator) -> list[AwayPlan]:
    """One plan per arrival, drawn after the arrivals: every draw is made whatever the shares, so the stream
    stays aligned and a change of share changes only who takes a number from a phone."""
    n = len(arrivals)
    remote = rng.random(n) < scenario.remote_share
    trips = rng.integers(len(scenario.remote_travel_s), size=n)
    late = rng.standard_exponential(n) * scenario.check_in_late_s
    never = rng.random(n) < scenario.away_no_show_share
    accepts = rng.random(n) < scenario.return_later_share
    return [AwayPlan(remote=bool(remote[i]) and a.priority is None and a.appointment_slot_s is None,
                     travel_s=scenario.remote_travel_s[int(trips[i])], late_s=float(late[i]),
                     never_comes=bool(never[i]),
                     accepts_return=bool(accepts[i]) and a.priority is None and a.appointment_slot_s is None)
            for i, a in enumerate(arrivals)]


@dataclass
class AwayCitizens:
    """The citizens of one site-day whose numbers are away: at home until "come now", then on their way."""

    floor: Floor
    loop: Loop
    reads_wait: bool                            # come directly when the predicted wait is shorter than the trip
    run: Callable[[Command], list[Event]]       # the day's way to act on the floor (counted, followed)
    wrap: Callable[[Callable[[], None]], Callable[[], None]]  # the day's wrapper of scheduled actions
    counts: dict[str, int] = field(default_factory=dict)
    home: dict[str, AwayPlan] = field(default_factory=dict)  # ticket -> its holder's plan, not yet set off

    def _count(self, what: str) -> None:
        self.counts[what] = self.counts.get(what, 0) + 1

    def take(self, arrival: Arrival, plan: AwayPlan) -> str | None:
        """A number taken from a phone at home now; None when refused or not worth it (they come as a walk-in)."""
        if self.reads_wait:
            now = self.loop.now
            at = self.floor.forecast(now).new_ticket_call_at.get(self.floor.site.procedures[arrival.procedure].agency)
            if at is not None and at - now < plan.travel_s:
                self._count("remote_came_directly")
                return None
        events = self.run(TakeRemote(procedure=arrival.procedure, travel_s=plan.travel_s, by="remote"))
        issued = [e for e in events if e.type == "ticket.issued"]
        if not issued:
            self._count("remote_refused")
            return None
        tid = str(issued[0].data["ticket"])
        self._count("remote_taken")
        if plan.never_comes:
            self._count("remote_never_came")
        else:
            self.home[tid] = plan
            self.review()
        return tid

    def come_back(self, arrival: Arrival, plan: AwayPlan) -> str | None:
        """At the kiosk: a number to come back later when it is offered (None: not offered, they wait here)."""
        now = self.loop.now
        _wait, at = return_offer(self.floor, self.floor.site.procedures[arrival.procedure].agency, now)
        if at is None:
            self._count("return_not_offered")
            return None
        events = self.run(IssueTicket(procedure=arrival.procedure, kiosk="k1", return_at=at))
        issued = [e for e in events if e.type == "ticket.issued"]
        if not issued:
            return None
        tid = str(issued[0].data["ticket"])
        self._count("return_taken")
        if plan.never_comes:
            self._count("return_never_came")
        else:
            self.loop.at(at + plan.late_s, self.wrap(partial(self._arrive, tid, "return")))
        return tid

    def review(self) -> None:
        """Those at home whose turn is near (or came) set off now."""
        state, now = self.floor.state, self.loop.now
        for tid, plan in list(self.home.items()):
            ticket = state.tickets[tid]
            if ticket.state is not TicketState.AWAY:
                del self.home[tid]  # gone for good (the centre closed)
                continue
            if ticket.turn_passed_at is None and not come_now(self.floor.estimated_wait(ticket, now), plan.travel_s):
                continue
            del self.home[tid]
            self.loop.after(plan.travel_s + plan.late_s, self.wrap(partial(self._arrive, tid, "remote")))

    def _arrive(self, tid: str, kind: str) -> None:
        """At the kiosk: check in, after rejoining once at the back if the number expired on the way."""
        ticket = self.floor.state.tickets[tid]
        if ticket.state is TicketState.NO_SHOW and ticket.checked_in_at is None:
            if ticket.rejoined or not self.run(Rejoin(ticket=tid, by="remote")):
                self._count(f"{kind}_gave_up")
                return
            self._count(f"{kind}_rejoined")
        if self.floor.state.tickets[tid].state is not TicketState.AWAY:
            return  # the centre closed meanwhile
        if self.run(CheckInRemote(ticket=tid, via="kiosk")):
            self._count(f"{kind}_checked_in")
