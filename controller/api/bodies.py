"""Request bodies of the JSON API: JSON only, and small (CONTRACT.md section 2: a fitting 4xx, never a 500).

Every body the API takes is a few hundred bytes of JSON. A body sent as another media
type is refused with 415 (rather than read as "not an object"), and one over
MAX_BODY_BYTES with 413 before it is read into memory: a client's mistake, or a
flood, costs the server nothing.
"""

from __future__ import annotations

import json
from typing import Any, get_args

from pydantic import BaseModel, ConfigDict, model_validator
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from controller.api.errors import error_body

__all__ = ["MAX_BODY_BYTES", "JsonBodyMiddleware", "Strict"]

class Strict(BaseModel):
    """A request body typed strictly: "4" or true is not a number (lax parsing would take true for 1, the
    worst rating), and a field the body does not have is refused. JSON has one kind of number, so 4.0 is
    the integer 4, as JSON Schema (and so the OpenAPI document) says."""

    model_config = ConfigDict(extra="forbid", strict=True)

    @model_validator(mode="before")
    @classmethod
    def _integral_numbers(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        whole = {name for name, field in cls.model_fields.items() if _takes_int(field.annotation)}
        return {k: int(v) if k in whole and isinstance(v, float) and v.is_integer() else v for k, v in data.items()}


def _takes_int(annotation: Any) -> bool:
    return annotation is int or int in get_args(annotation)


MAX_BODY_BYTES = 64 * 1024
_WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def _is_json(content_type: str) -> bool:
    media = content_type.partition(";")[0].strip().lower()
    return media == "application/json" or (media.startswith("application/") and media.endswith("+json"))


async def _refuse(send: Send, status: int, code: str, message: str) -> None:
    body = json.dumps(error_body(code, message)).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


class JsonBodyMiddleware:
    """Refuse API request bodies that are not JSON (415) or larger than MAX_BODY_BYTES (413)."""

    def __init__(self, app: ASGIApp, limit: int = MAX_BODY_BYTES) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in _WRITES or not scope["path"].startswith("/api/"):
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        declared = headers.get("content-length", "")
        if declared.isdigit() and int(declared) > self.limit:
            await _refuse(send, 413, "payload_too_large", f"a request body may have at most {self.limit} bytes")
            return
        # read the body here (at most the limit), so a body without a declared length is held to it too
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                await self.app(scope, _replay([message], receive), send)  # the client left: let the app see it
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.limit:
                await _refuse(send, 413, "payload_too_large", f"a request body may have at most {self.limit} bytes")
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        if size and not _is_json(headers.get("content-type", "")):
            await _refuse(send, 415, "unsupported_media_type",
                          "send the body as JSON with Content-Type: application/json")
            return
        body = b"".join(chunks)
        try:
            body.decode("utf-8")
        except UnicodeDecodeError as exc:
            # JSON between systems is UTF-8 (RFC 8259); other bytes are malformed JSON like any other (not 400)
            await _refuse(send, 422, "malformed_json", f"the body is not UTF-8 (byte {exc.start})")
            return
        whole: Message = {"type": "http.request", "body": body, "more_body": False}
        await self.app(scope, _replay([whole], receive), send)


def _replay(first: list[Message], receive: Receive) -> Receive:
    """A receive that hands back what was already read, then goes on with the client's."""
    pending = list(first)

    async def replayed() -> Message:
        if pending:
            return pending.pop(0)
        return await receive()

    return replayed
