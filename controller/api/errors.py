"""Every error leaves as {"error": {"code", "message"}} with a fitting status."""

from __future__ import annotations

import re
from typing import Any

from fastapi import FastAPI, Request, WebSocket
from fastapi.exceptions import RequestValidationError, ValidationException, WebSocketRequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from controller.core.errors import DomainError
from controller.store.base import StoreError

__all__ = ["ApiError", "error_body", "install_error_handlers", "refuse_websocket"]


class ApiError(Exception):
    """An error raised by the API layer itself (auth, headers)."""

    def __init__(self, status: int, code: str, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers or {}


def error_body(code: str, message: str) -> dict[str, Any]:
    return {"error": {"code": code, "message": message}}


_HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "invalid_request",
    429: "too_many_requests",
}


async def refuse_websocket(websocket: WebSocket, error: DomainError | ApiError, close_code: int) -> None:
    """Refuse a WebSocket handshake as the HTTP API refuses a request: the status and the error JSON.

    A server without the denial-response extension can only close: then `close_code` says why.
    """
    message = error.message
    try:
        body = JSONResponse(error_body(error.code, message), status_code=error.status)
        await websocket.send_denial_response(body)
    except RuntimeError:
        await websocket.close(code=close_code, reason=message[:120])


def _allowed_methods(request: Request, exc: StarletteHTTPException) -> list[str]:
    """Every method the path takes: Starlette names only the first matching route's, so the API's other
    routes of the same path are read from the OpenAPI document."""
    allow = (exc.headers or {}).get("Allow", "")
    methods = {m.strip().upper() for m in allow.split(",") if m.strip()}
    for template, operations in request.app.openapi()["paths"].items():
        pattern = re.sub(r"\\\{[^/]+?\\\}", "[^/]+", re.escape(template))
        if re.fullmatch(pattern, request.url.path):
            methods |= {method.upper() for method in operations}
    if "GET" in methods:
        methods.add("HEAD")  # Starlette answers HEAD wherever GET is
    return sorted(methods)


def _describe(exc: ValidationException) -> str:
    parts = []
    for err in exc.errors()[:5]:
        where = ".".join(str(p) for p in err.get("loc", ()) if p != "body")
        parts.append(f"{where or 'body'}: {err.get('msg', 'invalid')}")
    return "; ".join(parts) or "invalid request"


def install_error_handlers(app: FastAPI) -> None:
    """Translate domain, API, validation and HTTP errors into the contract's JSON."""

    @app.exception_handler(DomainError)
    async def domain_error(_: Request, exc: DomainError) -> JSONResponse:
        return JSONResponse(error_body(exc.code, exc.message), status_code=exc.status)

    @app.exception_handler(ApiError)
    async def api_error(_: Request, exc: ApiError) -> JSONResponse:
        headers = {**exc.headers, **({"WWW-Authenticate": "Bearer"} if exc.status == 401 else {})}
        return JSONResponse(error_body(exc.code, exc.message), status_code=exc.status, headers=headers)

    @app.exception_handler(RequestValidationError)
    async def validation_error(_: Request, exc: RequestValidationError) -> JSONResponse:
        malformed = any(e.get("type") == "json_invalid" for e in exc.errors())
        code = "malformed_json" if malformed else "invalid_request"
        return JSONResponse(error_body(code, _describe(exc)), status_code=422)

    @app.exception_handler(WebSocketRequestValidationError)
    async def websocket_validation_error(websocket: WebSocket, exc: WebSocketRequestValidationError) -> None:
        await refuse_websocket(websocket, ApiError(422, "invalid_request", _describe(exc)), close_code=1008)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = _HTTP_CODES.get(exc.status_code, "error")
        headers = dict(exc.headers or {})
        if exc.status_code == 405:
            headers["Allow"] = ", ".join(_allowed_methods(request, exc))
        return JSONResponse(error_body(code, str(exc.detail)), status_code=exc.status_code, headers=headers)

    @app.exception_handler(StoreError)
    async def store_error(_: Request, exc: StoreError) -> JSONResponse:
        # Nothing was committed, so nothing changed: the client may retry with its Idempotency-Key.
        return JSONResponse(error_body("store_unavailable", str(exc)), status_code=503)
