"""LogSender: the demo's SMS driver. Each text goes to the log with a masked number, and is kept.

It is also the shipped fake of the SMS contract: tests read `sent` to see what
would have reached a gateway.
"""

from __future__ import annotations

import logging
from collections import deque

from devices.sms.contract import TextMessage, mask

__all__ = ["LogSender"]

log = logging.getLogger("motcua.sms")


class LogSender:
    """Logs each text (masked number) and remembers the last `keep` of them."""

    def __init__(self, keep: int = 1000) -> None:
        self.sent: deque[TextMessage] = deque(maxlen=keep)

    async def send(self, message: TextMessage) -> None:
        log.info("SMS to %s: %s", mask(message.to), message.text)
        self.sent.append(message)
