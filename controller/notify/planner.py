"""Which texts are due, read from the floor as it is now. Pure: no I/O, no clock.

Level-triggered on purpose: a text is due while its condition holds and it has not
gone out, so a restarted controller (the contact reloaded from contacts.db) sends
what a killed one had not yet sent, and a burst of events cannot skip a text.

    called   the ticket is CALLED at counter c and no "called" text went out for c. A recall
             (same counter) sends nothing new: the text already names the counter and the hall
             announces the recall; a later step of the visit at another counter gets its own text.
    ahead    1..AHEAD_NOTICE people are ahead of a WAITING ticket that was further back when
             issued (armed), once per ticket; moot once the ticket has been called.
    come     a number taken from a phone, AWAY: its predicted call is within the trip the citizen
             said it takes ("come now"), once; and again ("ahead", worded "come now") when 1..AHEAD_NOTICE
             are ahead of its kept place and it has still not checked in.
    finished the visit is over (done, no-show, abandoned) or not today's: forget the number.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Final, Literal

from controller.core.floor import Floor
from controller.core.remote import come_now
from controller.core.tickets import Ticket, TicketState
from controller.notify.contacts import Contact
from devices.sms.wording import Wording, ahead_text, called_text, come_text

__all__ = ["AHEAD_NOTICE", "Due", "Plan", "armed_at_issue", "plan"]

AHEAD_NOTICE: Final = 3
_OVER: Final = frozenset({TicketState.DONE, TicketState.NO_SHOW, TicketState.ABANDONED})


@dataclass(frozen=True, slots=True)
class Due:
    """One text to send now."""

    contact: Contact
    kind: Literal["ahead", "called", "come"]
    wording: Wording
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


def plan(floor: Floor, contacts: Iterable[Contact], now: float | None = None) -> Plan:
    """The texts due and the contacts to forget, for one site's contacts.

    `now` (the site's clock) lets away numbers be told to come; without it only the floor's events count.
    """
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
        if ticket.state == TicketState.AWAY:
            if now is not None:
                _come(floor, contact, ticket, now, due)
            continue
        if contact.armed and not contact.ahead_sent and ticket.state == TicketState.WAITING:
            ahead = people_ahead(floor, ticket)
            if ahead is not None and 1 <= ahead <= AHEAD_NOTICE:
                due.append(Due(contact, "ahead", ahead_text(site_name, ticket.number, ahead)))
    return Plan(due, finished)


def _come(floor: Floor, contact: Contact, ticket: Ticket, now: float, due: list[Due]) -> None:
    """"Come now" for an away number: once its predicted call is within the trip, again at 3 ahead."""
    if contact.come_sent and contact.ahead_sent:
        return
    wait = floor.estimated_wait(ticket, now)
    position = floor.position(ticket)
    ahead = None if position is None else position - 1
    minutes = max(1, round((wait or 0.0) / 60))
    if not contact.come_sent and come_now(wait, ticket.travel_s):
        due.append(Due(contact, "come", come_text(floor.site.name, ticket.number, minutes, None)))
    elif contact.come_sent and contact.armed and ahead is not None and 1 <= ahead <= AHEAD_NOTICE:
        due.append(Due(contact, "ahead", come_text(floor.site.name, ticket.number, minutes, ahead)))
