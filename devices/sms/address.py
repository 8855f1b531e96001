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

__all__ = ["ZNS_URL", "ChannelError", "SmsAddress", "SmsChannels", "parse_sms_address", "parse_sms_channels",
           "parse_zns_templates"]

TOKEN_ENV = "MOTCUA_SMS_TOKEN"
HEADER_ENV = "MOTCUA_SMS_AUTH_HEADER"
ZNS_TOKEN_ENVS = ("MOTCUA_ZNS_TOKEN", "MOTCUA_ZNS_TOKEN_FILE")
ZNS_URL = "https://business.openapi.zalo.me/message/template"
_TEMPLATE_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


class ChannelError(ValueError):
    """A text channel setting that must stop start-up: its key (sms, sms_fallback, zns_templates), why, vi and en."""

    def __init__(self, key: str, reason_vi: str, reason_en: str) -> None:
        self.key = key
        self.reason_vi = reason_vi
        self.reason_en = reason_en
        super().__init__(reason_en)


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


def parse_sms_address(spec: str, flag: str = "--sms") -> SmsAddress:
    """none | log | webhook:http(s)://HOST[:PORT]/PATH | zns[:URL]; ChannelError with the reason otherwise."""
    first = flag == "--sms"
    if spec in ("none", "log"):
        return SmsAddress(spec)  # type: ignore[arg-type]
    if spec == "zns" and first:
        return SmsAddress("zns", ZNS_URL)
    kind, _, url = spec.partition(":")
    parts = urlsplit(url)
    if (kind == "webhook" or (kind == "zns" and first)) and parts.scheme in ("http", "https") and parts.hostname:
        return SmsAddress(kind, url)  # type: ignore[arg-type]
    zns_vi, zns_en = (" hoặc zns[:http(s)://MÁY/ĐƯỜNG-DẪN]", " or zns[:http(s)://HOST/PATH]") if first else ("", "")
    raise ChannelError(flag.removeprefix("--").replace("-", "_"),
                       f"{flag} phải là none, log, webhook:http(s)://MÁY/ĐƯỜNG-DẪN{zns_vi}, không phải {spec!r}",
                       f"{flag} must be none, log, webhook:http(s)://HOST/PATH{zns_en}, got {spec!r}")


def parse_zns_templates(spec: str) -> dict[str, str]:
    """`called=ID,ahead=ID`: the template id of each text kind; ChannelError naming a bad part."""
    out: dict[str, str] = {}
    texts = ", ".join(TEMPLATES)
    for part in (p.strip() for p in spec.split(",")):
        if not part:
            continue
        kind, _, template_id = part.partition("=")
        kind = kind.strip()
        if kind not in TEMPLATES:
            raise ChannelError("zns_templates", f"--zns-templates: không có tin {kind!r}; các tin là {texts}",
                               f"--zns-templates: unknown text {kind!r}; the texts are {texts}")
        if not _TEMPLATE_ID.match(template_id.strip()):
            raise ChannelError("zns_templates", f"--zns-templates: {kind} cần mã mẫu tin (chữ, số, - hoặc _), "
                                                f"không phải {template_id!r}",
                               f"--zns-templates: {kind} needs a template id (letters, digits, - or _), "
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
    """The three settings together, or ChannelError saying what to fix (checked before anything starts)."""
    first = parse_sms_address(sms)
    second = parse_sms_address(fallback, "--sms-fallback")
    ids = parse_zns_templates(templates)
    if second.kind != "none" and first.kind == "none":
        raise ChannelError("sms_fallback", "--sms-fallback gửi những tin --sms không gửi được: hãy cho cả --sms",
                           "--sms-fallback sends what --sms could not: give --sms too")
    if second.kind != "none" and second == first:
        raise ChannelError("sms_fallback", "--sms-fallback phải là kênh khác --sms",
                           "--sms-fallback must be another channel than --sms")
    if ids and first.kind != "zns":
        raise ChannelError("zns_templates", "--zns-templates chỉ dùng với --sms zns",
                           "--zns-templates are for --sms zns")
    if first.kind == "zns":
        if not any(env.get(name) for name in ZNS_TOKEN_ENVS):
            raise ChannelError("sms", "--sms zns cần mã truy cập của Zalo: đặt MOTCUA_ZNS_TOKEN (hoặc "
                                      "MOTCUA_ZNS_TOKEN_FILE)",
                               "--sms zns needs Zalo's access token: set MOTCUA_ZNS_TOKEN (or MOTCUA_ZNS_TOKEN_FILE)")
        missing = ", ".join(kind for kind in TEMPLATES if kind not in ids)
        if not ids or (missing and second.kind == "none"):
            raise ChannelError("zns_templates", f"--sms zns gửi các mẫu tin đã đăng ký: cho --zns-templates của "
                                                f"{missing}, hoặc --sms-fallback để gửi các tin đó bằng SMS",
                               f"--sms zns sends registered templates: give --zns-templates for {missing}, "
                               "or --sms-fallback to send those texts by SMS")
    return SmsChannels(first, second, ids)
