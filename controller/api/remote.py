"""Numbers taken from a phone over HTTP (README, "Numbers from a phone"): codes, numbers, check-in, more time.

    GET  /sites/{site}/remote                   public: open or not, the days, the limits, the predicted wait per agency
    POST /sites/{site}/remote/code              public: text a one-time code to a phone (202)
    POST /sites/{site}/remote/tickets           public, with the code: a number AWAY (201), or HELD for a later
                                                day's opening; 409 at a limit; Idempotency-Key replays (200)
    GET  /sites/{site}/remote/held/{ref}        public, the held number's ref: what became of it (its ticket)
    POST /sites/{site}/remote/held/{ref}/cancel public, the held number's ref: cancel it before its day opens
    POST /sites/{site}/tickets/{id}/check-in    kiosk (with the ticket's check-in code) or staff: in line now
    POST /sites/{site}/tickets/{id}/more-time   public, with the ticket's check-in code: back a few places, once
    POST /sites/{site}/tickets/{id}/rejoin      public, with the ticket's check-in code: expired, once, at the back

It needs texts (`--sms`): without a way to send the code nobody can prove a phone, so
the endpoints answer 409 `remote_unavailable`. A phone is kept only as a keyed hash of the
day (controller/remote/book.py) and, for the texts, as a contact (controller/notify), never
in the event log. The core decides the rest (controller/core/remote.py).
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import TYPE_CHECKING, Annotated, Any, Literal

from fastapi import APIRouter, Body, Header, Path, Request, Response
from pydantic import Field

from controller.api.away import (
    RemoteDesk,
    check_in,
    check_limits,
    desk_of,
    hold_away_locked,
    own_code,
    remote_ticket,
    today,
    with_code,
)
from controller.api.bodies import Strict
from controller.api.errors import ApiError
from controller.api.ratelimit import RateLimits
from controller.api.routes import refund_tokens, take_tokens
from controller.api.security import require_issuer
from controller.core import commands as cmd
from controller.core.appointments import check_day, day_start, open_days
from controller.core.clock import iso, local_day, local_half_hour
from controller.core.errors import DomainError
from controller.core.remote import remote_cap
from controller.core.requests import REQUEST_KEY, check_replay
from controller.core.site import Procedure
from controller.remote.book import Held
from controller.remote.codes import PhoneLocked
from controller.runtime.controller import Controller
from controller.runtime.site_runtime import SiteRuntime
from devices.errors import DeviceError
from devices.sms.contract import PHONE_PATTERN
from devices.sms.wording import code_text

if TYPE_CHECKING:
    from controller.notify.service import NotifyService

__all__ = ["TRAVEL_CHOICES", "router"]

router = APIRouter(prefix="/api/v1")

TRAVEL_CHOICES = (10, 20, 30, 60)
PHONE = PHONE_PATTERN.pattern  # what every text driver accepts
ID_NUMBER = r"^[0-9]{12}$"
HELD_REF = r"^h-[0-9a-f]{32}$"


class CodeBody(Strict):
    phone: str = Field(pattern=PHONE, description="the phone the code is texted to")


class TakeBody(Strict):
    procedure: str = Field(min_length=1, max_length=80)
    phone: str = Field(pattern=PHONE)
    code: str = Field(pattern=r"^[0-9]{6}$", description="the one-time code texted to the phone")
    travel_min: Literal[10, 20, 30, 60] = Field(description="how long the trip to the centre takes")
    id_number: str | None = Field(default=None, pattern=ID_NUMBER,
                                  description="the holder's 12-digit ID card number, optional: scanning the card at "
                                              "the kiosk then checks the number in (kept as a keyed hash of the day)")
    date: str | None = Field(default=None, pattern=r"^\d{4}-\d{2}-\d{2}$",
                             description="the day the number is for (local YYYY-MM-DD): today, the default, or one "
                                         "of the next remote.days_ahead days the centre opens")


class CheckInBody(Strict):
    code: str | None = Field(default=None, max_length=32,
                             description="the ticket's check-in code (its QR); a kiosk must give it")


class OwnCodeBody(Strict):
    code: str = Field(min_length=1, max_length=32, description="the ticket's check-in code")


def _runtime(request: Request, site: str) -> SiteRuntime:
    controller: Controller = request.app.state.controller
    return controller.runtime(site)


def _unavailable() -> DomainError:
    return DomainError("remote_unavailable", "Trung tâm chưa nhận lấy số qua điện thoại (không gửi được tin nhắn) "
                                             "/ numbers by phone need texts, which this centre does not send", 409)


def _desk(request: Request) -> tuple[RemoteDesk, NotifyService]:
    desk = desk_of(request)
    notifier: NotifyService | None = request.app.state.notifier
    if desk is None or notifier is None:
        raise _unavailable()
    return desk, notifier


def _open(request: Request, runtime: SiteRuntime) -> tuple[RemoteDesk, NotifyService]:
    desk, notifier = _desk(request)
    if runtime.site.remote.share <= 0:
        raise DomainError("remote_disabled", "Trung tâm không cấp số qua điện thoại / "
                                             "this centre gives no numbers by phone", 409)
    return desk, notifier


def _client(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def _charge(request: Request, runtime: SiteRuntime, phone: str | None) -> list[tuple[str, str, int, int]]:
    """Scripted bulk requests: each client address and each phone has its bucket (keyed by a daily HMAC)."""
    limits: RateLimits = request.app.state.rate_limits
    wanted = [("remote_address", _client(request), limits.remote_address_per_minute, limits.remote_address_burst)]
    if phone is not None:
        wanted.append(("remote_phone", phone, limits.remote_phone_per_minute, limits.remote_phone_burst))
    return take_tokens(request, runtime, wanted)


async def _person(desk: RemoteDesk, runtime: SiteRuntime, phone: str, day: str | None = None) -> tuple[str, str]:
    """Today (yesterday's hashes and key go with the day) and the phone as `day`'s keyed hash (default today)."""
    now = await today(desk, runtime)
    return now, await desk.book.person(runtime.site.id, day or now, phone)


def _locked(exc: PhoneLocked) -> ApiError:
    return ApiError(429, exc.code, exc.message, headers={"Retry-After": str(exc.retry_after_s)})


@router.get("/sites/{site}/remote")
async def remote_info(request: Request, site: str) -> dict[str, Any]:
    """Whether numbers may be taken from a phone here, the limits, and the predicted wait of each agency (public)."""
    runtime = _runtime(request, site)
    rules = runtime.site.remote
    reason = None
    try:
        _open(request, runtime)
    except DomainError as exc:
        reason = exc.code
    now = runtime.clock()
    floor = runtime.floor
    forecast = floor.forecast(now)
    state = floor.state
    half_hour = local_half_hour(now, runtime.site.utc_offset_s)
    agencies = []
    for agency in runtime.site.agencies.values():
        at = forecast.new_ticket_call_at.get(agency.id)
        cap = remote_cap(runtime.site, agency.id)
        agencies.append({
            "id": agency.id, "name": agency.name, "name_en": agency.name_en,
            "predicted_wait_s": None if at is None else round(max(0.0, at - now)),
            "waiting": len(state.queues[agency.id]) + len(state.away.get(agency.id, {})),
            "remote_left": max(0, cap - state.remote_taken.get((agency.id, half_hour), 0)),
        })
    the_day = local_day(now, runtime.site.utc_offset_s)
    days = open_days(runtime.site, now, rules.days_ahead)
    if not runtime.check_hours and the_day not in days:
        days.insert(0, the_day)  # --any-hour (the demo): today takes numbers whatever the hour
    return {
        "enabled": reason is None, "reason": reason, "travel_min": list(TRAVEL_CHOICES),
        "today": the_day,
        # a number for a day whose opening is still ahead is held, and joins the line then
        "days": [{"date": day, "opens_at": iso(day_start(runtime.site, day), runtime.site.utc_offset_s),
                  "held": _held_for(runtime, day, now)} for day in days],
        "limits": {"per_person_day": rules.per_person_day, "per_person_agency": rules.per_person_agency,
                   "days_ahead": rules.days_ahead, "code_ttl_s": round(rules.code_ttl_s),
                   "grace_s": round(rules.grace_s)},
        "agencies": agencies,
    }


@router.post("/sites/{site}/remote/code", status_code=202)
async def send_code(request: Request, site: str, body: CodeBody) -> dict[str, Any]:
    """Text a one-time code to a phone: it proves the citizen holds it (202; the code is in the text only)."""
    runtime = _runtime(request, site)
    desk, notifier = _open(request, runtime)
    taken = _charge(request, runtime, body.phone)
    _day, person = await _person(desk, runtime, body.phone)
    rules = runtime.site.remote
    try:
        code = desk.codes.issue(person, rules, runtime.clock())
    except PhoneLocked as exc:
        refund_tokens(request, taken)
        raise _locked(exc) from None
    try:
        await notifier.send_now(body.phone, code_text(runtime.site.name, code, round(rules.code_ttl_s / 60)))
    except (DeviceError, ValueError):
        raise ApiError(503, "sms_failed", "Chưa gửi được tin nhắn; vui lòng thử lại sau ít phút / "
                                          "the text could not be sent: try again in a few minutes",
                       headers={"Retry-After": "60"}) from None
    return {"sent": True, "expires_in_s": round(rules.code_ttl_s)}


@router.post("/sites/{site}/remote/tickets", status_code=201)
async def take_number(
    request: Request,
    response: Response,
    site: str,
    body: TakeBody,
    request_key: Annotated[str | None, Header(alias="Idempotency-Key", pattern=REQUEST_KEY)] = None,
) -> dict[str, Any]:
    """Take a number from a phone with the texted code: for today it holds a place while the citizen travels
    (AWAY); for a later day, or before today's opening, it is held and joins the line at that day's opening."""
    runtime = _runtime(request, site)
    desk, notifier = _open(request, runtime)
    the_site = runtime.site
    rules = the_site.remote
    procedure = the_site.procedures.get(body.procedure)
    if procedure is None:
        raise DomainError("unknown_procedure", f"Không có thủ tục {body.procedure!r} / no procedure "
                                               f"{body.procedure!r} at site {site}", 404)
    now = runtime.clock()
    day = body.date or local_day(now, the_site.utc_offset_s)
    if runtime.check_hours or day != local_day(now, the_site.utc_offset_s):
        check_day(the_site, day, now, rules.days_ahead)
    digest = desk.book.digest(the_site.id, body.model_dump())
    async with desk.locks[the_site.id]:  # one person's two requests cannot both pass the limits
        if request_key is not None:
            made = await desk.book.request(the_site.id, request_key)
            if made is not None:  # a retry: the number it took, never a second one
                check_replay(made[1], digest)
                response.status_code = 200
                response.headers["Idempotent-Replayed"] = "true"
                return await _number_view(runtime, desk, made[0])
        _charge(request, runtime, None)
        the_today, code_person = await _person(desk, runtime, body.phone)  # the code was texted under today's hash
        try:
            desk.codes.check(code_person, body.code, rules, now)
        except PhoneLocked as exc:
            raise _locked(exc) from None
        person = code_person if day == the_today else (await _person(desk, runtime, body.phone, day))[1]
        card = None if body.id_number is None else await desk.book.card(the_site.id, day, body.id_number)
        persons = [person] if card is None else [person, card]
        if _held_for(runtime, day, now):
            return await _hold(runtime, desk, notifier, procedure, body, day, persons, card, request_key, digest)
        if desk.held is not None:
            await desk.held.issue_due(runtime)  # held numbers first: they take the opening's share
        command = cmd.TakeRemote(procedure=procedure.id, travel_s=60.0 * body.travel_min,
                                 check_hours=runtime.check_hours, by="remote")
        ticket_id = await hold_away_locked(desk, runtime, day, persons, card, procedure.agency, command,
                                           (request_key, digest))
    await notifier.register(the_site.id, ticket_id, body.phone)  # "come now" and "called" texts
    return with_code(runtime, desk, ticket_id)


def _held_for(runtime: SiteRuntime, day: str, now: float) -> bool:
    """Whether a number for `day` is held for its opening (a later day, or today before the opening)."""
    if day != local_day(now, runtime.site.utc_offset_s):
        return True
    return runtime.check_hours and now < day_start(runtime.site, day)


async def _hold(runtime: SiteRuntime, desk: RemoteDesk, notifier: NotifyService, procedure: Procedure, body: TakeBody,
                day: str, persons: list[str], card: str | None, request_key: str | None,
                digest: str) -> dict[str, Any]:
    """A number for a later day (or before today's opening): held, counted, its phone kept for that day's texts."""
    site = runtime.site
    if procedure.step_only:
        raise DomainError("not_a_kiosk_procedure", f"{procedure.id} is a journey step, not chosen at the kiosk", 422)
    await check_limits(desk, runtime, day, persons, procedure.agency)
    if await desk.book.held_count(site.id, day, procedure.agency) >= remote_cap(site, procedure.agency):
        shown = dt.date.fromisoformat(day).strftime("%d/%m/%Y")
        raise DomainError("remote_day_full", f"Số lấy trước cho ngày {shown} của cơ quan này đã hết; vui lòng chọn "
                                             f"ngày khác / the numbers taken ahead for {day} are all taken for this "
                                             "agency: choose another day", 409)
    held = Held(site.id, f"h-{uuid.uuid4().hex}", day, procedure.id, procedure.agency, 60.0 * body.travel_min,
                runtime.clock(), "held")
    await notifier.hold(site.id, held.ref, day, body.phone)
    try:
        await desk.book.hold(held, persons[0], card, request_key, digest)
    except BaseException:
        await notifier.release(site.id, held.ref, None)
        raise
    return await _held_view(runtime, desk, held)


async def _number_view(runtime: SiteRuntime, desk: RemoteDesk, ref: str) -> dict[str, Any]:
    """A number a request took, by its ref: a held one, or today's ticket."""
    if ref.startswith("h-"):
        held = await desk.book.held(runtime.site.id, ref)
        if held is not None:
            return await _held_view(runtime, desk, held)
    return with_code(runtime, desk, ref)


async def _held_view(runtime: SiteRuntime, desk: RemoteDesk, held: Held) -> dict[str, Any]:
    """A held number as its holder sees it: the day, its place among that day's held numbers, then its ticket."""
    site = runtime.site
    offset = site.utc_offset_s
    procedure = site.procedures.get(held.procedure)
    agency = site.agencies.get(held.agency)
    ahead = [h.ref for h in await desk.book.held_day(site.id, held.day)
             if h.agency == held.agency and h.status != "cancelled"]
    ticket = None
    if held.ticket is not None and held.ticket in runtime.floor.state.tickets:
        ticket = with_code(runtime, desk, held.ticket)
    return {
        "id": held.ref,
        "site": site.id,
        "date": held.day,
        "state": held.status,
        "reason": held.reason,
        "procedure": held.procedure,
        "procedure_name": procedure.name if procedure else held.procedure,
        "procedure_name_en": procedure.name_en if procedure else held.procedure,
        "papers": list(procedure.papers) if procedure else [],
        "papers_en": list(procedure.papers_en) if procedure else [],
        "agency": held.agency,
        "agency_name": agency.name if agency else held.agency,
        "agency_name_en": agency.name_en if agency else held.agency,
        "travel_s": held.travel_s,
        "taken_at": iso(held.taken_at, offset),
        "joins_at": iso(day_start(site, held.day), offset),
        "position": 1 + ahead.index(held.ref) if held.ref in ahead else None,  # None: cancelled
        "ticket": ticket,
    }


HeldRef = Annotated[str, Path(description="the held number's id (its page's secret)", pattern=HELD_REF)]


async def _find_held(request: Request, site: str, ref: str) -> tuple[SiteRuntime, RemoteDesk, NotifyService, Held]:
    """A held number by its ref, for its holder (a lookup's rate): 404 unknown_held_number for a wrong ref."""
    runtime = _runtime(request, site)
    desk, notifier = _desk(request)
    limits: RateLimits = request.app.state.rate_limits
    take_tokens(request, runtime, [("lookup", _client(request), limits.lookup_per_minute, limits.lookup_burst)])
    held = await desk.book.held(runtime.site.id, ref)
    if held is None:
        raise DomainError("unknown_held_number", "Không tìm thấy số lấy trước này / no such number taken ahead", 404)
    return runtime, desk, notifier, held


async def _due(runtime: SiteRuntime, desk: RemoteDesk, held: Held) -> Held:
    """The held number once today's due numbers are issued: its day may have opened since the last pass.

    The caller holds the site's remote lock."""
    if held.status == "held" and desk.held is not None and held.day == local_day(runtime.clock(),
                                                                                 runtime.site.utc_offset_s):
        await desk.held.issue_due(runtime)
        return await desk.book.held(runtime.site.id, held.ref) or held
    return held


@router.get("/sites/{site}/remote/held/{ref}")
async def held_number(request: Request, site: str, ref: HeldRef) -> dict[str, Any]:
    """A number held for a later day, by its id (public: the id is its holder's proof); once the day has opened, its
    ticket with its check-in code."""
    runtime, desk, _notifier, held = await _find_held(request, site, ref)
    if held.status == "held":
        async with desk.locks[runtime.site.id]:
            held = await _due(runtime, desk, held)
    return await _held_view(runtime, desk, held)


@router.post("/sites/{site}/remote/held/{ref}/cancel")
async def cancel_held_number(request: Request, site: str, ref: HeldRef) -> dict[str, Any]:
    """Cancel a number held for a later day (public: its id is its holder's proof) before it joins the line: it no
    longer counts against the holder's limits, and its phone and keyed hashes go at once. Cancelling twice is
    harmless."""
    runtime, desk, notifier, held = await _find_held(request, site, ref)
    async with desk.locks[runtime.site.id]:  # not while its day's opening turns it into a ticket
        held = await _due(runtime, desk, held)
        if held.status == "issued":
            raise DomainError("held_number_issued", "Số này đã vào hàng lúc mở cửa, không hủy được nữa; nếu không "
                                                    "đến, số sẽ tự hết hạn / this number has joined the line at "
                                                    "the opening and can no longer be cancelled: if you do not "
                                                    "come, it expires by itself", 409)
        if held.status == "refused":
            raise DomainError("held_number_refused", "Số này đã không được cấp vào ngày của nó; không có gì để hủy "
                                                     "/ this number was not issued on its day: there is nothing "
                                                     "to cancel", 409)
        await desk.book.cancel_held(runtime.site.id, held.ref)
        # After the book: a crash in between leaves the phone for a repeated cancel (or the day's end) to delete.
        await notifier.release(runtime.site.id, held.ref, None)
        held = await desk.book.held(runtime.site.id, held.ref) or held
    return await _held_view(runtime, desk, held)


@router.post("/sites/{site}/tickets/{ticket_id}/check-in")
async def check_in_ticket(request: Request, site: str, ticket_id: str,
                          body: Annotated[CheckInBody | None, Body()] = None) -> dict[str, Any]:
    """A number held away arrives: a kiosk (with the ticket's code, scanned or typed) or staff check it in."""
    runtime = _runtime(request, site)
    principal = require_issuer(request, site)
    ticket = remote_ticket(runtime, ticket_id)
    code = body.code if body else None
    if principal.role == "kiosk" or code is not None:
        desk = desk_of(request)
        if desk is None:
            raise _unavailable()  # nothing can be away without the desk
        own_code(desk, runtime, ticket, code)
    return await check_in(runtime, ticket, "kiosk" if principal.role == "kiosk" else "staff", principal.name)


async def _own_action(request: Request, site: str, ticket_id: str, code: str, make: Any) -> dict[str, Any]:
    runtime = _runtime(request, site)
    desk, _notifier = _desk(request)
    limits: RateLimits = request.app.state.rate_limits
    take_tokens(request, runtime, [("lookup", _client(request), limits.lookup_per_minute, limits.lookup_burst)])
    ticket = remote_ticket(runtime, ticket_id)
    own_code(desk, runtime, ticket, code)
    await runtime.execute(make(ticket=ticket.id, by="remote"))
    return with_code(runtime, desk, ticket.id)


@router.post("/sites/{site}/tickets/{ticket_id}/more-time")
async def more_time(request: Request, site: str, ticket_id: str, body: OwnCodeBody) -> dict[str, Any]:
    """"I need more time": the away number moves back a few places, once (its holder, with its code)."""
    return await _own_action(request, site, ticket_id, body.code, cmd.MoreTime)


@router.post("/sites/{site}/tickets/{ticket_id}/rejoin")
async def rejoin(request: Request, site: str, ticket_id: str, body: OwnCodeBody) -> dict[str, Any]:
    """An expired number joins again at the back, once (its holder, with its code)."""
    return await _own_action(request, site, ticket_id, body.code, cmd.Rejoin)
