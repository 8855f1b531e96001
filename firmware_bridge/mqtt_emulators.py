"""MQTT device emulators for tests and demos: an LED display and a keypad speaking topics directly.

They behave like the MQTT devices a site gets by default (display-N, keypad-N,
rating-N): "online" retained on their status topic with "offline" as last will.
Given a `security`, they log in as their device's broker user (`{device}@{site}`)
and are held to its ACL like a real device.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from types import TracebackType
from typing import Self

from devices.errors import ProtocolError
from devices.payloads import (
    DisplayState,
    KeyName,
    KeyPress,
    RatingPress,
    ReasonsPress,
    encode_key_press,
    encode_rating_press,
    encode_reasons_press,
    parse_display_state,
)
from devices.topics import SiteTopics
from firmware_bridge.mqtt_link import MqttLink
from firmware_bridge.mqtt_security import MqttSecurity

__all__ = ["MqttDisplayEmulator", "MqttKeypadEmulator"]

log = logging.getLogger(__name__)


class MqttDisplayEmulator:
    """Subscribes to display/{counter}/state and keeps what it would show."""

    def __init__(
        self, url: str, site: str, counter: int, device_id: str | None = None, security: MqttSecurity | None = None
    ) -> None:
        topics = SiteTopics(site)
        self.counter = counter
        self.device_id = device_id or f"display-{counter}"
        self.state: DisplayState | None = None
        self.history: list[DisplayState | None] = []
        self.malformed = 0
        self.link = MqttLink(
            url,
            client_id=f"emu-{site}-{self.device_id}",
            subscriptions=[topics.display_state(counter)],
            status_topic=topics.device_status(self.device_id),
            security=security,
        )
        self._changed = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    @property
    def number(self) -> str | None:
        """The number shown now, None when blank."""
        return None if self.state is None else self.state.number

    async def __aenter__(self) -> Self:
        await self.link.__aenter__()
        self._task = asyncio.create_task(self._consume())
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self.link.__aexit__(exc_type, exc, tb)

    async def _consume(self) -> None:
        while True:
            message = await self.link.messages.get()
            try:
                state = parse_display_state(message.payload) if message.payload else None
            except ProtocolError as exc:
                self.malformed += 1
                log.warning("display %d ignored a malformed state: %s", self.counter, exc)
                continue
            self.state = state if state is not None and state.number is not None else None
            self.history.append(self.state)
            self._changed.set()

    async def wait_until(self, predicate: Callable[[], bool], timeout_s: float = 5.0) -> None:
        """Wait until predicate() holds after some state arrived; TimeoutError otherwise."""
        async with asyncio.timeout(timeout_s):
            while not predicate():
                self._changed.clear()
                await self._changed.wait()


class MqttKeypadEmulator:
    """Publishes staff key and rating presses of one counter, numbered by seq and stamped with `at`.

    Like real firmware on a paho-style client, a press made while the broker is away is
    queued and goes out when it is back; its `at` (this host's clock when pressed) is what
    lets the controller refuse it as late (CONTRACT.md section 4). The count starts from
    the clock in milliseconds, so a restarted emulator never repeats a recent seq.
    """

    def __init__(
        self, url: str, site: str, counter: int, device_id: str | None = None, security: MqttSecurity | None = None
    ) -> None:
        self.topics = SiteTopics(site)
        self.counter = counter
        self.device_id = device_id or f"keypad-{counter}"
        self.seq = int(time.time() * 1000)
        self.link = MqttLink(
            url,
            client_id=f"emu-{site}-{self.device_id}",
            status_topic=self.topics.device_status(self.device_id),
            security=security,
        )

    async def __aenter__(self) -> Self:
        await self.link.__aenter__()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.link.__aexit__(exc_type, exc, tb)

    def press(self, key: KeyName) -> KeyPress:
        """Publish a staff key press."""
        press = KeyPress(key, self._next_seq(), at=round(time.time(), 3))
        self.link.publish(self.topics.keypad_press(self.counter), encode_key_press(press))
        return press

    def rate(self, score: int) -> RatingPress:
        """Publish a rating press."""
        press = RatingPress(score, self._next_seq(), at=round(time.time(), 3))
        self.link.publish(self.topics.rating_press(self.counter), encode_rating_press(press))
        return press

    def reasons(self, *keys: int) -> ReasonsPress:
        """Publish the reasons a keypad with a display was asked (keys 1, 2, ... as the ask listed them)."""
        press = ReasonsPress(tuple(keys), self._next_seq(), at=round(time.time(), 3))
        self.link.publish(self.topics.rating_press(self.counter), encode_reasons_press(press))
        return press

    def _next_seq(self) -> int:
        self.seq += 1
        return self.seq
