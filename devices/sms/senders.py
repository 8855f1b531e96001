"""The text sender the settings ask for, for the life of a context: one driver, or two behind a fallback."""

from __future__ import annotations

import contextlib
import os
from collections.abc import AsyncIterator, Mapping

from devices.sms.address import SmsAddress, SmsChannels
from devices.sms.contract import SmsSender
from devices.sms.fallback import FallbackSender
from devices.sms.log import LogSender
from devices.sms.webhook import WebhookSender
from devices.sms.zns import ZnsSender, ZnsToken

__all__ = ["describe", "open_sender"]


async def _one(stack: contextlib.AsyncExitStack, address: SmsAddress, templates: Mapping[str, str],
               env: Mapping[str, str]) -> SmsSender:
    if address.kind == "webhook":
        return await stack.enter_async_context(WebhookSender(address.url, auth_header=address.auth_header(env)))
    if address.kind == "zns":
        return await stack.enter_async_context(
            ZnsSender(address.url, token=ZnsToken.from_env(env), templates=templates))
    return LogSender()


@contextlib.asynccontextmanager
async def open_sender(channels: SmsChannels, env: Mapping[str, str] = os.environ) -> AsyncIterator[SmsSender | None]:
    """The sender of `channels` (None for --sms none); HTTP clients close with the context."""
    if channels.first.kind == "none":
        yield None
        return
    async with contextlib.AsyncExitStack() as stack:
        sender = await _one(stack, channels.first, channels.templates, env)
        if channels.fallback.kind != "none":
            sender = FallbackSender(sender, await _one(stack, channels.fallback, {}, env))
        yield sender


def describe(channels: SmsChannels) -> str:
    """The channels in words for the start-up log (no secret: URLs and kinds only)."""
    def one(address: SmsAddress) -> str:
        return address.kind if address.kind == "log" else f"{address.kind} {address.url}"

    words = one(channels.first)
    return words if channels.fallback.kind == "none" else f"{words}, then {one(channels.fallback)}"
