"""Keypad presses -> controller commands, and the rules a press must pass first. Pure.

Presses are admitted by PressGate, per keypad (CONTRACT.md section 4, "Presses"):

    duplicate  its seq is one of the last PRESS_WINDOW seqs of that keypad, seen within
               PRESS_WINDOW_S (a QoS 1 redelivery, a replay of 100 after 101)
    late       its "at" (the device's clock) is more than PRESS_MAX_AGE_S from the
               controller's: queued through an outage, it would act on a floor that
               moved on meanwhile
    burst      the same key (or score) as the keypad's last admitted press, less than
               PRESS_BURST_S after it: a queue flushed at once, or a bouncing key, acts once
    lost       not a drop of this press: the seqs it skips over (at most PRESS_MAX_GAP;
               a larger jump is a restart) are presses that never arrived

and at the writer, against the floor as it is then, `called_too_recently`: a press
never ends (finish, no-show, or "next" finishing first) a ticket called but not
started less than PRESS_MIN_CALL_S ago: its citizen had no time to reach the
counter. (Staff who must end it sooner use the counter app, which is not a queue
that can flush late.)

A staff keypad has one key per action. "next" is the one-button flow staff
expect: whatever ticket the counter has (called or being served) is finished,
then the next one is called. "pause" toggles pause/resume, since a keypad has
a single pause key. "transfer" needs a target a keypad cannot type on its own:
the press may carry {"to": COUNTER} or {"procedure": ID} (MQTT keypads with a
menu); without one the core refuses it as an invalid transfer.
"""

from __future__ import annotations

import json
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Final, Literal

from controller.core.commands import (
    CallNext,
    Command,
    Finish,
    NoShow,
    PauseCounter,
    Rate,
    Recall,
    ResumeCounter,
    Start,
    Transfer,
)
from controller.core.state import SiteState
from controller.core.tickets import CounterStatus, TicketState
from devices.payloads import KeyName

__all__ = [
    "ENDING_KEYS",
    "PRESS_BURST_S",
    "PRESS_MAX_AGE_S",
    "PRESS_MAX_GAP",
    "PRESS_MIN_CALL_S",
    "PRESS_WINDOW",
    "PRESS_WINDOW_S",
    "Admission",
    "PressGate",
    "PressKind",
    "TransferTarget",
    "called_too_recently",
    "commands_for_key",
    "rating_command",
    "transfer_target",
]

PressKind = Literal["keypad", "rating"]
Verdict = Literal["ok", "duplicate", "late", "burst"]

PRESS_WINDOW: Final = 32
PRESS_WINDOW_S: Final = 120.0
PRESS_MAX_AGE_S: Final = 5.0
PRESS_BURST_S: Final = 1.0
PRESS_MAX_GAP: Final = 1000
PRESS_MIN_CALL_S: Final = 10.0
# keys whose press may end the counter's current ticket
ENDING_KEYS: Final[frozenset[str]] = frozenset({"next", "finish", "no_show"})


@dataclass(frozen=True, slots=True)
class Admission:
    """What PressGate made of one press: its verdict, and how many presses before it never came."""

    verdict: Verdict
    lost: int = 0
    age_s: float | None = None  # by its "at", when it has one


@dataclass(slots=True)
class _Keypad:
    recent: deque[tuple[int, float]] = field(default_factory=lambda: deque(maxlen=PRESS_WINDOW))
    highest: int | None = None
    last: tuple[object, float] | None = None  # key (or score) and arrival of the last admitted press


@dataclass(slots=True)
class PressGate:
    """The arrival rules of the module docstring, per keypad (kind and counter); time passed in."""

    keypads: dict[tuple[PressKind, int], _Keypad] = field(default_factory=dict)

    def admit(
        self, kind: PressKind, counter: int, seq: int, key: object, at: float | None, now: float
    ) -> Admission:
        """Judge a press arriving at now (epoch seconds, the controller's clock); remember it."""
        pad = self.keypads.setdefault((kind, counter), _Keypad())
        if any(s == seq and now - seen < PRESS_WINDOW_S for s, seen in pad.recent):
            return Admission("duplicate")
        pad.recent.append((seq, now))
        lost = 0
        if pad.highest is not None and 1 < seq - pad.highest <= PRESS_MAX_GAP:
            lost = seq - pad.highest - 1
        if pad.highest is None or seq > pad.highest or seq < pad.highest - PRESS_MAX_GAP:
            pad.highest = seq  # a jump back past the gap is a restart of the count
        age = None if at is None else now - at
        if age is not None and abs(age) > PRESS_MAX_AGE_S:
            return Admission("late", lost, age)
        if pad.last is not None and pad.last[0] == key and 0 <= now - pad.last[1] < PRESS_BURST_S:
            return Admission("burst", lost, age)
        pad.last = (key, now)
        return Admission("ok", lost, age)


def called_too_recently(
    key: KeyName, counter: int, state: SiteState, now: float, min_call_s: float = PRESS_MIN_CALL_S
) -> float | None:
    """How long ago the ticket this press would end was called, if less than min_call_s; else None.

    Only a ticket called and not started counts: a started one is at the counter.
    """
    if key not in ENDING_KEYS:
        return None
    current = state.counters[counter].current
    ticket = state.tickets.get(current) if current is not None else None
    if ticket is None or ticket.state != TicketState.CALLED or ticket.called_at is None:
        return None
    since = now - ticket.called_at
    return since if since < min_call_s else None


@dataclass(frozen=True, slots=True)
class TransferTarget:
    """Where a keypad's transfer key sends the current ticket."""

    to_counter: int | None = None
    procedure: str | None = None


def transfer_target(payload: bytes) -> TransferTarget:
    """The optional "to" (counter) or "procedure" of an already valid press payload."""
    try:
        obj = json.loads(payload)
    except (ValueError, UnicodeDecodeError):
        return TransferTarget()
    if not isinstance(obj, Mapping):
        return TransferTarget()
    to = obj.get("to")
    procedure = obj.get("procedure")
    return TransferTarget(
        to_counter=to if isinstance(to, int) and not isinstance(to, bool) else None,
        procedure=procedure if isinstance(procedure, str) and procedure else None,
    )


def commands_for_key(
    key: KeyName, counter: int, state: SiteState, by: str, target: TransferTarget | None = None
) -> list[Command]:
    """The commands one key press stands for, in order (DomainError for a bad transfer)."""
    cs = state.counters[counter]
    match key:
        case "next":
            first: list[Command] = [Finish(counter, by=by)] if cs.current is not None else []
            return [*first, CallNext(counter, by=by)]
        case "recall":
            return [Recall(counter, by=by)]
        case "no_show":
            return [NoShow(counter, by=by)]
        case "start":
            return [Start(counter, by=by)]
        case "finish":
            return [Finish(counter, by=by)]
        case "pause":
            if cs.status == CounterStatus.PAUSED:
                return [ResumeCounter(counter, by=by)]
            return [PauseCounter(counter, by=by, reason="keypad")]
        case "transfer":
            target = target or TransferTarget()
            return [Transfer(counter, by=by, procedure=target.procedure, to_counter=target.to_counter)]
    raise ValueError(f"unknown key {key!r}")


def rating_command(counter: int, score: int, by: str) -> Rate:
    """A rating press is a Rate of the ticket last served at the counter."""
    return Rate(counter, by=by, score=score)
