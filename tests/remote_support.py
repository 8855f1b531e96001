"""What the tests of numbers taken from a phone share: a client per loopback address, the texted code, refusals."""

from __future__ import annotations

import re
import time
from typing import Any

import httpx

from tests.server import ServerProcess
from tests.sms_gateway import Gateway

__all__ = ["codes_texted", "error_of", "remote_client", "take_remote", "texted_code"]


def remote_client(server: ServerProcess, address: str) -> httpx.Client:
    """A client from its own loopback address: each test has its own per-address bucket."""
    return httpx.Client(base_url=server.url, timeout=10, transport=httpx.HTTPTransport(local_address=address))


def codes_texted(gateway: Gateway, phone: str) -> list[str]:
    """The one-time codes texted to `phone` so far, oldest first ("come now" texts are not codes)."""
    return [m.group(1) for text in gateway.texts(phone) if (m := re.search(r"là (\d{6}),", text))]


def texted_code(gateway: Gateway, phone: str, before: int, timeout_s: float = 10.0) -> str:
    """The code texted to `phone` once it holds more than `before` codes."""
    deadline = time.monotonic() + timeout_s
    while len(codes := codes_texted(gateway, phone)) <= before:
        assert time.monotonic() < deadline, f"no new code for the phone: {gateway.texts(phone)}"
        time.sleep(0.02)
    return codes[-1]


def take_remote(c: httpx.Client, gateway: Gateway, base: str, phone: str, procedure: str = "ht-khai-sinh",
                travel_min: int = 20, headers: dict[str, str] | None = None, **extra: Any) -> httpx.Response:
    """Ask for a code, read it off the gateway, take the number (`extra`: more of the body, e.g. date)."""
    before = len(codes_texted(gateway, phone))
    assert c.post(f"{base}/remote/code", json={"phone": phone}).status_code == 202
    code = texted_code(gateway, phone, before)
    return c.post(f"{base}/remote/tickets", headers=headers or {},
                  json={"procedure": procedure, "phone": phone, "code": code, "travel_min": travel_min, **extra})


def error_of(response: httpx.Response, status: int, code: str) -> str:
    """Assert a refusal's status and code; its message."""
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert error["code"] == code, error
    return str(error["message"])
