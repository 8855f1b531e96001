"""Commands and the decisions they lead to.

`decide(state, command, now, policy)` reads the state and returns the events
the command causes, or raises DomainError; it never changes the state. The
runtime commits the events, then folds them with `SiteState.apply`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from controller.core.appointments import check_in_outcome, idempotency_key
from controller.core.clock import hhmm, local_day, local_half_hour, local_seconds
from controller.core.errors import DomainError
from controller.core.events import Event
from controller.core.id_card import IdCard
from controller.core.policies import RoutingPolicy
from controller.core.receipt import Receipt
from controller.core.remote import next_half_hour, postponed_place, remote_cap
from controller.core.site import Site
from controller.core.state import SiteState
from controller.core.tickets import (
    CHANNELS,
    OUTCOMES,
    PRIORITY_CLASSES,
    CounterStatus,
    Ticket,
    TicketState,
)

__all__ = [
    "Abandon",
    "AcknowledgeAlert",
    "CallNext",
    "CheckIn",
    "CheckInRemote",
    "CloseCounter",
    "Command",
    "Finish",
    "GiveReasons",
    "IssueTicket",
    "MoreTime",
    "NoShow",
    "OpenCounter",
    "PauseCounter",
    "Rate",
    "Recall",
    "Rejoin",
    "ResumeCounter",
    "Start",
    "TakeRemote",
    "Transfer",
    "card_facts",
    "decide",
    "reasons_wanted",
    "ticket_id_for",
]


def _bad(code: str, message: str) -> DomainError:
    return DomainError(code, message, status=422)


@dataclass(frozen=True, slots=True)
class IssueTicket:
    """A citizen takes a ticket for a procedure."""

    procedure: str
    priority: str | None = None
    channel: str = "kiosk"
    kiosk: str | None = None
    idempotency_key: str | None = None
    slot_at: float | None = None
    check_hours: bool = True
    by: str | None = None
    # Return later (controller/core/return_later.py): AWAY until checked in, back at this time.
    return_at: float | None = None
    # The ID card scanned at the kiosk (id_card.py): only the facts derived from it reach the event
    card: IdCard | None = None
    # An intake receipt's QR (receipt.py): a result to collect, the dossier code for the counter
    receipt: Receipt | None = None

    def __post_init__(self) -> None:
        if self.priority is not None and self.priority not in PRIORITY_CLASSES:
            raise _bad("invalid_priority", f"priority must be one of {', '.join(PRIORITY_CLASSES)}")
        if self.channel not in CHANNELS:
            raise _bad("invalid_channel", f"channel must be one of {', '.join(CHANNELS)}")
        if self.idempotency_key is not None and not 1 <= len(self.idempotency_key) <= 128:
            raise _bad("invalid_idempotency_key", "Idempotency-Key must be 1..128 characters")


@dataclass(frozen=True, slots=True)
class CheckIn:
    """An appointment holder checks in at the kiosk: the booking becomes today's ticket.

    On time (controller/core/appointments.py) the ticket keeps the slot and the
    routing calls it within the grace window; late, or on another day, it is a
    normal ticket. A booking checks in once a day: a repeat returns no events and
    the caller finds the ticket by the booking's idempotency key.
    """

    booking: str            # the booking's id (events never carry its code)
    procedure: str
    slot_at: float
    kiosk: str | None = None
    check_hours: bool = True
    by: str | None = None


@dataclass(frozen=True, slots=True)
class TakeRemote:
    """A citizen takes a number from a phone: it holds a place while they travel (controller/core/remote.py).

    Who they are and their daily limits are checked before (the API: a texted code);
    the core keeps the share of capacity remote numbers may take.

    A number taken on an earlier day (or before today's opening) for this day is `held`:
    it joins the line at `place_at`, the opening, whatever the hour it is issued, and is
    not refused for the hours or the share, which were counted when it was taken
    (controller/remote/later.py). It needs its idempotency key, so it is issued once.
    """

    procedure: str
    travel_s: float
    idempotency_key: str | None = None
    check_hours: bool = True
    by: str | None = None
    place_at: float | None = None
    held: bool = False

    def __post_init__(self) -> None:
        if not 0 <= self.travel_s <= 4 * 3600:
            raise _bad("invalid_travel", "travel time must be 0..240 minutes")
        if self.held and (self.place_at is None or not self.idempotency_key):
            raise _bad("invalid_held_number", "a held number joins at its place and has an idempotency key")


@dataclass(frozen=True, slots=True)
class CheckInRemote:
    """A remote number's holder arrives (kiosk scan or code, or staff): it goes in line at its place."""

    ticket: str
    via: str = "kiosk"
    by: str | None = None


@dataclass(frozen=True, slots=True)
class MoreTime:
    """"I need more time": an away number moves back a few places, once."""

    ticket: str
    by: str | None = None


@dataclass(frozen=True, slots=True)
class Rejoin:
    """An expired remote number joins again, at the back, once."""

    ticket: str
    by: str | None = None


@dataclass(frozen=True, slots=True)
class _CounterCommand:
    counter: int
    by: str | None = None


@dataclass(frozen=True, slots=True)
class OpenCounter(_CounterCommand):
    """Staff log in at a counter and open it, for all the agencies it is trained for or for some of them."""

    staff: str | None = None
    auto: bool = False
    serves: tuple[str, ...] = ()  # empty: every agency of the counter


@dataclass(frozen=True, slots=True)
class CloseCounter(_CounterCommand):
    """Close a counter (no ticket may be in progress)."""


@dataclass(frozen=True, slots=True)
class PauseCounter(_CounterCommand):
    """Pause a counter, with a reason."""

    reason: str = ""


@dataclass(frozen=True, slots=True)
class ResumeCounter(_CounterCommand):
    """Resume a paused counter."""


@dataclass(frozen=True, slots=True)
class CallNext(_CounterCommand):
    """Call the next ticket the routing policy chooses."""


@dataclass(frozen=True, slots=True)
class Recall(_CounterCommand):
    """Announce the called ticket again."""


@dataclass(frozen=True, slots=True)
class NoShow(_CounterCommand):
    """The called citizen did not come."""


@dataclass(frozen=True, slots=True)
class Start(_CounterCommand):
    """The called citizen arrived; service starts."""


@dataclass(frozen=True, slots=True)
class Finish(_CounterCommand):
    """Service ends with an outcome; the journey moves on when done."""

    outcome: str = "done"

    def __post_init__(self) -> None:
        if self.outcome not in OUTCOMES:
            raise _bad("invalid_outcome", f"outcome must be one of {', '.join(OUTCOMES)}")


@dataclass(frozen=True, slots=True)
class Transfer(_CounterCommand):
    """Send the current ticket to another procedure or counter, keeping its wait clock."""

    procedure: str | None = None
    to_counter: int | None = None

    def __post_init__(self) -> None:
        if (self.procedure is None) == (self.to_counter is None):
            raise _bad("invalid_transfer", "give exactly one of procedure or counter")


@dataclass(frozen=True, slots=True)
class Rate(_CounterCommand):
    """A satisfaction rating pressed at a counter's keypad."""

    score: int = 0


@dataclass(frozen=True, slots=True)
class GiveReasons:
    """Why a rating was low: codes of the site's short list, bound to that rating's ticket and staff member.

    From the counter's rating screen or a keypad's display (`counter`: the counter's last rating,
    while the counter has served nobody since) or from the citizen's ticket page (`ticket`).
    """

    reasons: tuple[str, ...]
    counter: int | None = None
    ticket: str | None = None
    by: str | None = None

    def __post_init__(self) -> None:
        if (self.counter is None) == (self.ticket is None):
            raise _bad("invalid_reasons", "give exactly one of counter or ticket")
        if not self.reasons or len(self.reasons) > 8 or not all(isinstance(r, str) for r in self.reasons):
            raise _bad("invalid_reasons", "Chọn ít nhất một lý do / choose at least one reason (at most 8)")


@dataclass(frozen=True, slots=True)
class Abandon:
    """A citizen left without being served (observed, simulated, or at closing)."""

    ticket: str
    reason: str = "left"
    by: str | None = None


@dataclass(frozen=True, slots=True)
class AcknowledgeAlert:
    """A manager acknowledges an alert."""

    alert: str
    by: str | None = None


Command = (
    IssueTicket | CheckIn | TakeRemote | CheckInRemote | MoreTime | Rejoin
    | OpenCounter | CloseCounter | PauseCounter | ResumeCounter | CallNext | Recall
    | NoShow | Start | Finish | Transfer | Rate | GiveReasons | Abandon | AcknowledgeAlert
)


def ticket_id_for(day: str, number: str) -> str:
    """Ticket ids are the day and the number: unique per site, readable on a receipt."""
    return f"{day.replace('-', '')}-{number}"


def decide(state: SiteState, command: Command, now: float, policy: RoutingPolicy) -> list[Event]:
    """The events a command causes; DomainError when it cannot happen. State is not changed."""
    match command:
        case IssueTicket():
            return _issue(state, command, now)
        case CheckIn():
            return _check_in(state, command, now)
        case CallNext():
            return _call_next(state, command, now, policy)
        case Start() | Finish() | Recall() | NoShow() | Transfer():  # the busiest first: each case is a type test
            return _ticket_action(state, command, now)
        case OpenCounter() | CloseCounter() | PauseCounter() | ResumeCounter():
            return _counter_status(state, command, now)
        case Rate():
            return _rate(state, command, now)
        case GiveReasons():
            return _reasons(state, command, now)
        case Abandon():
            return _abandon(state, command, now)
        case TakeRemote():
            return _take_remote(state, command, now)
        case CheckInRemote() | MoreTime() | Rejoin():
            return _remote_action(state, command, now)
        case AcknowledgeAlert():
            if command.alert not in state.alerts:
                raise DomainError("unknown_alert", f"no alert {command.alert!r}", status=404)
            return [Event("alert.acknowledged", now, {"alert": command.alert, "by": command.by})]
    raise TypeError(f"not a command: {command!r}")


def _open_now(state: SiteState, now: float) -> bool:
    site = state.site
    t = local_seconds(now, site.utc_offset_s)
    last = len(site.hours) - 1
    for i, (start, end) in enumerate(site.hours):
        close = end * 60 - (site.issue_cutoff_s if i == last else 0)
        if start * 60 <= t < close:
            return True
    return False


def _issue(state: SiteState, cmd: IssueTicket, now: float) -> list[Event]:
    site = state.site
    if cmd.idempotency_key and cmd.idempotency_key in state.idempotency:
        return []
    procedure = site.procedures.get(cmd.procedure)
    if procedure is None:
        raise DomainError("unknown_procedure", f"no procedure {cmd.procedure!r} at site {site.id}", 404)
    if procedure.step_only:
        raise _bad("not_a_kiosk_procedure", f"{procedure.id} is a journey step, not chosen at the kiosk")
    if cmd.check_hours and not _open_now(state, now):
        raise DomainError("centre_closed", "Trung tâm đang ngoài giờ cấp số / outside ticket hours", 409)
    agency = site.agencies[procedure.agency]
    if agency.daily_cap is not None and state.issued_per_agency[agency.id] >= agency.daily_cap:
        raise DomainError("daily_cap_reached", f"{agency.name}: đã hết số hôm nay / daily cap reached", 429)
    number = state.next_number[agency.id]
    if number > agency.last_number:
        raise DomainError("numbers_exhausted", f"{agency.id}: the number block is used up today", 409)
    data: dict[str, Any] = {
        "ticket": ticket_id_for(state.day, str(number)),
        "number": str(number),
        "procedure": procedure.id,
        "agency": agency.id,
        "steps": list(site.journey(procedure.id)),
        "priority": cmd.priority,
        "channel": cmd.channel,
        "kiosk": cmd.kiosk,
    }
    if cmd.idempotency_key:
        data["idempotency_key"] = cmd.idempotency_key
    if cmd.slot_at is not None:
        data["slot_at"] = cmd.slot_at
    if cmd.return_at is not None:
        if cmd.priority is not None:
            raise _bad("return_later_priority", "Người thuộc diện ưu tiên được gọi trước, không cần hẹn quay lại / "
                                                "legal priority is called first: no need to come back later")
        if cmd.return_at <= now:
            raise _bad("invalid_return", "the time to come back must be later than now")
        # the "come now" text goes out once the predicted call is within the target (return_later.py)
        data.update(away=True, travel_s=site.targets.transaction_wait_s, return_at=cmd.return_at)
    if cmd.card is not None:
        data["card"] = card_facts(site, cmd.card, now)
    if cmd.receipt is not None:
        data["dossier"] = _dossier(state, cmd.receipt, procedure.id, now)
    if cmd.by:
        data["by"] = cmd.by
    return [Event("ticket.issued", now, data)]


def card_facts(site: Site, card: IdCard, now: float) -> list[str]:
    """What the event log keeps of an ID card scanned at the kiosk: the facts derived from it, never the card."""
    age = card.age_on(dt.date.fromisoformat(local_day(now, site.utc_offset_s)))
    return ["elderly"] if age >= site.elderly_priority_age else []


def _dossier(state: SiteState, receipt: Receipt, procedure: str, now: float) -> dict[str, Any]:
    """The result to collect, for the counter: the dossier code, and whether it is asked for before its date."""
    site = state.site
    if procedure != site.result_return_procedure:
        raise _bad("not_result_return", "Giấy hẹn trả kết quả chỉ dùng để lấy số nhận kết quả / an intake receipt "
                                        f"gets a number to collect a result ({site.result_return_procedure}) only")
    today = dt.date.fromisoformat(local_day(now, site.utc_offset_s))
    return {
        "code": receipt.dossier,
        "procedure_code": receipt.procedure_code,
        "return_date": None if receipt.return_date is None else receipt.return_date.isoformat(),
        "early": receipt.early_on(today),
    }


def _check_in(state: SiteState, cmd: CheckIn, now: float) -> list[Event]:
    key = idempotency_key(cmd.booking)
    if key in state.idempotency:
        return []
    outcome = check_in_outcome(state.site, cmd.slot_at, now)
    kept = outcome == "kept"
    issue = IssueTicket(
        procedure=cmd.procedure,
        channel="appointment" if kept else "kiosk",
        kiosk=cmd.kiosk,
        idempotency_key=key,
        slot_at=cmd.slot_at if kept else None,
        check_hours=cmd.check_hours,
        by=cmd.by,
    )
    return [Event(e.type, e.at, {**e.data, "check_in": outcome}) for e in _issue(state, issue, now)]


def _counter(state: SiteState, counter_id: int) -> tuple[Any, Any]:
    spec = state.site.counters.get(counter_id)
    if spec is None:
        raise DomainError("unknown_counter", f"no counter {counter_id} at site {state.site.id}", 404)
    return spec, state.counters[counter_id]


def _call_next(state: SiteState, cmd: CallNext, now: float, policy: RoutingPolicy) -> list[Event]:
    _spec, counter = _counter(state, cmd.counter)
    if counter.status == CounterStatus.CLOSED:
        raise DomainError("counter_closed", f"counter {cmd.counter} is closed: open it first")
    if counter.status == CounterStatus.PAUSED:
        raise DomainError("counter_paused", f"counter {cmd.counter} is paused: resume it first")
    if counter.current is not None:
        raise DomainError(
            "counter_busy",
            f"counter {cmd.counter} has ticket {state.tickets[counter.current].number}: "
            "finish, transfer or no-show it first",
        )
    chosen = policy.choose(state, state.specs[cmd.counter], now)  # as opened: maybe for fewer agencies
    if chosen is None:
        return []
    ticket = state.tickets[chosen]
    return [
        Event(
            "ticket.called",
            now,
            {
                "ticket": ticket.id,
                "number": ticket.number,
                "counter": cmd.counter,
                "staff": counter.staff,
                "agency": ticket.agency,
                "procedure": ticket.procedure,
                "waited_s": round(ticket.waited(now), 3),
                "policy": policy.name,
            },
        )
    ]


def _counter_status(
    state: SiteState, cmd: OpenCounter | CloseCounter | PauseCounter | ResumeCounter, now: float
) -> list[Event]:
    spec, counter = _counter(state, cmd.counter)
    data: dict[str, Any] = {"counter": cmd.counter, "staff": counter.staff, "by": cmd.by}
    match cmd:
        case OpenCounter():
            staff = cmd.staff or counter.staff or cmd.by
            untrained = [a for a in cmd.serves if a not in spec.serves]
            if untrained:
                raise DomainError("not_trained", f"counter {cmd.counter} does not serve {', '.join(untrained)}", 422)
            serves = [a for a in spec.serves if a in cmd.serves] if cmd.serves else list(spec.serves)
            current = list(counter.serving or spec.serves)
            if counter.status == CounterStatus.OPEN and counter.staff == staff and current == serves:
                return []
            if counter.current is not None and counter.staff != staff:
                raise DomainError("counter_busy", "finish the current ticket before changing staff")
            data.update(status="open", staff=staff, by="auto" if cmd.auto else cmd.by, serves=serves)
        case CloseCounter():
            if counter.status == CounterStatus.CLOSED:
                return []
            if counter.current is not None:
                raise DomainError("counter_busy", "finish, transfer or no-show the current ticket before closing")
            data.update(status="closed", staff=None)
        case PauseCounter():
            if counter.status != CounterStatus.OPEN:
                raise DomainError("counter_not_open", f"counter {cmd.counter} is {counter.status}")
            if counter.current is not None:
                raise DomainError("counter_busy", "finish the current ticket before pausing")
            data.update(status="paused", reason=cmd.reason[:200])
        case ResumeCounter():
            if counter.status != CounterStatus.PAUSED:
                raise DomainError("counter_not_paused", f"counter {cmd.counter} is {counter.status}")
            data.update(status="open")
    return [Event("counter.changed", now, data)]


def _current(state: SiteState, counter_id: int) -> Ticket:
    _spec, counter = _counter(state, counter_id)
    if counter.current is None:
        raise DomainError("no_current_ticket", f"counter {counter_id} has no ticket in progress")
    return state.tickets[counter.current]


def _ticket_action(state: SiteState, cmd: Recall | NoShow | Start | Finish | Transfer, now: float) -> list[Event]:
    ticket = _current(state, cmd.counter)
    base = {"ticket": ticket.id, "number": ticket.number, "counter": cmd.counter, "agency": ticket.agency}
    if cmd.by:
        base["by"] = cmd.by
    match cmd:
        case Recall():
            if ticket.state != TicketState.CALLED:
                raise DomainError("not_called", "only a called ticket (not yet served) can be recalled")
            if ticket.calls > state.site.recall_limit:
                raise DomainError("recall_limit_reached", "recall limit reached: mark it no-show")
            return [Event("ticket.recalled", now, {**base, "calls": ticket.calls + 1})]
        case NoShow():
            if ticket.state != TicketState.CALLED:
                raise DomainError("not_called", "only a called ticket (not yet served) can be a no-show")
            requeue = ticket.no_shows + 1 < state.site.recall_limit
            data = {**base, "requeued": requeue, "no_shows": ticket.no_shows + 1}
            if requeue:
                data["ready_at"] = now + state.site.no_show_hold_s
            return [Event("ticket.no_show", now, data)]
        case Start():
            if ticket.state != TicketState.CALLED:
                raise DomainError("already_started", "this ticket is already being served")
            return [Event("ticket.started", now, base)]
        case Finish():
            return [Event("ticket.finished", now, {**base, **_next_step(state, ticket, cmd.outcome, now)})]
        case Transfer():
            return [Event("ticket.transferred", now, {**base, **_transfer_target(state, ticket, cmd)})]
    raise TypeError(cmd)


def _next_step(state: SiteState, ticket: Ticket, outcome: str, now: float) -> dict[str, Any]:
    site = state.site
    data: dict[str, Any] = {"outcome": outcome, "procedure": ticket.procedure, "next_step": None}
    if outcome != "done" or ticket.step + 1 >= len(ticket.steps):
        return data
    next_step = ticket.steps[ticket.step + 1]
    data["next_step"] = next_step
    if next_step == site.result_procedure:
        intake = site.procedures[ticket.intake_procedure]
        finished_intake = ticket.intake_finished_at if ticket.step > 0 else now
        back_office = intake.on_the_spot_s or 0.0
        data["ready_at"] = max(now, (finished_intake or now) + back_office)
    return data


def _transfer_target(state: SiteState, ticket: Ticket, cmd: Transfer) -> dict[str, Any]:
    site = state.site
    if cmd.procedure is not None:
        procedure = site.procedures.get(cmd.procedure)
        if procedure is None:
            raise DomainError("unknown_procedure", f"no procedure {cmd.procedure!r}", 404)
        if procedure.id == ticket.procedure:
            raise _bad("same_procedure", "the ticket is already for this procedure")
        if ticket.step == 0:
            steps = list(site.journey(procedure.id))
        else:
            steps = [*ticket.steps[: ticket.step], procedure.id, *ticket.steps[ticket.step + 1 :]]
        return {"procedure": procedure.id, "to_agency": procedure.agency, "steps": steps}
    assert cmd.to_counter is not None
    if cmd.to_counter == cmd.counter:
        raise _bad("same_counter", "transfer to another counter")
    _spec, target = _counter(state, cmd.to_counter)
    if target.status == CounterStatus.CLOSED:
        raise DomainError("counter_closed", f"counter {cmd.to_counter} is closed")
    return {"to_counter": cmd.to_counter}


def _rate(state: SiteState, cmd: Rate, now: float) -> list[Event]:
    _spec, counter = _counter(state, cmd.counter)
    levels = state.site.rating_levels
    if isinstance(cmd.score, bool) or not isinstance(cmd.score, int) or not 1 <= cmd.score <= levels:
        raise _bad("invalid_score", f"score must be an integer 1..{levels}")
    if counter.last_served is None:
        raise DomainError("nothing_to_rate", f"counter {cmd.counter} has served nobody yet today")
    if (counter.last_served, cmd.counter) in state.rated:
        raise DomainError("already_rated", "this ticket has already been rated at this counter")
    ticket = state.tickets[counter.last_served]
    return [
        Event(
            "rating.recorded",
            now,
            {
                "counter": cmd.counter,
                "score": cmd.score,
                "levels": levels,
                "ticket": ticket.id,
                "agency": ticket.agency,
                "staff": counter.last_served_staff,
                "ask_reasons": state.site.feedback.asks_reasons(cmd.score),
            },
        )
    ]


def _rating_to_explain(state: SiteState, cmd: GiveReasons) -> dict[str, Any]:
    """The rating the reasons are about: the counter's last one, or the ticket's last one."""
    if cmd.counter is not None:
        _spec, counter = _counter(state, cmd.counter)
        rating = state.last_rating.get(("counter", cmd.counter))
        if rating is not None and rating["ticket"] != counter.last_served:
            # the counter has called someone since: reasons now would land on the wrong citizen
            raise DomainError("rating_moved_on", "Quầy đã phục vụ người tiếp theo / the counter has moved on")
    else:
        assert cmd.ticket is not None
        if cmd.ticket not in state.tickets:
            raise DomainError("unknown_ticket", f"no ticket {cmd.ticket!r}", 404)
        rating = state.last_rating.get(("ticket", cmd.ticket))
    if rating is None:
        raise DomainError("nothing_to_explain", "Chưa có đánh giá nào / there is no rating to explain")
    return rating


def _unexplainable(state: SiteState, rating: dict[str, Any], now: float) -> DomainError | None:
    """Why reasons cannot be given for this rating now (None: they can)."""
    settings = state.site.feedback
    if not settings.asks_reasons(int(rating["score"])):
        return DomainError("reasons_not_asked", "Đánh giá này không cần lý do / this rating asks no reasons")
    if rating.get("reasons"):
        return DomainError("reasons_given", "Lý do đã được ghi nhận / the reasons were already given")
    if now - float(rating["at"]) > settings.reasons_window_s:
        return DomainError("reasons_too_late", "Đã hết thời gian nêu lý do / too late to give reasons")
    return None


def reasons_wanted(state: SiteState, ticket: str, now: float) -> bool:
    """Whether the ticket's last rating still waits for its reasons (the ticket page asks then)."""
    rating = state.last_rating.get(("ticket", ticket))
    return rating is not None and _unexplainable(state, rating, now) is None


def _reasons(state: SiteState, cmd: GiveReasons, now: float) -> list[Event]:
    settings = state.site.feedback
    reasons = tuple(dict.fromkeys(cmd.reasons))  # a double tap is one reason, in the order chosen
    for code in reasons:
        if not settings.is_reason(code):
            raise _bad("invalid_reason", f"Lý do không có trong danh sách / unknown reason {code[:40]!r}")
    rating = _rating_to_explain(state, cmd)
    refusal = _unexplainable(state, rating, now)
    if refusal is not None:
        raise refusal
    return [
        Event(
            "rating.reasons",
            now,
            {
                "ticket": rating["ticket"],
                "counter": rating["counter"],
                "staff": rating.get("staff"),
                "agency": rating.get("agency"),
                "score": rating["score"],
                "reasons": list(reasons),
                "via": "counter" if cmd.counter is not None else "ticket",
            },
        )
    ]


def _abandon(state: SiteState, cmd: Abandon, now: float) -> list[Event]:
    ticket = state.tickets.get(cmd.ticket)
    if ticket is None:
        raise DomainError("unknown_ticket", f"no ticket {cmd.ticket!r}", 404)
    if ticket.state not in (TicketState.WAITING, TicketState.HELD, TicketState.BACK_OFFICE, TicketState.EARLY,
                            TicketState.CALLED, TicketState.AWAY):
        raise DomainError("ticket_not_waiting", f"ticket {ticket.number} is {ticket.state}")
    return [Event("ticket.abandoned", now, {"ticket": ticket.id, "number": ticket.number,
                                            "agency": ticket.agency, "reason": cmd.reason})]


def _take_remote(state: SiteState, cmd: TakeRemote, now: float) -> list[Event]:
    site = state.site
    if cmd.idempotency_key and cmd.idempotency_key in state.idempotency:
        return []
    if site.remote.share <= 0:
        raise DomainError("remote_disabled", "Trung tâm không cấp số qua điện thoại / "
                                             "this centre gives no numbers by phone", 409)
    issue = IssueTicket(procedure=cmd.procedure, channel="remote", idempotency_key=cmd.idempotency_key,
                        check_hours=cmd.check_hours and not cmd.held, by=cmd.by)
    events = _issue(state, issue, now)
    extra: dict[str, Any] = {"away": True, "travel_s": cmd.travel_s}
    if cmd.place_at is not None:
        extra["place_at"] = cmd.place_at
    if cmd.held:
        return [Event(e.type, e.at, {**e.data, **extra, "held": True}) for e in events]
    agency = str(events[0].data["agency"])
    cap = remote_cap(site, agency)
    if state.remote_taken.get((agency, local_half_hour(now, site.utc_offset_s)), 0) >= cap:
        at = next_half_hour(site, now)
        then = hhmm(int(local_seconds(at, site.utc_offset_s) // 60))
        raise DomainError("remote_share_full",
                          f"Đã hết số qua điện thoại của nửa giờ này cho cơ quan này; thử lại lúc {then} hoặc "
                          f"lấy số tại ki-ốt / this half hour's numbers by phone are taken for this agency: "
                          f"try again at {then} or take a number at the kiosk", 409)
    return [Event(e.type, e.at, {**e.data, **extra}) for e in events]


def _remote_ticket(state: SiteState, ticket_id: str) -> Ticket:
    ticket = state.tickets.get(ticket_id)
    if ticket is None:
        raise DomainError("unknown_ticket", f"Không có số {ticket_id!r} hôm nay / no ticket {ticket_id!r} today", 404)
    if ticket.place_at is None:  # neither taken from a phone nor one that returns later: never away
        raise DomainError("not_remote", f"Số {ticket.number} không giữ chỗ khi vắng mặt (không lấy qua điện thoại, "
                                        f"không hẹn quay lại) / ticket {ticket.number} never held a place away", 409)
    return ticket


def _remote_action(state: SiteState, cmd: CheckInRemote | MoreTime | Rejoin, now: float) -> list[Event]:
    ticket = _remote_ticket(state, cmd.ticket)
    base: dict[str, Any] = {"ticket": ticket.id, "number": ticket.number, "agency": ticket.agency}
    if cmd.by:
        base["by"] = cmd.by
    expired = ticket.state is TicketState.NO_SHOW and ticket.checked_in_at is None
    match cmd:
        case CheckInRemote():
            if expired:
                raise DomainError("remote_expired", f"Số {ticket.number} đã hết hạn vì không đến kịp; có thể xếp lại "
                                                    f"một lần, ở cuối hàng / number {ticket.number} expired: you may "
                                                    "rejoin once, at the back", 409)
            if ticket.state is not TicketState.AWAY:
                raise DomainError("already_checked_in", f"Số {ticket.number} đã xác nhận có mặt / "
                                                        f"number {ticket.number} is already checked in", 409)
            return [Event("ticket.checked_in", now, {**base, "via": cmd.via, "place_at": ticket.place_at})]
        case MoreTime():
            if ticket.state is not TicketState.AWAY:
                raise DomainError("not_away", f"Số {ticket.number} không còn giữ chỗ từ xa / "
                                              f"number {ticket.number} is not away", 409)
            if ticket.more_time or ticket.turn_passed_at is not None:
                raise DomainError("more_time_used",
                                  "Chỉ được lùi chỗ một lần, trước khi đến lượt / more time is given once, "
                                  "before the turn comes", 409)
            return [Event("ticket.postponed", now, {**base, "place_at": postponed_place(state, ticket, now)})]
        case Rejoin():
            if not expired:
                raise DomainError("not_expired", f"Số {ticket.number} chưa hết hạn / "
                                                 f"number {ticket.number} has not expired", 409)
            if ticket.rejoined:
                raise DomainError("rejoin_used", "Chỉ được xếp lại một lần / a number rejoins once", 409)
            return [Event("ticket.rejoined", now, base)]
    raise TypeError(cmd)
