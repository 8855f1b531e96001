"""Keypad presses -> controller commands, and the duplicate filter. Pure.

A staff keypad has one key per action. "next" is the one-button flow staff
expect: whatever ticket the counter has (called or being served) is finished,
then the next one is called. "pause" toggles pause/resume, since a keypad has
a single pause key. "transfer" needs a target a keypad cannot type on its own:
the press may carry {"to": COUNTER} or {"procedure": ID} (MQTT keypads with a
menu); without one the core refuses it as an invalid transfer.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

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
from controller.core.tickets import CounterStatus
from devices.payloads import KeyName

__all__ = ["PressKind", "SeqFilter", "TransferTarget", "commands_for_key", "rating_command", "transfer_target"]

PressKind = Literal["keypad", "rating"]


@dataclass(slots=True)
class SeqFilter:
    """Drops a press whose seq repeats the last one seen from the same keypad.

    The serial bridge's seq wraps at 255 and a keypad restarts its count after a
    reboot, so only an immediate repeat is a duplicate: that is what a QoS 1
    redelivery or a bus retry looks like.
    """

    last: dict[tuple[PressKind, int], int] = field(default_factory=dict)

    def accept(self, kind: PressKind, counter: int, seq: int) -> bool:
        """True for a new press (and remember it), False for a duplicate."""
        key = (kind, counter)
        if self.last.get(key) == seq:
            return False
        self.last[key] = seq
        return True


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
