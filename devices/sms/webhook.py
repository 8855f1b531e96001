"""WebhookSender: an SMS gateway reached by an HTTP POST of {"to": NUMBER, "text": TEXT}.

    POST URL   content-type: application/json, plus the auth header when one is set
    2xx        sent
    429, 5xx, timeout, connection refused
               retried with exponential backoff, then DeviceTimeout / DeviceUnavailable (http.py)
    other 4xx  the gateway refuses this message: ProtocolError at once (a retry would be refused too)

Errors never carry the phone number (the URL, the status and the gateway's reason only).
"""

from __future__ import annotations

import httpx

from devices.errors import ProtocolError
from devices.sms.contract import TextMessage
from devices.sms.http import DEFAULT_RETRY, HttpSender, RetryPolicy, post_json

__all__ = ["RetryPolicy", "WebhookSender"]


class WebhookSender(HttpSender):
    """POSTs texts to an SMS gateway; `async with` owns its HTTP client unless one is given."""

    def __init__(
        self,
        url: str,
        *,
        auth_header: tuple[str, str] | None = None,
        retry: RetryPolicy = DEFAULT_RETRY,
        client: httpx.AsyncClient | None = None,
    ) -> None:
        super().__init__(url, retry, client)
        self._headers = dict([auth_header]) if auth_header else {}

    async def send(self, message: TextMessage) -> None:
        response = await post_json(self._client, self.url, {"to": message.to, "text": message.text}, self._headers,
                                   self.retry, "SMS gateway")
        if not response.is_success:
            raise ProtocolError(f"SMS gateway {self.url} answered {response.status_code}")
