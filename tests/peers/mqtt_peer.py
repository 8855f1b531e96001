"""A clean-room MQTT device of CONTRACT.md section 4, on paho-mqtt 2.x.

From the document alone (no motcua imports):

    motcua/{site}/display/{counter}/state   controller -> display, retained, QoS 1
    motcua/{site}/hall/state                controller -> hall displays, retained
    motcua/{site}/keypad/{counter}/press    keypad -> controller, QoS 1  {"key", "seq", "at"}
    motcua/{site}/rating/{counter}/press    rating keypad -> controller, QoS 1  {"score", "seq", "at"}

A press's key is exactly one of the names, seq and score are JSON integers, and the
optional at is when the key was pressed (epoch seconds, a clock kept in time). A press
whose seq is among its keypad's last 32 (within 120 s), whose at is more than 5 s off,
that repeats the last key within 1 s, or that would end a ticket called less than 10 s
ago and not started, is refused and counted; so are, from the seqs skipped, presses lost.
    motcua/{site}/printer/{kiosk}/job       controller -> printer gateway, QoS 1
    motcua/{site}/voice/{zone}/say          controller -> audio player, QoS 1
    motcua/{site}/device/{device_id}/status retained; "online" / last will "offline", or JSON health

One `Peer` is one MQTT client; what role it plays (display, keypad, rating keypad, printer
gateway, read-only subscriber) is which topics it uses. It records every message with the
QoS and retain flag it arrived with, so a test can check those promises too.
"""

from __future__ import annotations

import json
import queue
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

KEYS = ("next", "recall", "no_show", "start", "finish", "pause", "transfer")


@dataclass(frozen=True)
class Topics:
    """The topics of one site."""

    site: str

    @property
    def prefix(self) -> str:
        return f"motcua/{self.site}"

    def display(self, counter: int) -> str:
        return f"{self.prefix}/display/{counter}/state"

    def hall(self) -> str:
        return f"{self.prefix}/hall/state"

    def keypad(self, counter: int) -> str:
        return f"{self.prefix}/keypad/{counter}/press"

    def rating(self, counter: int) -> str:
        return f"{self.prefix}/rating/{counter}/press"

    def printer(self, kiosk: str) -> str:
        return f"{self.prefix}/printer/{kiosk}/job"

    def voice(self, zone: str) -> str:
        return f"{self.prefix}/voice/{zone}/say"

    def status(self, device: str) -> str:
        return f"{self.prefix}/device/{device}/status"


def press(key: str, seq: int, **extra: object) -> bytes:
    """A keypad press payload (extra fields, such as "at", as given)."""
    return json.dumps({"key": key, "seq": seq, **extra}).encode()


def rating(score: int, seq: int, **extra: object) -> bytes:
    """A rating press payload."""
    return json.dumps({"score": score, "seq": seq, **extra}).encode()


@dataclass(frozen=True)
class Message:
    topic: str
    payload: bytes
    qos: int
    retain: bool

    def json(self) -> object:
        return json.loads(self.payload)


class Peer:
    """One MQTT 3.1.1 client of the floor."""

    def __init__(
        self,
        port: int,
        client_id: str = "",
        *,
        clean_session: bool = True,
        login: tuple[str, str | None] | None = None,
        will: tuple[str, bytes] | None = None,
    ) -> None:
        self.port = port
        self.inbox: queue.Queue[Message] = queue.Queue()
        self.seen: list[Message] = []
        self._connack: queue.Queue[bool] = queue.Queue()
        self._suback: queue.Queue[list[int]] = queue.Queue()
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id,
                                  clean_session=clean_session, protocol=mqtt.MQTTv311)
        if login is not None:
            self.client.username_pw_set(*login)
        if will is not None:
            # "Devices connect with a last will on their status topic"
            self.client.will_set(will[0], will[1], qos=1, retain=True)
        self.client.on_connect = lambda c, u, f, rc, p: self._connack.put(not rc.is_failure)
        self.client.on_subscribe = lambda c, u, mid, rcs, p: self._suback.put([rc.value for rc in rcs])
        self.client.on_message = lambda c, u, m: self.inbox.put(
            Message(m.topic, bytes(m.payload), m.qos, bool(m.retain)))

    def connect(self, timeout_s: float = 5.0) -> bool:
        """True when the broker accepted the CONNECT."""
        self.client.connect("127.0.0.1", self.port, keepalive=30)
        self.client.loop_start()
        try:
            return self._connack.get(timeout=timeout_s)
        except queue.Empty:
            return False

    def subscribe(self, filters: Sequence[str], qos: int = 2) -> list[int]:
        """The SUBACK codes (granted QoS, 128 refused). QoS 2 asked, so what arrives keeps the
        QoS it was published with."""
        self.client.subscribe([(f, qos) for f in filters])
        return self._suback.get(timeout=5)

    def publish(self, topic: str, payload: bytes, *, qos: int = 1, retain: bool = False) -> None:
        """Publish; with QoS 1 wait until the broker acknowledged it."""
        info = self.client.publish(topic, payload, qos=qos, retain=retain)
        if qos:
            info.wait_for_publish(5)

    def wait_for(self, match: Callable[[Message], bool], timeout_s: float = 10.0) -> Message:
        """The first message (already seen or to come) that matches; TimeoutError otherwise."""
        for message in self.seen:
            if match(message):
                return message
        deadline = time.monotonic() + timeout_s
        while (left := deadline - time.monotonic()) > 0:
            try:
                message = self.inbox.get(timeout=min(left, 0.05))
            except queue.Empty:
                continue
            self.seen.append(message)
            if match(message):
                return message
        raise TimeoutError(f"no matching message in {timeout_s}s; saw {[m.topic for m in self.seen][-10:]}")

    def drain(self, quiet_s: float = 0.3) -> list[Message]:
        """Everything received, after quiet_s without a new message."""
        while True:
            try:
                self.seen.append(self.inbox.get(timeout=quiet_s))
            except queue.Empty:
                return list(self.seen)

    def disconnect(self) -> None:
        """A clean DISCONNECT: the broker drops the last will."""
        self.client.disconnect()
        self.client.loop_stop()

    def vanish(self) -> None:
        """The device loses power: the connection drops without DISCONNECT, so the will fires."""
        self.client.loop_stop()
        sock = self.client.socket()
        if sock is not None:
            sock.close()

    def __enter__(self) -> Peer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.disconnect()
