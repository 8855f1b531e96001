"""What tests hold to the kiosk's scanner, and a test server's clock set to a working morning."""

from __future__ import annotations

import datetime as dt
import time

import httpx

from tests.server import ServerProcess, login

__all__ = ["ADDRESS", "card_number", "card_qr", "to_morning"]

ADDRESS = "Số 12, ngõ 34 phố Hàng Bạc, phường Hoàn Kiếm, Hà Nội"
HANOI = dt.timezone(dt.timedelta(hours=7))


def card_number(birth: dt.date, male: bool, province: int = 1, serial: int = 123456) -> str:
    """A 12-digit number as the police issue it: province, century and sex, year of birth, a serial."""
    century = (birth.year // 100 - 19) * 2 + (0 if male else 1)
    return f"{province:03d}{century}{birth.year % 100:02d}{serial:06d}"


def card_qr(number: str, name: str, birth: dt.date, issued: str = "15082021", old: str = "") -> str:
    """The chip ID card's QR text, as its scanner types it."""
    return f"{number}|{old}|{name}|{birth:%d%m%Y}|Nam|{ADDRESS}|{issued}"


def to_morning(server: ServerProcess, at: dt.time = dt.time(8, 0)) -> dt.datetime:
    """Move a `--test-clock` server to the next Monday-to-Friday `at` in Hanoi (the clock only moves forward)."""
    now = dt.datetime.fromtimestamp(time.time(), HANOI)
    target = dt.datetime.combine(now.date(), at, HANOI)
    while target <= now + dt.timedelta(minutes=1) or target.weekday() >= 5:
        target += dt.timedelta(days=1)
    admin = login(server.url, "admin", "demo")
    left = (target - now).total_seconds()
    while left > 0:
        step = min(left, 86400.0)
        httpx.post(f"{server.url}/api/v1/_test/clock", json={"advance_s": step}, headers=admin,
                   timeout=10).raise_for_status()
        left -= step
    return target
