"""One JSON POST to a text gateway, tried again while the gateway is busy or away. Shared by the HTTP drivers.

    2xx and other 4xx    returned to the driver, which reads it (a 4xx refuses this message:
                         a retry would be refused too)
    429, 5xx, timeout, connection refused
                         retried with exponential backoff, then DeviceTimeout / DeviceUnavailable

Errors never carry the phone number (the URL and the status only).
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Self

import httpx

from devices.errors import DeviceError, DeviceTimeout, DeviceUnavailable

__all__ = ["DEFAULT_RETRY", "HttpSender", "RetryPolicy", "post_json"]


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How hard to try one text: attempts, the first backoff (doubled each time), per-request timeout."""

    attempts: int = 3
    first_delay_s: float = 0.5
    timeout_s: float = 5.0

    def __post_init__(self) -> None:
        if self.attempts < 1 or self.first_delay_s < 0 or self.timeout_s <= 0:
            raise ValueError("attempts >= 1, first_delay_s >= 0 and timeout_s > 0")


DEFAULT_RETRY = RetryPolicy()  # 3 tries, 0.5 s then 1 s apart, 5 s each


async def post_json(client: httpx.AsyncClient, url: str, body: Mapping[str, Any], headers: Mapping[str, str],
                    retry: RetryPolicy, name: str) -> httpx.Response:
    """POST `body` until the gateway answers other than busy; `name` words the errors ("SMS gateway")."""
    delay = retry.first_delay_s
    for attempt in range(1, retry.attempts + 1):
        try:
            response = await client.post(url, json=dict(body), headers=dict(headers), timeout=retry.timeout_s)
        except httpx.TimeoutException:
            error: DeviceError = DeviceTimeout(f"{name} {url} did not answer in {retry.timeout_s} s")
        except httpx.HTTPError as exc:
            error = DeviceUnavailable(f"{name} {url}: {type(exc).__name__}")
        else:
            if response.status_code != 429 and response.status_code < 500:
                return response
            error = DeviceUnavailable(f"{name} {url} answered {response.status_code}")
        if attempt == retry.attempts:
            raise error
        await asyncio.sleep(delay)
        delay *= 2
    raise AssertionError("unreachable: the last attempt returns or raises")


class HttpSender:
    """What the HTTP drivers share: a URL, a retry policy, and an HTTP client that `async with` closes when it
    made it (a client passed in is the caller's)."""

    def __init__(self, url: str, retry: RetryPolicy, client: httpx.AsyncClient | None) -> None:
        self.url = url
        self.retry = retry
        self._own_client = client is None
        self._client = client or httpx.AsyncClient(timeout=retry.timeout_s, trust_env=False)

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the HTTP client this sender made."""
        if self._own_client:
            await self._client.aclose()
