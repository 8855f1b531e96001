"""Numbers taken from a phone over HTTP (README, "Numbers from a phone"): codes, numbers, check-in, more time.

    GET  /sites/{site}/remote                   public: open or not, the limits, the predicted wait per agency
    POST /sites/{site}/remote/code              public: text a one-time code to a phone (202)
    POST /sites/{site}/remote/tickets           public, with the code: a number AWAY (201), 409 at a limit
    POST /sites/{site}/tickets/{id}/check-in    kiosk (with the ticket's check-in code) or staff: in line now
    POST /sites/{site}/tickets/{id}/more-time   public, with the ticket's check-in code: back a few places, once
    POST /sites/{site}/tickets/{id}/rejoin      public, with the ticket's check-in code: expired, once, at the back

It needs texts (`--sms`): without a way to send the code nobody can prove a phone, so
the endpoints answer 409 `remote_unavailable`. A phone is kept only as a keyed hash of the
day (controller/remote/book.py) and, for the texts, as a contact (controller/notify), never
in the event log. The core decides the rest (controller/core/remote.py).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any, Literal

from fastapi import APIRouter, Body, Request
from pydantic import Field

from controller.api.away import RemoteDesk, check_in, desk_of, hold_away, own_code, remote_ticket, today, with_code
from controller.api.bodies import Strict
from controller.api.errors import ApiError
from controller.api.ratelimit import RateLimits
from controller.api.routes import refund_tokens, take_tokens
from controller.api.security import require_issuer
from controller.core import commands as cmd
from controller.core.clock import local_half_hour
from controller.core.errors import DomainError
from controller.core.remote import remote_cap
from controller.remote.codes import PhoneLocked
from controller.runtime.controller import Controller
from controller.runtime.site_runtime import SiteRuntime
from devices.errors import DeviceError
from devices.sms.wording import code_text

if TYPE_CHECKING:
    from controller.notify.service import NotifyService

__all__ = ["TRAVEL_CHOICES", "router"]

router = APIRouter(prefix="/api/v1")

TRAVEL_CHOICES = (10, 20, 30, 60)
PHONE = r"^\+?[0-9]{8,15}$"
ID_NUMBER = r"^[0-9]{12}$"


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


async def _person(desk: RemoteDesk, runtime: SiteRuntime, phone: str) -> tuple[str, str]:
    day = await today(desk, runtime)  # yesterday's hashes and key go with the day
    return day, await desk.book.person(runtime.site.id, day, phone)


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
    return {
        "enabled": reason is None, "reason": reason, "travel_min": list(TRAVEL_CHOICES),
        "limits": {"per_person_day": rules.per_person_day, "per_person_agency": rules.per_person_agency,
                   "code_ttl_s": round(rules.code_ttl_s), "grace_s": round(rules.grace_s)},
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
async def take_number(request: Request, site: str, body: TakeBody) -> dict[str, Any]:
    """Take a number from a phone with the texted code: it holds a place while the citizen travels (AWAY)."""
    runtime = _runtime(request, site)
    desk, notifier = _open(request, runtime)
    rules = runtime.site.remote
    procedure = runtime.site.procedures.get(body.procedure)
    if procedure is None:
        raise DomainError("unknown_procedure", f"Không có thủ tục {body.procedure!r} / no procedure "
                                               f"{body.procedure!r} at site {site}", 404)
    _charge(request, runtime, None)
    day, person = await _person(desk, runtime, body.phone)
    try:
        desk.codes.check(person, body.code, rules, runtime.clock())
    except PhoneLocked as exc:
        raise _locked(exc) from None
    card = None if body.id_number is None else await desk.book.card(runtime.site.id, day, body.id_number)
    command = cmd.TakeRemote(procedure=procedure.id, travel_s=60.0 * body.travel_min,
                             check_hours=runtime.check_hours, by="remote")
    persons = [person] if card is None else [person, card]
    ticket_id = await hold_away(desk, runtime, day, persons, card, procedure.agency, command)
    await notifier.register(runtime.site.id, ticket_id, body.phone)  # "come now" and "called" texts
    return with_code(runtime, desk, ticket_id)


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
