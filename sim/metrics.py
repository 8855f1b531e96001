"""What a run measured: a recorder per site-day feeding one tally per run.

Waits are queue waits as the core counts them (Ticket.transaction_waits: from
the moment a step is ready until it is called), never service or back-office
time, which are tallied beside them. The recorder follows the Floor's events
and reads the final state of the day; it never changes anything.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields
from typing import Any

from controller.core.away import away_from_state
from controller.core.events import Event
from controller.core.state import SiteState
from controller.core.tickets import TicketState

__all__ = ["BinKey", "DayRecorder", "Tally", "percentile"]

HALF_HOUR_S = 1800.0
ESTIMATE_TOLERANCE_S = 180.0

BinKey = tuple[int, int, int]  # (site index, day index, half hour of the day 0..47)


def percentile(values: Sequence[float], p: float) -> float:
    """Nearest-rank percentile (0 for no values): a real sample, stable across platforms."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(1, math.ceil(p / 100.0 * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]


@dataclass
class Tally:
    """Everything a run counts, summed over its sites and days."""

    visits: int = 0
    served: int = 0
    abandoned: int = 0
    still_waiting_at_close: int = 0
    no_shows: int = 0
    waits: list[float] = field(default_factory=list)
    waits_within: int = 0            # waits within their own site's transaction target
    visits_over: int = 0             # visits whose wait passed their own site's visit target
    wait_agency: list[str] = field(default_factory=list)
    wait_entered: list[float] = field(default_factory=list)   # local seconds the wait began
    visit_waits: list[float] = field(default_factory=list)
    service_s: list[float] = field(default_factory=list)
    back_office_s: list[float] = field(default_factory=list)
    refused: Counter[str] = field(default_factory=Counter)
    at_risk_times: list[float] = field(default_factory=list)
    breach_times: list[float] = field(default_factory=list)
    breaches_by_cause: Counter[str] = field(default_factory=Counter)
    breaches_by_kind: Counter[str] = field(default_factory=Counter)
    standby_opened: int = 0
    standby_alerts: int = 0
    # standby counters opened by enforcement: (site, day, counter, on, off) in local seconds
    standby_shifts: list[tuple[int, int, int, float, float]] = field(default_factory=list)
    queue_samples: dict[float, int] = field(default_factory=lambda: defaultdict(int))     # local s -> waiting
    busy_s: dict[tuple[int, int], float] = field(default_factory=lambda: defaultdict(float))      # (site, counter)
    available_s: dict[tuple[int, int], float] = field(default_factory=lambda: defaultdict(float))
    bins: dict[BinKey, list[float]] = field(default_factory=dict)  # entries, nominal service sum, counter-s open
    # The same per agency and per counter, for the layout-aware bound (who may serve whom).
    agency_bins: dict[tuple[int, int, int, str], list[float]] = field(default_factory=dict)
    counter_open_s: dict[tuple[int, int, int, int], float] = field(default_factory=lambda: defaultdict(float))
    estimate_errors: list[float] = field(default_factory=list)
    devices: Counter[str] = field(default_factory=Counter)
    # appointments: checked in on time, given a normal number (late / other day), slot already full,
    # and how long after its slot each on-time holder was first called
    appointments_kept: int = 0
    appointments_fallback: int = 0
    appointments_full: int = 0
    appointment_call_after_slot: list[float] = field(default_factory=list)
    appointments_in_grace: int = 0   # of those, called within their own site's grace window
    # Time in the hall: per visit that came in (a number from a phone only once checked in), its waits in the
    # hall as the core counts them (from check-in for a number held away), and how many passed the site's
    # transaction target. Numbers held away (sim/away.py): what their holders did, and both waits at the first
    # call: in the hall (from check-in) and since the number was taken (controller/core/away.py).
    hall_waits: list[float] = field(default_factory=list)
    hall_over: int = 0
    away: Counter[str] = field(default_factory=Counter)
    remote_hall: list[float] = field(default_factory=list)
    remote_lived: list[float] = field(default_factory=list)
    return_hall: list[float] = field(default_factory=list)
    return_lived: list[float] = field(default_factory=list)
    simulated_s: float = 0.0
    sites: int = 0
    transaction_target_s: float = 15 * 60.0
    visit_target_s: float = 30 * 60.0

    def bin(self, key: BinKey) -> list[float]:
        entry = self.bins.get(key)
        if entry is None:
            entry = self.bins[key] = [0.0, 0.0, 0.0]
        return entry

    def merge(self, other: Tally) -> None:
        """Add another tally of other sites (site-keyed entries never collide; lists keep site order)."""
        for name in _MERGED_FIELDS:
            mine, theirs = getattr(self, name), getattr(other, name)
            if isinstance(mine, list):
                mine.extend(theirs)
            elif isinstance(mine, Counter):
                mine.update(theirs)
            elif isinstance(mine, dict):
                for key, value in theirs.items():
                    if isinstance(value, list):
                        held = mine.get(key)
                        mine[key] = list(value) if held is None else [x + y for x, y in zip(held, value, strict=True)]
                    else:
                        mine[key] = mine.get(key, 0) + value
            else:
                setattr(self, name, mine + theirs)

    def within_target(self) -> float:
        """Share of transactions that waited no longer than the transaction target."""
        if not self.waits:
            return 1.0
        # Counted per site against its own target (sites of a province may have different ones).
        return self.waits_within / len(self.waits)

    def appointments_within_grace(self) -> float | None:
        """Share of on-time appointment holders first called by the end of their slot's grace window
        (one who left or was still waiting at closing counts as not)."""
        if not self.appointments_kept:
            return None
        return self.appointments_in_grace / self.appointments_kept

    def utilisation(self) -> float:
        """Busy time (call to finish) over staffed time (open, not paused), all counters."""
        available = sum(self.available_s.values())
        return sum(self.busy_s.values()) / available if available > 0 else 0.0

    def estimate_honesty(self) -> float | None:
        """Share of tickets first called within ±3 minutes of the estimate given at issue."""
        if not self.estimate_errors:
            return None
        return sum(1 for e in self.estimate_errors if abs(e) <= ESTIMATE_TOLERANCE_S) / len(self.estimate_errors)

    def summary(self) -> dict[str, Any]:
        """The counted part of the JSON of CONTRACT.md, plus the extras beside it."""
        def r(x: float) -> float:
            return round(x, 1)

        honesty = self.estimate_honesty()
        return {
            "sites": self.sites,
            "visits": self.visits,
            "transactions": len(self.waits),
            "served": self.served,
            "abandoned": self.abandoned,
            "wait_s": {"p50": r(percentile(self.waits, 50)), "p90": r(percentile(self.waits, 90)),
                       "p99": r(percentile(self.waits, 99)), "max": r(max(self.waits, default=0.0))},
            "within_transaction_target": round(self.within_target(), 4),
            "visits_over_visit_target": self.visits_over,
            "utilisation": round(self.utilisation(), 4),
            "still_waiting_at_close": self.still_waiting_at_close,
            "no_shows": self.no_shows,
            "refused": dict(sorted(self.refused.items())),
            "at_risk_raised": len(self.at_risk_times),
            "breaches": dict(sorted(self.breaches_by_kind.items())),
            "breaches_by_cause": dict(sorted(self.breaches_by_cause.items())),
            "standby_opened": self.standby_opened,
            "standby_alerts": self.standby_alerts,
            "visit_wait_s": {"p50": r(percentile(self.visit_waits, 50)), "p90": r(percentile(self.visit_waits, 90)),
                             "max": r(max(self.visit_waits, default=0.0))},
            "service_s": {"mean": r(sum(self.service_s) / len(self.service_s)) if self.service_s else 0.0,
                          "p90": r(percentile(self.service_s, 90))},
            "back_office_s": {"mean": r(sum(self.back_office_s) / len(self.back_office_s))
                              if self.back_office_s else 0.0,
                              "p90": r(percentile(self.back_office_s, 90))},
            "estimate_within_3min": None if honesty is None else round(honesty, 4),
            "appointments": self._appointments(),
            "hall": self._hall(),
            "away": self._away(),
            "devices_down": dict(sorted(self.devices.items())),
        }

    def hall_over_share(self) -> float:
        """Share of the visits that came in whose waits in the hall passed the transaction target."""
        return self.hall_over / len(self.hall_waits) if self.hall_waits else 0.0

    def _hall(self) -> dict[str, Any]:
        waits = self.hall_waits
        return {"visits": len(waits), "over_transaction_target": round(self.hall_over_share(), 4),
                "mean_s": round(sum(waits) / len(waits), 1) if waits else 0.0,
                "p90_s": round(percentile(waits, 90), 1)}

    def _away(self) -> dict[str, Any]:
        def waits(values: list[float]) -> dict[str, float]:
            return {"mean": round(sum(values) / len(values), 1) if values else 0.0,
                    "p50": round(percentile(values, 50), 1), "p90": round(percentile(values, 90), 1)}

        return {**dict(sorted(self.away.items())), "remote_hall_wait_s": waits(self.remote_hall),
                "remote_wait_since_taken_s": waits(self.remote_lived),
                "return_hall_wait_s": waits(self.return_hall), "return_wait_since_taken_s": waits(self.return_lived)}

    def _appointments(self) -> dict[str, Any]:
        within = self.appointments_within_grace()
        delays = self.appointment_call_after_slot
        return {
            "checked_in": self.appointments_kept,
            "normal_number": self.appointments_fallback,
            "slot_full": self.appointments_full,
            "called": len(delays),
            "called_within_grace": None if within is None else round(within, 4),
            "called_after_slot_s": {"p50": round(percentile(delays, 50), 1), "p90": round(percentile(delays, 90), 1),
                                    "max": round(max(delays, default=0.0), 1)},
        }


# Everything a run counts; not the run's settings (targets, sites) nor its length (set once at the end).
_MERGED_FIELDS = tuple(
    f.name for f in fields(Tally)
    if f.name not in ("simulated_s", "sites", "transaction_target_s", "visit_target_s")
)


class DayRecorder:
    """Follows one site-day's events into the run's tally."""

    def __init__(self, tally: Tally, site_index: int, day_index: int, midnight: float,
                 service_s: Mapping[str, float], agency_of: Mapping[str, str] | None = None) -> None:
        self.tally = tally
        self.site = site_index
        self.day = day_index
        self.midnight = midnight
        self.nominal = service_s                      # procedure -> nominal service seconds
        self.agency_of = agency_of or {}              # procedure -> agency (layout-aware bound)
        self.entered: dict[tuple[str, int], float] = {}   # (ticket, step) -> wait began (epoch)
        self.step: dict[str, int] = {}
        self.next_procedure: dict[str, str] = {}
        self.busy_since: dict[int, float] = {}
        self.open_since: dict[int, float] = {}
        self.auto_since: dict[int, float] = {}
        self.issued_at: dict[str, float] = {}
        self.estimates: dict[str, float] = {}
        self.slots: dict[str, float] = {}  # on-time appointment holder -> slot, until first called
        self.appointment_delays: list[float] = []  # this site-day's first calls after the slot
        self.reasons: dict[str, str] = {}
        self.down: set[str] = set()
        self.procedure_of: dict[str, str] = {}  # a number held away: its wait begins at check-in

    # ------------------------------------------------------------- following
    def observe(self, events: Sequence[Event]) -> None:
        """Fold a batch of the Floor's events into the tally."""
        t = self.tally
        for event in events:
            d, at, kind = event.data, event.at, event.type
            if kind == "ticket.issued":
                t.visits += 1
                tid = d["ticket"]
                self.step[tid] = 0
                self.issued_at[tid] = at
                if d.get("away"):
                    self.procedure_of[tid] = d["procedure"]
                else:
                    self._entered(tid, 0, at, d["procedure"])
                check_in = d.get("check_in")
                if check_in == "kept":
                    t.appointments_kept += 1
                    self.slots[tid] = float(d["slot_at"])
                elif check_in is not None:
                    t.appointments_fallback += 1
                if "printer" in self.down:
                    t.devices["tickets_without_printout"] += 1
            elif kind == "ticket.called":
                counter = d["counter"]
                slot = self.slots.pop(d["ticket"], None)
                if slot is not None:
                    t.appointment_call_after_slot.append(at - slot)
                    self.appointment_delays.append(at - slot)
                self.busy_since[counter] = at
                if f"display:{counter}" in self.down:
                    t.devices["calls_without_counter_display"] += 1
                if f"keypad:{counter}" in self.down:
                    t.devices["calls_from_counter_screen"] += 1
                estimate = self.estimates.pop(d["ticket"], None)
                if estimate is not None and self.step.get(d["ticket"]) == 0:
                    t.estimate_errors.append((at - self.issued_at[d["ticket"]]) - estimate)
            elif kind == "ticket.finished":
                self._busy_end(d["counter"], at)
                next_step = d.get("next_step")
                if next_step is not None:
                    tid = d["ticket"]
                    self.step[tid] += 1
                    ready_at = d.get("ready_at")
                    if ready_at is not None and ready_at > at:
                        t.back_office_s.append(ready_at - at)
                        self.next_procedure[tid] = next_step
                    else:
                        self._entered(tid, self.step[tid], at, next_step)
            elif kind == "ticket.checked_in":
                tid = d["ticket"]
                if (tid, 0) not in self.entered:  # a rejoined number checks in once more: its first counts
                    self._entered(tid, 0, at, self.procedure_of[tid])
            elif kind == "ticket.ready":
                tid = d["ticket"]
                procedure = self.next_procedure.pop(tid, None)
                if procedure is not None:  # back office done (a no-show hold keeps its entry)
                    self._entered(tid, self.step[tid], at, procedure)
            elif kind == "ticket.no_show":
                self._busy_end(d["counter"], at)
            elif kind == "ticket.abandoned":
                self.reasons[d["ticket"]] = str(d.get("reason", "left"))
            elif kind == "counter.changed":
                self._counter(d, at)
            elif kind == "target.at_risk":
                t.at_risk_times.append(self._local(at))
            elif kind == "target.breached":
                t.breach_times.append(self._local(at))
                t.breaches_by_kind[str(d["kind"])] += 1
                t.breaches_by_cause[str(d["cause"])] += 1
            elif kind == "alert.raised" and d.get("code") == "standby_recommended":
                t.standby_alerts += 1

    def _local(self, at: float) -> float:
        return at - self.midnight

    def _entered(self, tid: str, step: int, at: float, procedure: str) -> None:
        self.entered[(tid, step)] = at
        half_hour = int(self._local(at) // HALF_HOUR_S)
        entry = self.tally.bin((self.site, self.day, half_hour))
        entry[0] += 1
        entry[1] += self.nominal[procedure]
        agency = self.agency_of.get(procedure)
        if agency is not None:
            per_agency = self.tally.agency_bins.setdefault((self.site, self.day, half_hour, agency), [0.0, 0.0])
            per_agency[0] += 1
            per_agency[1] += self.nominal[procedure]

    def _busy_end(self, counter: int, at: float) -> None:
        since = self.busy_since.pop(counter, None)
        if since is not None:
            self.tally.busy_s[(self.site, counter)] += at - since

    def _counter(self, d: Mapping[str, Any], at: float) -> None:
        counter = int(d["counter"])
        if d["status"] == "open":
            self.open_since.setdefault(counter, at)
            if d.get("by") == "auto":
                self.tally.standby_opened += 1
                self.auto_since[counter] = at
        else:
            self._available_end(counter, at)
            if d["status"] == "closed" and counter in self.auto_since:
                on = self.auto_since.pop(counter)
                self.tally.standby_shifts.append((self.site, self.day, counter, self._local(on), self._local(at)))

    def _available_end(self, counter: int, at: float) -> None:
        since = self.open_since.pop(counter, None)
        if since is None:
            return
        self.tally.available_s[(self.site, counter)] += at - since
        # Spread the open time over the half hours it covers (for the Erlang C bound).
        start, end = self._local(since), self._local(at)
        while start < end:
            index = int(start // HALF_HOUR_S)
            upto = min(end, (index + 1) * HALF_HOUR_S)
            self.tally.bin((self.site, self.day, index))[2] += upto - start
            self.tally.counter_open_s[(self.site, self.day, index, counter)] += upto - start
            start = upto

    # ------------------------------------------------------------- told by the staff model
    def queue_sample(self, now: float, state: SiteState) -> None:
        """Citizens waiting in line now (periodic)."""
        self.tally.queue_samples[round(self._local(now), 3)] += state.in_line

    def estimate(self, tid: str, now: float, estimate: float | None) -> None:
        """The wait the citizen was told at issue (None: no counter open for it)."""
        if estimate is not None:
            self.estimates[tid] = estimate

    def still_waiting(self, tid: str) -> None:
        """A citizen still waiting when the centre closed."""
        self.tally.still_waiting_at_close += 1
        del tid

    def appointment_full(self) -> None:
        """An appointment holder whose slot was already full: they came as a walk-in."""
        self.tally.appointments_full += 1

    def away(self, counts: Mapping[str, int]) -> None:
        """What the citizens with numbers held away did today (sim/away.py)."""
        self.tally.away.update(counts)

    def refused(self, code: str) -> None:
        """A command the Floor refused (DomainError code)."""
        self.tally.refused[code] += 1

    def device(self, device: str, up: bool, now: float) -> None:
        """A device went down or came back."""
        if up:
            self.down.discard(device)
        else:
            self.down.add(device)
            self.tally.devices[f"{device.split(':')[0]}_outages"] += 1
        del now

    def finish(self, state: SiteState, end: float) -> None:
        """Close the day: read every ticket's waits and outcome from the core's final state."""
        t = self.tally
        for counter in sorted(self.open_since):
            self._available_end(counter, end)
        for counter in sorted(self.auto_since):
            t.standby_shifts.append((self.site, self.day, counter, self._local(self.auto_since[counter]),
                                     self._local(end)))
        self.auto_since.clear()
        procedures = state.site.procedures
        targets = state.site.targets
        grace = state.site.appointment_grace_s
        t.appointments_in_grace += sum(1 for d in self.appointment_delays if d <= grace)
        away = away_from_state(state)
        t.remote_hall.extend(away["remote"].hall)
        t.remote_lived.extend(away["remote"].lived)
        t.return_hall.extend(away["return_later"].hall)
        t.return_lived.extend(away["return_later"].lived)
        for ticket in state.tickets.values():
            if ticket.place_at is not None and ticket.checked_in_at is None:
                # never came in (expired, or away at closing): no wait in the hall to count
                t.no_shows += ticket.state == TicketState.NO_SHOW
                continue
            t.hall_waits.append(ticket.visit_waited)
            t.hall_over += ticket.visit_waited > targets.transaction_wait_s
            for step, waited in enumerate(ticket.transaction_waits):
                t.waits.append(waited)
                t.waits_within += waited <= targets.transaction_wait_s
                t.wait_agency.append(procedures[ticket.steps[min(step, len(ticket.steps) - 1)]].agency)
                began = self.entered.get((ticket.id, step))
                t.wait_entered.append(self._local(began) if began is not None else -1.0)
            t.visit_waits.append(ticket.visit_waited)
            t.visits_over += ticket.visit_waited > targets.visit_wait_s
            t.service_s.extend(ticket.service_times)
            if ticket.state == TicketState.DONE:
                t.served += 1
            elif ticket.state == TicketState.NO_SHOW:
                t.no_shows += 1
            elif ticket.state == TicketState.ABANDONED and self.reasons.get(ticket.id) != "closed":
                t.abandoned += 1
