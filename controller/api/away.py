"""Places held away from the hall, at the edge: numbers taken from a phone and numbers that return later.

Both are AWAY in the core (controller/core/remote.py, return_later.py). What they share here:

    RemoteDesk     the book (DATA_DIR/remote.db: keyed hashes of the day, the check-in code's key,
                   card links, numbers held for a later day), the phones' one-time codes, a turn per site
    hold_away()    the person's daily limits (a phone, an ID card: each a keyed hash of the day),
                   counted before the number is issued and settled after (check_limits(): the limits
                   alone, for a number held for a later day too)
    with_code()    the ticket with its check-in code and the QR the kiosk's scanner reads
    check_in()     a kiosk or staff member checks one in: by its code, or by the holder's ID card

The desk needs the SQLite store (the book is a file beside the event log); without it nothing
is held away and the endpoints that would need it say so (409 `away_unavailable`).
"""

from __future__ import annotations

import asyncio
import hmac
import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from fastapi import Request

from controller.api.answers import issued_body
from controller.core import commands as cmd
from controller.core.clock import local_day
from controller.core.errors import DomainError
from controller.core.return_later import return_offer as offer_of
from controller.core.tickets import Ticket
from controller.remote.book import RemoteBook
from controller.remote.codes import CodeBook
from controller.remote.later import HeldNumbers
from controller.runtime.site_runtime import SiteRuntime
from devices.printer.ticket import ticket_status_url
from kiosk.qr import qr_svg

__all__ = ["RemoteDesk", "away_desk", "check_in", "check_limits", "desk_of", "hold_away", "own_code", "remote_ticket",
           "return_offer", "today", "with_code"]


@dataclass
class RemoteDesk:
    """What the endpoints of places held away keep between requests: the book, the codes, a turn per site."""

    book: RemoteBook
    codes: CodeBook = field(default_factory=CodeBook)
    locks: defaultdict[str, asyncio.Lock] = field(default_factory=lambda: defaultdict(asyncio.Lock))
    purged: dict[str, str] = field(default_factory=dict)  # site -> the day its book was last purged for
    held: HeldNumbers | None = None  # issues numbers held for a day at its opening (the app starts it with texts)


def desk_of(request: Request) -> RemoteDesk | None:
    """The desk, or None without the SQLite store."""
    desk: RemoteDesk | None = getattr(request.app.state, "remote", None)
    return desk


def away_desk(request: Request) -> RemoteDesk:
    """The desk; 409 `away_unavailable` without it."""
    desk = desk_of(request)
    if desk is None:
        raise DomainError("away_unavailable", "Trung tâm này chưa giữ chỗ khi vắng mặt được (cần kho dữ liệu SQLite) / "
                                              "this centre cannot hold places away (it needs the SQLite store)", 409)
    return desk


async def today(desk: RemoteDesk, runtime: SiteRuntime) -> str:
    """The site's day; the first request of a day erases yesterday's hashes, key and past card links."""
    site = runtime.site
    day = local_day(runtime.clock(), site.utc_offset_s)
    if desk.purged.get(site.id) != day:
        await desk.book.purge([(site.id, day)])
        desk.purged[site.id] = day
    return day


async def check_limits(desk: RemoteDesk, runtime: SiteRuntime, day: str, persons: Sequence[str], agency: str) -> None:
    """The person's daily limits for `day` (each of `persons` counts): 409 at one; the caller holds the site's lock."""
    rules = runtime.site.remote
    taken = await desk.book.agencies_taken(runtime.site.id, day, *persons)
    if len(taken) >= rules.per_person_day:
        raise DomainError("person_daily_limit",
                          f"Mỗi người giữ chỗ khi vắng mặt tối đa {rules.per_person_day} số mỗi ngày (lấy qua "
                          f"điện thoại hoặc hẹn quay lại) / at most {rules.per_person_day} numbers a day held "
                          "away (from a phone or coming back later)", 409)
    if taken.count(agency) >= rules.per_person_agency:
        raise DomainError("person_agency_limit",
                          f"Mỗi người giữ chỗ khi vắng mặt tối đa {rules.per_person_agency} số mỗi ngày cho cơ "
                          f"quan này / at most {rules.per_person_agency} a day held away for this agency", 409)


async def hold_away(desk: RemoteDesk, runtime: SiteRuntime, day: str, persons: Sequence[str], card: str | None,
                    agency: str, command: cmd.IssueTicket | cmd.TakeRemote) -> str:
    """Issue a number held away within the person's daily limits (each of `persons` counts); its ticket id.

    The number is counted before it is issued: a crash in between costs the citizen a place, never the limit.
    Without a person (no phone, no card) nothing is counted.
    """
    async with desk.locks[runtime.site.id]:  # one person's two requests cannot both pass the limits
        return await hold_away_locked(desk, runtime, day, persons, card, agency, command)


async def hold_away_locked(desk: RemoteDesk, runtime: SiteRuntime, day: str, persons: Sequence[str],
                           card: str | None, agency: str, command: cmd.IssueTicket | cmd.TakeRemote,
                           request: tuple[str | None, str | None] = (None, None)) -> str:
    """hold_away() with the site's lock already held; `request` (Idempotency-Key, digest) is kept with the count."""
    site = runtime.site.id
    ref = None
    if persons:
        await check_limits(desk, runtime, day, persons, agency)
        ref = f"r-{uuid.uuid4().hex}"
        await desk.book.reserve(site, day, persons[0], agency, ref, card, *request)
    try:
        committed = await runtime.execute(command)
    except BaseException:
        if ref is not None:
            await desk.book.settle(site, ref, None)
        raise
    ticket_id = str(next(e for e in committed.events if e.type == "ticket.issued").data["ticket"])
    if ref is not None:
        await desk.book.settle(site, ref, ticket_id)
    return ticket_id


def return_offer(runtime: SiteRuntime, agency: str) -> tuple[float | None, float | None]:
    """The wait a number of `agency` taken now would have (the hall's figure), and when it may come back (or None)."""
    return offer_of(runtime.floor, agency, runtime.clock())


def with_code(runtime: SiteRuntime, desk: RemoteDesk, ticket_id: str, base_url: str | None = None) -> dict[str, Any]:
    """The ticket as its holder sees it: with its check-in code and the QR the kiosk's scanner reads.

    With `base_url` (a number that returns later, printed at the kiosk) the QR is the ticket page's
    address ending in "#NUMBER-CODE": a phone opens the page, the kiosk's scanner reads the code.
    """
    body = issued_body(runtime, ticket_id)
    code = desk.book.check_code(runtime.site.id, ticket_id)
    check_in_text = f"{body['number']}-{code}"
    qr_text = check_in_text if base_url is None else (
        f"{ticket_status_url(base_url, runtime.site.id, ticket_id)}#{check_in_text}")
    return {**body, "check_code": code, "check_in": check_in_text, "qr_text": qr_text,
            "qr_svg": qr_svg(qr_text, title=check_in_text)}


def remote_ticket(runtime: SiteRuntime, ticket_id: str) -> Ticket:
    """Today's ticket by id or by number; 404 `unknown_ticket`."""
    state = runtime.floor.state
    if ticket_id not in state.tickets and ticket_id in state.by_number:
        ticket_id = state.by_number[ticket_id]  # the number read off the phone works too
    ticket = state.tickets.get(ticket_id)
    if ticket is None:
        raise DomainError("unknown_ticket", f"Không có số {ticket_id} hôm nay / no ticket {ticket_id!r} today", 404)
    return ticket


def own_code(desk: RemoteDesk, runtime: SiteRuntime, ticket: Ticket, code: str | None) -> None:
    """The ticket's own check-in code, as typed or scanned; 422 `wrong_ticket_code` otherwise."""
    typed = (code or "").strip().upper().rpartition("-")[2]  # "2015-K7QX9M" (the QR) or "K7QX9M"
    if not hmac.compare_digest(typed.encode(), desk.book.check_code(runtime.site.id, ticket.id).encode()):
        raise DomainError("wrong_ticket_code", f"Mã không khớp với số {ticket.number} / this code is not "
                                               f"number {ticket.number}'s", 422)


async def check_in(runtime: SiteRuntime, ticket: Ticket, via: str, by: str) -> dict[str, Any]:
    """Put a number held away in line at its place (the caller has checked the proof: code, card or staff)."""
    await runtime.execute(cmd.CheckInRemote(ticket=ticket.id, via=via, by=by))
    return issued_body(runtime, ticket.id)
