"""A paho-mqtt 2.x client made to fit asyncio: messages in a queue, publishes that wait.

paho runs its network thread (loop_start); callbacks hand messages over to the
event loop with call_soon_threadsafe. It reconnects by itself and re-subscribes
on every connect. QoS 1 publishes made while the broker is away stay in paho's
queue and go out on reconnect; one message in flight at a time keeps them in
order (and at most the one in flight is repeated).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import Any
from urllib.parse import urlsplit

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from firmware_bridge.mqtt_security import MqttSecurity

__all__ = ["MqttLink", "MqttMessage", "parse_mqtt_url"]

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class MqttMessage:
    """A message received on a subscription."""

    topic: str
    payload: bytes
    retain: bool


def parse_mqtt_url(url: str) -> tuple[str, int]:
    """(host, port) of mqtt://HOST[:PORT] or mqtts://HOST[:PORT] (TLS, 8883); ValueError otherwise."""
    parts = urlsplit(url)
    if parts.scheme not in ("mqtt", "mqtts") or not parts.hostname:
        raise ValueError(f"MQTT url {url!r} must look like mqtt://HOST:PORT or mqtts://HOST:PORT")
    return parts.hostname, parts.port or (8883 if parts.scheme == "mqtts" else 1883)


def _no_delay(client: mqtt.Client, userdata: Any, sock: Any) -> None:
    # Small QoS 1 packets sent back to back (a display cleared, then the next number)
    # would otherwise wait for the peer's delayed ACK under Nagle's algorithm: ~40 ms each.
    with contextlib.suppress(OSError, AttributeError):
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


class MqttLink:
    """One broker connection; use `async with MqttLink(...) as link`."""

    def __init__(
        self,
        url: str,
        *,
        client_id: str,
        subscriptions: Sequence[str] = (),
        status_topic: str | None = None,
        keepalive_s: int = 15,
        security: MqttSecurity | None = None,
    ) -> None:
        self.host, self.port = parse_mqtt_url(url)
        self.subscriptions = list(subscriptions)
        # retained "online" on each connect, "offline" as last will and on a clean exit
        self.status_topic = status_topic
        self.keepalive_s = keepalive_s
        self.messages: asyncio.Queue[MqttMessage] = asyncio.Queue()
        self.connects = 0
        self._connected = threading.Event()
        self._closing = False
        # mids of QoS 1 publishes not acknowledged yet; the lock is never held while
        # calling paho, because paho holds its own lock when it calls on_publish
        self._lock = threading.Lock()
        self._unacked: set[int] = set()
        self._acked_early: set[int] = set()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._client = mqtt.Client(
            CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv311
        )
        self._client.max_inflight_messages_set(1)
        self._client.reconnect_delay_set(min_delay=1, max_delay=2)
        if status_topic is not None:
            self._client.will_set(status_topic, b"offline", qos=1, retain=True)
        self._client.on_connect = self._on_connect
        self._client.on_disconnect = self._on_disconnect
        self._client.on_message = self._on_message
        self._client.on_publish = self._on_publish
        self._client.on_socket_open = _no_delay
        if security is not None:
            security.apply(self._client)

    @property
    def connected(self) -> bool:
        """Whether the broker connection is up now."""
        return self._connected.is_set()

    @property
    def pending(self) -> int:
        """QoS 1 publishes the broker has not acknowledged yet."""
        with self._lock:
            return len(self._unacked)

    async def __aenter__(self) -> MqttLink:
        self._loop = asyncio.get_running_loop()
        self._client.connect_async(self.host, self.port, keepalive=self.keepalive_s)
        self._client.loop_start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self.status_topic is not None:
            self.publish(self.status_topic, b"offline", retain=True)
        await self.drain(timeout_s=2.0)
        self._closing = True
        self._client.disconnect()
        await asyncio.to_thread(self._client.loop_stop)

    async def drain(self, timeout_s: float) -> bool:
        """Wait until every publish is acknowledged (or timeout_s); True if all were."""
        deadline = time.monotonic() + timeout_s
        while self.pending and self.connected and time.monotonic() < deadline:
            await asyncio.sleep(0.01)
        return self.pending == 0

    async def wait_connected(self, timeout_s: float = 10.0) -> None:
        """Wait until the broker accepted the connection; TimeoutError otherwise."""
        async with asyncio.timeout(timeout_s):
            while not self._connected.is_set():
                await asyncio.sleep(0.01)

    def subscribe(self, filters: Sequence[str]) -> None:
        """Receive messages on filters (QoS 1) from now on, and again after every reconnect."""
        have = set(self.subscriptions)
        new = [f for f in dict.fromkeys(filters) if f not in have]
        if not new:
            return
        # a new list, not a mutated one: paho's thread reads it on (re)connect
        self.subscriptions = [*self.subscriptions, *new]
        # also while not connected (paho then refuses it, harmless): a connect under way may
        # have read the list before this
        self._client.subscribe([(topic, 1) for topic in new])

    def unsubscribe(self, filters: Sequence[str]) -> None:
        """Stop receiving messages on filters (now and after reconnects)."""
        dropping = set(filters)
        gone = [f for f in self.subscriptions if f in dropping]
        if not gone:
            return
        self.subscriptions = [f for f in self.subscriptions if f not in dropping]
        self._client.unsubscribe(gone)

    def publish(self, topic: str, payload: bytes, *, retain: bool = False, qos: int = 1) -> None:
        """Queue a publish; it goes out now or after the next reconnect, in order."""
        info = self._client.publish(topic, payload, qos=qos, retain=retain)
        if not qos:
            return
        with self._lock:
            # the PUBACK may already have come back on paho's thread
            if info.mid in self._acked_early:
                self._acked_early.discard(info.mid)
            else:
                self._unacked.add(info.mid)

    # paho callbacks, on paho's network thread

    def _on_connect(
        self,
        client: mqtt.Client,
        userdata: Any,
        flags: Any,
        reason_code: Any,
        properties: Any,
    ) -> None:
        if getattr(reason_code, "is_failure", False):
            log.warning("broker refused the connection: %s", reason_code)
            return
        self.connects += 1
        subscriptions = self.subscriptions
        if subscriptions:
            client.subscribe([(topic, 1) for topic in subscriptions])
        if self.status_topic is not None:
            self.publish(self.status_topic, b"online", retain=True)
        self._connected.set()
        log.info("connected to mqtt://%s:%d", self.host, self.port)

    def _on_disconnect(
        self,
        client: mqtt.Client,
        userdata: Any,
        flags: Any,
        reason_code: Any,
        properties: Any,
    ) -> None:
        if self._connected.is_set() and not self._closing:
            log.warning("lost the broker (%s); reconnecting", reason_code)
        self._connected.clear()

    def _on_publish(
        self, client: mqtt.Client, userdata: Any, mid: int, reason_code: Any, properties: Any
    ) -> None:
        with self._lock:
            if mid in self._unacked:
                self._unacked.discard(mid)
            else:
                self._acked_early.add(mid)

    def _on_message(self, client: mqtt.Client, userdata: Any, msg: mqtt.MQTTMessage) -> None:
        message = MqttMessage(msg.topic, bytes(msg.payload), bool(msg.retain))
        if self._loop is not None:
            # the loop may be closing while paho still delivers: nothing left to tell
            with contextlib.suppress(RuntimeError):
                self._loop.call_soon_threadsafe(self.messages.put_nowait, message)
