"""Test rigs for the serial bus: a bus master and emulated devices on the two ends of a pty."""

from __future__ import annotations

import asyncio
import contextlib
import queue
import subprocess
import sys
import threading
from collections.abc import AsyncIterator, Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from firmware_bridge.bus import BusMaster
from firmware_bridge.emulators import (
    EmulatedDevice,
    ModbusBusEmulator,
    ModbusLedEmulator,
    SerialBusEmulator,
)
from firmware_bridge.line import SerialLine
from tests.services import PtyPair, env_without_proxies, socat_pty_pair

ROOT = Path(__file__).resolve().parent.parent


async def eventually(predicate: Callable[[], bool], timeout_s: float = 5.0) -> None:
    """Wait until predicate() holds, checking every 10 ms; TimeoutError after timeout_s."""
    async with asyncio.timeout(timeout_s):
        while not predicate():
            await asyncio.sleep(0.01)


FAST = {"timeout_s": 0.1, "retries": 3, "poll_interval_s": 0.05, "probe_interval_s": 0.2}


@dataclass
class SerialRig:
    """A bus master on the host side, emulated devices on the device side."""

    pair: PtyPair
    bus: BusMaster
    emulator: SerialBusEmulator | ModbusBusEmulator


@contextlib.asynccontextmanager
async def serial_rig(
    workdir: Path,
    devices: Sequence[EmulatedDevice],
    *,
    name: str = "bus",
    **bus_options: float,
) -> AsyncIterator[SerialRig]:
    """Framed devices behind a socat pty pair, served by a bus master (paced at 9600 baud)."""
    with socat_pty_pair(workdir, name) as pair:
        async with (
            SerialLine(pair.device_side) as device_line,
            SerialBusEmulator(device_line, devices) as emulator,
            SerialLine(pair.host_side) as host_line,
            BusMaster(host_line, **{**FAST, **bus_options}) as bus,  # type: ignore[arg-type]
        ):
            yield SerialRig(pair, bus, emulator)


@contextlib.asynccontextmanager
async def modbus_rig(
    workdir: Path, devices: Sequence[ModbusLedEmulator], **bus_options: float
) -> AsyncIterator[SerialRig]:
    """Modbus LED displays behind a socat pty pair, served by a bus master."""
    with socat_pty_pair(workdir, "modbus") as pair:
        async with (
            SerialLine(pair.device_side) as device_line,
            ModbusBusEmulator(device_line, devices) as emulator,
            SerialLine(pair.host_side) as host_line,
            BusMaster(host_line, **{**FAST, **bus_options}) as bus,  # type: ignore[arg-type]
        ):
            yield SerialRig(pair, bus, emulator)


class MqttRecorder:
    """A plain paho client that records every message of some topic filters (thread-safe)."""

    def __init__(
        self, port: int, topics: Sequence[str], *, session: str | None = None,
        login: tuple[str, str] | None = None,
    ) -> None:
        """session: a client id whose subscriptions the broker keeps across reconnects;
        login: (username, password) for a broker with users."""
        self.topics = list(topics)
        self.messages: queue.Queue[tuple[str, bytes, bool]] = queue.Queue()
        self.seen: list[tuple[str, bytes, bool]] = []
        self._subscribed = threading.Event()
        self.client = mqtt.Client(
            CallbackAPIVersion.VERSION2,
            client_id=session or "",
            clean_session=session is None,
            protocol=mqtt.MQTTv311,
        )
        if login is not None:
            self.client.username_pw_set(*login)
        self.client.on_connect = self._on_connect
        self.client.on_message = self._on_message
        self.client.on_subscribe = lambda *args: self._subscribed.set()
        self.client.reconnect_delay_set(1, 1)
        self.port = port

    def _on_connect(self, client: mqtt.Client, *args: object) -> None:
        if self.topics:
            client.subscribe([(topic, 1) for topic in self.topics])
        else:
            self._subscribed.set()

    def _on_message(self, client: mqtt.Client, userdata: object, msg: mqtt.MQTTMessage) -> None:
        self.messages.put((msg.topic, bytes(msg.payload), bool(msg.retain)))

    def __enter__(self) -> MqttRecorder:
        self.client.connect("127.0.0.1", self.port)
        self.client.loop_start()
        if not self._subscribed.wait(5):
            raise TimeoutError("recorder did not subscribe")
        return self

    def __exit__(self, *exc: object) -> None:
        self.client.disconnect()
        self.client.loop_stop()

    def publish(self, topic: str, payload: bytes, *, retain: bool = False) -> None:
        """Publish with QoS 1 and wait until the broker has it."""
        info = self.client.publish(topic, payload, qos=1, retain=retain)
        info.wait_for_publish(5)

    def drain(self) -> list[tuple[str, bytes, bool]]:
        """Everything received so far."""
        while True:
            try:
                self.seen.append(self.messages.get_nowait())
            except queue.Empty:
                return list(self.seen)

    async def wait_for(
        self, match: Callable[[str, bytes], bool], timeout_s: float = 10.0
    ) -> tuple[str, bytes]:
        """Wait (without blocking the loop) for a message matching match."""
        for topic, payload, _ in self.seen:
            if match(topic, payload):
                return topic, payload
        async with asyncio.timeout(timeout_s):
            while True:
                try:
                    item = self.messages.get_nowait()
                except queue.Empty:
                    await asyncio.sleep(0.01)
                    continue
                self.seen.append(item)
                if match(item[0], item[1]):
                    return item[0], item[1]


@contextlib.contextmanager
def bridge_process(
    site_file: Path, pair: PtyPair, url: str, log_path: Path, *extra: str, env: Mapping[str, str] | None = None,
    bus: str = "bus1",
) -> Iterator[subprocess.Popen[bytes]]:
    """Run `motcua bridge` for a bus of site_file on pair's host side; env adds variables (credentials)."""
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "controller.cli", "bridge", "--site-file", str(site_file), "--bus", bus,
             "--serial", pair.host_side, "--mqtt", url, *extra],
            stdout=log, stderr=subprocess.STDOUT, env={**env_without_proxies(), **(env or {})}, cwd=ROOT,
        )
        try:
            yield proc
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
