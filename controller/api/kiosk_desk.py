"""What the kiosk asks beyond issuing a ticket: the offer to come back later, and what its scanner read.

    GET  /sites/{site}/return-later?procedure=P   public: whether a number taken now may leave and come
                                                  back, and when (controller/core/return_later.py)
    POST /sites/{site}/scan {"text"}              kiosk key or staff: what the 2D scanner typed
                                                  (controller/core/scan.py), and what it means:
         a number held away      checked in by its code, as POST /tickets/{id}/check-in
         the chip ID card        the greeting, the elderly priority offered, the person's limits, and
                                 today's numbers held away and bookings tied to the card checked in
         an intake receipt       the dossier code read (the kiosk then issues the result ticket with it)

Nothing of the card is kept: its number becomes a keyed hash of the day (controller/remote/book.py)
and the name goes back to the kiosk's screen only.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from pydantic import Field

from controller.accounts import Principal
from controller.api.appointments import check_in_booking
from controller.api.away import check_in, desk_of, own_code, remote_ticket, return_offer, today
from controller.api.bodies import Strict
from controller.api.ratelimit import RateLimits
from controller.api.routes import take_tokens
from controller.api.security import require_issuer
from controller.core.clock import iso, local_day
from controller.core.errors import DomainError
from controller.core.id_card import IdCard
from controller.core.receipt import Receipt
from controller.core.scan import MAX_SCAN, TicketCode, read_scan
from controller.core.tickets import TicketState
from controller.runtime.controller import Controller
from controller.runtime.site_runtime import SiteRuntime

__all__ = ["router"]

router = APIRouter(prefix="/api/v1")


class ScanBody(Strict):
    text: str = Field(min_length=1, max_length=MAX_SCAN, description="what the kiosk's 2D scanner typed, as typed")


def _runtime(request: Request, site: str) -> SiteRuntime:
    controller: Controller = request.app.state.controller
    return controller.runtime(site)


@router.get("/sites/{site}/return-later")
async def return_later(request: Request, site: str,
                       procedure: Annotated[str, Query(min_length=1, max_length=80)]) -> dict[str, Any]:
    """Whether a number for `procedure` taken now may come back later, and when (public, as the hall's wait)."""
    runtime = _runtime(request, site)
    the_site = runtime.site
    chosen = the_site.procedures.get(procedure)
    if chosen is None or chosen.step_only:
        raise DomainError("unknown_procedure", f"Không có thủ tục {procedure!r} / no procedure {procedure!r} at "
                                               f"site {the_site.id}", 404)
    wait, at = return_offer(runtime, chosen.agency)
    offset = the_site.utc_offset_s
    reason = None
    if desk_of(request) is None:
        reason, at = "away_unavailable", None
    elif wait is None:
        reason = "no_prediction"
    elif at is None:
        reason = "not_over_target" if wait <= the_site.targets.transaction_wait_s else "closing"
    return {
        "procedure": chosen.id,
        "offered": at is not None,
        "reason": reason,
        "predicted_wait_s": None if wait is None else round(wait),
        "target_s": round(the_site.targets.transaction_wait_s),
        "grace_s": round(the_site.remote.grace_s),  # how long its turn is held if it is not back in time
        "return_at": None if at is None else iso(at, offset),
        "return_time": None if at is None else iso(at, offset)[11:16],
    }


@router.post("/sites/{site}/scan")
async def scan(request: Request, site: str, body: ScanBody) -> dict[str, Any]:
    """What the kiosk's scanner read, and what it means (module docstring); 422 for a code it cannot read."""
    runtime = _runtime(request, site)
    principal = require_issuer(request, site)
    if principal.role == "kiosk":
        limits: RateLimits = request.app.state.rate_limits
        take_tokens(request, runtime, [("kiosk", f"{runtime.site.id}/{principal.name}", limits.kiosk_per_minute,
                                        limits.kiosk_burst)])
    now = runtime.clock()
    read = read_scan(body.text, dt.date.fromisoformat(local_day(now, runtime.site.utc_offset_s)))
    if isinstance(read, TicketCode):
        return {"kind": "ticket", "ticket": await _ticket(request, runtime, read, principal)}
    if isinstance(read, IdCard):
        return {"kind": "card", **await _card(request, runtime, read, principal)}
    return {"kind": "receipt", **_receipt(runtime, read, now)}


async def _ticket(request: Request, runtime: SiteRuntime, code: TicketCode, principal: Principal) -> dict[str, Any]:
    desk = desk_of(request)
    ticket = remote_ticket(runtime, code.number)
    if desk is None:  # nothing is held away without the book: no code can be this ticket's
        raise DomainError("wrong_ticket_code", f"Mã không khớp với số {ticket.number} / this code is not number "
                                               f"{ticket.number}'s", 422)
    own_code(desk, runtime, ticket, code.text)
    return await check_in(runtime, ticket, "kiosk" if principal.role == "kiosk" else "staff", principal.name)


async def _card(request: Request, runtime: SiteRuntime, card: IdCard, principal: Principal) -> dict[str, Any]:
    """Greet, offer the elderly priority, and check in what the card holder holds today (each refusal said)."""
    the_site = runtime.site
    age = card.age_on(dt.date.fromisoformat(local_day(runtime.clock(), the_site.utc_offset_s)))
    checked: list[dict[str, Any]] = []
    refused: list[dict[str, Any]] = []
    limits = None
    desk = desk_of(request)
    if desk is not None:
        day = await today(desk, runtime)
        card_hash = await desk.book.card(the_site.id, day, card.number)
        for ticket_id in await desk.book.away_tickets(the_site.id, day, card_hash):
            ticket = runtime.floor.state.tickets.get(ticket_id)
            if ticket is None or ticket.checked_in_at is not None or ticket.state is TicketState.ABANDONED:
                continue  # already in the hall, or given up: nothing to say (an expired one is refused, and said)
            try:
                checked.append({**await check_in(runtime, ticket, "card", principal.name), "via": "away"})
            except DomainError as exc:
                refused.append({"code": exc.code, "message": exc.message, "number": ticket.number})
        kiosk = principal.name if principal.role == "kiosk" else None
        for code in await desk.book.linked_bookings(the_site.id, day, card.number):
            try:
                answer, _replayed = await check_in_booking(request, runtime, code, principal, kiosk)
                checked.append({**answer, "via": "appointment"})
            except DomainError as exc:
                refused.append({"code": exc.code, "message": exc.message, "number": None})
        taken = await desk.book.agencies_taken(the_site.id, day, card_hash)
        rules = the_site.remote
        limits = {"per_person_day": rules.per_person_day, "per_person_agency": rules.per_person_agency,
                  "left_today": max(0, rules.per_person_day - len(taken))}
    return {"name": card.name, "elderly": age >= the_site.elderly_priority_age,
            "elderly_age": the_site.elderly_priority_age, "limits": limits, "checked_in": checked, "refused": refused}


def _receipt(runtime: SiteRuntime, receipt: Receipt, now: float) -> dict[str, Any]:
    the_site = runtime.site
    procedure = the_site.result_return_procedure
    if procedure is None:
        raise DomainError("no_result_return", "Trung tâm chưa cấp số nhận kết quả qua giấy hẹn; mời chọn thủ tục trên "
                                              "màn hình hoặc hỏi quầy hướng dẫn / this centre gives no result tickets "
                                              "from a receipt: choose on the screen or ask at the help desk", 409)
    day = dt.date.fromisoformat(local_day(now, the_site.utc_offset_s))
    return {"procedure": procedure, "dossier": receipt.dossier, "procedure_code": receipt.procedure_code,
            "return_date": None if receipt.return_date is None else receipt.return_date.isoformat(),
            "early": receipt.early_on(day)}
