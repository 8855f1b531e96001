"""`--sms none|log|webhook:URL`: which SMS driver the controller uses, checked once at start-up.

The gateway's secret is never on the command line (`ps` shows it): the webhook
sends `Authorization: Bearer $MOTCUA_SMS_TOKEN`, or `$MOTCUA_SMS_AUTH_HEADER: $MOTCUA_SMS_TOKEN`
when the gateway wants its own header.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal
from urllib.parse import urlsplit

__all__ = ["SmsAddress", "parse_sms_address"]

TOKEN_ENV = "MOTCUA_SMS_TOKEN"
HEADER_ENV = "MOTCUA_SMS_AUTH_HEADER"


@dataclass(frozen=True, slots=True)
class SmsAddress:
    """A parsed --sms value."""

    kind: Literal["none", "log", "webhook"]
    url: str = ""

    def auth_header(self, env: Mapping[str, str] = os.environ) -> tuple[str, str] | None:
        """The header the gateway authenticates with, from the environment (None without a token)."""
        token = env.get(TOKEN_ENV, "")
        if not token:
            return None
        name = env.get(HEADER_ENV, "") or "Authorization"
        return (name, f"Bearer {token}" if name.lower() == "authorization" else token)


def parse_sms_address(spec: str) -> SmsAddress:
    """none | log | webhook:http(s)://HOST[:PORT]/PATH; ValueError with the reason otherwise."""
    if spec in ("none", "log"):
        return SmsAddress(spec)  # type: ignore[arg-type]
    kind, _, url = spec.partition(":")
    parts = urlsplit(url)
    if kind != "webhook" or parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"--sms must be none, log or webhook:http(s)://HOST/PATH, got {spec!r}")
    return SmsAddress("webhook", url)
