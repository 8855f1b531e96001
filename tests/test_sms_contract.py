"""The SMS contract, passed by the webhook driver (against a real local HTTP server) and the log driver;
then what only the webhook does: retries with backoff, timeouts, refusals, a free event loop."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import pytest

from devices.errors import DeviceError, DeviceTimeout, DeviceUnavailable, ProtocolError
from devices.sms import LogSender, RetryPolicy, SmsSender, TextMessage, WebhookSender, mask, parse_sms_address
from tests.services import free_port
from tests.sms_gateway import Gateway, sms_gateway

PHONE = "0912345678"
TEXT = "Trung tâm Phục vụ hành chính công xã: mời số 1001 đến quầy 1. / Number 1001, please go to counter 1."
FAST = RetryPolicy(attempts=3, first_delay_s=0.05, timeout_s=0.5)

Delivered = Callable[[], list[tuple[str, str]]]  # what reached the far side: (to, text)


@pytest.fixture
def gateway() -> Iterator[Gateway]:
    with sms_gateway() as gw:
        yield gw


@contextlib.asynccontextmanager
async def webhook(gateway: Gateway) -> AsyncIterator[tuple[SmsSender, Delivered]]:
    async with WebhookSender(gateway.url, auth_header=("Authorization", "Bearer s3cret"), retry=FAST) as sender:
        yield sender, lambda: [(r["body"]["to"], r["body"]["text"]) for r in gateway.received]


@contextlib.asynccontextmanager
async def logged(_: Gateway) -> AsyncIterator[tuple[SmsSender, Delivered]]:
    sender = LogSender()
    yield sender, lambda: [(m.to, m.text) for m in sender.sent]


DRIVERS = {"webhook": webhook, "log": logged}


@pytest.mark.parametrize("driver", DRIVERS)
def test_a_text_reaches_the_far_side_unchanged(driver: str, gateway: Gateway) -> None:
    async def scenario() -> None:
        async with DRIVERS[driver](gateway) as (sender, delivered):
            await sender.send(TextMessage(PHONE, TEXT))
            await sender.send(TextMessage("+84987654321", "Số 1002 / Number 1002"))
            assert delivered() == [(PHONE, TEXT), ("+84987654321", "Số 1002 / Number 1002")]

    asyncio.run(scenario())


@pytest.mark.parametrize("driver", DRIVERS)
def test_a_message_never_shows_its_number_and_bad_ones_are_refused(driver: str, gateway: Gateway) -> None:
    message = TextMessage(PHONE, TEXT)
    assert PHONE not in repr(message) and PHONE not in str(message) and mask(PHONE) in repr(message)
    assert mask(PHONE) == "091*****78" and mask("+84912345678") == "+849******78"
    for to, text in [("12345", TEXT), (PHONE + "x", TEXT), (PHONE, ""), (PHONE, "x" * 300)]:
        with pytest.raises(ValueError) as refused:
            TextMessage(to, text)
        assert PHONE not in str(refused.value)

    async def scenario() -> None:
        async with DRIVERS[driver](gateway) as (sender, delivered):
            await sender.send(message)
            assert len(delivered()) == 1

    asyncio.run(scenario())


def test_the_webhook_sends_json_with_the_auth_header(gateway: Gateway) -> None:
    async def scenario() -> None:
        async with webhook(gateway) as (sender, _):
            await sender.send(TextMessage(PHONE, TEXT))
        [request] = gateway.received
        assert request["body"] == {"to": PHONE, "text": TEXT}
        assert request["headers"]["Authorization"] == "Bearer s3cret"
        assert request["headers"]["Content-Type"] == "application/json"

    asyncio.run(scenario())


def test_the_webhook_retries_a_busy_gateway_with_backoff(gateway: Gateway) -> None:
    gateway.script = [(503, 0.0), (429, 0.0)]

    async def scenario() -> float:
        async with webhook(gateway) as (sender, delivered):
            started = asyncio.get_running_loop().time()
            await sender.send(TextMessage(PHONE, TEXT))
            assert delivered() == [(PHONE, TEXT)]
            return asyncio.get_running_loop().time() - started

    took = asyncio.run(scenario())
    assert gateway.attempts == 3
    assert took >= 0.05 + 0.1  # backed off 0.05 s, then 0.1 s


@pytest.mark.parametrize(
    ("script", "error", "attempts"),
    [
        ([(500, 0.0)] * 3, DeviceUnavailable, 3),       # down for every try
        ([(400, 0.0)], ProtocolError, 1),               # refused: a retry would be refused too
        ([(200, 1.0)] * 3, DeviceTimeout, 3),           # slower than the timeout
    ],
)
def test_the_webhook_gives_up_with_a_device_error_that_holds_no_number(
    gateway: Gateway, script: list[tuple[int, float]], error: type[DeviceError], attempts: int
) -> None:
    gateway.script = list(script)

    async def scenario() -> None:
        async with webhook(gateway) as (sender, _):
            with pytest.raises(error) as failed:
                await sender.send(TextMessage(PHONE, TEXT))
            assert PHONE not in str(failed.value) and gateway.url in str(failed.value)

    asyncio.run(scenario())
    assert gateway.attempts == attempts


def test_a_gateway_that_is_not_there_is_unavailable() -> None:
    async def scenario() -> None:
        url = f"http://127.0.0.1:{free_port()}/sms"
        async with WebhookSender(url, retry=RetryPolicy(attempts=2, first_delay_s=0.01)) as sender:
            with pytest.raises(DeviceUnavailable):
                await sender.send(TextMessage(PHONE, TEXT))

    asyncio.run(scenario())


def test_a_slow_gateway_never_blocks_the_event_loop(gateway: Gateway) -> None:
    gateway.script = [(200, 0.4)]

    async def scenario() -> int:
        beats = 0

        async def heartbeat() -> None:
            nonlocal beats
            while True:
                await asyncio.sleep(0.01)
                beats += 1

        beating = asyncio.create_task(heartbeat())
        async with webhook(gateway) as (sender, _):
            await sender.send(TextMessage(PHONE, TEXT))
        beating.cancel()
        return beats

    assert asyncio.run(scenario()) >= 15  # the loop kept turning while the gateway took 0.4 s


def test_the_log_driver_logs_a_masked_number(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="motcua.sms")
    asyncio.run(LogSender().send(TextMessage(PHONE, TEXT)))
    assert "091*****78" in caplog.text and TEXT in caplog.text and PHONE not in caplog.text


def test_the_sms_setting_is_parsed_once(monkeypatch: Any) -> None:
    assert parse_sms_address("none").kind == "none" and parse_sms_address("log").kind == "log"
    hook = parse_sms_address("webhook:https://sms.example.vn/send")
    assert (hook.kind, hook.url) == ("webhook", "https://sms.example.vn/send")
    assert hook.auth_header({}) is None
    assert hook.auth_header({"MOTCUA_SMS_TOKEN": "t"}) == ("Authorization", "Bearer t")
    assert hook.auth_header({"MOTCUA_SMS_TOKEN": "t", "MOTCUA_SMS_AUTH_HEADER": "X-Api-Key"}) == ("X-Api-Key", "t")
    for bad in ["sms", "webhook:", "webhook:ftp://x/y", "http://x/y"]:
        with pytest.raises(ValueError, match="--sms must be"):
            parse_sms_address(bad)
