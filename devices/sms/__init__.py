"""Text messages to citizens' phones: one small contract, a webhook driver for an SMS gateway, a log driver.

    contract.py  TextMessage (a checked phone number and a short text), SmsSender, mask()
    webhook.py   WebhookSender: POST {"to", "text"} to the gateway's URL, timeouts, retries with backoff
    log.py       LogSender: logs each text with a masked number (the demo, `make run`), keeps what it sent
    wording.py   the texts, Vietnamese first (pure)
    address.py   `--sms none|log|webhook:URL` parsed once
"""

from devices.sms.address import SmsAddress, parse_sms_address
from devices.sms.contract import SmsSender, TextMessage, mask
from devices.sms.log import LogSender
from devices.sms.webhook import RetryPolicy, WebhookSender

__all__ = [
    "LogSender",
    "RetryPolicy",
    "SmsAddress",
    "SmsSender",
    "TextMessage",
    "WebhookSender",
    "mask",
    "parse_sms_address",
]
