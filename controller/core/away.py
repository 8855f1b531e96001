"""Numbers that held a place away from the hall, and their two waits. Pure.

A number taken from a phone (channel "remote") or one that returns later (issued with
`return_at`) holds its place while the citizen is elsewhere; no counter calls it until
it checks in. Its wait is reported two ways (README, "Numbers from a phone"):

- in the hall: from check-in to its first call, what the hall sees, and what the
  province's targets count (the ticket's wait clock starts at check-in);
- since taking the number: from the moment its place was kept (the number taken; a
  number held for a later day, that day's opening) to its first call, what the citizen
  lived, at home or on the way included. For reference: no target counts it.

A number that never checked in (expired, or left) has no hall wait: it is counted apart.
The same figures come from the event log (reports) and from the floor (the monitor).
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from controller.core.reports import percentile
from controller.core.state import SiteState
from controller.core.tickets import Ticket

__all__ = ["AWAY_KINDS", "AwayGroup", "away_from_events", "away_from_state", "away_kind", "away_note", "away_rows"]

# kind -> (name, name_en)
AWAY_KINDS: Final[Mapping[str, tuple[str, str]]] = {
    "remote": ("Số lấy qua điện thoại", "Numbers taken from a phone"),
    "return_later": ("Số hẹn quay lại", "Numbers that return later"),
}


def away_note(target_min: float) -> dict[str, str]:
    """What each wait counts, in words for the screens and the files (vi, en)."""
    target = f"{target_min:g}"
    return {
        "vi": f"Mục tiêu {target} phút tính thời gian chờ trong sảnh: từ lúc xác nhận có mặt (quét mã ở ki-ốt) "
              "đến khi được gọi. Thời gian từ lúc lấy số (giữ chỗ) đến khi được gọi là thời gian công dân thực "
              "sự chờ, kể cả ở nhà hay trên đường; chỉ để tham khảo, không tính vào mục tiêu.",
        "en": f"The {target}-minute target counts the wait in the hall: from check-in (the code scanned at the "
              "kiosk) to the call. The wait from taking the number (the place kept) to the call is what the "
              "citizen lived, at home or on the way included; it is for reference and no target counts it.",
    }


def away_kind(data: Mapping[str, Any]) -> str | None:
    """The kind of a `ticket.issued` body that held a place away (None: a number taken in the hall)."""
    if data.get("channel") == "remote":
        return "remote"
    if data.get("return_at") is not None:
        return "return_later"
    return None


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


@dataclass
class AwayGroup:
    """The numbers of one kind: how many, what became of them, and their two waits at the first call."""

    kind: str
    numbers: int = 0
    checked_in: int = 0
    expired: int = 0
    hall: list[float] = field(default_factory=list)   # check-in to first call
    lived: list[float] = field(default_factory=list)  # place kept to first call

    def summary(self, target_s: float) -> dict[str, Any]:
        """The group's row (times in seconds, shares 0..1)."""
        name, name_en = AWAY_KINDS[self.kind]
        within = sum(1 for w in self.hall if w <= target_s)
        return {
            "key": self.kind, "name": name, "name_en": name_en,
            "numbers": self.numbers, "checked_in": self.checked_in, "expired": self.expired,
            "called": len(self.hall),
            "hall_wait_mean_s": _round(statistics.fmean(self.hall)) if self.hall else None,
            "hall_wait_p50_s": _round(percentile(self.hall, 0.5)),
            "hall_wait_p90_s": _round(percentile(self.hall, 0.9)),
            "hall_within_target": round(within / len(self.hall), 4) if self.hall else None,
            "lived_wait_mean_s": _round(statistics.fmean(self.lived)) if self.lived else None,
            "lived_wait_p50_s": _round(percentile(self.lived, 0.5)),
            "lived_wait_p90_s": _round(percentile(self.lived, 0.9)),
        }


def _groups() -> dict[str, AwayGroup]:
    return {kind: AwayGroup(kind) for kind in AWAY_KINDS}


def away_from_events(events: Iterable[Mapping[str, Any]]) -> dict[str, AwayGroup]:
    """The groups of event bodies in commit order (bodies carry `type`, `at` and the event's data)."""
    groups = _groups()
    kind_of: dict[str, str] = {}
    kept: dict[str, float] = {}       # ticket -> when its place was kept
    checked: dict[str, float] = {}    # ticket -> checked in at
    expired: set[str] = set()
    for body in events:
        kind = body.get("type")
        ticket = str(body.get("ticket"))
        if kind == "day.started":
            kind_of.clear()  # ticket ids are per day; a number never spans days
            kept.clear()
            checked.clear()
            expired.clear()
        elif kind == "ticket.issued":
            away = away_kind(body)
            if away is not None:
                kind_of[ticket] = away
                kept[ticket] = min(float(body["at"]), float(body.get("place_at", body["at"])))
                groups[away].numbers += 1
        elif ticket not in kind_of:
            continue
        elif kind == "ticket.checked_in":
            checked[ticket] = float(body["at"])
            groups[kind_of[ticket]].checked_in += 1
        elif kind == "ticket.expired" and ticket not in expired:
            expired.add(ticket)  # a rejoined number that expires again is one number
            groups[kind_of[ticket]].expired += 1
        elif kind == "ticket.called" and ticket in checked:
            group = groups[kind_of.pop(ticket)]  # the first call only
            group.hall.append(float(body["at"]) - checked[ticket])
            group.lived.append(float(body["at"]) - kept[ticket])
    return groups


def _first_call(state: SiteState, ticket: Ticket) -> float | None:
    return next((at for kind, at, _counter in state.history.get(ticket.id, ()) if kind == "ticket.called"), None)


def away_from_state(state: SiteState) -> dict[str, AwayGroup]:
    """The groups of today's floor."""
    groups = _groups()
    for ticket in state.tickets.values():
        if ticket.place_at is None:
            continue
        kind = "remote" if ticket.channel == "remote" else "return_later"
        group = groups[kind]
        group.numbers += 1
        expired = any(k == "ticket.expired" for k, _at, _c in state.history.get(ticket.id, ()))
        group.expired += expired
        if ticket.checked_in_at is None:
            continue
        group.checked_in += 1
        called = _first_call(state, ticket)
        if called is not None:
            group.hall.append(called - ticket.checked_in_at)
            group.lived.append(called - min(ticket.issued_at, ticket.place_at))
    return groups


def away_rows(groups: Mapping[str, AwayGroup], target_s: float) -> list[dict[str, Any]]:
    """The rows of the groups that had any number (what reports and the monitor show)."""
    return [group.summary(target_s) for group in groups.values() if group.numbers]
