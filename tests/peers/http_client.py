"""A third-party client of motcua written from CONTRACT.md sections 2 and 3 alone.

Nothing here comes from controller/: paths, payloads, field names, roles and
error shapes are the ones the document spells out, so a test that drives the
server through this client checks the promise, not the code's own idea of it.
Only httpx and websockets are used, as an outside integrator would.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import httpx
import websockets
from websockets.asyncio.client import ClientConnection

__all__ = [
    "CLOSE_CREDENTIAL_GONE",
    "COUNTER_ACTIONS",
    "EVENT_TYPES",
    "OUTCOMES",
    "PRIORITIES",
    "PUBLIC_FIELDS",
    "ROLES",
    "UNPROMPTED_TYPES",
    "ContractViolation",
    "LiveStream",
    "Motcua",
    "Session",
    "check_issued",
    "check_public",
    "contract_error",
    "iso_instant",
]

API = "/api/v1"
# section 2, the tickets body
PRIORITIES = (None, "elderly", "pregnant", "disabled", "child", "merit")
CHANNELS = ("kiosk", "appointment", "online", "staff")
ROLES = ("staff", "manager", "admin", "ops")
OUTCOMES = ("done", "incomplete", "rejected")
COUNTER_ACTIONS = ("open", "close", "pause", "resume", "call-next", "recall", "no-show", "start", "finish", "transfer")
ISSUED_FIELDS = {"id": str, "number": str, "procedure": str, "agency": str, "position": int,
                 "estimated_wait_s": int, "issued_at": str}
# section 3, "Types include"
EVENT_TYPES = (
    "ticket.issued", "ticket.called", "ticket.recalled", "ticket.no_show", "ticket.started", "ticket.finished",
    "ticket.transferred", "counter.changed", "rating.recorded", "target.at_risk", "target.at_risk_cleared",
    "target.breached", "alert.raised", "device.changed", "monitor.snapshot",
)
# what the controller raises by itself, with no request (its periodic enforcement of the targets, devices)
UNPROMPTED_TYPES = ("target.at_risk", "target.at_risk_cleared", "target.breached", "alert.raised", "device.changed")
# section 3, the public audience: the types it carries and, besides seq, type, at (and site, ts), their fields
COMMON_FIELDS = ("seq", "type", "at", "site", "ts")
PUBLIC_FIELDS: dict[str, tuple[str, ...]] = {
    "day.started": ("day",),
    **{t: ("ticket", "number", "agency") for t in ("ticket.issued", "ticket.ready", "ticket.abandoned")},
    **{t: ("ticket", "number", "agency", "counter") for t in (
        "ticket.called", "ticket.recalled", "ticket.no_show", "ticket.started", "ticket.finished",
        "ticket.transferred")},
    "counter.changed": ("counter", "status"),
}
# section 3: the subprotocols a browser offers, and the one it is answered
LIVE_SUBPROTOCOL = "motcua.live.v1"
BEARER_SUBPROTOCOL = "motcua.bearer."
CLOSE_CREDENTIAL_GONE = 4401


class ContractViolation(AssertionError):
    """The server answered something the document does not allow."""


def iso_instant(text: object) -> datetime:
    """An ISO-8601 instant with its offset, as the document's "ISO-8601" fields are."""
    if not isinstance(text, str):
        raise ContractViolation(f"not an ISO-8601 string: {text!r}")
    try:
        instant = datetime.fromisoformat(text)
    except ValueError as exc:
        raise ContractViolation(f"not ISO-8601: {text!r}") from exc
    if instant.tzinfo is None:
        raise ContractViolation(f"ISO-8601 instant without an offset: {text!r}")
    return instant


def contract_error(response: httpx.Response) -> tuple[int, str, str]:
    """(status, code, message) of an error answer, checked against section 2's error shape."""
    if not 400 <= response.status_code < 500:
        raise ContractViolation(f"an error must be a 4xx, got {response.status_code}: {response.text[:300]}")
    try:
        body = response.json()
    except ValueError as exc:
        raise ContractViolation(f"error body is not JSON: {response.text[:300]!r}") from exc
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict) or set(error) < {"code", "message"}:
        raise ContractViolation(f'error body is not {{"error": {{"code", "message"}}}}: {body!r}')
    code, message = error["code"], error["message"]
    if not isinstance(code, str) or not code or code != code.lower() or not code.replace("_", "").isalnum():
        raise ContractViolation(f"error code is not snake_case: {code!r}")
    if not isinstance(message, str) or not message.strip():
        raise ContractViolation(f"error message is not human text: {message!r}")
    return response.status_code, code, message


@dataclass(frozen=True)
class Session:
    """What `POST /api/v1/auth/login` returns."""

    token: str
    role: str
    expires_at: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


@dataclass
class Motcua:
    """The HTTP API of section 2 over one httpx client."""

    base_url: str
    http: httpx.Client = field(init=False)

    def __post_init__(self) -> None:
        self.http = httpx.Client(base_url=self.base_url, timeout=10, trust_env=False)

    def close(self) -> None:
        self.http.close()

    def __enter__(self) -> Motcua:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    # -- auth -------------------------------------------------------------------------------------------
    def login_response(self, user: object, secret: object) -> httpx.Response:
        return self.http.post(f"{API}/auth/login", json={"user": user, "secret": secret})

    def login(self, user: str, secret: str) -> Session:
        """Log in; the answer's shape is checked."""
        response = self.login_response(user, secret)
        if response.status_code != 200:
            raise ContractViolation(f"login {user}: {response.status_code} {response.text[:200]}")
        body = response.json()
        if not isinstance(body.get("token"), str) or not body["token"]:
            raise ContractViolation(f"login without a token: {body!r}")
        if body.get("role") not in ROLES:
            raise ContractViolation(f"login role {body.get('role')!r} is none of {ROLES}")
        iso_instant(body.get("expires_at"))
        return Session(body["token"], body["role"], body["expires_at"])

    # -- reading ----------------------------------------------------------------------------------------
    def healthz(self) -> httpx.Response:
        return self.http.get("/healthz")

    def metrics(self) -> httpx.Response:
        return self.http.get("/metrics")

    def catalogue(self, site: str) -> httpx.Response:
        return self.http.get(f"{API}/sites/{site}/catalogue")

    def ticket(self, site: str, ticket_id: str) -> httpx.Response:
        return self.http.get(f"{API}/sites/{site}/tickets/{ticket_id}")

    def monitor(self, site: str, auth: Mapping[str, str]) -> httpx.Response:
        return self.http.get(f"{API}/sites/{site}/monitor", headers=dict(auth))

    # -- writing ----------------------------------------------------------------------------------------
    def issue(
        self, site: str, body: object, auth: Mapping[str, str], idempotency_key: str | None = None,
        *, content: bytes | None = None, content_type: str | None = None,
    ) -> httpx.Response:
        """POST a ticket request: `body` as JSON, or raw `content` with its own content type."""
        headers = dict(auth)
        if idempotency_key is not None:
            headers["Idempotency-Key"] = idempotency_key
        return self._post(f"{API}/sites/{site}/tickets", body, headers, content, content_type)

    def counter(
        self, site: str, counter: object, action: str, auth: Mapping[str, str], body: object = None,
        *, content: bytes | None = None, content_type: str | None = None,
    ) -> httpx.Response:
        return self._post(f"{API}/sites/{site}/counters/{counter}/{action}", body, dict(auth), content, content_type)

    def rate(self, site: str, body: object, auth: Mapping[str, str]) -> httpx.Response:
        return self._post(f"{API}/sites/{site}/ratings", body, dict(auth), None, None)

    def _post(
        self, path: str, body: object, headers: dict[str, str], content: bytes | None, content_type: str | None
    ) -> httpx.Response:
        if content is not None:
            if content_type is not None:
                headers["Content-Type"] = content_type
            return self.http.post(path, content=content, headers=headers)
        if body is None:
            return self.http.post(path, headers=headers)
        return self.http.post(path, json=body, headers=headers)


def check_issued(body: Mapping[str, Any], waiting: bool = True) -> None:
    """A ticket answer carries every field of section 2's 201 with its documented type.

    A ticket no longer waiting (called, served) has no place in a queue: its position is null.
    """
    for name, kind in ISSUED_FIELDS.items():
        value = body.get(name)
        if name == "position" and value is None and not waiting:
            continue
        if name == "estimated_wait_s" and value is None:
            continue  # read as "no estimate yet" (see the conformance tests)
        if not isinstance(value, kind) or isinstance(value, bool):
            raise ContractViolation(f"ticket field {name}={value!r} is not {kind.__name__}: {body!r}")
    iso_instant(body["issued_at"])


def check_public(message: Mapping[str, Any]) -> None:
    """A message of the public stream carries a public type and no field beyond that type's."""
    fields = PUBLIC_FIELDS.get(str(message.get("type")))
    if fields is None:
        raise ContractViolation(f"the public stream carried a {message.get('type')!r}: {message!r}")
    extra = set(message) - set(COMMON_FIELDS) - set(fields)
    if extra:
        raise ContractViolation(f"the public stream carried {sorted(extra)} in a {message['type']}: {message!r}")


class LiveStream:
    """WS /api/v1/sites/{site}/live: events in commit order, resumable with ?after=SEQ.

    Public without a credential (only section 3's public types and fields, seqs increasing with
    gaps), full with one (every event, one seq after the other).
    """

    def __init__(self, connection: ClientConnection, public: bool) -> None:
        self.connection = connection
        self.public = public
        self.snapshots: list[dict[str, Any]] = []
        self.last_seq: int | None = None

    @staticmethod
    @asynccontextmanager
    async def open(
        ws_base: str, site: str, after: int | None = None, *, token: str | None = None,
        headers: Mapping[str, str] | None = None, snapshots: bool = True,
    ) -> AsyncIterator[LiveStream]:
        """Open the stream: public, or full with a bearer `token` offered as browsers do (subprotocols),
        or with credential `headers` (Authorization: Bearer, X-Api-Key) as other clients may."""
        query = [f"after={after}"] if after is not None else []
        if not snapshots:
            query.append("snapshots=false")
        url = f"{ws_base}{API}/sites/{site}/live" + ("?" + "&".join(query) if query else "")
        offered = None if token is None else [LIVE_SUBPROTOCOL, BEARER_SUBPROTOCOL + token]
        # no cap on what is buffered unread: a backlog left unread must not hold up the close handshake
        async with websockets.connect(url, open_timeout=10, proxy=None, max_queue=None, subprotocols=offered,
                                      additional_headers=dict(headers or {})) as connection:
            if token is not None and connection.subprotocol != LIVE_SUBPROTOCOL:
                raise ContractViolation(f"answered subprotocol {connection.subprotocol!r}, not {LIVE_SUBPROTOCOL}")
            yield LiveStream(connection, public=token is None and not headers)

    async def message(self, timeout_s: float = 5.0) -> dict[str, Any]:
        """The next message of any type, its common fields checked."""
        raw = await asyncio.wait_for(self.connection.recv(), timeout_s)
        message = json.loads(raw)
        if not isinstance(message, dict):
            raise ContractViolation(f"live message is not an object: {raw!r}")
        seq = message.get("seq")
        if not isinstance(seq, int) or isinstance(seq, bool) or seq < 0:
            raise ContractViolation(f"live message without an integer seq: {message!r}")
        if not isinstance(message.get("type"), str):
            raise ContractViolation(f"live message without a type: {message!r}")
        iso_instant(message.get("at"))
        return message

    async def event(self, timeout_s: float = 5.0) -> dict[str, Any]:
        """The next event (periodic snapshots are kept aside), checked to follow the last one: without a gap
        on the full stream, after it on the public one, where only the public fields may appear."""
        while True:
            message = await self.message(timeout_s)
            if self.public:
                check_public(message)
            if message["type"] == "monitor.snapshot":
                self.snapshots.append(message)
                continue
            if self.last_seq is not None:
                if self.public and message["seq"] <= self.last_seq:
                    raise ContractViolation(f"seq {message['seq']} after {self.last_seq}: a repeat or out of order")
                if not self.public and message["seq"] != self.last_seq + 1:
                    raise ContractViolation(f"seq {message['seq']} after {self.last_seq}: a gap or a repeat")
            self.last_seq = message["seq"]
            return message

    async def events_until(self, done: Any, timeout_s: float = 5.0) -> list[dict[str, Any]]:
        """Events up to and including the first one for which done(event) is true."""
        seen: list[dict[str, Any]] = []
        while True:
            seen.append(await self.event(timeout_s))
            if done(seen[-1]):
                return seen

    async def prompted_within(self, seconds: float) -> list[dict[str, Any]]:
        """Events a request caused that arrive within `seconds` (none, after refused requests)."""
        seen: list[dict[str, Any]] = []
        loop = asyncio.get_running_loop()
        until = loop.time() + seconds
        while (left := until - loop.time()) > 0:
            try:
                event = await self.event(left)
            except TimeoutError:
                break
            if event["type"] not in UNPROMPTED_TYPES:
                seen.append(event)
        return seen

    async def prompted(self, timeout_s: float = 5.0) -> dict[str, Any]:
        """The next event a request caused, skipping what the controller raised by itself."""
        while (event := await self.event(timeout_s))["type"] in UNPROMPTED_TYPES:
            pass
        return event
