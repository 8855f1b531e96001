"""The state of one site for one day: a fold of its events.

`SiteState.apply(event)` is the only mutator. Commands (controller/core/commands.py)
read the state and return events without touching it; the runtime commits those
events and then applies them, so a restart that replays the log rebuilds exactly
the same state.
"""

from __future__ import annotations

import heapq
import math
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import replace
from typing import Any

from controller.core.clock import local_half_hour, local_hour
from controller.core.events import EVENT_TYPES, Event
from controller.core.queues import AgencyQueue
from controller.core.service_times import ServiceTimes
from controller.core.site import Counter, Site
from controller.core.tickets import CounterState, CounterStatus, Ticket, TicketState

__all__ = ["SiteState"]

_TICKET_EVENTS = frozenset(t for t in EVENT_TYPES if t.startswith("ticket."))
_WAITING = (TicketState.WAITING, TicketState.HELD)  # Ticket.is_waiting
_INERT_FOR_ENFORCEMENT = frozenset({"ticket.started", "ticket.recalled", "rating.recorded", "rating.reasons",
                                    "device.changed"})
_ROUTING_EVENTS = frozenset({"day.started", "ticket.issued", "ticket.called", "ticket.no_show", "ticket.finished",
                             "ticket.transferred", "ticket.ready", "ticket.abandoned", "counter.changed",
                             "ticket.checked_in", "ticket.postponed", "ticket.turn_passed", "ticket.expired",
                             "ticket.rejoined"})


class SiteState:
    """Tickets, queues and counters of one site today."""

    def __init__(self, site: Site, day: str) -> None:
        self.site = site
        self.day = day
        self.tickets: dict[str, Ticket] = {}
        self.by_number: dict[str, str] = {}
        self.counters: dict[int, CounterState] = {cid: CounterState(id=cid) for cid in site.counters}
        # Each counter as it works today: the site's, or narrowed to the agencies it was opened for.
        self.specs: dict[int, Counter] = dict(site.counters)
        self.queues: dict[str, AgencyQueue] = {aid: AgencyQueue() for aid in site.agencies}
        self.directed: dict[int, list[str]] = defaultdict(list)  # transfers to one counter
        self.pending: dict[str, float] = {}   # HELD/BACK_OFFICE/EARLY ticket -> ready_at
        self.early: dict[str, dict[str, float]] = defaultdict(dict)  # agency -> EARLY ticket -> slot
        # Remote numbers (controller/core/remote.py): agency -> AWAY ticket -> its place; held-aside
        # ticket -> when it expires; agency -> the latest place called there (a turn passes at it);
        # (agency, local half hour) -> remote numbers taken then.
        self.away: dict[str, dict[str, float]] = defaultdict(dict)
        self.expiring: dict[str, float] = {}
        self.called_place: dict[str, float] = {}
        self.remote_taken: dict[tuple[str, int], int] = defaultdict(int)
        self.next_number: dict[str, int] = {a.id: a.first_number for a in site.agencies.values()}
        self.issued_per_agency: dict[str, int] = defaultdict(int)
        self.idempotency: dict[str, str] = {}
        self.service_times = ServiceTimes(site)
        self.ratings: list[dict[str, Any]] = []
        self.rated: set[tuple[str, int]] = set()
        # ("counter", n) or ("ticket", id) -> its latest rating (one of self.ratings): what reasons explain
        self.last_rating: dict[tuple[str, int | str], dict[str, Any]] = {}
        self._rating_of: dict[tuple[str, int], dict[str, Any]] = {}  # (ticket, counter) -> its rating
        self.alerts: dict[str, dict[str, Any]] = {}
        self.breaches: list[dict[str, Any]] = []
        # Ticket in line -> since when it has been late: flagged at risk, and still so past its deadline.
        # Leaving the line (a call, a re-queue, leaving) or the risk clearing drops it.
        self.risk_since: dict[str, float] = {}
        # Per agency, today's transactions by how they meet the wait target (controller/core/targets.py):
        # [called within it, called after it, left unserved after it]; a call counts until the transaction
        # goes back in line (a missed call held, a transfer), so each transaction counts at its last call.
        self.call_tally: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
        self._call_counted: dict[str, tuple[str, int]] = {}  # ticket -> (agency, tally slot) of its current call
        # Counters whose last change starts an enforcement clock (targets.next_due): open by enforcement
        # (it may close them again), or closed by a person (only recommended for a while). A few at
        # most, so a tick need not look at every counter.
        self.auto_opened: dict[int, CounterState] = {}
        self.closed_by_person: dict[int, CounterState] = {}
        # Breach timers: (deadline, order, ticket, kind, wait start), a heap with lazy deletion, so
        # enforcement finds the tickets that just passed a deadline without scanning the lines.
        self.timers: list[tuple[float, int, str, str, float]] = []
        self.issue_times: dict[str, list[float]] = defaultdict(list)  # agency -> intake issue times
        self.served_per_agency: dict[str, int] = defaultdict(int)
        self.waits_per_agency: dict[str, list[float]] = defaultdict(list)
        self.history: dict[str, list[tuple[str, float, int | None]]] = defaultdict(list)
        self.issue_order = 0
        self._line_deadlines: dict[str, float] = {}  # ticket in line (a queue or directed) -> its deadline
        self.in_line = 0  # tickets in a line: the agency queues and the transfers directed to a counter
        self.version = 0  # bumped by every event; caches key on it
        # Bumped only by events that can move a prediction (who waits where, which counter is free);
        # a service starting, a rating or a flag leaves the forecast as it was.
        self.routing_version = 0
        # Bumped by every event except those that change nothing enforcement looks at (a service
        # starting, a recall, a rating, a device): a quiet tick stays quiet across them.
        self.enforce_version = 0
        self._handlers: dict[str, Callable[[Event], None]] = {
            "day.started": self._noop,
            "ticket.issued": self._issued,
            "ticket.called": self._called,
            "ticket.recalled": self._recalled,
            "ticket.no_show": self._no_show,
            "ticket.started": self._started,
            "ticket.finished": self._finished,
            "ticket.transferred": self._transferred,
            "ticket.ready": self._ready,
            "ticket.abandoned": self._abandoned,
            "ticket.checked_in": self._checked_in,
            "ticket.postponed": self._postponed,
            "ticket.turn_passed": self._turn_passed,
            "ticket.expired": self._expired,
            "ticket.rejoined": self._rejoined,
            "counter.changed": self._counter_changed,
            "rating.recorded": self._rating,
            "rating.reasons": self._rating_reasons,
            "target.at_risk": self._at_risk,
            "target.at_risk_cleared": self._at_risk_cleared,
            "target.breached": self._breached,
            "alert.raised": self._alert_raised,
            "alert.acknowledged": self._alert_acknowledged,
            "device.changed": self._device_changed,
        }

    # ------------------------------------------------------------------ folding
    def apply(self, event: Event) -> None:
        """Fold one event into the state."""
        kind = event.type
        self._handlers[kind](event)
        if kind in _ROUTING_EVENTS:
            self.routing_version += 1
            self.enforce_version += 1
        elif kind not in _INERT_FOR_ENFORCEMENT:
            self.enforce_version += 1
        if kind in _TICKET_EVENTS:
            data = event.data
            ticket_id = data.get("ticket")
            if ticket_id is not None:
                self.history[ticket_id].append((kind, event.at, data.get("counter")))
        self.version += 1

    def _noop(self, event: Event) -> None:
        return None

    def deadline_of(self, ticket: Ticket) -> float:
        """The deadline the routing works to: the targets', or sooner the appointment's grace window."""
        deadline = self._line_deadlines.get(ticket.id)
        if deadline is not None:
            return deadline  # in line: worked out when it joined (policies and the tick ask again and again)
        targets = self.site.targets
        deadline = ticket.deadline(targets.transaction_wait_s, targets.visit_wait_s)
        if ticket.appointment_pending:
            assert ticket.slot_at is not None
            deadline = min(deadline, ticket.slot_at + self.site.appointment_grace_s)
        if ticket.remote_pending:
            # In line at its place: the deadline of a walk-in who joined then (the targets count from check-in).
            deadline = min(deadline, ticket.place() + targets.transaction_wait_s)
        return deadline

    def _enqueue(self, ticket: Ticket, now: float) -> None:
        """Put a ticket in line for its current step, its wait clock running from now."""
        ticket.state = TicketState.WAITING
        ticket.waiting_since = now
        ticket.counter = None
        ticket.called_at = None
        ticket.started_at = None
        ticket.ready_at = None
        ticket.at_risk = False
        self.risk_since.pop(ticket.id, None)
        self.pending.pop(ticket.id, None)
        if ticket.appointment_pending and ticket.tx_waited_before == 0 and (ticket.slot_at or 0.0) > now:
            # Checked in before the slot: the wait clock starts at the slot, and until then the ticket
            # stays out of line (a counter with nobody else may still call it: policies.py).
            assert ticket.slot_at is not None
            ticket.state = TicketState.EARLY
            ticket.waiting_since = ticket.ready_at = ticket.slot_at
            self.pending[ticket.id] = ticket.slot_at
            self.early[ticket.agency][ticket.id] = ticket.slot_at
            return
        start = self._arm(ticket)
        targets = self.site.targets
        # deadline_of(ticket), written out with the start just computed (same arithmetic, same float). Nothing
        # it depends on changes while the ticket is in line, so deadline_of reads it until the ticket leaves.
        deadline = start + min(targets.transaction_wait_s, targets.visit_wait_s - ticket.visit_waited)
        if ticket.appointment_pending:
            assert ticket.slot_at is not None
            deadline = min(deadline, ticket.slot_at + self.site.appointment_grace_s)
        if ticket.remote_pending:
            place = ticket.place()
            deadline = min(deadline, place + targets.transaction_wait_s)
            start = place  # its place in line is kept from when it was taken
        self._line_deadlines[ticket.id] = deadline
        if ticket.target_counter is not None:
            self.directed[ticket.target_counter].append(ticket.id)
            self.in_line += 1
            return
        if self.queues[ticket.agency].add(ticket.id, ticket.priority is not None, start, deadline, ticket.order):
            self.in_line += 1

    def _count_call(self, ticket: Ticket, slot: int) -> None:
        self._uncount_call(ticket)
        self.call_tally[ticket.agency][slot] += 1
        self._call_counted[ticket.id] = (ticket.agency, slot)

    def _uncount_call(self, ticket: Ticket) -> None:
        """The transaction goes back in line: its call was not its last."""
        counted = self._call_counted.pop(ticket.id, None)
        if counted is not None:
            self.call_tally[counted[0]][counted[1]] -= 1

    def _arm(self, ticket: Ticket) -> float:
        """Set the breach timer of a ticket whose wait clock (re)started: its next unflagged deadline.

        One timer at a time: when it fires (target.breached), the fold arms the other kind.
        Returns the wait start.
        """
        start = ticket.waiting_since - ticket.tx_waited_before  # effective_start()
        targets = self.site.targets
        tx = start + targets.transaction_wait_s
        visit = start + targets.visit_wait_s - ticket.visit_waited
        if not ticket.breached_tx and (ticket.breached_visit or tx <= visit):
            heapq.heappush(self.timers, (tx, ticket.order, ticket.id, "transaction", start))
        elif not ticket.breached_visit:
            heapq.heappush(self.timers, (visit, ticket.order, ticket.id, "visit", start))
        return start

    def _timer_live(self, entry: tuple[float, int, str, str, float]) -> bool:
        ticket = self.tickets[entry[2]]
        # is_waiting and effective_start(), written out: this runs at every tick.
        if ticket.state not in _WAITING or ticket.waiting_since - ticket.tx_waited_before != entry[4]:
            return False
        return not (ticket.breached_tx if entry[3] == "transaction" else ticket.breached_visit)

    def due_timers(self, now: float) -> list[tuple[float, int, str, str, float]]:
        """Live breach timers at or before `now`: (deadline, order, ticket, kind, wait start).

        Dead timers at the top are dropped on the way (a cache, like the queues' heaps).
        """
        heap = self.timers
        while heap and not self._timer_live(heap[0]):
            heapq.heappop(heap)
        out = []
        stack = [0] if heap else []
        while stack:
            i = stack.pop()
            entry = heap[i]
            if entry[0] > now:
                continue
            if self._timer_live(entry):
                out.append(entry)
            for child in (2 * i + 1, 2 * i + 2):
                if child < len(heap):
                    stack.append(child)
        out.sort()
        return out

    def next_timer(self) -> float | None:
        """The earliest live breach deadline (None: no ticket waits)."""
        heap = self.timers
        while heap and not self._timer_live(heap[0]):
            heapq.heappop(heap)
        return heap[0][0] if heap else None

    def _dequeue(self, ticket: Ticket) -> None:
        self._line_deadlines.pop(ticket.id, None)
        if self.queues[ticket.agency].discard(ticket.id):
            self.in_line -= 1
        if ticket.target_counter is not None:
            line = self.directed.get(ticket.target_counter)
            if line and ticket.id in line:
                line.remove(ticket.id)
                self.in_line -= 1
        self.pending.pop(ticket.id, None)
        self.early[ticket.agency].pop(ticket.id, None)
        self.away[ticket.agency].pop(ticket.id, None)
        self.expiring.pop(ticket.id, None)

    def _issued(self, event: Event) -> None:
        d = event.data
        steps = tuple(d["steps"])
        self.issue_order += 1
        ticket = Ticket(
            id=d["ticket"],
            number=d["number"],
            intake_procedure=steps[0],
            procedure=steps[0],
            agency=d["agency"],
            steps=steps,
            priority=d.get("priority"),
            channel=d.get("channel", "kiosk"),
            kiosk=d.get("kiosk"),
            issued_at=event.at,
            order=self.issue_order,
            slot_at=d.get("slot_at"),
            dossier=d.get("dossier"),
        )
        self.tickets[ticket.id] = ticket
        self.by_number[ticket.number] = ticket.id
        agency = self.site.agencies[ticket.agency]
        self.next_number[agency.id] = int(ticket.number) + 1
        self.issued_per_agency[agency.id] += 1
        self.issue_times[agency.id].append(event.at)
        key = d.get("idempotency_key")
        if key:
            self.idempotency[key] = ticket.id
        if d.get("away"):
            # Its place: when taken, or for a number held for the day, the opening (given with the event).
            place = float(d.get("place_at", event.at))
            ticket.state = TicketState.AWAY
            ticket.place_at = place
            ticket.travel_s = float(d.get("travel_s", 0.0))
            ticket.return_at = d.get("return_at")
            self.away[ticket.agency][ticket.id] = place
            if ticket.channel == "remote":  # the share cap is for phones; one who returns later was in the hall
                self.remote_taken[(ticket.agency, local_half_hour(place, self.site.utc_offset_s))] += 1
            return
        self._enqueue(ticket, event.at)

    def _called(self, event: Event) -> None:
        ticket = self.tickets[event.data["ticket"]]
        counter = self.counters[event.data["counter"]]
        if ticket.priority is None and ticket.target_counter is None and ticket.state is TicketState.WAITING:
            # Called at this place: away numbers placed before it have had their turn (remote.py).
            place = ticket.place()
            if place > self.called_place.get(ticket.agency, -math.inf):
                self.called_place[ticket.agency] = place
        waited = ticket.waited(event.at)
        self._dequeue(ticket)
        ticket.tx_waited_before = waited
        ticket.state = TicketState.CALLED
        ticket.counter = counter.id
        ticket.staff = counter.staff
        ticket.called_at = event.at
        ticket.calls = 1
        ticket.target_counter = None
        ticket.at_risk = False
        self.risk_since.pop(ticket.id, None)
        self._count_call(ticket, 0 if waited <= self.site.targets.transaction_wait_s else 1)
        counter.current = ticket.id
        counter.last_served = ticket.id
        counter.last_served_staff = counter.staff

    def _recalled(self, event: Event) -> None:
        ticket = self.tickets[event.data["ticket"]]
        ticket.calls += 1

    def _no_show(self, event: Event) -> None:
        ticket = self.tickets[event.data["ticket"]]
        counter = self.counters[event.data["counter"]]
        counter.current = None
        ticket.no_shows += 1
        if event.data.get("requeued"):
            self._uncount_call(ticket)
            ticket.state = TicketState.HELD
            ticket.counter = None
            ticket.waiting_since = event.at
            ticket.ready_at = float(event.data["ready_at"])
            self.pending[ticket.id] = ticket.ready_at
            self._arm(ticket)  # the wait clock runs again while the ticket is held
        else:
            ticket.state = TicketState.NO_SHOW
            self._call_counted.pop(ticket.id, None)  # its last call: counted for good
            ticket.visit_waited += ticket.tx_waited_before
            ticket.transaction_waits.append(ticket.tx_waited_before)

    def _started(self, event: Event) -> None:
        ticket = self.tickets[event.data["ticket"]]
        ticket.state = TicketState.SERVING
        ticket.started_at = event.at

    def _finished(self, event: Event) -> None:
        d = event.data
        ticket = self.tickets[d["ticket"]]
        counter = self.counters[d["counter"]]
        began = ticket.started_at if ticket.started_at is not None else ticket.called_at
        service = max(0.0, event.at - (began if began is not None else event.at))
        self.service_times.observe(ticket.procedure, counter.id, local_hour(event.at, self.site.utc_offset_s), service)
        counter.current = None
        counter.served += 1
        self._call_counted.pop(ticket.id, None)  # its last call: counted for good
        self.served_per_agency[ticket.agency] += 1
        self.waits_per_agency[ticket.agency].append(ticket.tx_waited_before)
        ticket.service_times.append(service)
        ticket.transaction_waits.append(ticket.tx_waited_before)
        ticket.visit_waited += ticket.tx_waited_before
        if ticket.step == 0:
            ticket.intake_finished_at = event.at
        next_step = d.get("next_step")
        if next_step is None:
            ticket.state = TicketState.DONE
            ticket.outcome = d.get("outcome", "done")
            return
        ticket.step += 1
        ticket.procedure = next_step
        ticket.agency = self.site.procedures[next_step].agency
        ticket.tx_waited_before = 0.0
        ticket.calls = 0
        ticket.no_shows = 0
        ticket.breached_tx = False
        ready_at = d.get("ready_at")
        if ready_at is not None and ready_at > event.at:
            ticket.state = TicketState.BACK_OFFICE
            ticket.counter = None
            ticket.ready_at = float(ready_at)
            self.pending[ticket.id] = ticket.ready_at
        else:
            self._enqueue(ticket, event.at)

    def _transferred(self, event: Event) -> None:
        d = event.data
        ticket = self.tickets[d["ticket"]]
        counter = self.counters[d["counter"]]
        counter.current = None
        ticket.transfers += 1
        self._uncount_call(ticket)
        procedure = d.get("procedure")
        if procedure is not None:
            ticket.procedure = procedure
            ticket.agency = self.site.procedures[procedure].agency
            ticket.steps = tuple(d["steps"])
        ticket.target_counter = d.get("to_counter")
        # The wait clock keeps what the citizen already waited in this transaction.
        self._enqueue(ticket, event.at)

    def _ready(self, event: Event) -> None:
        ticket = self.tickets[event.data["ticket"]]
        if ticket.state == TicketState.HELD:
            kept = ticket.tx_waited_before + max(0.0, event.at - ticket.waiting_since)
            ticket.tx_waited_before = kept
        if ticket.state == TicketState.EARLY:
            # In line from its slot, however late the tick that noticed it came.
            self.early[ticket.agency].pop(ticket.id, None)
            self._enqueue(ticket, min(event.at, ticket.waiting_since))
            return
        self._enqueue(ticket, event.at)

    def _abandoned(self, event: Event) -> None:
        ticket = self.tickets[event.data["ticket"]]
        waited = ticket.waited(event.at)
        if ticket.is_waiting and waited > self.site.targets.transaction_wait_s:
            self.call_tally[ticket.agency][2] += 1  # left unserved after the target: missed, never called
        self.risk_since.pop(ticket.id, None)
        self._dequeue(ticket)
        if ticket.counter is not None and self.counters[ticket.counter].current == ticket.id:
            self.counters[ticket.counter].current = None
        ticket.tx_waited_before = waited
        ticket.transaction_waits.append(waited)
        ticket.visit_waited += waited
        ticket.state = TicketState.ABANDONED

    def _checked_in(self, event: Event) -> None:
        ticket = self.tickets[event.data["ticket"]]
        self.away[ticket.agency].pop(ticket.id, None)
        self.expiring.pop(ticket.id, None)
        ticket.checked_in_at = event.at
        ticket.turn_passed_at = ticket.expires_at = None
        self._enqueue(ticket, event.at)  # its wait clock starts now, at the place it kept

    def _postponed(self, event: Event) -> None:
        ticket = self.tickets[event.data["ticket"]]
        ticket.place_at = float(event.data["place_at"])
        ticket.more_time = True
        self.away[ticket.agency][ticket.id] = ticket.place_at

    def _turn_passed(self, event: Event) -> None:
        ticket = self.tickets[event.data["ticket"]]
        ticket.turn_passed_at = event.at
        ticket.expires_at = float(event.data["until"])
        self.expiring[ticket.id] = ticket.expires_at

    def _expired(self, event: Event) -> None:
        ticket = self.tickets[event.data["ticket"]]
        self._dequeue(ticket)
        ticket.state = TicketState.NO_SHOW  # never came: it waited nowhere, so no wait is counted

    def _rejoined(self, event: Event) -> None:
        ticket = self.tickets[event.data["ticket"]]
        ticket.state = TicketState.AWAY
        ticket.rejoined = True
        ticket.place_at = event.at
        ticket.turn_passed_at = ticket.expires_at = None
        self.away[ticket.agency][ticket.id] = event.at

    def _counter_changed(self, event: Event) -> None:
        d = event.data
        counter = self.counters[d["counter"]]
        counter.status = CounterStatus(d["status"])
        counter.staff = d.get("staff")
        counter.pause_reason = d.get("reason") if counter.status == CounterStatus.PAUSED else None
        counter.opened_by = d.get("by")
        counter.changed_at = event.at
        self.auto_opened.pop(counter.id, None)
        self.closed_by_person.pop(counter.id, None)
        if counter.status == CounterStatus.OPEN and counter.opened_by == "auto":
            self.auto_opened[counter.id] = counter
        elif counter.status == CounterStatus.CLOSED and counter.opened_by not in (None, "auto"):
            self.closed_by_person[counter.id] = counter
        trained = self.site.counters[counter.id]
        if counter.status == CounterStatus.CLOSED:
            counter.serving = ()
        elif "serves" in d:  # opened for some of its agencies (older logs name none: all of them)
            serving = tuple(a for a in trained.serves if a in d["serves"])
            counter.serving = () if serving == trained.serves else serving
        self.specs[counter.id] = replace(trained, serves=counter.serving) if counter.serving else trained
        if counter.status == CounterStatus.PAUSED:
            # Gone on a break: advice to defer it is moot.
            for alert in self.alerts.values():
                if alert.get("code") == "break_defer_recommended" and alert.get("counter") == counter.id:
                    alert["resolved"] = True
        if counter.status == CounterStatus.OPEN:
            # A counter opened for an agency answers the recommendation to open one (for that agency,
            # or that very counter).
            serves = set(self.site.counters[counter.id].serves)
            for alert in self.alerts.values():
                if alert.get("code") not in ("standby_recommended", "standby_planned") or alert.get("resolved"):
                    continue
                needing = alert.get("agencies") or [alert.get("agency")]
                if alert.get("counter") == counter.id or not serves.isdisjoint(needing):
                    alert["resolved"] = True
                    alert["resolved_by"] = f"counter {counter.id}"

    def _rating(self, event: Event) -> None:
        d = event.data
        rating = {**d, "at": event.at}
        self.ratings.append(rating)
        self.rated.add((d["ticket"], d["counter"]))
        self.last_rating[("counter", d["counter"])] = rating
        self.last_rating[("ticket", d["ticket"])] = rating
        self._rating_of[(d["ticket"], d["counter"])] = rating

    def _rating_reasons(self, event: Event) -> None:
        rating = self._rating_of.get((event.data["ticket"], event.data["counter"]))
        if rating is not None:
            rating["reasons"] = list(event.data["reasons"])

    def _at_risk(self, event: Event) -> None:
        ticket = self.tickets.get(event.data["ticket"])
        if ticket is not None:
            ticket.at_risk = True
            self.risk_since[ticket.id] = event.at

    def _at_risk_cleared(self, event: Event) -> None:
        ticket = self.tickets.get(event.data["ticket"])
        if ticket is not None:
            ticket.at_risk = False
            self.risk_since.pop(ticket.id, None)

    def _breached(self, event: Event) -> None:
        d = event.data
        ticket = self.tickets.get(d["ticket"])
        if ticket is not None:
            if d["kind"] == "visit":
                ticket.breached_visit = True
            else:
                ticket.breached_tx = True
            # Past its deadline: a breach now, no longer a risk (risk_since stays: the agency is still late).
            ticket.at_risk = False
            if ticket.is_waiting:
                self._arm(ticket)  # the other target's timer, if it is still to come
        self.breaches.append({**d, "at": event.at})

    def _alert_raised(self, event: Event) -> None:
        self.alerts[event.data["alert"]] = {**event.data, "at": event.at, "acknowledged": False}

    def _device_changed(self, event: Event) -> None:
        # A device back online and able to work answers the alerts raised about it (printer_problem).
        d = event.data
        health = d.get("health")
        able = not isinstance(health, Mapping) or health.get("can_print") is not False
        if d.get("status") != "online" or not able:
            return
        for alert in self.alerts.values():
            if alert.get("device") == d.get("device") and not alert.get("resolved"):
                alert["resolved"] = True
                alert["resolved_by"] = f"device {d.get('device')}"

    def _alert_acknowledged(self, event: Event) -> None:
        alert = self.alerts.get(event.data["alert"])
        if alert is not None:
            alert["acknowledged"] = True
            alert["acknowledged_by"] = event.data.get("by")

    # ------------------------------------------------------------------ reading
    def open_counters(self, agency: str | None = None) -> list[CounterState]:
        """Counters taking calls now (open, not paused), optionally for one agency."""
        # An agency's counters are among those trained for it (the site's), in the same order as all.
        ids = self.counters if agency is None else [c.id for c in self.site.counters_for(agency)]
        return [self.counters[cid] for cid in ids if self.counters[cid].status == CounterStatus.OPEN
                and (agency is None or agency in self.specs[cid].serves)]

    def has_work_for(self, counter_id: int) -> bool:
        """Could a call at this counter find anyone: a transfer directed to it, or a ticket of an agency
        it is open for (specs) in line or checked in early? No policy calls anyone else (competence)."""
        if self.directed.get(counter_id):
            return True
        queues, early = self.queues, self.early
        return any(queues[agency] or early.get(agency) for agency in self.specs[counter_id].serves)

    def waiting_by_agency(self) -> dict[str, list[Ticket]]:
        """Tickets in line (waiting or held), grouped by agency, in one pass."""
        groups: dict[str, list[Ticket]] = {agency: [] for agency in self.site.agencies}
        for ticket in self.tickets.values():
            if ticket.is_waiting:
                groups[ticket.agency].append(ticket)
        return groups

    def open_alerts(self) -> list[dict[str, Any]]:
        """Alerts nobody has acknowledged and the floor has not resolved, oldest first."""
        return [a for a in self.alerts.values() if not a.get("acknowledged") and not a.get("resolved")]

    def satisfaction(self, counter: int | None = None) -> tuple[float | None, int]:
        """Share of ratings in the top two levels (CONTRACT.md), and how many ratings, today."""
        ratings = [r for r in self.ratings if counter is None or r["counter"] == counter]
        if not ratings:
            return None, 0
        top = sum(1 for r in ratings if r["score"] >= r["levels"] - 1)
        return top / len(ratings), len(ratings)

    def waiting_tickets(self) -> Iterable[Ticket]:
        return (t for t in self.tickets.values() if t.state == TicketState.WAITING)
