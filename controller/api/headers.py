"""Security headers on every HTTP response: a strict Content-Security-Policy and its companions.

The kiosk keeps its key in localStorage, so script running on this origin is as good as the
key. The policy allows scripts, styles, images, fonts and connections (fetch, the live
WebSocket) from this origin only: no inline script or style, no foreign origin, no framing.
A response that sets its own policy keeps it (the printable report allows its one inline
style by hash, so the page stays a single self-contained file).
"""

from __future__ import annotations

import base64
import hashlib

from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["CONTENT_SECURITY_POLICY", "SECURITY_HEADERS", "SecurityHeadersMiddleware", "csp_with_style"]


def _policy(style_src: str = "'self'") -> str:
    return "; ".join((
        "default-src 'self'",
        "script-src 'self'",
        f"style-src {style_src}",
        "img-src 'self' data:",  # data: for the pages' empty favicon
        "connect-src 'self'",  # 'self' covers ws:/wss: to this host (CSP level 3)
        "font-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ))


CONTENT_SECURITY_POLICY = _policy()

SECURITY_HEADERS: tuple[tuple[bytes, bytes], ...] = (
    (b"content-security-policy", CONTENT_SECURITY_POLICY.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),  # addresses carry ticket ids and, once, the kiosk key
    (b"x-frame-options", b"DENY"),  # frame-ancestors for browsers older than CSP 2
)


def csp_with_style(style: str) -> str:
    """The policy, also allowing one inline <style> element with exactly this text."""
    digest = base64.b64encode(hashlib.sha256(style.encode()).digest()).decode()
    return _policy(f"'self' 'sha256-{digest}'")


class SecurityHeadersMiddleware:
    """Add SECURITY_HEADERS to every HTTP response that does not set them itself."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                headers.extend((name, value) for name, value in SECURITY_HEADERS if name not in present)
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)
