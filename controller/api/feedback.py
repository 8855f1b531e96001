"""Feedback and complaints over HTTP: citizens send and read theirs, managers answer (controller/core/feedback.py).

    POST /sites/{site}/feedback                 the ticket page (public) or the kiosk (its key): 201 the item
                                                with its code, the address to follow it at (/f/{site}/{code})
                                                and that address's QR; limited per client address, or per kiosk;
                                                Idempotency-Key replays (200)
    GET  /sites/{site}/feedback/{code}          the citizen's view: the text sent and the answer
    GET  /sites/{site}/feedback                 the managers' inbox (manager, admin, ops), ?status=...|overdue
    POST /sites/{site}/feedback/{code}/assign   {"agency"}            manager, admin
    POST /sites/{site}/feedback/{code}/answer   {"answer", "upheld"}  manager, admin: texted when a number waits
    POST /sites/{site}/feedback/{code}/close                          manager, admin
    POST /sites/{site}/feedback/{code}/topic    {"topic"}             manager, admin: the topic corrected

Managers see each comment's topic: a manager's correction when there is one, otherwise the
offline model's guess (controller/core/topics.py) among the site's categories, marked as such.

A phone number for the answer follows the contact rules of the ticket's texts: only with
consent, only where texts are sent (--sms), limited per number by the daily HMAC, never in
the event log or a log line; the feedback book (controller/store/feedback.py) keeps it apart
from the item and deletes it once the answer has been handed to the gateway, or when the
item is closed.
"""

from __future__ import annotations

import functools
import logging
import secrets
from collections import Counter
from typing import Annotated, Any, Literal
from urllib.parse import quote

from fastapi import APIRouter, Header, Query, Request, Response
from pydantic import ConfigDict, Field

from controller.api.bodies import Strict
from controller.api.errors import ApiError
from controller.api.ratelimit import RateLimits
from controller.api.routes import refund_tokens, take_tokens
from controller.api.security import MONITOR_READERS, authenticate, require_role
from controller.core import feedback as fb
from controller.core.clock import iso
from controller.core.errors import DomainError
from controller.core.requests import REQUEST_KEY, check_replay, request_digest
from controller.core.topic_examples import EXAMPLES
from controller.core.topics import TopicModel, train
from controller.runtime.controller import Controller
from controller.runtime.site_runtime import SiteRuntime
from controller.store.feedback import CodeInUse, FeedbackBook
from devices.errors import DeviceError
from devices.sms.contract import PHONE_PATTERN, TextMessage
from devices.sms.wording import answer_text
from kiosk.qr import qr_svg

__all__ = ["router"]

log = logging.getLogger(__name__)
router = APIRouter(prefix="/api/v1")

CODE_DRAWS = 8
CODE_PATTERN = r"^[ -]*([2-9A-HJKMNP-Za-hjkmnp-z][ -]*){8}$"
INBOX_LIMIT = 500
# A request's digest needs no secret: what it covers (no phone) is kept in the item anyway.
_DIGEST_KEY = b"motcua feedback request"


class SendBody(Strict):
    # a phone number only with the citizen's consent, as at the kiosk
    model_config = ConfigDict(json_schema_extra={
        "if": {"required": ["phone"], "properties": {"phone": {"type": "string"}}},
        "then": {"required": ["phone_consent"], "properties": {"phone_consent": {"const": True}}},
    })
    category: str = Field(min_length=1, max_length=32)
    text: str = Field(min_length=1, max_length=4 * fb.MAX_TEXT)  # the core counts what is kept (MAX_TEXT)
    ticket: str | None = Field(default=None, max_length=64)
    phone: str | None = Field(default=None, pattern=PHONE_PATTERN.pattern)
    phone_consent: bool = False


class AssignBody(Strict):
    agency: str = Field(min_length=1, max_length=64)


class TopicBody(Strict):
    topic: str = Field(min_length=1, max_length=32)


class AnswerBody(Strict):
    answer: str = Field(min_length=1, max_length=4 * fb.MAX_ANSWER)
    upheld: bool


def _runtime(request: Request, site: str) -> SiteRuntime:
    controller: Controller = request.app.state.controller
    return controller.runtime(site)


def _book(request: Request) -> FeedbackBook:
    book: FeedbackBook = request.app.state.feedback  # opened by the lifespan, on the --store backend
    return book


async def _item(request: Request, site: str, code: str) -> fb.Feedback:
    item = await _book(request).get(site, fb.normalise_code(code))
    if item is None:
        raise DomainError("unknown_feedback", "Không tìm thấy phản ánh với mã này / no feedback with this code", 404)
    return item


@functools.cache
def topic_model() -> TopicModel:
    """The topic model, trained once per process on the labelled comments (a few milliseconds)."""
    return train(EXAMPLES)


def topic_of(runtime: SiteRuntime, item: fb.Feedback) -> tuple[str | None, bool]:
    """The item's topic and whether the model guessed it (a manager's correction stays)."""
    if item.topic is not None:
        return item.topic, False
    return topic_model().predict(item.text, [c.code for c in runtime.site.feedback.categories]), True


def _view(runtime: SiteRuntime, item: fb.Feedback, now: float, public: bool) -> dict[str, Any]:
    offset = runtime.site.utc_offset_s
    body = item.public() if public else {k: v for k, v in item.to_dict().items() if k != "site"}
    for key in ("received_at", "due_at", "answered_at", "closed_at"):
        if body.get(key) is not None:
            body[key] = iso(float(body[key]), offset)
    body["overdue"] = item.overdue(now)
    if not public:
        body["topic"], body["topic_auto"] = topic_of(runtime, item)
    return body


def follow_url(request: Request, site: str, code: str) -> str:
    """The page where a citizen reads an item's status and answer by its code, on the public address."""
    return f"{request.app.state.settings.base_url}/f/{quote(site, safe='')}/{code}"


def _visit(runtime: SiteRuntime, ticket_id: str | None) -> dict[str, Any] | None:
    """The visit an item sent from a ticket page is about: its agency, and who served it last."""
    if ticket_id is None:
        return None
    ticket = runtime.floor.state.tickets.get(ticket_id)
    if ticket is None:
        raise DomainError("unknown_ticket", f"no ticket {ticket_id[:64]!r} today", 404)
    calls = [(at, counter) for kind, at, counter in runtime.floor.state.history.get(ticket.id, [])
             if kind == "ticket.called"]
    counter = calls[-1][1] if calls else None
    return {"ticket": ticket.id, "agency": ticket.agency, "staff": ticket.staff, "counter": counter}


@router.post("/sites/{site}/feedback", status_code=201)
async def send_feedback(
    request: Request,
    response: Response,
    site: str,
    body: SendBody,
    request_key: Annotated[str | None, Header(alias="Idempotency-Key", pattern=REQUEST_KEY)] = None,
) -> dict[str, Any]:
    """A citizen's feedback or complaint, from the ticket page (public) or the kiosk (its key); a retry with the
    same Idempotency-Key returns the same item."""
    runtime = _runtime(request, site)
    book = _book(request)
    principal = authenticate(request)
    kiosk = principal is not None and principal.role == "kiosk" and principal.covers_site(site)
    if body.phone and not body.phone_consent:
        raise ApiError(422, "phone_consent_required",  # the kiosk's rule and words
                       "Cần đồng ý nhận tin nhắn trước khi nhập số điện thoại "
                       "/ consent is needed to use a phone number")
    if body.phone and request.app.state.notifier is None:
        raise ApiError(422, "texts_unavailable",
                       "Trung tâm chưa gửi tin nhắn; xem câu trả lời trên trang theo dõi "
                       "/ this centre sends no texts: read the answer on the ticket page")
    limits: RateLimits = request.app.state.rate_limits
    wanted = [("feedback_kiosk", f"{site}/{principal.name}", limits.feedback_kiosk_per_minute,
               limits.feedback_kiosk_burst) if kiosk and principal is not None else
              ("feedback", request.client.host if request.client else "unknown", limits.feedback_per_minute,
               limits.feedback_burst)]
    if body.phone:
        wanted.append(("phone", body.phone, limits.phone_per_minute, limits.phone_burst))
    # the digest tells a retry from another request with the key; it is kept, so no phone goes into it
    digest = request_digest(_DIGEST_KEY, site, {**body.model_dump(exclude={"phone"}), "phone": bool(body.phone)})
    taken = take_tokens(request, runtime, wanted)
    try:
        now = runtime.clock()
        for _ in range(CODE_DRAWS):
            item = fb.receive(runtime.site.feedback, site=site, code=fb.new_code(secrets.choice),
                              category=body.category, text=body.text, channel="kiosk" if kiosk else "ticket",
                              now=now, has_phone=bool(body.phone), visit=_visit(runtime, body.ticket))
            try:
                seen = await book.add(item, body.phone, None if request_key is None else (request_key, digest))
                break
            except CodeInUse:
                continue
        else:
            raise DomainError("no_code_available", "could not draw a free code; try again", 409)
    except Exception:
        refund_tokens(request, taken)
        raise
    if seen is not None:  # a retry: the item the first request added, never a second one
        refund_tokens(request, taken)
        check_replay(seen[1], digest)
        item = await _item(request, site, seen[0])
        response.status_code = 200
        response.headers["Idempotent-Replayed"] = "true"
    url = follow_url(request, site, item.code)
    # the kiosk shows the QR beside the code: the citizen leaves with the way to read the answer
    return {**_view(runtime, item, now, public=True), "follow_url": url, "qr_svg": qr_svg(url, title=item.code)}


@router.get("/sites/{site}/feedback/{code}")
async def get_feedback(request: Request, site: str, code: str) -> dict[str, Any]:
    """The citizen's view of an item by its code: the text sent, its status, the answer."""
    runtime = _runtime(request, site)
    limits: RateLimits = request.app.state.rate_limits
    address = request.client.host if request.client else "unknown"
    take_tokens(request, runtime, [("lookup", address, limits.lookup_per_minute, limits.lookup_burst)])
    return _view(runtime, await _item(request, site, code), runtime.clock(), public=True)


@router.get("/sites/{site}/feedback")
async def inbox(
    request: Request, site: str,
    status: Literal["open", "assigned", "answered", "closed", "overdue", "unanswered"] | None = Query(None),
    days: int = Query(31, ge=1, le=366, description="received in the last N days"),
    topic: str | None = Query(None, min_length=1, max_length=32, description="only this topic"),
) -> dict[str, Any]:
    """The managers' inbox, newest first, with the overdue count and the items per topic."""
    runtime = _runtime(request, site)
    require_role(request, site, *MONITOR_READERS)
    now = runtime.clock()
    items = await _book(request).since(site, now - days * 86400)
    overdue = sum(1 for i in items if i.overdue(now))
    if status == "overdue":
        items = [i for i in items if i.overdue(now)]
    elif status == "unanswered":
        items = [i for i in items if i.status in ("open", "assigned")]
    elif status is not None:
        items = [i for i in items if i.status == status]
    items.reverse()
    topics = {i.code: topic_of(runtime, i)[0] for i in items}
    by_topic = Counter(t for t in topics.values() if t is not None)
    if topic is not None:
        items = [i for i in items if topics[i.code] == topic]
    return {"overdue": overdue, "count": len(items), "topics": dict(by_topic.most_common()),
            "items": [_view(runtime, i, now, public=False) for i in items[:INBOX_LIMIT]]}


@router.post("/sites/{site}/feedback/{code}/assign")
async def assign_feedback(request: Request, site: str, code: str, body: AssignBody) -> dict[str, Any]:
    """Give an item to an agency to answer."""
    runtime = _runtime(request, site)
    principal = require_role(request, site, "manager", "admin")
    item = fb.assign(await _item(request, site, code), body.agency, runtime.site.agencies, principal.name)
    await _book(request).save(item)
    return _view(runtime, item, runtime.clock(), public=False)


@router.post("/sites/{site}/feedback/{code}/topic")
async def correct_topic(request: Request, site: str, code: str, body: TopicBody) -> dict[str, Any]:
    """A manager's topic for the comment; it stays (the model's guess is no longer shown for it)."""
    runtime = _runtime(request, site)
    principal = require_role(request, site, "manager", "admin")
    item = fb.set_topic(await _item(request, site, code), body.topic, runtime.site.feedback, principal.name)
    await _book(request).save(item)
    return _view(runtime, item, runtime.clock(), public=False)


@router.post("/sites/{site}/feedback/{code}/answer")
async def answer_feedback(request: Request, site: str, code: str, body: AnswerBody) -> dict[str, Any]:
    """Answer an item; the citizen sees it on the ticket page, and by text when a number waits (then deleted)."""
    runtime = _runtime(request, site)
    principal = require_role(request, site, "manager", "admin")
    book = _book(request)
    now = runtime.clock()
    item = fb.answer(await _item(request, site, code), body.answer, body.upheld, principal.name, now)
    if item.has_phone:
        sent = await _text_answer(request, runtime, item)
        item = fb.Feedback.from_dict({**item.to_dict(), "has_phone": False, "text_sent": sent})
    await book.save(item)  # without has_phone: the number is deleted now
    return _view(runtime, item, now, public=False)


async def _text_answer(request: Request, runtime: SiteRuntime, item: fb.Feedback) -> bool:
    """Text the answer's notice to the number kept for it; the page has the whole answer (a text is short)."""
    notifier = request.app.state.notifier
    phone = await _book(request).phone(item.site, item.code)
    if notifier is None or phone is None:
        return False
    try:
        await notifier.sender.send(TextMessage.of(phone, answer_text(runtime.site.name, item.code,
                                                                     follow_url(request, item.site, item.code))))
    except DeviceError as exc:
        log.warning("site %s: the answer to feedback %s could not be texted: %s", item.site, item.code, exc)
        return False
    return True


@router.post("/sites/{site}/feedback/{code}/close")
async def close_feedback(request: Request, site: str, code: str) -> dict[str, Any]:
    """Close an item (the number for the answer, if any, is deleted)."""
    runtime = _runtime(request, site)
    require_role(request, site, "manager", "admin")
    now = runtime.clock()
    item = fb.close(await _item(request, site, code), now)
    await _book(request).save(item)
    return _view(runtime, item, now, public=False)
