"""The hall board as data: what the hall display shows, folded from the live stream.

Pure (no pygame, no sockets), so the native renderer's logic is unit-tested
without a screen. Input is the public board (GET /api/v1/sites/{site}/hall) and
the live messages of CONTRACT.md section 3.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = ["BLINK_S", "PAGE_S", "AgencyLine", "Call", "HallBoard"]

BLINK_S = 6.0  # how long the newest call blinks, as on the web page
PAGE_S = 8.0   # a waiting list longer than the screen turns a page this often, as on the web page
CALL_TYPES = ("ticket.called", "ticket.recalled")


@dataclass(frozen=True, slots=True)
class Call:
    """A number called to a counter."""

    ticket: str
    number: str
    counter: int

    def __post_init__(self) -> None:
        if not self.number:
            raise ValueError("a call needs a ticket number")
        if self.counter < 1:
            raise ValueError(f"counter must be >= 1, not {self.counter}")


@dataclass(frozen=True, slots=True)
class AgencyLine:
    """People waiting for one agency."""

    id: str
    name: str
    waiting: int


@dataclass(slots=True)
class HallBoard:
    """The latest calls (newest first), waiting counts and the notice line."""

    name: str
    notice: str
    timezone: str = "Asia/Ho_Chi_Minh"
    seq: int = 0
    rows: int = 8
    calls: list[Call] = field(default_factory=list)
    agencies: list[AgencyLine] = field(default_factory=list)
    newest_at: float | None = None  # monotonic time the newest call arrived, for the blink

    @classmethod
    def from_board(cls, body: Mapping[str, Any], rows: int = 8) -> HallBoard:
        """Build from the public board body."""
        board = cls(name=str(body["name"]), notice=str(body.get("notice", "")),
                    timezone=str(body.get("timezone") or "Asia/Ho_Chi_Minh"), seq=int(body["seq"]), rows=rows)
        board.calls = [Call(str(c["ticket"]), str(c["number"]), int(c["counter"])) for c in body["called"]][:rows]
        board.set_counts(body)
        return board

    def set_counts(self, body: Mapping[str, Any]) -> None:
        """Take the waiting counts of a fresh board read (calls come from the stream)."""
        self.agencies = [
            AgencyLine(str(a["id"]), str(a["name"]), int(a["waiting"]))
            for a in body["agencies"]
            if a.get("role", "service") == "service" or int(a["waiting"]) > 0
        ]

    def apply(self, message: Mapping[str, Any], now: float) -> bool:
        """Fold one live message; True when the calls changed (redraw and blink)."""
        seq = message.get("seq")
        if message.get("type") == "monitor.snapshot" or not isinstance(seq, int):
            return False
        if seq <= self.seq:
            return False  # replayed after a reconnect: already on the board
        self.seq = seq
        if message.get("type") not in CALL_TYPES:
            return False
        call = Call(str(message["ticket"]), str(message["number"]), int(message["counter"]))
        self.calls = [call, *(c for c in self.calls if c.ticket != call.ticket)][: self.rows]
        self.newest_at = now
        return True

    def agency_page(self, capacity: int, now: float) -> tuple[list[AgencyLine], int, int]:
        """The agencies shown now when `capacity` fit: (lines, page from 1, pages); a page turns every PAGE_S."""
        size = max(1, capacity)
        pages = max(1, -(-len(self.agencies) // size))
        page = int(now // PAGE_S) % pages
        return self.agencies[page * size:(page + 1) * size], page + 1, pages

    def blinking(self, now: float) -> bool:
        """Whether the newest call is still in its blink window."""
        return self.newest_at is not None and now - self.newest_at < BLINK_S

    def blink_phase(self, now: float) -> bool:
        """True in the inverted half of each blink second."""
        return self.blinking(now) and (now - (self.newest_at or now)) % 1.0 >= 0.5
