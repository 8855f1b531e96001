"""The OpenAPI document at /openapi.json, made true: every answer, who may call, what comes back.

FastAPI describes what it sees in the route signatures: the parameters, the bodies and the
one success. The rest is here, in one table (OPERATIONS), so that the document says what
the server does: who may call each operation (its security), every refusal it can answer
with the contract's error JSON and the headers that come with them (Retry-After on 429,
WWW-Authenticate on 401), and the other successes (204 from call-next, 200 for a replayed
Idempotency-Key). Refusals that follow from the shape of an operation are added by rule:
404 and 503 for a site's operations, 413 and 415 for every write, 422 wherever there is
something to validate. tests/test_openapi_conformance.py runs schemathesis against the
running server to keep the two in step, and fails for an operation missing from OPERATIONS.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

__all__ = ["ERROR_SCHEMA", "OPERATIONS", "Answers", "install_openapi"]

ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "title": "Error",
    "required": ["error"],
    "additionalProperties": False,
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message"],
            "additionalProperties": False,
            "properties": {
                "code": {"type": "string", "pattern": "^[a-z][a-z0-9_]*$", "description": "for programs"},
                "message": {"type": "string", "description": "for people: Vietnamese first, then English"},
            },
        },
    },
}

SECURITY_SCHEMES: dict[str, Any] = {
    "bearer": {"type": "http", "scheme": "bearer",
               "description": "a token from POST /api/v1/auth/login (staff, manager, admin, ops)"},
    "kioskKey": {"type": "apiKey", "in": "header", "name": "X-Kiosk-Key", "description": "a kiosk's key"},
    "apiKey": {"type": "apiKey", "in": "header", "name": "X-Api-Key",
               "description": "the province operations centre's key"},
}

# who may call: the security requirements (any one of them), and the refusals that come with them
AUTH: dict[str, tuple[list[dict[str, list[str]]], frozenset[int]]] = {
    "public": ([], frozenset()),
    "token": ([{"bearer": []}], frozenset({401})),  # any valid bearer token
    "staff": ([{"bearer": []}], frozenset({401, 403})),  # a bearer token of some roles (and site, counter)
    "issuer": ([{"bearer": []}, {"kioskKey": []}], frozenset({401, 403})),
    "reader": ([{"bearer": []}, {"apiKey": []}], frozenset({401, 403})),
}

DESCRIPTIONS = {
    200: "Đã thực hiện lại theo Idempotency-Key / the same answer again, for a replayed Idempotency-Key",
    204: "Không có nội dung / no content",
    401: "Thiếu hoặc sai thông tin xác thực / missing or wrong credentials",
    403: "Tài khoản không có quyền này / this account may not do this",
    404: "Không tìm thấy (điểm phục vụ, quầy, số, mã...) / not found (site, counter, ticket, code...)",
    409: "Xung đột với trạng thái hiện tại / refused by the current state (counter closed, slot full...)",
    413: "Nội dung yêu cầu quá 64 KiB / request body over 64 KiB",
    415: "Nội dung yêu cầu không phải JSON / request body is not JSON",
    422: "Yêu cầu không hợp lệ / invalid request",
    429: "Quá nhiều yêu cầu; thử lại sau Retry-After giây / too many requests: try again after Retry-After s",
    503: "Tạm thời không ghi được (kho dữ liệu, hoặc điểm đang chuyển tiến trình); thử lại / "
         "temporarily unavailable (store, or the site is moving between processes): retry",
}

RETRY_AFTER = {"description": "seconds to wait before trying again", "schema": {"type": "integer", "minimum": 1}}
REPLAYED = {"description": "true when this answers a replayed Idempotency-Key",
            "schema": {"type": "string", "enum": ["true"]}}


@dataclass(frozen=True)
class Answers:
    """What one operation may answer beyond the rules: who may call it, refusals and other successes."""

    auth: str = "public"
    refusals: frozenset[int] = frozenset()
    successes: frozenset[int] = frozenset()  # besides the one FastAPI documents
    replayable: bool = False  # takes an Idempotency-Key: its success may say Idempotent-Replayed


_COMMAND = Answers("staff", frozenset({409}))  # a counter action decided by the core

OPERATIONS: dict[tuple[str, str], Answers] = {
    ("get", "/healthz"): Answers(),
    ("get", "/metrics"): Answers(),
    ("post", "/api/v1/auth/login"): Answers(refusals=frozenset({401, 429})),
    ("post", "/api/v1/auth/logout"): Answers("token"),
    ("get", "/api/v1/auth/lockouts"): Answers("staff"),
    ("post", "/api/v1/auth/lockouts/lift"): Answers("staff"),
    ("get", "/api/v1/sites"): Answers(),
    ("get", "/api/v1/sites/{site}/catalogue"): Answers(),
    ("post", "/api/v1/sites/{site}/tickets"): Answers("issuer", frozenset({409, 429}), replayable=True),
    ("get", "/api/v1/sites/{site}/tickets/{ticket_id}"): Answers(),
    ("get", "/api/v1/sites/{site}/tickets/{ticket_id}/qr.svg"): Answers(),
    ("delete", "/api/v1/sites/{site}/tickets/{ticket_id}/contact"): Answers(),
    ("get", "/api/v1/sites/{site}/sms"): Answers(),
    ("get", "/api/v1/sites/{site}/hall"): Answers(),
    ("get", "/api/v1/sites/{site}/counters/{counter}"): Answers("reader"),
    **{("post", f"/api/v1/sites/{{site}}/counters/{{counter}}/{action}"): _COMMAND
       for action in ("open", "close", "pause", "resume", "recall", "no-show", "start", "finish", "transfer")},
    ("post", "/api/v1/sites/{site}/counters/{counter}/call-next"): Answers("staff", frozenset({409}),
                                                                         frozenset({204})),
    ("post", "/api/v1/sites/{site}/ratings"): Answers("issuer", frozenset({409})),
    ("post", "/api/v1/sites/{site}/ratings/reasons"): Answers("issuer", frozenset({409})),
    ("post", "/api/v1/sites/{site}/tickets/{ticket_id}/reasons"): Answers(refusals=frozenset({409, 429})),
    ("post", "/api/v1/sites/{site}/feedback"): Answers(refusals=frozenset({409, 429}), successes=frozenset({200}),
                                                       replayable=True),
    ("get", "/api/v1/sites/{site}/feedback/{code}"): Answers(refusals=frozenset({429})),
    ("get", "/api/v1/sites/{site}/feedback"): Answers("reader"),
    **{("post", f"/api/v1/sites/{{site}}/feedback/{{code}}/{action}"): Answers("staff", frozenset({409}))
       for action in ("assign", "answer", "close", "topic")},
    ("get", "/api/v1/sites/{site}/monitor"): Answers("reader"),
    ("get", "/api/v1/sites/{site}/monitor/series"): Answers("reader"),
    ("post", "/api/v1/sites/{site}/alerts/{alert}/acknowledge"): Answers("staff", frozenset({409})),
    ("get", "/api/v1/sites/{site}/appointments/days"): Answers(),
    ("get", "/api/v1/sites/{site}/appointments/slots"): Answers(),
    ("post", "/api/v1/sites/{site}/appointments"): Answers(refusals=frozenset({409, 429}),
                                                           successes=frozenset({200}), replayable=True),
    ("get", "/api/v1/sites/{site}/appointments/{code}"): Answers(refusals=frozenset({409, 429})),
    ("post", "/api/v1/sites/{site}/appointments/{code}/cancel"): Answers(refusals=frozenset({409, 429})),
    ("post", "/api/v1/sites/{site}/appointments/{code}/check-in"): Answers(
        "issuer", frozenset({409, 429}), frozenset({200}), replayable=True),
    # numbers taken from a phone (controller/api/remote.py): 409 without texts or at a limit, 429 a locked phone
    ("get", "/api/v1/sites/{site}/remote"): Answers(),
    ("post", "/api/v1/sites/{site}/remote/code"): Answers(refusals=frozenset({409, 429})),
    ("post", "/api/v1/sites/{site}/remote/tickets"): Answers(refusals=frozenset({409, 429}),
                                                             successes=frozenset({200}), replayable=True),
    ("get", "/api/v1/sites/{site}/remote/held/{ref}"): Answers(refusals=frozenset({409, 429})),
    ("post", "/api/v1/sites/{site}/remote/held/{ref}/cancel"): Answers(refusals=frozenset({409, 429})),
    ("post", "/api/v1/sites/{site}/tickets/{ticket_id}/check-in"): Answers("issuer", frozenset({409})),
    ("post", "/api/v1/sites/{site}/tickets/{ticket_id}/more-time"): Answers(refusals=frozenset({409, 429})),
    ("post", "/api/v1/sites/{site}/tickets/{ticket_id}/rejoin"): Answers(refusals=frozenset({409, 429})),
    # the kiosk (controller/api/kiosk_desk.py): the offer to come back later; what its 2D scanner read
    ("get", "/api/v1/sites/{site}/return-later"): Answers(),
    ("post", "/api/v1/sites/{site}/scan"): Answers("issuer", frozenset({409, 429})),
    ("get", "/api/v1/sites/{site}/reports"): Answers("reader"),
    ("get", "/api/v1/sites/{site}/forecast"): Answers("reader"),
    ("get", "/api/v1/sites/{site}/evaluation"): Answers("staff"),
    ("get", "/api/v1/feed"): Answers("reader"),
}

WRITES = frozenset({"post", "put", "patch", "delete"})


def _error(status: int) -> dict[str, Any]:
    answer: dict[str, Any] = {
        "description": DESCRIPTIONS[status],
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
    }
    if status == 429:
        answer["headers"] = {"Retry-After": {**RETRY_AFTER, "required": True}}
    elif status == 401:
        answer["headers"] = {"WWW-Authenticate": {"description": "Bearer", "required": True,
                                                  "schema": {"type": "string"}}}
    elif status == 503:
        answer["headers"] = {"Retry-After": RETRY_AFTER}
    return answer


def _complete(method: str, path: str, operation: dict[str, Any]) -> None:
    answers = OPERATIONS.get((method, path))
    if answers is None:
        return  # tests/test_openapi_conformance.py names it
    security, auth_refusals = AUTH[answers.auth]
    operation["security"] = security
    refusals = set(answers.refusals) | auth_refusals
    if "{site}" in path:
        refusals |= {404, 503}
    if method in WRITES and path.startswith("/api/"):
        refusals |= {413, 415}  # bodies.py refuses any write's body that is too large or not JSON
    if operation.get("parameters") or operation.get("requestBody"):
        refusals.add(422)
    responses = operation.setdefault("responses", {})
    documented = next(iter(responses))
    for status in sorted(answers.successes):
        if status == 204:
            responses["204"] = {"description": DESCRIPTIONS[204]}
        else:
            responses[str(status)] = {**responses[documented], "description": DESCRIPTIONS[status]}
    if answers.replayable:
        for status in (documented, *map(str, answers.successes)):
            if status != "204":
                responses[status] = {**responses[status], "headers": {"Idempotent-Replayed": REPLAYED}}
    for status in sorted(refusals):
        responses[str(status)] = _error(status)


def complete_document(document: dict[str, Any]) -> dict[str, Any]:
    """Add what FastAPI cannot see to its document (in place; also returned)."""
    components = document.setdefault("components", {})
    schemas = components.setdefault("schemas", {})
    schemas.pop("HTTPValidationError", None)  # 422 answers carry the contract's error JSON, not FastAPI's
    schemas.pop("ValidationError", None)
    schemas["Error"] = ERROR_SCHEMA
    components["securitySchemes"] = SECURITY_SCHEMES
    for path, methods in document["paths"].items():
        for method, operation in methods.items():
            _complete(method, path, operation)
    return document


DESCRIPTION = """\
Errors are always `{"error": {"code", "message"}}` (the message Vietnamese first, then English)
with a 4xx status, or 503 while a write cannot be made. Request bodies are JSON of at most 64 KiB.
A client address holding too many connections is answered 429 on any path; a request head or
body that does not arrive in time has its connection closed. Methods a path does not have are
answered 405 with an `Allow` header. The live streams are WebSockets, outside this document:
`/api/v1/sites/{site}/live` and `/api/v1/feed/live` (docs/CONTRACT.md, section 3).
"""


def install_openapi(app: FastAPI) -> None:
    """Serve the completed document at /openapi.json (built once, at the first request)."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            document = get_openapi(title=app.title, version=app.version, summary=app.summary,
                                   description=DESCRIPTION, routes=app.routes)
            app.openapi_schema = complete_document(document)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
