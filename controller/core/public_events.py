"""What the public live stream may carry of an event: what the hall shows, nothing more.

The hall display and the citizen's ticket page follow a site's events without an
account (CONTRACT.md section 3). They need the numbers called and the counters they
are called to, and a sign that a line moved (its agency) to re-read the waiting
counts. Everything else stays on the authenticated stream: who acted (staff names,
`by`), a citizen's legal priority, the outcome of a dossier, ratings, targets,
alerts, devices. The list names what is shown, not what is hidden, so a field added
to an event later stays private until someone decides it may be public.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from controller.core.events import Event

__all__ = ["PUBLIC_FIELDS", "public_data"]

_AT_A_COUNTER = ("ticket", "number", "agency", "counter")

PUBLIC_FIELDS: Mapping[str, tuple[str, ...]] = {
    "day.started": ("day",),
    "ticket.issued": ("ticket", "number", "agency"),
    "ticket.ready": ("ticket", "number", "agency"),
    "ticket.abandoned": ("ticket", "number", "agency"),
    # a number from a phone: checked in (the hall's waiting count grows), moved back, held aside, expired
    "ticket.checked_in": ("ticket", "number", "agency"),
    "ticket.postponed": ("ticket", "number", "agency"),
    "ticket.turn_passed": ("ticket", "number", "agency"),
    "ticket.expired": ("ticket", "number", "agency"),
    "ticket.rejoined": ("ticket", "number", "agency"),
    "ticket.called": _AT_A_COUNTER,
    "ticket.recalled": _AT_A_COUNTER,
    "ticket.no_show": _AT_A_COUNTER,
    "ticket.started": _AT_A_COUNTER,
    "ticket.finished": _AT_A_COUNTER,
    "ticket.transferred": _AT_A_COUNTER,
    "counter.changed": ("counter", "status"),
}


def public_data(event: Event) -> dict[str, Any] | None:
    """The event's data the public may see; None when the public stream does not show the event at all."""
    fields = PUBLIC_FIELDS.get(event.type)
    if fields is None:
        return None
    return {name: event.data[name] for name in fields if name in event.data}
