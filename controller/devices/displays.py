"""What the counter displays and the hall display show: derived from the floor state. Pure.

Decisions (what LED counter displays do on real floors):

- ticket.called / ticket.recalled: the number, blinking; a recall publishes the same
  state again, and a display blinks on every state it receives with blink true.
- ticket.started: the number, steady (the citizen has arrived).
- finish, no-show, transfer, abandon: the display goes blank. A ticket keeps its
  number for the whole visit (fee counter, result counter), so a number left on a
  counter after its service would send the citizen back to the wrong counter; a
  blank display also tells the hall the counter is free.
- counter paused / closed: blank number with the text "Quầy N tạm dừng" /
  "Quầy N đóng" (displays with a text line show it; 7-segment ones stay blank).

The state of a display is always recomputed from the floor after a commit, so the
router never keeps a second copy of the domain rules.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Final

from controller.core.events import Event
from controller.core.state import SiteState
from controller.core.tickets import CounterStatus
from devices.payloads import DisplayState

__all__ = ["HALL_SIZE", "HallBoard", "HallCall", "affected_counters", "display_for"]

HALL_SIZE: Final = 10

# events whose "counter" field names the counter whose display may change
_COUNTER_EVENTS: Final = frozenset(
    {
        "ticket.called",
        "ticket.recalled",
        "ticket.started",
        "ticket.finished",
        "ticket.no_show",
        "ticket.transferred",
        "counter.changed",
    }
)
_BLINKING: Final = frozenset({"ticket.called", "ticket.recalled"})


def display_for(state: SiteState, counter: int, blink: bool = False) -> DisplayState:
    """The state the display of counter should show now; blink for a (re)call."""
    cs = state.counters[counter]
    if cs.status == CounterStatus.CLOSED:
        return DisplayState(None, counter, text=f"Quầy {counter} đóng / Closed")
    if cs.status == CounterStatus.PAUSED:
        return DisplayState(None, counter, text=f"Quầy {counter} tạm dừng / Paused")
    ticket = state.tickets.get(cs.current) if cs.current is not None else None
    if ticket is None:
        return DisplayState(None, counter)
    return DisplayState(
        ticket.number, counter, blink=blink, text=f"Mời số {ticket.number} đến quầy {counter}"
    )


def affected_counters(events: Iterable[Event], state: SiteState) -> dict[int, bool] | None:
    """Counters whose display may have changed -> whether it should blink; None: all of them.

    Called after the events were applied, so an abandoned ticket is found by the
    counter it had been called to.
    """
    out: dict[int, bool] = {}
    for event in events:
        if event.type == "day.started":
            return None
        if event.type == "ticket.abandoned":
            ticket = state.tickets.get(str(event.data.get("ticket")))
            if ticket is not None and ticket.counter is not None:
                out.setdefault(ticket.counter, False)
            continue
        if event.type not in _COUNTER_EVENTS:
            continue
        counter = event.data.get("counter")
        if isinstance(counter, int) and counter in state.counters:
            out[counter] = out.get(counter, False) or event.type in _BLINKING
    return out


@dataclass(frozen=True, slots=True)
class HallCall:
    """One line of the hall display: a number called to a counter at a time."""

    number: str
    counter: int
    at: float


class HallBoard:
    """The last calls of a site, most recent first, as the hall displays show them."""

    def __init__(self, site: str, size: int = HALL_SIZE) -> None:
        self.site = site
        self.calls: deque[HallCall] = deque(maxlen=size)

    def seed(self, state: SiteState) -> None:
        """Rebuild from the floor (after a restart): the latest call of each ticket."""
        self.calls.clear()
        called = [t for t in state.tickets.values() if t.called_at is not None and t.counter is not None]
        called.sort(key=lambda t: t.called_at or 0.0)
        for ticket in called[-(self.calls.maxlen or HALL_SIZE):]:
            assert ticket.called_at is not None and ticket.counter is not None
            self.calls.appendleft(HallCall(ticket.number, ticket.counter, ticket.called_at))

    def apply(self, events: Iterable[Event]) -> bool:
        """Fold committed events; True when the hall should be published again."""
        changed = False
        for event in events:
            if event.type == "day.started":
                self.calls.clear()
                changed = True
            elif event.type in _BLINKING:
                call = HallCall(str(event.data["number"]), int(event.data["counter"]), event.at)
                # a recall moves the number back to the top rather than listing it twice
                kept = [c for c in self.calls if (c.number, c.counter) != (call.number, call.counter)]
                self.calls.clear()
                self.calls.extend(kept)
                self.calls.appendleft(call)
                changed = True
        return changed

    def payload(self) -> Mapping[str, Any]:
        """The JSON object of motcua/{site}/hall/state."""
        latest = self.calls[0] if self.calls else None
        return {
            "site": self.site,
            "calls": [{"number": c.number, "counter": c.counter, "at": c.at} for c in self.calls],
            "text": "" if latest is None else f"Mời số {latest.number} đến quầy {latest.counter}",
        }
