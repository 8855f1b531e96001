"""Which texts are due, read from the floor as it is now. Pure: no I/O, no clock.

Level-triggered on purpose: a text is due while its condition holds and it has not
gone out, so a restarted controller (the contact reloaded from contacts.db) sends
what a killed one had not yet sent, and a burst of events cannot skip a text.

    called   the ticket is CALLED at counter c and no "called" text went out for c. A recall
             (same counter) sends nothing new: the text already names the counter and the hall
             announces the recall; a later step of the visit at another counter gets its own text.
    ahead    1..AHEAD_NOTICE people are ahead of a WAITING ticket that was further back when
             issued (armed), once per ticket; moot once the ticket has been called.
    finished the visit is over (done, no-show, abandoned) or not today's: forget the number.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Final, Literal

from controller.core.floor import Floor
from controller.core.tickets import Ticket, TicketState
from controller.notify.contacts import Contact
from devices.sms.wording import ahead_text, called_text

__all__ = ["AHEAD_NOTICE", "Due", "Plan", "armed_at_issue", "plan"]

AHEAD_NOTICE: Final = 3
_OVER: Final = frozenset({TicketState.DONE, TicketState.NO_SHOW, TicketState.ABANDONED})


@dataclass(frozen=True, slots=True)
class Due:
    """One text to send now."""

    contact: Contact
    kind: Literal["ahead", "called"]
    text: str
    counter: int | None = None


@dataclass(frozen=True, slots=True)
class Plan:
    """What a look at the floor asks for."""

    due: list[Due]
    finished: list[Contact]


def people_ahead(floor: Floor, ticket: Ticket) -> int | None:
    """How many are ahead of a waiting ticket in its line (the core's own ordering)."""
    position = floor.position(ticket)
    return None if position is None else position - 1


def armed_at_issue(floor: Floor, ticket: Ticket) -> bool:
    """Whether a ticket just issued is further back than the notice (a "3 ahead" text will be due)."""
    ahead = people_ahead(floor, ticket)
    return ahead is not None and ahead > AHEAD_NOTICE


def plan(floor: Floor, contacts: Iterable[Contact]) -> Plan:
    """The texts due and the contacts to forget, for one site's contacts."""
    due: list[Due] = []
    finished: list[Contact] = []
    site_name = floor.site.name
    for contact in contacts:
        ticket = floor.state.tickets.get(contact.ticket)
        if ticket is None or ticket.state in _OVER:
            finished.append(contact)
            continue
        if ticket.state == TicketState.CALLED and ticket.counter is not None:
            if ticket.counter not in contact.called:
                due.append(Due(contact, "called", called_text(site_name, ticket.number, ticket.counter),
                               ticket.counter))
            continue
        if contact.armed and not contact.ahead_sent and ticket.state == TicketState.WAITING:
            ahead = people_ahead(floor, ticket)
            if ahead is not None and 1 <= ahead <= AHEAD_NOTICE:
                due.append(Due(contact, "ahead", ahead_text(site_name, ticket.number, ahead)))
    return Plan(due, finished)
