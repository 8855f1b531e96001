"""Tickets and counters as the fold keeps them, and the vocabularies they use."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

__all__ = [
    "CHANNELS",
    "OUTCOMES",
    "PRIORITY_CLASSES",
    "CounterState",
    "CounterStatus",
    "Ticket",
    "TicketState",
]

PRIORITY_CLASSES = ("elderly", "pregnant", "disabled", "child", "merit")
CHANNELS = ("kiosk", "appointment", "online", "staff", "remote")
OUTCOMES = ("done", "incomplete", "rejected")


class TicketState(StrEnum):
    """Where a ticket is. Every issued ticket is in exactly one of these."""

    WAITING = "waiting"          # in a queue, ready to be called
    AWAY = "away"                # a number taken from a phone: holds its place, never called until checked in
    EARLY = "early"              # an appointment checked in before its slot: joins the queue at the slot
    HELD = "held"                # missed its call; back in the queue after a hold
    CALLED = "called"            # called to a counter, not yet served
    SERVING = "serving"          # at the counter
    BACK_OFFICE = "back_office"  # waiting for an on-the-spot result (not queue waiting)
    DONE = "done"                # journey over (see outcome)
    NO_SHOW = "no_show"          # missed its calls too often; left the queue
    ABANDONED = "abandoned"      # left without being served


class CounterStatus(StrEnum):
    """A counter's availability."""

    CLOSED = "closed"
    OPEN = "open"
    PAUSED = "paused"


@dataclass(slots=True)
class Ticket:
    """One visit: a number, a journey of steps, and the wait clocks the targets count."""

    id: str
    number: str
    intake_procedure: str
    procedure: str                  # the current step's procedure
    agency: str                     # the current step's agency (queue it waits in)
    steps: tuple[str, ...]          # planned journey; steps[step] is the current one
    priority: str | None
    channel: str
    kiosk: str | None
    issued_at: float
    order: int                      # issue order within the day, for stable ties
    state: TicketState = TicketState.WAITING
    step: int = 0
    waiting_since: float = 0.0      # start of the current waiting segment
    tx_waited_before: float = 0.0   # waiting already counted in this transaction
    visit_waited: float = 0.0       # waiting of finished transactions of this visit
    counter: int | None = None
    staff: str | None = None
    called_at: float | None = None
    started_at: float | None = None
    intake_finished_at: float | None = None
    ready_at: float | None = None   # BACK_OFFICE/HELD/EARLY: when it (re-)enters the queue
    calls: int = 0                  # calls of the current transaction (first + recalls)
    no_shows: int = 0
    target_counter: int | None = None  # transferred to one counter
    slot_at: float | None = None       # appointment slot
    outcome: str | None = None
    transaction_waits: list[float] = field(default_factory=list)
    service_times: list[float] = field(default_factory=list)
    transfers: int = 0
    at_risk: bool = False
    breached_tx: bool = False
    breached_visit: bool = False
    # A number taken from a phone (channel "remote") or one that returns later (return_later.py):
    # its place in line, kept while away.
    place_at: float | None = None      # the key of its place: when taken (moved back once by "more time")
    travel_s: float = 0.0              # the trip the citizen said it takes (the "come now" text allows it)
    checked_in_at: float | None = None
    turn_passed_at: float | None = None  # AWAY, and a ticket placed after it was called: held aside
    expires_at: float | None = None      # ... until then; not checked in by then: expired
    return_at: float | None = None     # returns later: the time printed on the ticket
    # A result to collect, from an intake receipt's QR: {"code", "procedure_code", "return_date", "early"}
    dossier: dict[str, Any] | None = None
    more_time: bool = False            # "I need more time" used (once)
    rejoined: bool = False             # expired and rejoined at the back (once)

    @property
    def is_priority(self) -> bool:
        return self.priority is not None

    @property
    def appointment_pending(self) -> bool:
        """An appointment holder the routing still owes a first call within the grace window of the slot.

        A no-show or a transfer ends that promise: the ticket then waits like any other.
        """
        return self.slot_at is not None and self.step == 0 and self.no_shows == 0 and self.transfers == 0

    @property
    def remote_pending(self) -> bool:
        """A number from a phone whose place in line still holds: its first call, no no-show, no transfer."""
        return self.place_at is not None and self.step == 0 and self.no_shows == 0 and self.transfers == 0

    def place(self) -> float:
        """The key of its place in line: when the citizen joined (the fairness rule, README).

        A walk-in joined when its wait clock started; a remote number when it was taken,
        although its wait clock (what the targets count) starts at check-in.
        """
        if self.remote_pending:
            assert self.place_at is not None
            return self.place_at
        return self.effective_start()

    @property
    def is_open(self) -> bool:
        """Still part of today's floor (not finished, abandoned or gone)."""
        return self.state not in (TicketState.DONE, TicketState.NO_SHOW, TicketState.ABANDONED)

    @property
    def is_waiting(self) -> bool:
        """In line for the targets' purposes (held tickets keep their wait clock running)."""
        return self.state in (TicketState.WAITING, TicketState.HELD)

    def effective_start(self) -> float:
        """When the current transaction's wait clock started, counting kept waits."""
        return self.waiting_since - self.tx_waited_before

    def waited(self, now: float) -> float:
        """Queue waiting of the current transaction so far."""
        if self.is_waiting:
            return self.tx_waited_before + max(0.0, now - self.waiting_since)
        return self.tx_waited_before

    def transaction_deadline(self, target_s: float) -> float:
        return self.effective_start() + target_s

    def visit_deadline(self, target_s: float) -> float:
        return self.effective_start() + (target_s - self.visit_waited)

    def deadline(self, tx_target_s: float, visit_target_s: float) -> float:
        """The earlier of the transaction and visit deadlines."""
        start = self.effective_start()
        return start + min(tx_target_s, visit_target_s - self.visit_waited)


@dataclass(slots=True)
class CounterState:
    """A counter on the floor today."""

    id: int
    status: CounterStatus = CounterStatus.CLOSED
    staff: str | None = None
    current: str | None = None       # ticket called or being served here
    last_served: str | None = None   # what a rating binds to
    last_served_staff: str | None = None
    pause_reason: str | None = None
    served: int = 0
    opened_by: str | None = None     # "auto" when target enforcement opened it
    serving: tuple[str, ...] = ()    # the agencies it is open for, when fewer than it is trained for
    changed_at: float = 0.0
