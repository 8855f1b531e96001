"""`--sms`, `--sms-fallback` and `--zns-templates`: which text drivers the controller uses, checked once at start-up.

    --sms none | log | webhook:URL | zns[:URL]     the first channel
    --sms-fallback none | log | webhook:URL        what the first channel could not deliver goes here
    --zns-templates called=ID,ahead=ID,...         the id Zalo gave each registered template

Secrets are never on the command line (`ps` shows it): the webhook sends
`Authorization: Bearer $MOTCUA_SMS_TOKEN`, or `$MOTCUA_SMS_AUTH_HEADER: $MOTCUA_SMS_TOKEN`
when the gateway wants its own header; ZNS sends `access_token: $MOTCUA_ZNS_TOKEN` (or the
content of the file $MOTCUA_ZNS_TOKEN_FILE, devices/sms/zns.py).
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal
from urllib.parse import urlsplit

from devices.sms.wording import TEMPLATES

__all__ = ["ZNS_URL", "SmsAddress", "SmsChannels", "parse_sms_address", "parse_sms_channels", "parse_zns_templates"]

TOKEN_ENV = "MOTCUA_SMS_TOKEN"
HEADER_ENV = "MOTCUA_SMS_AUTH_HEADER"
ZNS_TOKEN_ENVS = ("MOTCUA_ZNS_TOKEN", "MOTCUA_ZNS_TOKEN_FILE")
ZNS_URL = "https://business.openapi.zalo.me/message/template"
_TEMPLATE_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


@dataclass(frozen=True, slots=True)
class SmsAddress:
    """A parsed --sms or --sms-fallback value."""

    kind: Literal["none", "log", "webhook", "zns"]
    url: str = ""

    def auth_header(self, env: Mapping[str, str] = os.environ) -> tuple[str, str] | None:
        """The header the gateway authenticates with, from the environment (None without a token)."""
        token = env.get(TOKEN_ENV, "")
        if not token:
            return None
        name = env.get(HEADER_ENV, "") or "Authorization"
        return (name, f"Bearer {token}" if name.lower() == "authorization" else token)


def _url(spec: str, url: str, flag: str, words: str) -> str:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"{flag} must be {words}, got {spec!r}")
    return url


def parse_sms_address(spec: str, flag: str = "--sms") -> SmsAddress:
    """none | log | webhook:http(s)://HOST[:PORT]/PATH | zns[:URL]; ValueError with the reason otherwise."""
    words = ("none, log or webhook:http(s)://HOST/PATH" if flag != "--sms"
             else "none, log, webhook:http(s)://HOST/PATH or zns[:http(s)://HOST/PATH]")
    if spec in ("none", "log"):
        return SmsAddress(spec)  # type: ignore[arg-type]
    if spec == "zns" and flag == "--sms":
        return SmsAddress("zns", ZNS_URL)
    kind, _, url = spec.partition(":")
    if kind == "webhook" or (kind == "zns" and flag == "--sms"):
        return SmsAddress(kind, _url(spec, url, flag, words))  # type: ignore[arg-type]
    raise ValueError(f"{flag} must be {words}, got {spec!r}")


def parse_zns_templates(spec: str) -> dict[str, str]:
    """`called=ID,ahead=ID`: the template id of each text kind; ValueError naming a bad part."""
    out: dict[str, str] = {}
    for part in (p.strip() for p in spec.split(",")):
        if not part:
            continue
        kind, _, template_id = part.partition("=")
        kind = kind.strip()
        if kind not in TEMPLATES:
            raise ValueError(f"--zns-templates: unknown text {kind!r}; the texts are {', '.join(TEMPLATES)}")
        if not _TEMPLATE_ID.match(template_id.strip()):
            raise ValueError(f"--zns-templates: {kind} needs a template id (letters, digits, - or _), "
                             f"got {template_id!r}")
        out[kind] = template_id.strip()
    return out


@dataclass(frozen=True, slots=True)
class SmsChannels:
    """The text channels of a controller: the first, the fallback, and ZNS's template ids."""

    first: SmsAddress
    fallback: SmsAddress = SmsAddress("none")
    templates: dict[str, str] = field(default_factory=dict)


def parse_sms_channels(sms: str, fallback: str = "none", templates: str = "",
                       env: Mapping[str, str] = os.environ) -> SmsChannels:
    """The three settings together, or ValueError saying what to fix (checked before anything starts)."""
    first = parse_sms_address(sms)
    second = parse_sms_address(fallback, "--sms-fallback")
    ids = parse_zns_templates(templates)
    if second.kind != "none" and first.kind == "none":
        raise ValueError("--sms-fallback sends what --sms could not: give --sms too")
    if second.kind != "none" and second == first:
        raise ValueError("--sms-fallback must be another channel than --sms")
    if ids and first.kind != "zns":
        raise ValueError("--zns-templates are for --sms zns")
    if first.kind == "zns":
        if not any(env.get(name) for name in ZNS_TOKEN_ENVS):
            raise ValueError("--sms zns needs Zalo's access token: set MOTCUA_ZNS_TOKEN (or MOTCUA_ZNS_TOKEN_FILE)")
        missing = [kind for kind in TEMPLATES if kind not in ids]
        if not ids or (missing and second.kind == "none"):
            raise ValueError(f"--sms zns sends registered templates: give --zns-templates for {', '.join(missing)}, "
                             "or --sms-fallback to send those texts by SMS")
    return SmsChannels(first, second, ids)
