"""The contract of every text driver: `await send(TextMessage)`, DeviceError when it did not go out.

A message carries its text and, when it is one of the citizen texts (devices/sms/wording.py),
the template it was filled from: an SMS driver sends the text, a template gateway (ZNS) the
template's id and parameters. A phone number is personal data: TextMessage hides it from
repr() and str(), so a message that ends up in a log line or a traceback shows only mask(number).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Final, Protocol

from devices.sms.wording import MAX_TEXT, Wording

__all__ = ["MAX_TEXT", "PHONE_PATTERN", "SmsSender", "TextMessage", "mask"]

# the API's pattern for a phone number (controller/api/routes.py IssueBody)
PHONE_PATTERN: Final = re.compile(r"^\+?[0-9]{8,15}$")


def mask(phone: str) -> str:
    """The number as logs may show it: the first three and last two digits only."""
    digits = phone.lstrip("+")
    return f"{phone[: len(phone) - len(digits)]}{digits[:3]}{'*' * max(0, len(digits) - 5)}{digits[-2:]}"


@dataclass(frozen=True, slots=True)
class TextMessage:
    """One text to one phone."""

    to: str = field(repr=False)
    text: str
    wording: Wording | None = None  # the template the text was filled from, when it is one

    def __post_init__(self) -> None:
        if not PHONE_PATTERN.match(self.to):
            raise ValueError("a phone number is 8 to 15 digits, optionally after +")
        if not self.text.strip() or len(self.text) > MAX_TEXT:
            raise ValueError(f"a text has 1 to {MAX_TEXT} characters, got {len(self.text)}")
        if self.wording is not None and self.wording.text != self.text:
            raise ValueError("a text and its template must say the same")

    @classmethod
    def of(cls, to: str, wording: Wording) -> TextMessage:
        """The message of a citizen text: its filled-in text and its template."""
        return cls(to, wording.text, wording)

    def __repr__(self) -> str:
        kind = "" if self.wording is None else f", kind={self.wording.kind!r}"
        return f"TextMessage(to={mask(self.to)!r}, text={self.text!r}{kind})"

    __str__ = __repr__


class SmsSender(Protocol):
    """Sends texts; raises devices.errors.DeviceError when a text did not go out."""

    async def send(self, message: TextMessage) -> None:
        """Deliver message to the gateway (or wherever this driver puts it)."""
