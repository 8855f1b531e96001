"""Events: the only way state changes. State is a fold of them (controller/core/state.py)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

__all__ = ["EVENT_TYPES", "Event"]

EVENT_TYPES = frozenset(
    {
        "day.started",
        "ticket.issued",
        "ticket.called",
        "ticket.recalled",
        "ticket.no_show",
        "ticket.started",
        "ticket.finished",
        "ticket.transferred",
        "ticket.ready",
        "ticket.abandoned",
        "ticket.checked_in",
        "ticket.postponed",
        "ticket.turn_passed",
        "ticket.expired",
        "ticket.rejoined",
        "counter.changed",
        "rating.recorded",
        "rating.reasons",
        "target.at_risk",
        "target.at_risk_cleared",
        "target.breached",
        "alert.raised",
        "alert.acknowledged",
        "device.changed",
    }
)


@dataclass(frozen=True, slots=True)
class Event:
    """Something that happened at a site, at `at` (epoch seconds), with its data."""

    type: str
    at: float
    data: Mapping[str, Any]

    def __post_init__(self) -> None:
        if self.type not in EVENT_TYPES:
            raise ValueError(f"unknown event type {self.type!r}")

    def to_dict(self) -> dict[str, Any]:
        """The JSON body stored in the log and sent on the live stream (seq added there)."""
        return {"type": self.type, "at": self.at, **self.data}

    @classmethod
    def from_dict(cls, body: Mapping[str, Any]) -> Event:
        """Rebuild an event from its stored body."""
        data = {k: v for k, v in body.items() if k not in ("type", "at", "seq", "v")}  # v: event_schema.py
        return cls(type=str(body["type"]), at=float(body["at"]), data=data)
