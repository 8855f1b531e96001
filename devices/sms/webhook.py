"""WebhookSender: an SMS gateway reached by an HTTP POST of {"to": NUMBER, "text": TEXT}.

    POST URL   content-type: application/json, plus the auth header when one is set
    2xx        sent
    429, 5xx, timeout, connection refused
               retried with exponential backoff, then DeviceTimeout / DeviceUnavailable
    other 4xx  the gateway refuses this message: ProtocolError at once (a retry would be refused too)

Errors never carry the phone number (the URL, the status and the gateway's reason only).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import httpx

from devices.errors import DeviceError, DeviceTimeout, DeviceUnavailable, ProtocolError
from devices.sms.contract import TextMessage

__all__ = ["RetryPolicy", "WebhookSender"]


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How hard to try one text: attempts, the first backoff (doubled each time), per-request timeout."""

    attempts: int = 3
    first_delay_s: float = 0.5
    timeout_s: float = 5.0

    def __post_init__(self) -> None:
        if self.attempts < 1 or self.first_delay_s < 0 or self.timeout_s <= 0:
            raise ValueError("attempts >= 1, first_delay_s >= 0 and timeout_s > 0")


class WebhookSender:
    """POSTs texts to an SMS gateway; `async with` owns its HTTP client unless one is given."""

    def __init__(
        self,
        url: str,
        *,
        auth_header: tuple[str, str] | None = None,
        retry: RetryPolicy = RetryPolicy(),
        client: httpx.AsyncClient | None = None,
    ) -> None:
        self.url = url
        self.retry = retry
        self._headers = dict([auth_header]) if auth_header else {}
        self._own_client = client is None
        self._client = client or httpx.AsyncClient(timeout=retry.timeout_s, trust_env=False)

    async def __aenter__(self) -> WebhookSender:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the HTTP client this sender made."""
        if self._own_client:
            await self._client.aclose()

    async def send(self, message: TextMessage) -> None:
        delay = self.retry.first_delay_s
        for attempt in range(1, self.retry.attempts + 1):
            try:
                await self._post(message)
                return
            except ProtocolError:
                raise
            except DeviceError:
                if attempt == self.retry.attempts:
                    raise
            await asyncio.sleep(delay)
            delay *= 2

    async def _post(self, message: TextMessage) -> None:
        try:
            response = await self._client.post(
                self.url, json={"to": message.to, "text": message.text}, headers=self._headers,
                timeout=self.retry.timeout_s,
            )
        except httpx.TimeoutException:
            raise DeviceTimeout(f"SMS gateway {self.url} did not answer in {self.retry.timeout_s} s") from None
        except httpx.HTTPError as exc:
            raise DeviceUnavailable(f"SMS gateway {self.url}: {type(exc).__name__}") from None
        if response.is_success:
            return
        reason = f"SMS gateway {self.url} answered {response.status_code}"
        if response.status_code == 429 or response.status_code >= 500:
            raise DeviceUnavailable(reason)
        raise ProtocolError(reason)
