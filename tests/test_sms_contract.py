"""The text contract, passed by the webhook driver and the ZNS driver (each against a real local HTTP
server), ZNS with an SMS fallback, and the log driver; then what only the HTTP drivers do: retries with
backoff, timeouts, refusals, a free event loop; ZNS's template messages and when a text falls back to SMS."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from devices.errors import DeviceError, DeviceTimeout, DeviceUnavailable, ProtocolError
from devices.sms import (
    FallbackSender,
    LogSender,
    RecipientRefused,
    RetryPolicy,
    SmsSender,
    TextMessage,
    WebhookSender,
    ZnsSender,
    ZnsToken,
    mask,
    parse_sms_address,
    parse_sms_channels,
    zns_phone,
)
from devices.sms.wording import TEMPLATES, called_text, code_text, come_text
from tests.services import free_port
from tests.sms_gateway import ZNS_IDS, ZNS_TOKEN, Gateway, sms_gateway, zns_gateway

PHONE = "0912345678"
SITE = "Trung tâm Phục vụ hành chính công xã"
CALLED = called_text(SITE, "1001", 1)
TEXT = CALLED.text
FAST = RetryPolicy(attempts=3, first_delay_s=0.05, timeout_s=0.5)

Delivered = Callable[[], list[tuple[str, str]]]  # what reached the far side: (phone as 84..., text)


@pytest.fixture
def gateway() -> Iterator[Gateway]:
    with sms_gateway() as gw:
        yield gw


@pytest.fixture
def zns() -> Iterator[Gateway]:
    with zns_gateway() as gw:
        yield gw


def _zns_sender(zns: Gateway, token: str = ZNS_TOKEN, templates: dict[str, str] = ZNS_IDS) -> ZnsSender:
    return ZnsSender(zns.url, token=ZnsToken(token), templates=templates, retry=FAST)


def _received(gateway: Gateway) -> list[tuple[str, str]]:
    return [(zns_phone(r["to"]), r["text"]) for r in gateway.received]


@contextlib.asynccontextmanager
async def webhook(gateway: Gateway, _zns: Gateway) -> AsyncIterator[tuple[SmsSender, Delivered]]:
    async with WebhookSender(gateway.url, auth_header=("Authorization", "Bearer s3cret"), retry=FAST) as sender:
        yield sender, lambda: _received(gateway)


@contextlib.asynccontextmanager
async def zalo(_gateway: Gateway, zns: Gateway) -> AsyncIterator[tuple[SmsSender, Delivered]]:
    async with _zns_sender(zns) as sender:
        yield sender, lambda: _received(zns)


@contextlib.asynccontextmanager
async def zalo_then_sms(gateway: Gateway, zns: Gateway) -> AsyncIterator[tuple[SmsSender, Delivered]]:
    zns.no_zalo.add("84987654321")  # one of the two phones has no Zalo: its texts go by SMS
    async with _zns_sender(zns) as first, WebhookSender(gateway.url, retry=FAST) as then:
        yield FallbackSender(first, then), lambda: sorted(_received(zns) + _received(gateway))


@contextlib.asynccontextmanager
async def logged(_gateway: Gateway, _zns: Gateway) -> AsyncIterator[tuple[SmsSender, Delivered]]:
    sender = LogSender()
    yield sender, lambda: [(zns_phone(m.to), m.text) for m in sender.sent]


DRIVERS = {"webhook": webhook, "zns": zalo, "zns+sms": zalo_then_sms, "log": logged}


@pytest.mark.parametrize("driver", DRIVERS)
def test_a_text_reaches_the_far_side_unchanged(driver: str, gateway: Gateway, zns: Gateway) -> None:
    other = come_text(SITE, "1002", 12, None)

    async def scenario() -> None:
        async with DRIVERS[driver](gateway, zns) as (sender, delivered):
            await sender.send(TextMessage.of(PHONE, CALLED))
            await sender.send(TextMessage.of("+84987654321", other))
            assert sorted(delivered()) == sorted([("84912345678", TEXT), ("84987654321", other.text)])

    asyncio.run(scenario())


@pytest.mark.parametrize("driver", DRIVERS)
def test_a_message_never_shows_its_number_and_bad_ones_are_refused(driver: str, gateway: Gateway,
                                                                   zns: Gateway) -> None:
    message = TextMessage.of(PHONE, CALLED)
    assert PHONE not in repr(message) and PHONE not in str(message) and mask(PHONE) in repr(message)
    assert mask(PHONE) == "091*****78" and mask("+84912345678") == "+849******78"
    for to, text in [("12345", TEXT), (PHONE + "x", TEXT), (PHONE, ""), (PHONE, "x" * 300)]:
        with pytest.raises(ValueError) as refused:
            TextMessage(to, text)
        assert PHONE not in str(refused.value)
    with pytest.raises(ValueError, match="same"):
        TextMessage(PHONE, "Số 1001", CALLED)  # a text and its template cannot disagree

    async def scenario() -> None:
        async with DRIVERS[driver](gateway, zns) as (sender, delivered):
            await sender.send(message)
            assert len(delivered()) == 1

    asyncio.run(scenario())


def test_the_webhook_sends_json_with_the_auth_header(gateway: Gateway, zns: Gateway) -> None:
    async def scenario() -> None:
        async with webhook(gateway, zns) as (sender, _):
            await sender.send(TextMessage(PHONE, TEXT))
        [request] = gateway.received
        assert request["body"] == {"to": PHONE, "text": TEXT}
        assert request["headers"]["Authorization"] == "Bearer s3cret"
        assert request["headers"]["Content-Type"] == "application/json"

    asyncio.run(scenario())


@pytest.mark.parametrize("driver", ["webhook", "zns"])
def test_a_busy_gateway_is_tried_again_with_backoff(driver: str, gateway: Gateway, zns: Gateway) -> None:
    far = gateway if driver == "webhook" else zns
    far.script = [(503, 0.0), (429, 0.0)]

    async def scenario() -> float:
        async with DRIVERS[driver](gateway, zns) as (sender, delivered):
            started = asyncio.get_running_loop().time()
            await sender.send(TextMessage.of(PHONE, CALLED))
            assert delivered() == [("84912345678", TEXT)]
            return asyncio.get_running_loop().time() - started

    took = asyncio.run(scenario())
    assert far.attempts == 3
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
    gateway: Gateway, zns: Gateway, script: list[tuple[int, float]], error: type[DeviceError], attempts: int
) -> None:
    gateway.script = list(script)

    async def scenario() -> None:
        async with webhook(gateway, zns) as (sender, _):
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


def test_a_slow_gateway_never_blocks_the_event_loop(gateway: Gateway, zns: Gateway) -> None:
    gateway.script = [(200, 0.4)]

    async def scenario() -> int:
        beats = 0

        async def heartbeat() -> None:
            nonlocal beats
            while True:
                await asyncio.sleep(0.01)
                beats += 1

        beating = asyncio.create_task(heartbeat())
        async with webhook(gateway, zns) as (sender, _):
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
    for bad in ["sms", "webhook:", "webhook:ftp://x/y", "http://x/y", "zns:ftp://x"]:
        with pytest.raises(ValueError, match="--sms must be"):
            parse_sms_address(bad)
    assert parse_sms_address("zns").url == "https://business.openapi.zalo.me/message/template"

    env = {"MOTCUA_ZNS_TOKEN": "t"}
    every = ",".join(f"{kind}={i}" for i, kind in enumerate(TEMPLATES))
    channels = parse_sms_channels("zns", "webhook:https://sms.example.vn/send", "called=7, ahead=8", env)
    assert (channels.first.kind, channels.fallback.kind, channels.templates) == ("zns", "webhook",
                                                                                {"called": "7", "ahead": "8"})
    assert parse_sms_channels("zns", "none", every, env).templates["answer"] == str(len(TEMPLATES) - 1)
    for sms, fallback, templates, env_, words in [
        ("none", "log", "", env, "give --sms too"),
        ("log", "log", "", env, "another channel"),
        ("log", "zns", "", env, "--sms-fallback must be"),
        ("log", "none", "called=7", env, "for --sms zns"),
        ("zns", "log", "called=7", {}, "MOTCUA_ZNS_TOKEN"),
        ("zns", "none", "called=7", env, "or --sms-fallback"),
        ("zns", "log", "", env, "give --zns-templates"),
        ("zns", "log", "kaled=7", env, "unknown text 'kaled'"),
        ("zns", "log", "called=", env, "needs a template id"),
    ]:
        with pytest.raises(ValueError, match=words):
            parse_sms_channels(sms, fallback, templates, env_)


def test_zns_sends_the_registered_template_and_its_parameters_with_the_access_token(zns: Gateway) -> None:
    async def scenario() -> None:
        async with _zns_sender(zns) as sender:
            await sender.send(TextMessage.of("+84912345678", CALLED))
        [request] = zns.received
        body = request["body"]
        assert (body["phone"], body["template_id"]) == ("84912345678", ZNS_IDS["called"])
        assert body["template_data"] == {"site": SITE, "number": "1001", "counter": "1"}
        assert len(body["tracking_id"]) == 32 and request["headers"]["access_token"] == ZNS_TOKEN
        assert request["headers"]["Content-Type"] == "application/json"

    asyncio.run(scenario())


@pytest.mark.parametrize(
    ("message", "token", "templates", "refusal", "attempts"),
    [
        (TextMessage(PHONE, TEXT), ZNS_TOKEN, ZNS_IDS, ProtocolError, 0),                    # no template
        (TextMessage.of(PHONE, CALLED), ZNS_TOKEN, {"code": "1"}, ProtocolError, 0),         # none registered
        (TextMessage.of("+14155550100", CALLED), ZNS_TOKEN, ZNS_IDS, RecipientRefused, 0),   # not Vietnamese
        (TextMessage.of("0987654321", CALLED), ZNS_TOKEN, ZNS_IDS, RecipientRefused, 1),     # no Zalo account
        (TextMessage.of(PHONE, CALLED), "expired-token", ZNS_IDS, ProtocolError, 1),         # the platform says no
    ],
)
def test_zns_refusals_are_final_and_say_whose_they_are(
    zns: Gateway, message: TextMessage, token: str, templates: dict[str, str], refusal: type[DeviceError],
    attempts: int,
) -> None:
    zns.no_zalo.add("84987654321")

    async def scenario() -> None:
        async with _zns_sender(zns, token, templates) as sender:
            with pytest.raises(refusal) as failed:
                await sender.send(message)
        assert refusal is RecipientRefused or not isinstance(failed.value, RecipientRefused)
        assert not {message.to, message.to.lstrip("+0"), token} & set(str(failed.value).split())

    asyncio.run(scenario())
    assert zns.attempts == attempts and zns.received == []


def test_what_zns_does_not_deliver_goes_by_sms_and_each_reason_is_counted(gateway: Gateway, zns: Gateway) -> None:
    zns.no_zalo.add("84987654321")
    code = TextMessage.of("0987654321", code_text(SITE, "123456", 5))

    async def scenario() -> FallbackSender:
        async with _zns_sender(zns) as first, WebhookSender(gateway.url, retry=FAST) as then:
            sender = FallbackSender(first, then)
            await sender.send(TextMessage.of(PHONE, CALLED))   # by ZNS
            await sender.send(code)                            # no Zalo: by SMS
            zns.errors = [-124]                                # the token expired: by SMS
            await sender.send(TextMessage.of(PHONE, CALLED))
            zns.script = [(500, 0.0)] * 3                      # ZNS down: by SMS after its retries
            await sender.send(TextMessage.of(PHONE, CALLED))
            gateway.script = [(400, 0.0)]                      # both refuse: the caller hears it
            with pytest.raises(ProtocolError):
                await sender.send(code)
            return sender

    sender = asyncio.run(scenario())
    assert zns.texts() == [TEXT]
    assert gateway.texts() == [code.text, TEXT, TEXT]
    assert sender.fell_back == {"recipient": 2, "refused": 1, "unavailable": 1}


def test_the_zns_token_file_is_read_again_when_it_changes(tmp_path: Path, zns: Gateway) -> None:
    token = tmp_path / "zns-token"
    token.write_text("old-token\n")

    async def scenario() -> None:
        async with ZnsSender(zns.url, token=ZnsToken(path=token), templates=ZNS_IDS, retry=FAST) as sender:
            with pytest.raises(ProtocolError):
                await sender.send(TextMessage.of(PHONE, CALLED))
            token.write_text(ZNS_TOKEN + "\n")  # a refresher wrote the new one
            os.utime(token, (1, 1))             # a changed file, even within the clock's resolution
            await sender.send(TextMessage.of(PHONE, CALLED))
        assert repr(ZnsToken("secret")) == "ZnsToken(path=None)"

    asyncio.run(scenario())
    assert zns.texts() == [TEXT]


def test_every_text_is_a_template_a_centre_can_register_as_the_readme_lists_it() -> None:
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    for kind, template in TEMPLATES.items():
        assert template.startswith("<site>: ") and " / " in template, kind  # Vietnamese, then English
        assert len(template) <= 400  # ZNS's limit for a template's content
        assert f"| `{kind}` | `{template}` |" in readme, kind  # what a centre registers with Zalo
