"""The texts a citizen receives, Vietnamese first with full marks, English second. Pure.

Kept short: Vietnamese with marks goes out as Unicode SMS (70 characters a part),
so a long site name is cut rather than making a fourth part.
"""

from __future__ import annotations

from typing import Final

from devices.sms.contract import MAX_TEXT

__all__ = ["ahead_text", "called_text"]

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
