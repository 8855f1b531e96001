"""Staff and citizens of one site-day, acting on the Floor through its commands.

This is the only place where simulated people act. It never routes: who is
called where is the Floor's policy (CallNext); deadlines, at-risk flags,
breaches, tickets re-entering their queue and standby openings are the Floor's
enforcement (Floor.tick, then Floor.apply of its events).

Behaviour:
- a citizen takes a ticket on arrival (IssueTicket), walks to the counter when
  called (`walk_s`, then Start), is served for the time drawn for that step
  (Finish), and leaves (Abandon) after `abandon_after_s` still waiting;
- an idle open counter calls next (CallNext) at once when a ticket it may serve
  enters a queue, and right after finishing; staff open at their shift, pause
  for their break once idle, and close after finishing their current ticket;
- at the lunch break a counter first serves whoever already holds a number for
  it (scenario `lunch_serve_out`, default true): one-stop centres do not send
  away citizens holding a ticket at noon;
- a citizen whose plan says so takes a number from a phone at home instead, and comes
  when it is near their turn, or at the kiosk takes one to come back later when it is
  offered (sim/away.py), checking in at the kiosk on arrival;
- at closing, everyone still waiting (queue, hold, back office) is counted and
  abandoned, and numbers still away are abandoned without being counted as waiting;
  a journey that would continue after closing ends the same way;
- a site open until midnight: the core starts a new day then, so the day ends
  just before it (whoever is at a counter is finished, the rest leave);
- a standby counter opened by enforcement (counter.changed by "auto") is
  staffed at once, unless the scenario closed it then (it is closed again, by
  "absent"); one that enforcement closes again is left.

Nothing ticks on a fixed cadence: after every action the Floor says when its
enforcement tick can next act (Floor.next_tick_at: a ticket ready again, the
next deadline of a waiting ticket, a forecast due for refresh, a standby
timer), and the tick is woken exactly then, so breaches are recorded when they
happen. The queue length is sampled every `tick_s` for the report.
"""

from __future__ import annotations

import zlib
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from functools import partial
from typing import Any

from controller.core.commands import (
    Abandon,
    CallNext,
    CheckIn,
    CloseCounter,
    Command,
    Finish,
    GiveReasons,
    IssueTicket,
    NoShow,
    OpenCounter,
    PauseCounter,
    Rate,
    ResumeCounter,
    Start,
)
from controller.core.errors import DomainError
from controller.core.events import Event
from controller.core.floor import Floor
from controller.core.tickets import CounterStatus, TicketState
from sim.arrivals import Arrival
from sim.away import AwayCitizens, AwayPlan
from sim.engine import Loop
from sim.metrics import DayRecorder
from sim.scenario import DeviceDown, Scenario
from sim.shifts import DayPlan

__all__ = ["SiteDay"]

_WAITING_STATES = (TicketState.WAITING, TicketState.HELD, TicketState.BACK_OFFICE, TicketState.EARLY)
_DAY_S = 86400.0
BREAK_DEFER_S = 15 * 60.0     # a break deferred on the tick's advice is looked at again this much later
MAX_BREAK_DEFERRALS = 2        # after that the staff take it
_MIDNIGHT_MARGIN_S = 0.01  # the last moment of a site-day is this much before local midnight


class SiteDay:
    """Runs one day of one site on a Floor, from the first opening until the last citizen left."""

    def __init__(
        self,
        floor: Floor,
        scenario: Scenario,
        plan: DayPlan,
        arrivals: Sequence[Arrival],
        midnight: float,
        recorder: DayRecorder,
        record_estimates: bool = True,
        plans: Sequence[AwayPlan] = (),
    ) -> None:
        self.floor = floor
        self.site = floor.site
        self.scenario = scenario
        self.plan = plan
        self.arrivals = arrivals
        self.midnight = midnight
        self.recorder = recorder
        self.record_estimates = record_estimates
        self.loop = Loop(midnight + plan.periods[0][0] - 1.0)
        self.counters_for = {a: tuple(c.id for c in self.site.counters_for(a)) for a in self.site.agencies}
        self.want_open: dict[int, bool] = {}
        self.serve_out: set[int] = set()
        self.break_due: dict[int, float] = {}
        self.deferrals: dict[int, int] = {}  # counter -> times its coming break was deferred on advice
        self.idle_since: dict[int, float] = {}
        self.arrival_of: dict[str, Arrival] = {}
        self.open_tickets: set[str] = set()
        self.closing = False
        self.in_period = False
        self._free: deque[int] = deque()
        self._wake: deque[str] = deque()
        self._tick_at = float("inf")       # the enforcement wake scheduled on the loop
        self._tick_checked = -1            # the floor's state version it was worked out for
        self._samples: deque[float] = deque()  # queue-length sample times still to take
        self._next_sample = float("inf")
        self.booked: dict[tuple[str, float], int] = {}  # (agency, slot) -> appointments booked
        self.bookings = 0
        self.plans = list(plans) or [AwayPlan()] * len(arrivals)
        self.away = AwayCitizens(floor, self.loop, scenario.remote_reads_wait, self._run, self._act)
        self._reviewing = False  # a look at those at home is scheduled

    # ------------------------------------------------------------- schedule
    def run(self) -> None:
        """Schedule the day and run it to the end."""
        loop, m = self.loop, self.midnight
        for start, end in self.plan.periods:
            loop.at(m + start, self._act(self._period_start))
            t = start
            while t < end:  # the queue is sampled during working hours
                self._samples.append(m + t)
                t += self.scenario.tick_s
        self._next_sample = self._samples[0] if self._samples else float("inf")
        for shift in self.plan.shifts:
            loop.at(m + shift.on_s, self._act(partial(self._go_on, shift.counter, shift.serves)))
            if not shift.ends_period:
                loop.at(m + shift.off_s, self._act(partial(self._go_off, shift.counter, False)))
        for index, (_start, end) in enumerate(self.plan.periods):
            final = index == len(self.plan.periods) - 1
            loop.at(m + end, self._act(partial(self._period_end, final)))
        for counter, start, _end in self.plan.closures:
            loop.at(m + start, self._act(partial(self._absent, counter)))
        for brk in self.plan.breaks:
            loop.at(m + brk.at_s, self._act(partial(self._break, brk.counter, brk.duration_s)))
        for event in self.scenario.for_site(self.site.id):
            if isinstance(event, DeviceDown):
                loop.at(m + event.window.start_s, self._act(partial(self._device, event, False)))
                loop.at(m + event.window.end_s, self._act(partial(self._device, event, True)))
        opening = self.plan.periods[0][0]
        for arrival, plan in zip(self.arrivals, self.plans, strict=True):
            if plan.remote:  # from home, when they would have set off to arrive then
                loop.at(m + max(opening, arrival.at_s - plan.travel_s),
                        self._act(partial(self._take_at_home, arrival, plan)))
            else:
                loop.at(m + arrival.at_s, self._act(partial(self._arrive, arrival, plan)))
        # The core starts a new day at local midnight (a fresh floor): the site's day must end before.
        last_moment = m + _DAY_S - _MIDNIGHT_MARGIN_S
        loop.run(until=last_moment)
        if len(loop):
            loop.now = last_moment
            self._act(self._midnight)()
        loop.now = max(loop.now, m + self.plan.periods[-1][1])
        self._sample_queue()
        self.recorder.away(self.away.counts)
        self.recorder.finish(self.floor.state, self.loop.now)

    def _act(self, action: Callable[[], None]) -> Callable[[], None]:
        """Wrap a scheduled action: sample the queue up to now, act, let the floor settle, wake the tick."""
        def run() -> None:
            if self.loop.now >= self._next_sample:
                self._sample_queue()
            action()
            self._settle()
            if self.floor.state.version != self._tick_checked:
                self._schedule_tick()
        return run

    # ------------------------------------------------------------- the floor
    def _run(self, command: Command) -> list[Event]:
        """Execute one command on the Floor; a refusal is counted, not fatal."""
        try:
            events = self.floor.execute(command, self.loop.now)
        except DomainError as exc:
            self.recorder.refused(exc.code)
            return []
        self._react(events)
        return events

    def _tick(self) -> None:
        """The enforcement tick: the Floor's events, applied and followed like any other."""
        if self.loop.now >= self._tick_at:
            self._tick_at = float("inf")
        events = self.floor.tick(self.loop.now)
        if events:
            self.floor.apply(events)
            self._react(events)
        self._tick_checked = -1  # the tick may have gone quiet: ask again when to wake it

    def _schedule_tick(self) -> None:
        """Wake the tick when the Floor says it can next act, unless a wake is already due sooner."""
        state = self.floor.state
        self._tick_checked = state.version
        at = self.floor.next_tick_at(self.loop.now)
        if at < self._tick_at:
            self._tick_at = at
            # A deadline is acted on just after it passes (a breach is "past", not "at").
            self.loop.at(at + 0.001, self._act(self._tick))

    def _sample_queue(self) -> None:
        """Queue length at the sample times up to now: the floor as the last action left it."""
        samples, now = self._samples, self.loop.now
        while samples and samples[0] <= now:
            self.recorder.queue_sample(samples.popleft(), self.floor.state)
        self._next_sample = samples[0] if samples else float("inf")

    def _react(self, events: Sequence[Event]) -> None:
        """Follow what happened: counters freed, queues fed, citizens walking, timers."""
        self.recorder.observe(events)
        now = self.loop.now
        for event in events:
            d = event.data
            kind = event.type
            if kind == "ticket.issued":
                self.open_tickets.add(d["ticket"])
                self._entered_queue(d["ticket"])
            elif kind in ("ticket.ready", "ticket.checked_in"):
                self._entered_queue(d["ticket"])
            elif kind == "ticket.called":
                self.idle_since.pop(d["counter"], None)
                self.loop.after(self.scenario.walk_s,
                                self._act(partial(self._at_counter, d["ticket"], d["counter"])))
            elif kind == "ticket.finished":
                self._freed(d["counter"])
                tid = d["ticket"]
                ready_at = d.get("ready_at")
                if d.get("next_step") is None:
                    self.open_tickets.discard(tid)
                elif ready_at is None or ready_at <= now:
                    self._entered_queue(tid)
            elif kind == "ticket.no_show":
                self._freed(d["counter"])
                if not d.get("requeued"):
                    self.open_tickets.discard(d["ticket"])
            elif kind == "ticket.abandoned":
                self.open_tickets.discard(d["ticket"])
            elif kind == "counter.changed":
                self._counter_changed(d)

    def _entered_queue(self, tid: str) -> None:
        ticket = self.floor.state.tickets[tid]
        if ticket.state == TicketState.EARLY and not self.closing:
            # In line at the slot (the tick wakes then: it is a pending ready time); an idle counter may call
            # them before.
            self._wake.append(ticket.agency)
            return
        if ticket.state != TicketState.WAITING:
            return
        if self.closing:
            self.recorder.still_waiting(tid)
            self._run(Abandon(tid, reason="closed"))
            return
        self._wake.append(ticket.agency)
        patience = self.site.arrivals.abandon_after_s
        started = ticket.effective_start()
        self.loop.at(started + patience,
                     self._act(lambda: self._give_up(tid, ticket.step, started)))

    def _counter_changed(self, data: Mapping[str, Any]) -> None:
        """Staff a standby counter enforcement opened; leave one it closed."""
        if data.get("by") != "auto":
            return
        counter = int(data["counter"])
        if data["status"] == "open" and self.plan.closed(counter, self.loop.now - self.midnight):
            # Out of service in the scenario: nobody comes; the core hears it closed by hand (and
            # recommends it rather than reopening it at once).
            self.want_open[counter] = False
            self._run(CloseCounter(counter, by="absent"))
            return
        if data["status"] == "open":
            # Opened outside working hours (a ready tick at noon): serve who needs it, then close.
            self.want_open[counter] = self.in_period
            if not self.in_period:
                self.serve_out.add(counter)
            self._freed(counter)
        elif data["status"] == "closed":
            self.want_open[counter] = False
            self.serve_out.discard(counter)
            self.idle_since.pop(counter, None)

    def _freed(self, counter: int) -> None:
        self.idle_since[counter] = self.loop.now
        self._free.append(counter)

    # ------------------------------------------------------------- settling
    def _settle(self) -> None:
        """Let free counters act and idle counters take newly waiting tickets, until quiet."""
        state = self.floor.state
        while self._free or self._wake:
            if self._free:
                self._counter_free(self._free.popleft())
                continue
            agency = self._wake.popleft()
            queue = state.queues[agency]
            tried: set[int] = set()
            while len(queue) or state.early.get(agency):  # an idle counter may serve an early appointment
                candidates = [
                    c for c in self.counters_for[agency]
                    if c not in tried and state.counters[c].status == CounterStatus.OPEN
                    and state.counters[c].current is None and (self.want_open.get(c) or c in self.serve_out)
                ]
                if not candidates:
                    break
                counter = min(candidates, key=lambda c: (self.idle_since.get(c, 0.0), c))
                tried.add(counter)
                self._run(CallNext(counter))
        if self.serve_out:
            for counter in sorted(self.serve_out):
                cs = state.counters[counter]
                if cs.current is None and not self._needed(counter):
                    self.serve_out.discard(counter)
                    self._run(CloseCounter(counter))

    def _counter_free(self, counter: int) -> None:
        cs = self.floor.state.counters[counter]
        if cs.status != CounterStatus.OPEN or cs.current is not None:
            return
        if not self.want_open.get(counter):
            if counter in self.serve_out and self._needed(counter):
                self._call_next(counter)
                return
            self.serve_out.discard(counter)
            self._run(CloseCounter(counter))
            return
        duration = self.break_due.pop(counter, None)
        if duration is not None and self._defers_break(counter):
            self.loop.after(BREAK_DEFER_S, self._act(partial(self._break, counter, duration)))
        elif duration is not None:
            self.deferrals.pop(counter, None)
            self._run(PauseCounter(counter, reason="break"))
            self.loop.after(duration, self._act(lambda: self._resume(counter)))
            return
        self._call_next(counter)

    def _call_next(self, counter: int) -> None:
        """Staff at a free counter call the next citizen; with nobody they could be given, the call
        would change nothing (no event), so it is not made: about a third of all calls on a day."""
        if self.floor.state.has_work_for(counter):
            self._run(CallNext(counter))

    def _defers_break(self, counter: int) -> bool:
        """Do the staff follow the tick's advice to defer this break (scenario.follow_break_advice)?

        Each break is deferred at most MAX_BREAK_DEFERRALS times, by BREAK_DEFER_S each; the draw is
        a hash of the site-day, counter and moment, so a run stays reproducible.
        """
        advised = any(a.get("code") == "break_defer_recommended" and a.get("counter") == counter
                      and not a.get("resolved") for a in self.floor.state.alerts.values())
        if not advised or self.deferrals.get(counter, 0) >= MAX_BREAK_DEFERRALS:
            return False
        draw = zlib.crc32(f"{self.midnight}:{counter}:{self.loop.now}:{len(self.arrivals)}".encode()) / 2**32
        if draw >= self.scenario.follow_break_advice:
            return False
        self.deferrals[counter] = self.deferrals.get(counter, 0) + 1
        return True

    def _needed(self, counter: int) -> bool:
        """Does anyone still on the floor have a step left that this counter serves?"""
        serves = set(self.site.counters[counter].serves)
        procedures = self.site.procedures
        tickets = self.floor.state.tickets
        for tid in self.open_tickets:
            ticket = tickets[tid]
            if ticket.state is TicketState.AWAY:
                continue  # its holder is not here: a counter does not stay for them
            # A ticket at a counter needs us only for its later steps.
            first = ticket.step + 1 if ticket.state in (TicketState.CALLED, TicketState.SERVING) else ticket.step
            if any(procedures[p].agency in serves for p in ticket.steps[first:]):
                return True
        return False

    # ------------------------------------------------------------- staff
    def _period_start(self) -> None:
        self.in_period = True

    def _period_end(self, final: bool) -> None:
        self.in_period = False
        serve_out = not final and self.scenario.lunch_serve_out
        for counter, wanted in sorted(self.want_open.items()):
            if wanted:
                self._go_off(counter, serve_out)
        if final:
            self._close_doors()

    def _go_on(self, counter: int, serves: tuple[str, ...] = ()) -> None:
        self.want_open[counter] = True
        self.serve_out.discard(counter)
        cs = self.floor.state.counters[counter]
        if cs.status == CounterStatus.CLOSED:
            self._run(OpenCounter(counter, staff=f"nv-{counter}", serves=serves))
            self._freed(counter)
        elif serves and cs.opened_by == "auto":
            # The planned staff take over a standby counter the tick opened early: their shift, their
            # agencies, and the tick no longer closes it under them.
            self._run(OpenCounter(counter, staff=f"nv-{counter}", serves=serves))

    def _go_off(self, counter: int, serve_out: bool) -> None:
        self.want_open[counter] = False
        self.break_due.pop(counter, None)
        if serve_out:
            self.serve_out.add(counter)
        cs = self.floor.state.counters[counter]
        if cs.status == CounterStatus.PAUSED:
            self._run(CloseCounter(counter))
        elif cs.status == CounterStatus.OPEN and cs.current is None:
            self._free.append(counter)

    def _absent(self, counter: int) -> None:
        """A closure begins: the staff leave after their current citizen, also from a lunch serve-out
        or a standby counter enforcement opened (neither is in the plan's shifts)."""
        self.serve_out.discard(counter)
        self._go_off(counter, False)

    def _break(self, counter: int, duration: float) -> None:
        if not self.want_open.get(counter):
            self.deferrals.pop(counter, None)
            return
        self.break_due[counter] = duration
        cs = self.floor.state.counters[counter]
        if cs.status == CounterStatus.OPEN and cs.current is None:
            self._free.append(counter)

    def _resume(self, counter: int) -> None:
        cs = self.floor.state.counters[counter]
        if cs.status != CounterStatus.PAUSED:
            return
        if self.want_open.get(counter):
            self._run(ResumeCounter(counter))
            self._freed(counter)
        else:
            self._run(CloseCounter(counter))

    def _device(self, event: DeviceDown, up: bool) -> None:
        data = {"device": event.device, "status": "online" if up else "offline", "site": self.site.id}
        self.floor.apply([Event("device.changed", self.loop.now, data)])
        self.recorder.device(event.device, up, self.loop.now)

    # ------------------------------------------------------------- citizens
    def _review_away(self) -> None:
        """Those at home look again (as the notifier does) every tick_s while any is at home."""
        self.away.review()
        self._reviewing = bool(self.away.home) and not self.closing
        if self._reviewing:
            self.loop.after(self.scenario.tick_s, self._act(self._review_away))

    def _take_at_home(self, arrival: Arrival, plan: AwayPlan) -> None:
        """A number from a phone; refused, the citizen comes as a walk-in when they would have."""
        tid = None if self.closing else self.away.take(arrival, plan)
        if tid is None:
            self.loop.at(self.midnight + arrival.at_s, self._act(partial(self._arrive, arrival, plan)))
            return
        self.arrival_of[tid] = arrival
        if self.away.home and not self._reviewing:
            self._reviewing = True
            self.loop.after(self.scenario.tick_s, self._act(self._review_away))

    def _arrive(self, arrival: Arrival, plan: AwayPlan) -> None:
        if plan.accepts_return and not self.closing:  # offered when the wait is over the target: back later
            tid = self.away.come_back(arrival, plan)
            if tid is not None:
                self.arrival_of[tid] = arrival
                return
        command: Command = IssueTicket(procedure=arrival.procedure, priority=arrival.priority, kiosk="k1")
        if arrival.appointment_slot_s is not None:
            # The booking the citizen made on an earlier day, with the book's capacity rule; a full
            # slot means they never got an appointment and come as a walk-in.
            slot_at = self.midnight + arrival.appointment_slot_s
            place = (self.site.procedures[arrival.procedure].agency, slot_at)
            if self.booked.get(place, 0) < self.site.appointment_slot_capacity:
                self.booked[place] = self.booked.get(place, 0) + 1
                self.bookings += 1
                command = CheckIn(booking=f"sim-{self.bookings}", procedure=arrival.procedure, slot_at=slot_at,
                                  kiosk="k1")
            else:
                self.recorder.appointment_full()
        events = self._run(command)
        for event in events:
            if event.type == "ticket.issued":
                tid = event.data["ticket"]
                self.arrival_of[tid] = arrival
                if self.record_estimates:
                    ticket = self.floor.state.tickets[tid]
                    self.recorder.estimate(tid, self.loop.now, self.floor.estimated_wait(ticket, self.loop.now))

    def _at_counter(self, tid: str, counter: int) -> None:
        ticket = self.floor.state.tickets[tid]
        if ticket.state != TicketState.CALLED or ticket.counter != counter:
            return
        arrival = self.arrival_of[tid]
        step = min(ticket.step, len(arrival.services_s) - 1)
        if arrival.no_show[step] and ticket.no_shows == 0:
            self._run(NoShow(counter))
            return
        self._run(Start(counter))
        outcome = "incomplete" if ticket.step == 0 and arrival.incomplete else "done"
        self.loop.after(arrival.services_s[step], self._act(lambda: self._run_finish(counter, outcome)))

    def _run_finish(self, counter: int, outcome: str) -> None:
        for event in self._run(Finish(counter, outcome=outcome)):
            if event.type == "ticket.finished" and self.scenario.rating_share > 0:
                self._rate(counter, event.data["ticket"])

    def _rate(self, counter: int, tid: str) -> None:
        """Some citizens rate at the keypad, lower the longer they waited (scenario.rating_share,
        rating_patience_min): the level drops by floor(wait / patience + u), u uniform, so each patience of
        waiting costs one level on average and a short wait mostly keeps the best. A low rating gives its
        reasons: "waited_long" after a wait past the transaction target (where the site lists it), else
        one of the site's reasons. Drawn from a hash of the site-day and the ticket: a run is reproducible."""
        ticket = self.floor.state.tickets[tid]
        draw = zlib.crc32(f"{self.midnight}:{tid}:{len(ticket.transaction_waits)}:rate".encode()) / 2**32
        share = self.scenario.rating_share
        if draw >= share:
            return
        u = draw / share  # uniform on [0, 1) again, given that this citizen rates
        wait = ticket.transaction_waits[-1] if ticket.transaction_waits else 0.0
        levels = self.site.rating_levels
        score = max(1, levels - int(wait / self.scenario.rating_patience_s + u))
        if not self._run(Rate(counter, score=score)):
            return
        settings = self.site.feedback
        if not settings.asks_reasons(score):
            return
        codes = [r.code for r in settings.reasons]
        long_wait = wait > self.site.targets.transaction_wait_s and "waited_long" in codes
        self._run(GiveReasons(("waited_long",) if long_wait else (codes[int(u * len(codes)) % len(codes)],),
                              counter=counter))

    def _give_up(self, tid: str, step: int, started: float) -> None:
        ticket = self.floor.state.tickets[tid]
        if ticket.state == TicketState.WAITING and ticket.step == step and ticket.effective_start() == started:
            self._run(Abandon(tid, reason="left"))

    def _midnight(self) -> None:
        """The end of the site's calendar day (a site open until 23:59): whoever is still at a counter is
        finished now, and whoever their journey sends on leaves with the rest; nothing carries over
        into the next day, which the core starts afresh."""
        state = self.floor.state
        for counter, cs in sorted(state.counters.items()):
            if cs.current is None:
                continue
            if state.tickets[cs.current].state == TicketState.CALLED:
                self._run(Start(counter))
            self._run(Finish(counter, outcome="done"))
        self._close_doors()

    def _close_doors(self) -> None:
        """Closing time: whoever still waits is counted and leaves."""
        self.closing = True
        for tid in sorted(self.open_tickets):
            ticket = self.floor.state.tickets[tid]
            if ticket.state in _WAITING_STATES:
                self.recorder.still_waiting(tid)
                self._run(Abandon(tid, reason="closed"))
            elif ticket.state is TicketState.AWAY:  # never came in: nobody waits in the hall for it
                self._run(Abandon(tid, reason="closed"))
