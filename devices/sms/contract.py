"""The contract of every SMS driver: `await send(TextMessage)`, DeviceError when it did not go out.

A phone number is personal data: TextMessage hides it from repr() and str(), so a
message that ends up in a log line or a traceback shows only mask(number).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Final, Protocol

__all__ = ["MAX_TEXT", "PHONE_PATTERN", "SmsSender", "TextMessage", "mask"]

# the API's pattern for a phone number (controller/api/routes.py IssueBody)
PHONE_PATTERN: Final = re.compile(r"^\+?[0-9]{8,15}$")
# three concatenated SMS of Unicode (UCS-2) text: Vietnamese with marks is never GSM-7
MAX_TEXT: Final = 201


def mask(phone: str) -> str:
    """The number as logs may show it: the first three and last two digits only."""
    digits = phone.lstrip("+")
    return f"{phone[: len(phone) - len(digits)]}{digits[:3]}{'*' * max(0, len(digits) - 5)}{digits[-2:]}"


@dataclass(frozen=True, slots=True)
class TextMessage:
    """One text to one phone."""

    to: str = field(repr=False)
    text: str

    def __post_init__(self) -> None:
        if not PHONE_PATTERN.match(self.to):
            raise ValueError("a phone number is 8 to 15 digits, optionally after +")
        if not self.text.strip() or len(self.text) > MAX_TEXT:
            raise ValueError(f"a text has 1 to {MAX_TEXT} characters, got {len(self.text)}")

    def __repr__(self) -> str:
        return f"TextMessage(to={mask(self.to)!r}, text={self.text!r})"

    __str__ = __repr__


class SmsSender(Protocol):
    """Sends texts; raises devices.errors.DeviceError when a text did not go out."""

    async def send(self, message: TextMessage) -> None:
        """Deliver message to the gateway (or wherever this driver puts it)."""
