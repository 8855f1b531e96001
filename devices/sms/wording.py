"""The texts a citizen receives, Vietnamese first with full marks, English second. Pure.

Kept short: Vietnamese with marks goes out as Unicode SMS (70 characters a part),
so a long site name is cut rather than making a fourth part.
"""

from __future__ import annotations

from typing import Final

from devices.sms.contract import MAX_TEXT

__all__ = ["ahead_text", "called_text", "code_text", "come_text"]

SITE_NAME_MAX: Final = 60


def _site(name: str) -> str:
    name = " ".join(name.split())
    return name if len(name) <= SITE_NAME_MAX else name[: SITE_NAME_MAX - 1] + "…"


def _fit(text: str) -> str:
    return text if len(text) <= MAX_TEXT else text[: MAX_TEXT - 1] + "…"


def ahead_text(site_name: str, number: str, ahead: int) -> str:
    """'còn N người trước bạn': the citizen should come back near the counters."""
    people = "1 person" if ahead == 1 else f"{ahead} people"
    return _fit(f"{_site(site_name)}: số {number} còn {ahead} người trước bạn, mời quay lại gần quầy. "
                f"/ Number {number}: {people} ahead of you.")


def called_text(site_name: str, number: str, counter: int) -> str:
    """'mời số X đến quầy Y': the ticket is called now."""
    return _fit(f"{_site(site_name)}: mời số {number} đến quầy {counter}. "
                f"/ Number {number}, please go to counter {counter}.")


def code_text(site_name: str, code: str, minutes: int) -> str:
    """The one-time code that proves the phone is the citizen's (numbers taken from a phone)."""
    return _fit(f"{_site(site_name)}: mã xác nhận lấy số của bạn là {code}, dùng trong {minutes} phút. "
                f"/ Your code to take a number: {code} ({minutes} min).")


def come_text(site_name: str, number: str, minutes: int, ahead: int | None) -> str:
    """'mời đến ngay': a number taken from a phone is about to be called; check in at the kiosk."""
    if ahead is not None and ahead <= 3:
        people = "1 person" if ahead == 1 else f"{ahead} people"
        return _fit(f"{_site(site_name)}: số {number} còn {ahead} người trước bạn, mời đến ngay và quét mã ở ki-ốt. "
                    f"/ Number {number}: {people} ahead, come now and scan at the kiosk.")
    return _fit(f"{_site(site_name)}: số {number} sắp đến lượt (khoảng {minutes} phút), mời đến ngay và quét mã ở "
                f"ki-ốt. / Number {number}: your turn in about {minutes} min, come now and scan at the kiosk.")
