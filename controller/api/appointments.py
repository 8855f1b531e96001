"""Appointments (hẹn giờ) over HTTP: free slots, booking, look-up, cancel, check-in at the kiosk.

Booking, look-up and cancel are public (the /book page), limited per client
address; check-in issues a ticket, so it takes a kiosk key or a staff token like
POST /tickets. Slot rules and the check-in rule are the core's
(controller/core/appointments.py); the book (controller/store/appointments.py)
holds the bookings and counts places atomically; the site's writer turns a
check-in into a ticket (commands.CheckIn), keyed by the booking's id so a repeat
returns the same ticket, across restarts too.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import secrets
import uuid
from collections import defaultdict
from typing import Annotated, Any

from fastapi import APIRouter, Body, Header, Path, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from controller.accounts import Principal
from controller.api.answers import issued_body, print_status
from controller.api.away import away_desk, desk_of
from controller.api.ratelimit import RateLimits
from controller.api.routes import Taken, refund_tokens, take_tokens
from controller.api.security import require_issuer
from controller.core import commands as cmd
from controller.core.appointments import (
    Booking,
    booking_days,
    choose_slot,
    day_slots,
    idempotency_key,
    new_code,
    normalise_code,
)
from controller.core.clock import iso, local_day
from controller.core.errors import DomainError
from controller.core.requests import REQUEST_KEY
from controller.runtime.controller import Controller
from controller.runtime.site_runtime import SiteRuntime
from controller.store.appointments import AppointmentBook, CodeTaken, SlotFull

__all__ = ["check_in_booking", "router"]

router = APIRouter(prefix="/api/v1")

# A fresh code collides with one in use about once in 10^5 draws at a busy site; a few draws always do.
CODE_DRAWS = 8
# A code as it may be typed (CODE_ALPHABET in any case, spaces or dashes between), for the OpenAPI document:
# normalise_code() checks it and answers 422 invalid_code, which the kiosk words for the citizen.
CODE_PATTERN = r"^[ -]*([2-9A-HJKMNP-Za-hjkmnp-z][ -]*){6}$"
Code = Annotated[str, Path(description="the 6-character appointment code, in any case, spaces or dashes allowed",
                           json_schema_extra={"pattern": CODE_PATTERN})]


class BookBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    procedure: str = Field(min_length=1, max_length=80)
    date: str = Field(pattern=r"^\d{4}-\d{2}-\d{2}$", description="local date YYYY-MM-DD")
    time: str = Field(pattern=r"^\d{2}:\d{2}$", description="slot start HH:MM (local), on the half hour")
    id_number: str | None = Field(default=None, pattern=r"^[0-9]{12}$",
                                  description="the holder's 12-digit ID card number, optional: scanning the card at "
                                              "the kiosk then checks the booking in (kept as a keyed hash until the "
                                              "booking is checked in or cancelled, or its day ends)")


class CheckInBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kiosk: str | None = Field(default=None, max_length=64)


def _runtime(request: Request, site: str) -> SiteRuntime:
    controller: Controller = request.app.state.controller
    return controller.runtime(site)


def _book(request: Request) -> AppointmentBook:
    book: AppointmentBook = request.app.state.appointments
    return book


def _site_lock(request: Request, site: str) -> asyncio.Lock:
    """Cancel and check-in of one site take turns, so a cancelled booking never becomes a ticket."""
    locks: defaultdict[str, asyncio.Lock] | None = getattr(request.app.state, "appointment_locks", None)
    if locks is None:
        locks = request.app.state.appointment_locks = defaultdict(asyncio.Lock)
    return locks[site]


def _client(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def _charge(request: Request, runtime: SiteRuntime, kind: str) -> Taken:
    limits: RateLimits = request.app.state.rate_limits
    if kind == "booking":
        wanted = ("booking", _client(request), limits.booking_per_minute, limits.booking_burst)
    else:
        wanted = ("lookup", _client(request), limits.lookup_per_minute, limits.lookup_burst)
    return take_tokens(request, runtime, [wanted])


async def _find(request: Request, runtime: SiteRuntime, code: str) -> Booking:
    booking = await _book(request).get(runtime.site.id, normalise_code(code))
    if booking is None:
        raise DomainError("unknown_appointment", "Không tìm thấy lịch hẹn với mã này / no appointment with this code",
                          404)
    return booking


def _view(runtime: SiteRuntime, booking: Booking) -> dict[str, Any]:
    """A booking as the citizen sees it, with what became of it today."""
    site = runtime.site
    offset = site.utc_offset_s
    now = runtime.clock()
    procedure = site.procedures.get(booking.procedure)
    agency = site.agencies.get(booking.agency)
    if procedure is None or agency is None:  # the site file changed since the booking was made
        raise DomainError("procedure_withdrawn", "Thủ tục của lịch hẹn này không còn nhận tại trung tâm / "
                                                 "this appointment's procedure is no longer served here", 409)
    day = local_day(booking.slot_at, offset)
    status, ticket = booking.status, None
    if status == "booked":
        state = runtime.floor.state
        if day == state.day and idempotency_key(booking.id) in state.idempotency:
            status, ticket = "checked_in", state.idempotency[idempotency_key(booking.id)]
        elif day < local_day(now, offset):
            status = "expired"
    return {
        "code": booking.code,
        "site": site.id,
        "status": status,
        "procedure": procedure.id,
        "procedure_name": procedure.name,
        "procedure_name_en": procedure.name_en,
        "papers": list(procedure.papers),
        "papers_en": list(procedure.papers_en),
        "agency": agency.id,
        "agency_name": agency.name,
        "agency_name_en": agency.name_en,
        "date": day,
        "time": iso(booking.slot_at, offset)[11:16],
        "slot_at": iso(booking.slot_at, offset),
        "check_in_from": iso(booking.slot_at - site.appointment_early_s, offset),
        "check_in_until": iso(booking.slot_at + site.appointment_grace_s, offset),
        "grace_min": round(site.appointment_grace_s / 60),
        "ticket": ticket,
        "booked_at": iso(booking.booked_at, offset),
        "cancelled_at": None if booking.cancelled_at is None else iso(booking.cancelled_at, offset),
    }


@router.get("/sites/{site}/appointments/days")
async def appointment_days(request: Request, site: str) -> dict[str, Any]:
    """Open days that can still be booked, from today to the booking horizon (public)."""
    runtime = _runtime(request, site)
    the_site = runtime.site
    return {
        "site": the_site.id,
        "days": booking_days(the_site, runtime.clock()) if the_site.appointment_slot_capacity > 0 else [],
        "capacity": the_site.appointment_slot_capacity,
        "grace_min": round(the_site.appointment_grace_s / 60),
        "early_min": round(the_site.appointment_early_s / 60),
        "card_link": desk_of(request) is not None,  # a booking may be tied to the holder's ID card
    }


@router.get("/sites/{site}/appointments/slots")
async def appointment_slots(
    request: Request,
    site: str,
    procedure: Annotated[str, Query(min_length=1, max_length=80)],
    date: Annotated[str, Query(pattern=r"^\d{4}-\d{2}-\d{2}$")],
) -> dict[str, Any]:
    """The half-hour slots of a date not yet started, each with its free places for the procedure (public)."""
    runtime = _runtime(request, site)
    the_site = runtime.site
    now = runtime.clock()
    proc = the_site.procedures.get(procedure)
    if proc is None or proc.step_only:
        raise DomainError("unknown_procedure", f"no bookable procedure {procedure!r} at site {the_site.id}", 404)
    slots = day_slots(the_site, date, now)
    taken = await _book(request).counts(the_site.id, proc.agency, [at for _label, at in slots])
    capacity = the_site.appointment_slot_capacity
    return {
        "site": the_site.id,
        "procedure": proc.id,
        "date": date,
        "capacity": capacity,
        "slots": [{"time": label, "at": iso(at, the_site.utc_offset_s), "free": max(0, capacity - taken[at])}
                  for label, at in slots],
    }


@router.post("/sites/{site}/appointments", status_code=201)
async def book_appointment(
    request: Request,
    response: Response,
    site: str,
    body: BookBody,
    request_key: Annotated[str | None, Header(alias="Idempotency-Key", pattern=REQUEST_KEY)] = None,
) -> dict[str, Any]:
    """Book a slot; 201 with the code to bring. 409 slot_full when the agency's places in it are taken."""
    runtime = _runtime(request, site)
    the_site = runtime.site
    now = runtime.clock()
    procedure, slot_at = choose_slot(the_site, body.procedure, body.date, body.time, now)
    desk = None if body.id_number is None else away_desk(request)  # refused before anything is booked
    taken = _charge(request, runtime, "booking")
    try:
        for _ in range(CODE_DRAWS):
            wanted = Booking(site=the_site.id, code=new_code(secrets.randbelow), id=uuid.uuid4().hex,
                             procedure=procedure.id, agency=procedure.agency, slot_at=slot_at, booked_at=now)
            try:
                made = await _book(request).book(wanted, the_site.appointment_slot_capacity, request_key)
            except CodeTaken:
                continue
            break
        else:
            raise DomainError("no_code_available", "could not draw a free code; try again", 409)
    except SlotFull:
        refund_tokens(request, taken)
        raise DomainError("slot_full", f"Khung giờ {body.time} ngày {body.date} đã hết chỗ; vui lòng chọn giờ khác / "
                                       f"the {body.time} slot on {body.date} is full, choose another", 409) from None
    except Exception:
        refund_tokens(request, taken)
        raise
    if made.id != wanted.id:  # a retried request: the booking it made the first time
        refund_tokens(request, taken)
        response.status_code = 200
        response.headers["Idempotent-Replayed"] = "true"
    if desk is not None and body.id_number is not None:
        await desk.book.link_booking(the_site.id, local_day(made.slot_at, the_site.utc_offset_s), body.id_number,
                                     made.code)
    return _view(runtime, made)


@router.get("/sites/{site}/appointments/{code}")
async def get_appointment(request: Request, site: str, code: Code) -> dict[str, Any]:
    """A booking by its code (public: the code is the citizen's proof)."""
    runtime = _runtime(request, site)
    _charge(request, runtime, "lookup")
    return _view(runtime, await _find(request, runtime, code))


@router.post("/sites/{site}/appointments/{code}/cancel")
async def cancel_appointment(request: Request, site: str, code: Code) -> dict[str, Any]:
    """Cancel a booking (its place is free again); cancelling twice is harmless."""
    runtime = _runtime(request, site)
    _charge(request, runtime, "lookup")
    async with _site_lock(request, runtime.site.id):
        booking = await _find(request, runtime, code)
        view = _view(runtime, booking)
        if view["status"] == "checked_in":
            raise DomainError("already_checked_in", "Lịch hẹn đã được xác nhận tại ki-ốt, không thể hủy / "
                                                    "already checked in, it cannot be cancelled", 409)
        if view["status"] == "expired":
            raise DomainError("appointment_expired", "Lịch hẹn đã qua / this appointment is over", 409)
        cancelled = await _book(request).cancel(runtime.site.id, booking.code, runtime.clock())
        assert cancelled is not None
        desk = desk_of(request)
        if desk is not None:
            await desk.book.unlink_booking(runtime.site.id, booking.code)
        return _view(runtime, cancelled)


def _check_in_message(runtime: SiteRuntime, booking: Booking, outcome: str) -> str:
    site = runtime.site
    offset = site.utc_offset_s
    time = iso(booking.slot_at, offset)[11:16]
    grace = round(site.appointment_grace_s / 60)
    if outcome == "kept":
        return (f"Đã xác nhận lịch hẹn lúc {time}: bạn sẽ được mời trong vòng {grace} phút sau giờ hẹn / "
                f"appointment confirmed for {time}: you will be called within {grace} minutes of it")
    if outcome == "late":
        return (f"Bạn đến muộn quá {grace} phút so với giờ hẹn {time} nên được cấp số thứ tự thường / "
                f"you are more than {grace} minutes late for your {time} appointment: this is a normal number")
    day = local_day(booking.slot_at, offset)
    shown = dt.date.fromisoformat(day).strftime("%d/%m/%Y")
    if day < runtime.floor.state.day:
        return (f"Lịch hẹn ngày {shown} lúc {time} đã qua: bạn được cấp số thứ tự thường / "
                f"your appointment on {day} at {time} is over: this is a normal number")
    return (f"Lịch hẹn của bạn là ngày {shown} lúc {time}, không phải hôm nay: bạn được cấp số thứ tự thường, "
            f"lịch hẹn vẫn giữ nguyên / your appointment is on {day} at {time}, not today: this is a normal "
            f"number, and the appointment stays booked")


@router.post("/sites/{site}/appointments/{code}/check-in", status_code=201)
async def check_in(request: Request, response: Response, site: str, code: Code,
                   body: Annotated[CheckInBody | None, Body()] = None) -> dict[str, Any]:
    """Turn a booking into today's ticket: kept on time, a normal number when late or on another day."""
    runtime = _runtime(request, site)
    principal = require_issuer(request, site)
    kiosk = (body.kiosk if body else None) or (principal.name if principal.role == "kiosk" else None)
    answer, replayed = await check_in_booking(request, runtime, normalise_code(code), principal, kiosk)
    if replayed:
        response.status_code = 200
        response.headers["Idempotent-Replayed"] = "true"
    return answer


async def check_in_booking(request: Request, runtime: SiteRuntime, code: str, principal: Principal,
                           kiosk: str | None) -> tuple[dict[str, Any], bool]:
    """Check a booking in (by its code, or found by the holder's ID card): the answer, and whether it was a repeat."""
    site = runtime.site.id
    async with _site_lock(request, site):
        booking = await _find(request, runtime, code)
        if booking.status == "cancelled":
            raise DomainError("appointment_cancelled", "Lịch hẹn này đã bị hủy; mời lấy số thứ tự thường / "
                                                       "this appointment was cancelled; take a normal number", 409)
        key = idempotency_key(booking.id)
        retry = key in runtime.floor.state.idempotency
        limits: RateLimits = request.app.state.rate_limits
        taken: Taken = [] if retry or principal.role != "kiosk" else take_tokens(
            request, runtime, [("kiosk", f"{site}/{principal.name}", limits.kiosk_per_minute, limits.kiosk_burst)])
        command = cmd.CheckIn(booking=booking.id, procedure=booking.procedure, slot_at=booking.slot_at, kiosk=kiosk,
                              check_hours=runtime.check_hours, by=principal.name)
        try:
            committed = await runtime.execute(command)
        except Exception:
            refund_tokens(request, taken)
            raise
    desk = desk_of(request)
    if desk is not None:
        await desk.book.unlink_booking(site, booking.code)  # checked in: the card link has done its work
    issued = [e for e in committed.events if e.type == "ticket.issued"]
    ticket_id = str(issued[0].data["ticket"]) if issued else runtime.floor.state.idempotency[key]
    ticket = runtime.floor.ticket(ticket_id)
    if ticket.slot_at is not None:
        outcome = "kept"
    elif local_day(booking.slot_at, runtime.site.utc_offset_s) == runtime.floor.state.day:
        outcome = "late"
    else:
        outcome = "other_day"
    return {
        **issued_body(runtime, ticket_id),
        "print": print_status(request, site, ticket_id),
        "check_in": outcome,
        "message": _check_in_message(runtime, booking, outcome),
        "appointment": _view(runtime, booking),
    }, not issued
