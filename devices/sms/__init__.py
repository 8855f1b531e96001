"""Texts to citizens' phones: one small contract, SMS drivers, a ZNS driver, and a fallback between two.

    contract.py  TextMessage (a checked phone number, a short text, its template), SmsSender, mask()
    wording.py   the texts as templates with parameters, Vietnamese first (pure)
    http.py      one JSON POST with timeouts and retries with backoff (the HTTP drivers share it)
    webhook.py   WebhookSender: POST {"to", "text"} to an SMS gateway's URL
    zns.py       ZnsSender: Zalo notification service, a registered template's id and parameters
    fallback.py  FallbackSender: what the first channel could not deliver goes by the second
    log.py       LogSender: logs each text with a masked number (the demo, `make run`), keeps what it sent
    address.py   `--sms`, `--sms-fallback`, `--zns-templates` parsed once
    senders.py   the sender those settings ask for
"""

from devices.sms.address import SmsAddress, SmsChannels, parse_sms_address, parse_sms_channels
from devices.sms.contract import SmsSender, TextMessage, mask
from devices.sms.fallback import FallbackSender
from devices.sms.http import RetryPolicy
from devices.sms.log import LogSender
from devices.sms.webhook import WebhookSender
from devices.sms.zns import RecipientRefused, ZnsSender, ZnsToken, zns_phone

__all__ = [
    "FallbackSender",
    "LogSender",
    "RecipientRefused",
    "RetryPolicy",
    "SmsAddress",
    "SmsChannels",
    "SmsSender",
    "TextMessage",
    "WebhookSender",
    "ZnsSender",
    "ZnsToken",
    "mask",
    "parse_sms_address",
    "parse_sms_channels",
    "zns_phone",
]
