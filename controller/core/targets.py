"""Target enforcement: the tick that acts before a wait target is missed.

Called by the runtime about once a second and by the simulator whenever
something can change. It returns events only; the caller commits and applies.

- tickets whose back-office time or no-show hold is over re-enter their queue;
- "at risk" is a current judgement, made again at every tick: a ticket in line
  whose deadline is still ahead and whose predicted call time passes it raises
  target.at_risk; once the prediction is back inside the deadline (by
  CLEAR_MARGIN_S, so a ticket on the edge does not flap) target.at_risk_cleared
  says so; passing the deadline turns the risk into a breach;
- a ticket that passes its deadline while waiting records target.breached with
  its most likely cause;
- when at-risk tickets of an agency persist, a closed standby counter that
  serves it is opened (where the site allows) or recommended to the manager;
  one a person closed is only recommended for half an hour (never overruled);
  an auto-opened counter closes again once its agencies are comfortable.
  A recommendation is one alert per counter: agencies that need the same
  counter share it rather than each repeating "open counter 50".

How targets are met, live and in reports, is one definition (`TargetTally`):

    within target = transactions called within the target
                    / (transactions called + transactions not called whose wait passed the target)

A transaction counts once, at its last call (a missed call put back in line or a
transfer is not its last call); one still in line, or left unserved, counts as
missed the moment its wait passes the target, not when it is finally called.
Visits likewise: visits completed within the visit target / (visits completed +
visits, open or left, whose total wait passed it).
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from controller.core.clock import hhmm, local_seconds
from controller.core.estimator import Forecast
from controller.core.events import Event
from controller.core.remote import expires_next, remote_tick
from controller.core.site import Counter
from controller.core.state import SiteState
from controller.core.tickets import CounterState, CounterStatus, Ticket, TicketState

__all__ = [
    "CLEAR_MARGIN_S",
    "QUIET_MAX_S",
    "STANDBY_AFTER_S",
    "TargetTally",
    "at_risk_now",
    "break_alert_id",
    "enforce",
    "next_due",
    "standby_alert_id",
    "transaction_tallies",
    "visit_tally",
]

STANDBY_AFTER_S = 120.0          # at-risk this long before a standby counter is opened
STANDBY_MIN_OPEN_S = 30 * 60.0   # an auto-opened counter stays open at least this long
STANDBY_CLOSED_HOLD_S = 30 * 60.0  # a standby counter a person closed is only recommended this long
SURGE_WINDOW_S = 30 * 60.0
SURGE_FACTOR = 1.5
LONG_SERVICE_FACTOR = 1.25
# With tickets waiting, a quiet tick still looks again at least this often (the runtime's
# manager screens show ages and estimates that a fresh look keeps honest).
QUIET_MAX_S = 300.0
DRIFT_S = 120.0
BREAK_LOOKAHEAD_S = 10 * 60.0    # a break this close (or due) while its lines are at risk: advise deferring it
_IN_LINE = (TicketState.WAITING, TicketState.HELD)  # Ticket.is_waiting, for loops over every ticket
# A ticket at risk is cleared once its predicted call is back inside its deadline by this much:
# predictions move by seconds as services run, and a ticket on the edge should not flap.
CLEAR_MARGIN_S = 30.0


@dataclass(frozen=True, slots=True)
class TargetTally:
    """How a wait target is being met: `within` met it, `missed` did not (`waiting_over` of them still wait)."""

    within: int = 0
    missed: int = 0
    waiting_over: int = 0

    @property
    def counted(self) -> int:
        return self.within + self.missed

    @property
    def share(self) -> float | None:
        """within / (within + missed); None while nothing counts yet."""
        return self.within / self.counted if self.counted else None

    def __add__(self, other: TargetTally) -> TargetTally:
        return TargetTally(self.within + other.within, self.missed + other.missed,
                           self.waiting_over + other.waiting_over)

    def as_dict(self, target_s: float) -> dict[str, Any]:
        """The snapshot's form (CONTRACT.md, monitor snapshot)."""
        share = self.share
        return {"target_s": target_s, "share": None if share is None else round(share, 4), "within": self.within,
                "missed": self.missed, "waiting_over": self.waiting_over}


def transaction_tallies(
    state: SiteState, now: float, in_line: Mapping[str, list[Ticket]] | None = None
) -> dict[str, TargetTally]:
    """Today's transactions of each agency against the transaction target (the module's definition).

    in_line: state.waiting_by_agency(), when the caller has it already.
    """
    target = state.site.targets.transaction_wait_s
    lines = state.waiting_by_agency() if in_line is None else in_line
    out = {}
    for agency in state.site.agencies:
        waiting_over = sum(1 for t in lines.get(agency, ()) if t.waited(now) > target)
        ok, late, left = state.call_tally.get(agency, (0, 0, 0))
        out[agency] = TargetTally(ok, late + left + waiting_over, waiting_over)
    return out


def visit_tally(state: SiteState, now: float) -> TargetTally:
    """Today's visits against the visit target (the module's definition)."""
    target = state.site.targets.visit_wait_s
    within = missed = over = 0
    for ticket in state.tickets.values():
        waiting = ticket.state in _IN_LINE
        if ticket.breached_visit:
            missed += 1
            over += waiting
        elif waiting:
            if ticket.visit_waited + ticket.waited(now) > target:
                missed += 1
                over += 1
        elif ticket.visit_waited > target:
            missed += 1
        elif ticket.state is TicketState.DONE:
            within += 1
    return TargetTally(within, missed, over)


def at_risk_now(state: SiteState, ticket: Ticket, now: float) -> bool:
    """Whether the floor shows a ticket at risk now: flagged by the last tick, in line, its deadline still ahead."""
    return ticket.at_risk and ticket.state is TicketState.WAITING and state.deadline_of(ticket) > now


def standby_alert_id(counter: int) -> str:
    """The one alert that recommends opening a standby counter, whichever agencies need it."""
    return f"standby-{counter}"


def enforce(state: SiteState, now: float, forecast: Forecast) -> list[Event]:
    """All events the tick causes at `now`."""
    events: list[Event] = []
    ready = [(ready_at, tid) for tid, ready_at in state.pending.items() if ready_at <= now]
    # In ready-time order; insertion order breaks ties, as the stable sort by time did.
    for _at, tid in sorted(ready, key=lambda r: r[0]):
        ticket = state.tickets[tid]
        events.append(Event("ticket.ready", now, {"ticket": tid, "number": ticket.number,
                                                  "agency": ticket.agency}))
    events.extend(remote_tick(state, now))
    events.extend(_breaches(state, now))
    at_risk_agencies = _at_risk(state, now, forecast, events)
    events.extend(_planned_standby(state, now))
    events.extend(_standby(state, now, forecast, at_risk_agencies))
    events.extend(_break_advice(state, now, at_risk_agencies))
    return events


def next_due(state: SiteState, now: float, forecast: Forecast) -> float:
    """The earliest time a tick could act if no event happens before it (inf: not before an event).

    A tick that found nothing to do stays quiet until then: the runtime may
    tick every second and the simulator at any moment, and both pay only for
    ticks where something can change.
    """
    due = min(min(state.pending.values(), default=math.inf), expires_next(state))
    timer = state.next_timer()
    if timer is not None:
        # Tickets wait: predictions move once a service runs over; such slow drift is looked at
        # every DRIFT_S, and anything at least every QUIET_MAX_S.
        due = min(due, timer, max(forecast.stable_until, now + DRIFT_S), now + QUIET_MAX_S)
    standby = state.site.standby_agencies
    watched = standby | state.site.break_agencies
    for tid in forecast.late if watched else ():
        since = state.risk_since.get(tid)
        # A ticket at risk long enough makes its agency ask for a standby counter then
        # (an agency no standby counter serves has nobody to ask for).
        if since is not None and since + STANDBY_AFTER_S > now:
            ticket = state.tickets[tid]
            if ticket.state is TicketState.WAITING and ticket.agency in watched:
                due = min(due, since + STANDBY_AFTER_S)
    local = local_seconds(now, state.site.utc_offset_s)
    midnight = now - local
    for counter in state.site.planned_counters:
        # The next planned moment: a standby shift's start or end, or a break coming into view.
        for start, end in _planned_moments(counter):
            for at in (start, end):
                if at > local:
                    due = min(due, midnight + at)
    for cs in state.auto_opened.values():
        until = cs.changed_at + STANDBY_MIN_OPEN_S
        due = min(due, until if until > now else now + QUIET_MAX_S)
    for cs in state.closed_by_person.values() if standby else ():
        if _closed_by_hand(cs, now):
            due = min(due, cs.changed_at + STANDBY_CLOSED_HOLD_S)
    return due


def _planned_moments(counter: Counter) -> list[tuple[float, float]]:
    """Local seconds a tick must look at a counter's plan: its standby shifts, its breaks' look-ahead."""
    spans = [(60.0 * shift.start_min, 60.0 * shift.end_min) for shift in counter.standby_plan]
    spans.extend((60.0 * start - BREAK_LOOKAHEAD_S, 60.0 * end) for start, end in counter.breaks or ())
    return spans


def _planned_standby(state: SiteState, now: float) -> list[Event]:
    """A standby counter's planned shift (site file `standby_plan`, e.g. from `motcua plan`): opened for the
    shift's agencies at its start where the site lets the tick open counters, else recommended; closed at
    its end once idle if the plan opened it."""
    site = state.site
    local = local_seconds(now, site.utc_offset_s)
    events: list[Event] = []
    for counter in site.planned_counters:
        cs = state.counters[counter.id]
        shift = next((s for s in counter.standby_plan if 60.0 * s.start_min <= local < 60.0 * s.end_min), None)
        if shift is None:
            if cs.opened_by == "plan" and cs.status == CounterStatus.OPEN and cs.current is None:
                events.append(Event("counter.changed", now, {"counter": counter.id, "status": "closed",
                                                             "staff": None, "by": "plan", "reason": "plan_end"}))
            continue
        if cs.status != CounterStatus.CLOSED or _closed_by_hand(cs, now):
            continue
        names = ", ".join(site.agencies[a].name for a in shift.serves)
        names_en = ", ".join(site.agencies[a].name_en or a for a in shift.serves)
        window = f"{hhmm(shift.start_min)}-{hhmm(shift.end_min)}"
        if site.auto_open_standby:
            events.append(Event("counter.changed", now, {
                "counter": counter.id, "status": "open", "staff": f"standby-{counter.id}", "by": "plan",
                "reason": f"plan:{window}", "serves": list(shift.serves),
            }))
            continue
        alert_id = f"plan-{counter.id}-{shift.start_min}"
        if alert_id not in state.alerts:
            events.append(Event("alert.raised", now, {
                "alert": alert_id, "code": "standby_planned", "counter": counter.id,
                "agencies": list(shift.serves), "window": window,
                "message": f"Theo kế hoạch, mở quầy dự phòng {counter.id} ({window}) cho {names} / "
                           f"as planned, open standby counter {counter.id} ({window}) for {names_en}",
            }))
    return events


def break_alert_id(counter: int, start_min: int) -> str:
    """The one alert advising to defer a counter's listed break that starts at `start_min`."""
    return f"break-{counter}-{start_min}"


def _break_advice(state: SiteState, now: float, at_risk: set[str]) -> list[Event]:
    """A counter whose break is due (or within BREAK_LOOKAHEAD_S) while a line it serves has been at risk
    long enough: advise deferring the break (one alert per counter and break), acknowledged like the others."""
    site = state.site
    local = local_seconds(now, site.utc_offset_s)
    events: list[Event] = []
    for counter in site.planned_counters:
        cs = state.counters[counter.id]
        if cs.status != CounterStatus.OPEN:
            continue
        needing = [a for a in state.specs[counter.id].serves if a in at_risk]
        if not needing:
            continue
        for start, end in counter.breaks or ():
            if not 60.0 * start - BREAK_LOOKAHEAD_S <= local < 60.0 * end:
                continue
            alert_id = break_alert_id(counter.id, start)
            if alert_id in state.alerts:
                continue
            names = ", ".join(site.agencies[a].name for a in needing)
            names_en = ", ".join(site.agencies[a].name_en or a for a in needing)
            window = f"{hhmm(start)}-{hhmm(end)}"
            events.append(Event("alert.raised", now, {
                "alert": alert_id, "code": "break_defer_recommended", "counter": counter.id,
                "agencies": needing, "window": window,
                "message": f"Nên lùi giờ nghỉ {window} của quầy {counter.id}: {names} đang có người sắp quá hạn / "
                           f"defer counter {counter.id}'s {window} break: {names_en} at risk",
            }))
    return events


def _closed_by_hand(cs: CounterState, now: float) -> bool:
    """A counter a person closed a short while ago: enforcement does not overrule them by reopening it
    (a floor manager closing an auto-opened standby counter nobody can staff used to see it reopen at
    the next tick, every second); it recommends it instead until the hold is over."""
    return (cs.status == CounterStatus.CLOSED and cs.opened_by not in (None, "auto")
            and now - cs.changed_at < STANDBY_CLOSED_HOLD_S)


def _breaches(state: SiteState, now: float) -> list[Event]:
    targets = state.site.targets
    events = []
    seen: set[tuple[str, str]] = set()
    for _at, _order, tid, _kind, start in state.due_timers(now):
        ticket = state.tickets[tid]
        # A ticket keeps one timer at a time; when both targets are past, both are recorded now.
        for kind, deadline, flagged in (
            ("transaction", start + targets.transaction_wait_s, ticket.breached_tx),
            ("visit", start + targets.visit_wait_s - ticket.visit_waited, ticket.breached_visit),
        ):
            if flagged or deadline > now or (tid, kind) in seen:
                continue
            seen.add((tid, kind))
            events.append(Event("target.breached", now, {
                "ticket": ticket.id,
                "number": ticket.number,
                "agency": ticket.agency,
                "kind": kind,
                "deadline": deadline,
                "waited_s": round(ticket.waited(now), 1),
                "cause": breach_cause(state, ticket, now),
            }))
    return events


def breach_cause(state: SiteState, ticket: Ticket, now: float) -> str:
    """The most likely reason a ticket is (or will be) late, in a fixed vocabulary."""
    site = state.site
    if ticket.no_shows > 0:
        return "recall_limit"
    serving = [c for c in site.counters_for(ticket.agency) if state.counters[c.id].status == CounterStatus.OPEN]
    if not serving:
        return "no_open_counter"
    regular = [c for c in site.counters_for(ticket.agency) if not c.standby]
    if len(serving) < len(regular):
        return "counters_closed"
    if _surging(state, ticket.agency, now):
        return "surge"
    nominal = site.procedures[ticket.procedure].service_s
    if state.service_times.expected(ticket.procedure) > LONG_SERVICE_FACTOR * nominal:
        return "long_service"
    return "capacity"


def _surging(state: SiteState, agency: str, now: float) -> bool:
    site = state.site
    times = state.issue_times.get(agency, [])
    recent = bisect.bisect_right(times, now) - bisect.bisect_left(times, now - SURGE_WINDOW_S)
    index = site.half_hour_index(local_seconds(now, site.utc_offset_s))
    weights = site.arrivals.half_hour_weights
    weight = weights[index] if index is not None else 0.0
    share = site.kiosk_share.get(agency, 0.0)
    expected = site.expected_daily_visits * share * weight / (sum(weights) or 1.0)
    return recent >= max(3.0, SURGE_FACTOR * expected)


def _at_risk(state: SiteState, now: float, forecast: Forecast, out: list[Event]) -> set[str]:
    """Flag tickets predicted to pass their deadline, clear those no longer so; return agencies late long enough."""
    persistent: set[str] = set()
    flagged_now = {e.data["ticket"] for e in out if e.type == "target.breached"}
    # Only the forecast's late tickets can be at risk: no scan of every waiting ticket.
    tickets = state.tickets
    watched = state.site.standby_agencies | state.site.break_agencies
    for tid in forecast.late:
        ticket = tickets[tid]
        if ticket.state is not TicketState.WAITING:
            continue  # called or gone since the forecast
        since = state.risk_since.get(tid)
        # Late long enough (at risk, or past its deadline since) makes its agency ask for a standby
        # counter or a deferred break; persistence matters only where one of those can be had.
        if (since is not None and ticket.agency in watched and ticket.agency not in persistent
                and now - since >= STANDBY_AFTER_S):
            persistent.add(ticket.agency)
        if ticket.at_risk:
            continue  # already said; cleared below when no longer so
        deadline = state.deadline_of(ticket)
        predicted = forecast.call_at.get(tid)
        if predicted is not None and predicted <= deadline:
            continue  # re-queued with a new deadline since the forecast
        if ticket.id in flagged_now or deadline <= now:
            continue  # a breach, not a risk
        out.append(Event("target.at_risk", now, {
            "ticket": ticket.id,
            "number": ticket.number,
            "agency": ticket.agency,
            "deadline": deadline,
            "predicted_call_at": predicted,
            "cause": breach_cause(state, ticket, now),
        }))
    out.extend(_cleared(state, now, forecast))
    return persistent


def _cleared(state: SiteState, now: float, forecast: Forecast) -> list[Event]:
    """target.at_risk_cleared for flagged tickets the forecast now calls in time."""
    events: list[Event] = []
    for tid in state.risk_since:
        ticket = state.tickets[tid]
        if not ticket.at_risk or ticket.state is not TicketState.WAITING:
            continue  # past its deadline (a breach now) or out of line: the fold cleared it
        deadline = state.deadline_of(ticket)
        if deadline <= now:
            continue  # the breach recorded this tick ends the risk
        predicted = forecast.call_at.get(tid)
        # Not placed by the forecast: no open counter reaches it (still late), or it is newer than the
        # forecast, which then cannot judge it.
        if predicted is not None and predicted <= deadline - CLEAR_MARGIN_S:
            events.append(Event("target.at_risk_cleared", now, {
                "ticket": ticket.id,
                "number": ticket.number,
                "agency": ticket.agency,
                "deadline": deadline,
                "predicted_call_at": predicted,
            }))
    return events


def _standby(state: SiteState, now: float, forecast: Forecast, agencies: set[str]) -> list[Event]:
    site = state.site
    events: list[Event] = []
    opened: set[int] = set()
    recommended: dict[int, list[str]] = {}  # counter -> the agencies it is recommended for
    for agency in sorted(agencies):
        candidates = [
            c for c in site.counters_for(agency)
            if c.standby and state.counters[c.id].status == CounterStatus.CLOSED and c.id not in opened
        ]
        if not candidates:
            continue
        free = [c for c in candidates if not _closed_by_hand(state.counters[c.id], now)]
        counter = (free or candidates)[0]
        if site.auto_open_standby and free:
            opened.add(counter.id)
            # It names the lines at risk it was opened for (the monitor shows them), but serves every
            # line it is trained for: restricting it to those lines cost 0.7-1.0 points of the share
            # within 15 minutes on the bench's Mondays (docs/BENCHMARKS.md), as a standby counter then
            # idles while the lines it could also serve wait.
            events.append(Event("counter.changed", now, {
                "counter": counter.id, "status": "open", "staff": f"standby-{counter.id}",
                "by": "auto", "reason": f"at_risk:{agency}",
                "for": [a for a in counter.serves if a in agencies],
            }))
        else:
            recommended.setdefault(counter.id, []).append(agency)
    for cid, needing in recommended.items():
        alert_id = standby_alert_id(cid)
        existing = state.alerts.get(alert_id)
        if existing is not None:
            if not existing.get("acknowledged") and not existing.get("resolved"):
                continue  # the open alert already says "open counter cid"
            if now - existing["at"] < STANDBY_AFTER_S * 5:
                continue
        names = ", ".join(site.agencies[a].name for a in needing)
        names_en = ", ".join(site.agencies[a].name_en or a for a in needing)
        events.append(Event("alert.raised", now, {
            "alert": alert_id, "code": "standby_recommended", "counter": cid,
            "agency": needing[0], "agencies": needing,
            "message": f"Nên mở quầy dự phòng {cid} cho {names} / open standby counter {cid} for {names_en}",
        }))
    # An auto-opened counter goes back to standby when its agencies are comfortable (in the site's order).
    auto = state.auto_opened
    for cid, cs in state.counters.items() if auto else ():
        if cid not in auto or cs.current is not None:
            continue
        if now - cs.changed_at < STANDBY_MIN_OPEN_S:
            continue
        serves = state.specs[cid].serves
        if any(a in agencies for a in serves):
            continue
        comfortable = all(
            (forecast.new_ticket_call_at.get(a) or now) - now < 0.3 * site.targets.transaction_wait_s
            for a in serves
        )
        if comfortable:
            events.append(Event("counter.changed", now, {"counter": cid, "status": "closed", "staff": None,
                                                         "by": "auto", "reason": "load_normal"}))
    return events
