"""ZnsSender: Zalo's notification service (ZNS), a template-message gateway most Vietnamese phones can receive.

    POST URL (https://business.openapi.zalo.me/message/template)
         headers  access_token: TOKEN, content-type: application/json
         body     {"phone": "84912345678", "template_id": ID, "template_data": {name: value},
                   "tracking_id": a fresh id per message}
    200 {"error": 0, ...}              sent
    200 {"error": -118, ...} and kin   the recipient cannot get it (no Zalo account, blocked the
                                       service, ...): RecipientRefused at once
    200 {"error": other, ...}          the platform refuses (token, quota, template): ProtocolError
    429, 5xx, timeout, refused         retried with backoff (http.py), then DeviceTimeout / DeviceUnavailable

A text goes by ZNS only as the template the centre registered for its kind
(devices/sms/wording.py TEMPLATES; ids from --zns-templates), to a Vietnamese
mobile number (0912345678 and +84912345678 both become 84912345678). Anything else
is refused (ProtocolError) for the fallback driver to send (devices/sms/fallback.py).

The access token is Zalo's OA token: from MOTCUA_ZNS_TOKEN, or read from the file
MOTCUA_ZNS_TOKEN_FILE names whenever that file changes, so a job that refreshes it
(Zalo's tokens last about a day) need not restart the controller. Errors never carry
the phone number or the token.
"""

from __future__ import annotations

import asyncio
import os
import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

import httpx

from devices.errors import ProtocolError
from devices.sms.contract import TextMessage
from devices.sms.http import DEFAULT_RETRY, HttpSender, RetryPolicy, post_json

__all__ = ["RECIPIENT_ERRORS", "RecipientRefused", "ZnsSender", "ZnsToken", "zns_phone"]

# ZNS's codes for a recipient that cannot or will not receive the message (the platform is fine).
RECIPIENT_ERRORS: Final[Mapping[int, str]] = {
    -108: "the phone number is not valid for Zalo",
    -118: "no active Zalo account on this number",
    -119: "this Zalo account cannot receive ZNS",
    -139: "the user refused this kind of message",
    -141: "the user refused messages from this account",
}
_VN_MOBILE: Final = re.compile(r"^(?:0|\+?84)([1-9][0-9]{8})$")


class RecipientRefused(ProtocolError):
    """ZNS cannot reach this recipient (no Zalo, refused): another channel may."""


def zns_phone(phone: str) -> str:
    """A Vietnamese mobile number as ZNS takes it: 84 and the 9-digit subscriber number; ValueError otherwise."""
    match = _VN_MOBILE.match(phone)
    if match is None:
        raise ValueError("ZNS reaches Vietnamese mobile numbers only (0xxxxxxxxx, +84xxxxxxxxx)")
    return "84" + match.group(1)


@dataclass
class ZnsToken:
    """Where the access token comes from: a fixed value, or a file read again when it changes."""

    value: str = ""
    path: Path | None = None
    _mtime: float = field(default=-1.0, repr=False)

    @classmethod
    def from_env(cls, env: Mapping[str, str] = os.environ) -> ZnsToken:
        """MOTCUA_ZNS_TOKEN_FILE when set, else MOTCUA_ZNS_TOKEN."""
        path = env.get("MOTCUA_ZNS_TOKEN_FILE", "")
        return cls(path=Path(path)) if path else cls(value=env.get("MOTCUA_ZNS_TOKEN", ""))

    def __repr__(self) -> str:  # the token itself never shows
        return f"ZnsToken(path={self.path!r})"

    async def current(self) -> str:
        """The token to send now (the file is looked at off the event loop)."""
        if self.path is not None:
            self.value, self._mtime = await asyncio.to_thread(self._read)
        if not self.value:
            raise ProtocolError("ZNS has no access token (MOTCUA_ZNS_TOKEN or MOTCUA_ZNS_TOKEN_FILE)")
        return self.value

    def _read(self) -> tuple[str, float]:
        assert self.path is not None
        try:
            mtime = self.path.stat().st_mtime
            if mtime == self._mtime:
                return self.value, mtime
            return self.path.read_text(encoding="utf-8").strip(), mtime
        except OSError as exc:
            raise ProtocolError(f"ZNS token file {self.path}: {exc.strerror}") from None


class ZnsSender(HttpSender):
    """Sends citizen texts as ZNS template messages; `async with` owns its HTTP client unless one is given."""

    def __init__(
        self,
        url: str,
        *,
        token: ZnsToken,
        templates: Mapping[str, str],
        retry: RetryPolicy = DEFAULT_RETRY,
        client: httpx.AsyncClient | None = None,
    ) -> None:
        super().__init__(url, retry, client)
        self.token = token
        self.templates = dict(templates)  # wording kind -> the id Zalo gave its registered template

    async def send(self, message: TextMessage) -> None:
        wording = message.wording
        if wording is None:
            raise ProtocolError("ZNS sends registered templates only: this text has none")
        template_id = self.templates.get(wording.kind)
        if template_id is None:
            raise ProtocolError(f"no ZNS template is registered for the {wording.kind} text")
        try:
            phone = zns_phone(message.to)
        except ValueError as exc:
            raise RecipientRefused(str(exc)) from None
        body = {"phone": phone, "template_id": template_id, "template_data": dict(wording.params),
                "tracking_id": uuid.uuid4().hex}
        response = await post_json(self._client, self.url, body, {"access_token": await self.token.current()},
                                   self.retry, "ZNS")
        if not response.is_success:
            raise ProtocolError(f"ZNS {self.url} answered {response.status_code}")
        try:
            error = int(response.json()["error"])
        except (ValueError, KeyError, TypeError):
            raise ProtocolError(f"ZNS {self.url} answered without an error code") from None
        if error == 0:
            return
        if error in RECIPIENT_ERRORS:
            raise RecipientRefused(f"ZNS error {error}: {RECIPIENT_ERRORS[error]}")
        raise ProtocolError(f"ZNS {self.url} refused the message: error {error}")
