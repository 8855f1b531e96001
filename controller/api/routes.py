"""HTTP endpoints of CONTRACT.md section 2 (prefix /api/v1)."""

from __future__ import annotations

import datetime as dt
import math
from typing import TYPE_CHECKING, Annotated, Any, Literal

from fastapi import APIRouter, Body, Header, Request, Response
from pydantic import ConfigDict, Field

from controller.accounts import Principal
from controller.api.answers import issued_body, print_status
from controller.api.away import RemoteDesk, away_desk, desk_of, hold_away, return_offer, with_code
from controller.api.away import today as away_today
from controller.api.bodies import Strict
from controller.api.errors import ApiError
from controller.api.lockouts import checked_login
from controller.api.ratelimit import RateLimiter, RateLimits
from controller.api.security import (
    MONITOR_READERS,
    authenticate,
    require_counter_actor,
    require_issuer,
    require_role,
)
from controller.core import commands as cmd
from controller.core.clock import iso, local_day
from controller.core.errors import DomainError
from controller.core.id_card import read_id_card
from controller.core.receipt import read_receipt
from controller.core.requests import idempotency_conflict
from controller.core.scan import MAX_SCAN
from controller.core.views import catalogue, counter_view
from controller.runtime.controller import Controller
from controller.runtime.site_runtime import SiteRuntime
from devices.sms.contract import PHONE_PATTERN

if TYPE_CHECKING:
    from controller.notify.service import NotifyService

__all__ = ["Taken", "refund_tokens", "router", "take_tokens"]

router = APIRouter(prefix="/api/v1")

Priority = Literal["elderly", "pregnant", "disabled", "child", "merit"]


class LoginBody(Strict):
    user: str = Field(min_length=1, max_length=64)
    secret: str = Field(min_length=1, max_length=256)


class IssueBody(Strict):
    # a phone number only with the citizen's consent (else 422 phone_consent_required), said in the schema too
    model_config = ConfigDict(json_schema_extra={
        "if": {"required": ["phone"], "properties": {"phone": {"type": "string"}}},
        "then": {"required": ["phone_consent"], "properties": {"phone_consent": {"const": True}}},
    })
    procedure: str = Field(min_length=1, max_length=80)
    priority: Priority | None = None
    channel: Literal["kiosk", "appointment", "online", "staff"] = "kiosk"
    kiosk: str | None = Field(default=None, max_length=64)
    phone: str | None = Field(default=None, pattern=PHONE_PATTERN.pattern)
    phone_consent: bool = False
    return_later: bool = Field(default=False, description="leave and come back at the answer's return_at: the "
                                                          "number keeps its place away until checked in (offered by "
                                                          "GET /return-later when the predicted wait is over the "
                                                          "target; else 409 return_later_not_offered)")
    card: str | None = Field(default=None, min_length=1, max_length=MAX_SCAN,
                             description="the chip ID card's QR as the kiosk's scanner read it: the facts derived "
                                         "(elderly) go to the event log, the number counts a returning-later number "
                                         "in the person's daily limits as a keyed hash of the day; nothing else kept")
    receipt: str | None = Field(default=None, min_length=1, max_length=MAX_SCAN,
                                description="an intake receipt's QR: a number to collect that result (the site's "
                                            "result_return_procedure), carrying the dossier code to the counter")


class OpenBody(Strict):
    staff: str | None = Field(default=None, max_length=64)
    # Open for some of the agencies the counter is trained for (a planned standby shift, a manager's
    # choice); absent or empty: for all of them.
    serves: list[Annotated[str, Field(min_length=1, max_length=64)]] = Field(default_factory=list, max_length=64)


class PauseBody(Strict):
    reason: str = Field(default="", max_length=200)


class FinishBody(Strict):
    outcome: Literal["done", "incomplete", "rejected"] = "done"


class TransferToProcedure(Strict):
    procedure: str = Field(min_length=1, max_length=80)


class TransferToCounter(Strict):
    counter: int = Field(ge=1, le=999)


class RatingBody(Strict):
    counter: int = Field(ge=1, le=999)
    score: int = Field(ge=1, le=5)


def _controller(request: Request) -> Controller:
    controller: Controller = request.app.state.controller
    return controller


def _runtime(request: Request, site: str) -> SiteRuntime:
    return _controller(request).runtime(site)


@router.post("/auth/login")
async def login(request: Request, body: LoginBody) -> dict[str, Any]:
    """Exchange a user name and secret (password or PIN) for a bearer token."""
    result = await checked_login(request, body.user, body.secret)  # 429 while guesses wait (lockouts.py)
    if result is None:
        raise ApiError(401, "invalid_credentials", "wrong user name or secret")
    token, principal = result
    return {
        "token": token,
        "role": principal.role,
        "site": principal.site,
        "counter": principal.counter,
        "expires_at": iso(principal.expires_at or 0.0),
    }


@router.post("/auth/logout", status_code=204)
async def logout(request: Request) -> Response:
    """Revoke the token used for this request."""
    # Only a bearer token can be logged out; machine keys are revoked by an admin.
    if "authorization" not in request.headers or authenticate(request) is None:
        raise ApiError(401, "unauthenticated", "send the bearer token to revoke")
    token = request.headers["authorization"].partition(" ")[2].strip()
    request.app.state.accounts.revoke(token)
    return Response(status_code=204)


@router.get("/sites")
async def sites(request: Request) -> list[dict[str, Any]]:
    """The sites this process serves."""
    return [{"id": s.id, "name": s.name, "level": s.level} for s in _controller(request).sites.values()]


@router.get("/sites/{site}/catalogue")
async def get_catalogue(request: Request, site: str) -> dict[str, Any]:
    """Agencies, procedures and counters (public)."""
    return catalogue(_runtime(request, site).site)


@router.post("/sites/{site}/tickets", status_code=201)
async def issue_ticket(
    request: Request,
    response: Response,
    site: str,
    body: IssueBody,
    idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key",  # commands.IssueTicket checks it
                                                  json_schema_extra={"minLength": 1, "maxLength": 128})] = None,
) -> dict[str, Any]:
    """Issue a ticket; a retry with the same Idempotency-Key returns the same ticket."""
    runtime = _runtime(request, site)
    principal = require_issuer(request, site)
    if body.phone and not body.phone_consent:
        raise ApiError(
            422,
            "phone_consent_required",
            "Cần đồng ý nhận tin nhắn trước khi nhập số điện thoại / consent is needed to use a phone number",
        )
    kiosk = body.kiosk or (principal.name if principal.role == "kiosk" else None)
    retry = idempotency_key is not None and idempotency_key in runtime.floor.state.idempotency
    today = dt.date.fromisoformat(local_day(runtime.clock(), runtime.site.utc_offset_s))
    card = None if body.card is None else read_id_card(body.card, today)
    receipt = None if body.receipt is None else read_receipt(body.receipt)
    desk, return_at = _returning(request, runtime, body) if body.return_later and not retry else (None, None)
    taken = [] if retry else _take_tokens(request, runtime, principal.name if principal.role == "kiosk" else None,
                                          body.phone)
    command = cmd.IssueTicket(
        procedure=body.procedure,
        priority=body.priority,
        channel=body.channel if principal.role == "kiosk" or body.channel != "kiosk" else "staff",
        kiosk=kiosk,
        idempotency_key=idempotency_key,
        check_hours=runtime.check_hours,
        by=principal.name,
        return_at=return_at,
        card=card,
        receipt=receipt,
    )
    try:
        if desk is not None:  # held away: within the person's daily limits (by card, by phone)
            day = await away_today(desk, runtime)
            card_hash = None if card is None else await desk.book.card(runtime.site.id, day, card.number)
            phone_hash = None if not body.phone else await desk.book.person(runtime.site.id, day, body.phone)
            persons = [p for p in (card_hash, phone_hash) if p is not None]
            agency = runtime.site.procedures[body.procedure].agency
            ticket_id = await hold_away(desk, runtime, day, persons, card_hash, agency, command)
        else:
            committed = await runtime.execute(command)
            issued = [e for e in committed.events if e.type == "ticket.issued"]
            ticket_id = str(issued[0].data["ticket"]) if issued else ""
    except Exception:
        refund_tokens(request, taken)
        raise
    if not ticket_id:
        assert idempotency_key is not None
        ticket_id = runtime.floor.state.idempotency[idempotency_key]
        if runtime.floor.ticket(ticket_id).intake_procedure != body.procedure:
            raise idempotency_conflict()
        response.headers["Idempotent-Replayed"] = "true"
    ticket = runtime.floor.ticket(ticket_id)
    held = desk_of(request) if ticket.return_at is not None else None
    shown = issued_body(runtime, ticket_id) if held is None else with_code(runtime, held, ticket_id,
                                                                            request.app.state.settings.base_url)
    # the dossier to the kiosk that issued it (GET /tickets/{id} is public: it never says it)
    answer = {**shown, "dossier": ticket.dossier, "print": print_status(request, site, ticket_id)}
    # with no await since the commit: the place the notifier reads is the place at issue
    answer["sms"] = await _keep_phone(request, site, ticket_id, body.phone)
    return answer


def _returning(request: Request, runtime: SiteRuntime, body: IssueBody) -> tuple[RemoteDesk, float]:
    """The desk and the time to come back of a number that returns later; 409 when it is not offered now."""
    desk = away_desk(request)
    procedure = runtime.site.procedures.get(body.procedure)
    if procedure is None:
        raise DomainError("unknown_procedure", f"no procedure {body.procedure!r} at site {runtime.site.id}", 404)
    wait, at = return_offer(runtime, procedure.agency)
    if at is None:
        minutes = "?" if wait is None else str(round(wait / 60))
        raise DomainError("return_later_not_offered",
                          f"Thời gian chờ dự kiến lúc này là {minutes} phút: mời lấy số và chờ tại sảnh / the "
                          f"predicted wait is {minutes} min now: take a number and wait in the hall", 409)
    return desk, at


async def _keep_phone(request: Request, site: str, ticket_id: str, phone: str | None) -> bool:
    """Keep the number for the ticket's texts when a notifier runs (durably, before answering)."""
    notifier: NotifyService | None = request.app.state.notifier
    if notifier is None or not phone:
        return False  # nobody would text it: the number is not kept at all
    await notifier.register(site, ticket_id, phone)
    return True


Taken = list[tuple[str, str, int, int]]  # (kind, key, burst, the site's UTC offset)

_LIMITED = {
    "kiosk": "Quá nhiều lượt lấy số từ ki-ốt này / this kiosk; vui lòng thử lại sau {s} giây "
             "/ too many tickets, try again in {s} s",
    "phone": "Quá nhiều lượt lấy số từ số điện thoại này / this phone number; vui lòng thử lại sau {s} giây "
             "/ too many tickets, try again in {s} s",
    "booking": "Quá nhiều lượt đặt lịch hẹn từ thiết bị này; vui lòng thử lại sau {s} giây "
               "/ too many bookings from this device, try again in {s} s",
    "lookup": "Quá nhiều lượt tra cứu mã hẹn từ thiết bị này; vui lòng thử lại sau {s} giây "
              "/ too many code look-ups from this device, try again in {s} s",
    "feedback": "Quá nhiều phản ánh từ thiết bị này; vui lòng thử lại sau {s} giây "
                "/ too much feedback from this device, try again in {s} s",
    "feedback_kiosk": "Quá nhiều phản ánh từ ki-ốt này; vui lòng thử lại sau {s} giây "
                      "/ too much feedback from this kiosk, try again in {s} s",
    "remote_address": "Quá nhiều lượt lấy số qua điện thoại từ thiết bị này; vui lòng thử lại sau {s} giây "
                      "/ too many requests for numbers from this device, try again in {s} s",
    "remote_phone": "Đã gửi mã cho số điện thoại này nhiều lần; vui lòng thử lại sau {s} giây "
                    "/ too many codes sent to this phone, try again in {s} s",
}


def take_tokens(request: Request, runtime: SiteRuntime, wanted: list[tuple[str, str, float, int]]) -> Taken:
    """Charge each (kind, key, per_minute, burst) bucket; 429 (nothing charged) when one is empty.

    Personal buckets (phones, client addresses) roll their key over at the site's midnight.
    """
    limiter: RateLimiter = request.app.state.rate_limiter
    offset = runtime.site.utc_offset_s
    taken: Taken = []
    for kind, key, per_minute, burst in wanted:
        wait = limiter.take(kind, key, per_minute, burst, utc_offset_s=offset)
        if wait > 0:
            refund_tokens(request, taken)
            seconds = max(1, math.ceil(wait))  # never too short: a retry after Retry-After must find a token
            raise ApiError(429, "rate_limited", _LIMITED[kind].format(s=seconds), headers={"Retry-After": str(seconds)})
        taken.append((kind, key, burst, offset))
    return taken


def _take_tokens(request: Request, runtime: SiteRuntime, kiosk: str | None, phone: str | None) -> Taken:
    """Charge the kiosk's and the phone's buckets; 429 (nothing charged) when either is empty."""
    limits: RateLimits = request.app.state.rate_limits
    wanted = []
    if kiosk is not None:
        wanted.append(("kiosk", f"{runtime.site.id}/{kiosk}", limits.kiosk_per_minute, limits.kiosk_burst))
    if phone:
        wanted.append(("phone", phone, limits.phone_per_minute, limits.phone_burst))
    return take_tokens(request, runtime, wanted)


def refund_tokens(request: Request, taken: Taken) -> None:
    """Give back what take_tokens charged (the request was refused for another reason)."""
    limiter: RateLimiter = request.app.state.rate_limiter
    for kind, key, burst, offset in taken:
        limiter.refund(kind, key, burst, utc_offset_s=offset)


@router.get("/sites/{site}/tickets/{ticket_id}")
async def get_ticket(request: Request, site: str, ticket_id: str) -> dict[str, Any]:
    """A ticket's state, position, estimate and history (public: the QR on the ticket)."""
    runtime = _runtime(request, site)
    floor = runtime.floor
    state = floor.state
    if ticket_id not in state.tickets and ticket_id in state.by_number:
        ticket_id = state.by_number[ticket_id]  # looking up by the printed number works too
    ticket = floor.ticket(ticket_id)
    body = issued_body(runtime, ticket.id)
    body["history"] = [
        {"type": kind, "at": iso(at, runtime.site.utc_offset_s), "counter": counter}
        for kind, at, counter in state.history.get(ticket.id, [])
    ]
    body["print"] = print_status(request, runtime.site.id, ticket.id)
    notifier: NotifyService | None = request.app.state.notifier
    body["phone_on_file"] = notifier is not None and notifier.has_contact(runtime.site.id, ticket.id)
    body["reasons_wanted"] = cmd.reasons_wanted(state, ticket.id, runtime.clock())  # a low rating asks why
    return body


@router.get("/sites/{site}/sms")
async def sms_settings(request: Request, site: str) -> dict[str, Any]:
    """Whether this site texts citizens who leave a phone number (the kiosk shows the field only then)."""
    _runtime(request, site)
    return {"enabled": request.app.state.notifier is not None}


@router.delete("/sites/{site}/tickets/{ticket_id}/contact", status_code=204)
async def forget_phone(request: Request, site: str, ticket_id: str) -> Response:
    """Delete the phone number kept for a ticket's texts (the citizen's right; no texts after this)."""
    runtime = _runtime(request, site)
    ticket = runtime.floor.ticket(ticket_id)
    notifier: NotifyService | None = request.app.state.notifier
    if notifier is not None:
        await notifier.forget(runtime.site.id, ticket.id)
    return Response(status_code=204)


def _counter_exists(runtime: SiteRuntime, counter: int) -> None:
    if counter not in runtime.site.counters:
        raise DomainError("unknown_counter", f"no counter {counter} at site {runtime.site.id}", 404)


def _at_counter(request: Request, site: str, counter: int) -> tuple[SiteRuntime, Principal]:
    """The site's writer and the caller, checked to act at this counter."""
    runtime = _runtime(request, site)
    _counter_exists(runtime, counter)
    return runtime, require_counter_actor(request, site, counter)


@router.get("/sites/{site}/counters/{counter}")
async def get_counter(request: Request, site: str, counter: int) -> dict[str, Any]:
    """A counter's state and the tickets waiting that it may serve, each with the seconds left to its target:
    for the site's staff and managers (it names staff, their satisfaction and who has legal priority; the
    hall's public view is /hall)."""
    runtime = _runtime(request, site)
    require_role(request, site, "staff", *MONITOR_READERS)
    _counter_exists(runtime, counter)
    now = runtime.clock()
    view = counter_view(runtime.floor, counter, now)
    serves = runtime.site.counters[counter].serves
    # a ticket transferred to one counter is that counter's alone: no other counter may call it
    waiting = [
        {**runtime.floor.ticket_view(t, now), "dossier": t.dossier}  # staff fetch a result's file before the call
        for t in runtime.floor.state.waiting_tickets()
        if t.target_counter == counter or (t.target_counter is None and t.agency in serves)
    ]
    for item in waiting:  # the server's clock, not the screen's: the page counts down from here
        item["deadline_in_s"] = None if item["deadline"] is None else round(item["deadline"] - now)
    waiting.sort(key=lambda v: (v["priority"] is None, v["deadline"] or 0))
    view["waiting"] = waiting[:50]
    view["waiting_count"] = len(waiting)
    return view


@router.post("/sites/{site}/counters/{counter}/open")
async def open_counter(
    request: Request, site: str, counter: int, body: Annotated[OpenBody | None, Body()] = None
) -> dict[str, Any]:
    """Open a counter (staff log in at it); a manager may name the staff member who will serve there."""
    runtime, principal = _at_counter(request, site, counter)
    staff = _serving_staff(request, site, principal, body.staff if body else None)
    serves = tuple(body.serves) if body else ()
    await runtime.execute(cmd.OpenCounter(counter=counter, staff=staff, by=principal.name, serves=serves))
    return counter_view(runtime.floor, counter, runtime.clock())


def _serving_staff(request: Request, site: str, principal: Principal, named: str | None) -> str:
    """Who will serve at a counter being opened: ratings and the monthly evaluation are theirs.

    Staff open as themselves only. A manager (or admin) may name a staff member of this site;
    the event keeps who opened it (`by`) beside who serves (`staff`).
    """
    if named is None or named == principal.name:
        return principal.name
    if principal.role == "staff":
        raise ApiError(403, "open_as_self",
                       "Cán bộ chỉ mở quầy với tài khoản của chính mình / staff open a counter as themselves only")
    account = request.app.state.accounts.account(named)
    if account is None or account.role != "staff" or not account.covers_site(site):
        raise ApiError(422, "unknown_staff",
                       f"Không có cán bộ “{named}” tại điểm {site} / no staff member {named!r} at site {site}")
    return named


@router.post("/sites/{site}/counters/{counter}/close")
async def close_counter(request: Request, site: str, counter: int) -> dict[str, Any]:
    runtime, principal = _at_counter(request, site, counter)
    await runtime.execute(cmd.CloseCounter(counter=counter, by=principal.name))
    return counter_view(runtime.floor, counter, runtime.clock())


@router.post("/sites/{site}/counters/{counter}/pause")
async def pause_counter(
    request: Request, site: str, counter: int, body: Annotated[PauseBody | None, Body()] = None
) -> dict[str, Any]:
    runtime, principal = _at_counter(request, site, counter)
    await runtime.execute(cmd.PauseCounter(counter=counter, reason=body.reason if body else "", by=principal.name))
    return counter_view(runtime.floor, counter, runtime.clock())


@router.post("/sites/{site}/counters/{counter}/resume")
async def resume_counter(request: Request, site: str, counter: int) -> dict[str, Any]:
    runtime, principal = _at_counter(request, site, counter)
    await runtime.execute(cmd.ResumeCounter(counter=counter, by=principal.name))
    return counter_view(runtime.floor, counter, runtime.clock())


@router.post("/sites/{site}/counters/{counter}/call-next", response_model=None)
async def call_next(request: Request, site: str, counter: int) -> dict[str, Any] | Response:
    """Call the next ticket for this counter: 200 with the ticket, 204 when nobody waits."""
    runtime, principal = _at_counter(request, site, counter)
    events = (await runtime.execute(cmd.CallNext(counter=counter, by=principal.name))).events
    if not events or events[-1].type != "ticket.called":
        return Response(status_code=204)
    return issued_body(runtime, str(events[-1].data["ticket"]))


def _ticket_action(name: str, make: Any) -> Any:
    async def action(request: Request, site: str, counter: int) -> dict[str, Any]:
        runtime, principal = _at_counter(request, site, counter)
        events = (await runtime.execute(make(counter=counter, by=principal.name))).events
        ticket_id = str(events[-1].data["ticket"])
        return issued_body(runtime, ticket_id)

    action.__name__ = name.replace("-", "_")
    return action


router.post("/sites/{site}/counters/{counter}/recall", name="recall")(_ticket_action("recall", cmd.Recall))
router.post("/sites/{site}/counters/{counter}/no-show", name="no_show")(_ticket_action("no-show", cmd.NoShow))
router.post("/sites/{site}/counters/{counter}/start", name="start")(_ticket_action("start", cmd.Start))


@router.post("/sites/{site}/counters/{counter}/finish")
async def finish(
    request: Request, site: str, counter: int, body: Annotated[FinishBody | None, Body()] = None
) -> dict[str, Any]:
    """Finish the current ticket with an outcome; a done intake moves on to its next step."""
    runtime, principal = _at_counter(request, site, counter)
    outcome = body.outcome if body else "done"
    events = (await runtime.execute(cmd.Finish(counter=counter, outcome=outcome, by=principal.name))).events
    return issued_body(runtime, str(events[-1].data["ticket"]))


@router.post("/sites/{site}/counters/{counter}/transfer")
async def transfer(
    request: Request, site: str, counter: int, body: TransferToProcedure | TransferToCounter
) -> dict[str, Any]:
    """Transfer the current ticket to a procedure ({"procedure"}) or a counter ({"counter"}); its wait clock is kept."""
    runtime, principal = _at_counter(request, site, counter)
    procedure = body.procedure if isinstance(body, TransferToProcedure) else None
    to_counter = body.counter if isinstance(body, TransferToCounter) else None
    command = cmd.Transfer(counter=counter, procedure=procedure, to_counter=to_counter, by=principal.name)
    events = (await runtime.execute(command)).events
    return issued_body(runtime, str(events[-1].data["ticket"]))


@router.post("/sites/{site}/ratings", status_code=201)
async def rate(request: Request, site: str, body: RatingBody) -> dict[str, Any]:
    """Record a satisfaction rating for the ticket last served at a counter."""
    runtime = _runtime(request, site)
    _counter_exists(runtime, body.counter)
    principal = require_role(request, site, "kiosk", "staff", "manager", "admin")
    if principal.role == "staff" and principal.counter != body.counter:
        raise ApiError(403, "wrong_counter", "staff may record ratings only at their counter")
    events = (await runtime.execute(cmd.Rate(counter=body.counter, score=body.score, by=principal.name))).events
    return dict(events[-1].data)


@router.get("/sites/{site}/monitor")
async def monitor(request: Request, site: str) -> dict[str, Any]:
    """The live snapshot for floor managers."""
    runtime = _runtime(request, site)
    require_role(request, site, *MONITOR_READERS)
    return runtime.monitor_snapshot()


@router.post("/sites/{site}/alerts/{alert}/acknowledge")
async def acknowledge(request: Request, site: str, alert: str) -> dict[str, Any]:
    """A manager acknowledges an alert (recorded in the log)."""
    runtime = _runtime(request, site)
    principal = require_role(request, site, "manager", "admin")
    events = (await runtime.execute(cmd.AcknowledgeAlert(alert=alert, by=principal.name))).events
    return dict(events[-1].data)
