"""FallbackSender: a text goes by one channel, and by a second one when the first cannot deliver it.

The centre's rule (README, "Texts to citizens"): a text ZNS did not deliver, for
whatever reason, goes by SMS, so nobody misses their call because of the channel:

    recipient    ZNS cannot reach this phone (no Zalo account, refused the service, not a
                 Vietnamese mobile number)
    refused      the platform refused the message (token, quota, a kind with no template)
    unavailable  the platform did not answer after its retries

Each reason is counted (`fell_back`, on /metrics as motcua_sms_fallback_total); an error
of the second channel is the caller's, as from any driver.
"""

from __future__ import annotations

import logging
from collections import Counter

from devices.errors import DeviceError, ProtocolError
from devices.sms.contract import SmsSender, TextMessage
from devices.sms.zns import RecipientRefused

__all__ = ["FALLBACK_REASONS", "FallbackSender"]

log = logging.getLogger("motcua.sms")

FALLBACK_REASONS = ("recipient", "refused", "unavailable")


class FallbackSender:
    """`first`, then `then` for what `first` could not deliver."""

    def __init__(self, first: SmsSender, then: SmsSender) -> None:
        self.first = first
        self.then = then
        self.fell_back: Counter[str] = Counter()

    async def send(self, message: TextMessage) -> None:
        try:
            await self.first.send(message)
            return
        except DeviceError as exc:
            error = exc
        if isinstance(error, RecipientRefused):
            reason = "recipient"
        elif isinstance(error, ProtocolError):
            reason = "refused"
        else:
            reason = "unavailable"
        self.fell_back[reason] += 1
        log.info("text not delivered by the first channel (%s: %s): sent by the second", reason, error)
        await self.then.send(message)
