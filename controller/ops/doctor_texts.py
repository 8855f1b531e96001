"""`motcua doctor` on the texts to citizens: the gateway of each channel (--sms, --sms-fallback), ZNS's token
and templates.

A gateway is checked by opening a connection to it, never by sending a text: a
message would reach a citizen (or cost the centre). What else can go wrong is read
from the settings and the environment the doctor runs with: ZNS's access token (its
file, when the controller reads it from one, must be readable, not empty and fresh:
Zalo's tokens last about a day), and a template id for every text the controller
sends (devices/sms/wording.py TEMPLATES); a text without one goes by the fallback.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Final
from urllib.parse import urlsplit

from controller.ops.checks import FAIL, OK, WARN, Check, reachable
from devices.sms.address import TOKEN_ENV, SmsAddress, SmsChannels
from devices.sms.wording import TEMPLATES

__all__ = ["TOKEN_STALE_S", "check_texts"]

# Zalo's access tokens last about a day: a token file older than this was not refreshed in time.
TOKEN_STALE_S: Final = 24 * 3600.0


def _gateway(address: SmsAddress, name: str, env: Mapping[str, str],
             probe: Callable[[str, int], str | None]) -> Check:
    """The gateway of a webhook or ZNS channel answers on its port (a webhook's: and has its token)."""
    parts = urlsplit(address.url)
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    zns = address.kind == "zns"
    label_vi, label_en = ("cổng ZNS (Zalo)", "ZNS gateway (Zalo)") if zns else ("cổng SMS", "texts gateway")
    error = probe(host, port)
    if error is not None:
        return Check(FAIL, name, f"{label_vi} {host}:{port} không trả lời ({error})",
                     f"{label_en} {host}:{port} unreachable: {error}",
                     f"kiểm tra mạng/tường lửa tới {host}:{port}", f"check the network or firewall to {host}:{port}")
    if zns or env.get(TOKEN_ENV):
        return Check(OK, name, f"{label_vi} {host}:{port} trả lời", f"{label_en} {host}:{port} answers")
    return Check(WARN, name, f"{label_vi} {host}:{port} trả lời, thiếu {TOKEN_ENV}",
                 f"{label_en} {host}:{port} answers, {TOKEN_ENV} not set",
                 f"đặt {TOKEN_ENV} trong môi trường của dịch vụ (systemd EnvironmentFile)",
                 f"set {TOKEN_ENV} in the service's environment (systemd EnvironmentFile)")


def _zns_token(env: Mapping[str, str], now: float) -> Check:
    """Zalo's access token: from MOTCUA_ZNS_TOKEN_FILE (readable, not empty, refreshed within a day) or the
    environment."""
    path = env.get("MOTCUA_ZNS_TOKEN_FILE", "")
    if path:
        try:
            token = Path(path).read_text(encoding="utf-8").strip()
            age_h = (now - Path(path).stat().st_mtime) / 3600
        except OSError as exc:
            return Check(FAIL, "zns-token", f"không đọc được tệp mã truy cập {path} ({exc.strerror})",
                         f"cannot read the token file {path}: {exc.strerror}",
                         "kiểm tra đường dẫn và quyền đọc (người dùng motcua)",
                         "check the path and that user motcua may read it")
        if not token:
            return Check(FAIL, "zns-token", f"tệp mã truy cập {path} trống", f"the token file {path} is empty",
                         "chạy việc làm mới mã truy cập Zalo (OA) ghi vào tệp này",
                         "run the job that refreshes Zalo's OA token into this file")
        if age_h * 3600 > TOKEN_STALE_S:
            return Check(WARN, "zns-token", f"tệp mã truy cập {path} không đổi đã {age_h:.0f} giờ (mã Zalo hết hạn "
                                            "sau khoảng một ngày)",
                         f"the token file {path} has not changed for {age_h:.0f} h (Zalo's tokens last about a day)",
                         "kiểm tra việc làm mới mã (cron/systemd timer) có chạy không",
                         "check that the refresh job (cron or systemd timer) runs")
        return Check(OK, "zns-token", f"tệp mã truy cập {path} có mã, làm mới {age_h:.1f} giờ trước",
                     f"the token file {path} holds a token, refreshed {age_h:.1f} h ago")
    if env.get("MOTCUA_ZNS_TOKEN"):
        return Check(WARN, "zns-token", "có MOTCUA_ZNS_TOKEN cố định: mã Zalo hết hạn sau khoảng một ngày",
                     "MOTCUA_ZNS_TOKEN is a fixed token: Zalo's tokens last about a day",
                     "dùng MOTCUA_ZNS_TOKEN_FILE và một việc làm mới mã ghi vào tệp đó (không cần khởi động lại)",
                     "use MOTCUA_ZNS_TOKEN_FILE with a job that refreshes it (no restart needed)")
    return Check(FAIL, "zns-token", "thiếu mã truy cập Zalo (MOTCUA_ZNS_TOKEN hoặc MOTCUA_ZNS_TOKEN_FILE)",
                 "Zalo's access token is missing (MOTCUA_ZNS_TOKEN or MOTCUA_ZNS_TOKEN_FILE)",
                 "đặt MOTCUA_ZNS_TOKEN_FILE trong môi trường của dịch vụ", "set MOTCUA_ZNS_TOKEN_FILE for the service")


def _zns_templates(channels: SmsChannels) -> Check:
    """A registered template for each text the controller sends; without one, the text needs the fallback."""
    missing = [kind for kind in TEMPLATES if kind not in channels.templates]
    if not missing:
        return Check(OK, "zns-templates", f"đủ {len(TEMPLATES)} mẫu tin", f"all {len(TEMPLATES)} templates given")
    names = ", ".join(missing)
    fix_vi = f"đăng ký mẫu tin với Zalo rồi thêm vào zns_templates: {names}"
    fix_en = f"register the templates with Zalo and add them to zns_templates: {names}"
    if channels.fallback.kind == "webhook":
        return Check(WARN, "zns-templates", f"chưa có mẫu tin ZNS cho {names}: các tin này gửi bằng SMS",
                     f"no ZNS template for {names}: those texts go by SMS", fix_vi, fix_en)
    return Check(FAIL, "zns-templates", f"chưa có mẫu tin ZNS cho {names}: các tin này không đến được người dân",
                 f"no ZNS template for {names}: those texts reach nobody", fix_vi, fix_en)


def _fallback(channels: SmsChannels, env: Mapping[str, str], probe: Callable[[str, int], str | None]) -> list[Check]:
    """What the first channel could not deliver goes by the fallback: after ZNS, it must be SMS."""
    second = channels.fallback
    if second.kind == "webhook":
        return [_gateway(second, "sms-fallback", env, probe)]
    if channels.first.kind != "zns":
        return []
    what_vi = "không có kênh dự phòng" if second.kind == "none" else "kênh dự phòng chỉ ghi nhật ký"
    what_en = "no fallback channel" if second.kind == "none" else "the fallback only logs"
    return [Check(WARN, "sms-fallback", f"{what_vi}: người không dùng Zalo, hoặc khi ZNS lỗi, không nhận được tin",
                  f"{what_en}: a phone without Zalo, or any text while ZNS fails, gets nothing",
                  'đặt sms_fallback = "webhook:URL" (cổng SMS)', 'set sms_fallback = "webhook:URL" (an SMS gateway)')]


def check_texts(channels: SmsChannels, env: Mapping[str, str] = os.environ, now: float | None = None,
                probe: Callable[[str, int], str | None] = reachable) -> list[Check]:
    """The lines of the text channels: none without texts or with the log only (the demo)."""
    first = channels.first
    if first.kind == "webhook":
        return [_gateway(first, "sms", env, probe), *_fallback(channels, env, probe)]
    if first.kind != "zns":
        return []
    return [_gateway(first, "zns", env, probe), _zns_token(env, time.time() if now is None else now),
            _zns_templates(channels), *_fallback(channels, env, probe)]
