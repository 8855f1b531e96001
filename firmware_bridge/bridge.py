"""The firmware bridge: the serial devices of one bus <-> MQTT (CONTRACT.md section 4).

    display/{counter}/state (retained, QoS 1)  ->  SHOW/BLINK/CLEAR frames
    keypad polls (KEYS)                         ->  keypad/{counter}/press, rating/{counter}/press
    device availability and health              ->  device/{id}/status (retained)
    the bridge itself                           ->  device/bridge-{bus}/status (last will),
                                                    with the bus statistics (below)

A malformed state payload is logged and counted, never shown. Presses made while
the broker is away are kept and published in order when it returns, each with the
`at` of its poll and a seq of the bridge's own (one count per keypad, started from
the clock in milliseconds, up by one a press: CONTRACT.md section 4), so the
controller can refuse the ones that come too late and count the ones that never came.

Every `stats_interval_s`, when something changed, the bridge's status is JSON:

    {"status": "online", "bus": {"frames", "retries", "timeouts", "bad_crc", "naks"},
     "devices": {"led-1": {"frames", "retries", "timeouts", "bad_crc", "naks",
                           "heard_at": epoch seconds of its last answer or null}, ...}}
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import Coroutine
from dataclasses import dataclass
from types import TracebackType
from typing import Any

from counter_display.modbus_display import ModbusDisplay
from counter_display.protocols import CounterDisplay
from counter_display.serial_display import SerialDisplay, SerialKeypad
from devices.errors import DeviceError, ProtocolError
from devices.payloads import (
    DeviceStatus,
    DisplayState,
    KeyPress,
    RatingPress,
    encode_device_status,
    encode_key_press,
    encode_rating_press,
    parse_display_state,
)
from devices.registry import DeviceSpec
from devices.topics import SiteTopics, parse_topic
from firmware_bridge.bus import BusMaster, LinkStatus
from firmware_bridge.line import SerialLine
from firmware_bridge.mqtt_link import MqttLink
from firmware_bridge.mqtt_security import MqttSecurity
from firmware_bridge.site import BusConfig

__all__ = ["Bridge", "BridgeSettings", "BridgeStats"]

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class BridgeSettings:
    """How to reach the line and the broker, and the bus timing."""

    mqtt_url: str
    serial_port: str
    baud: int = 9600
    timeout_s: float = 0.3
    retries: int = 3
    poll_interval_s: float = 0.2
    probe_interval_s: float = 1.0
    health_interval_s: float = 10.0
    stats_interval_s: float = 5.0
    pace: bool = True
    rs485: bool = False
    mqtt_security: MqttSecurity | None = None  # the bridge's broker user (bridge-{bus}@{site}) and TLS


@dataclass(slots=True)
class BridgeStats:
    """What went through the bridge."""

    states: int = 0
    malformed: int = 0
    presses: int = 0
    statuses: int = 0
    repeats: int = 0  # presses a keypad sent again with the same PRESS_SEQ: dropped


class Bridge:
    """Serves one bus; `async with Bridge(config, settings) as bridge: await bridge.serve()`."""

    def __init__(self, config: BusConfig, settings: BridgeSettings) -> None:
        self.config = config
        self.settings = settings
        self.topics = SiteTopics(config.site)
        self.device_id = f"bridge-{config.bus}"
        self.stats = BridgeStats()
        self.bus: BusMaster | None = None
        self.mqtt: MqttLink | None = None
        self._stack = contextlib.AsyncExitStack()
        self._tasks: set[asyncio.Task[None]] = set()
        self._displays: dict[int, list[CounterDisplay]] = {}
        self._by_address: dict[int, DeviceSpec] = {}

    async def __aenter__(self) -> Bridge:
        settings = self.settings
        try:
            line = await self._stack.enter_async_context(
                SerialLine(
                    settings.serial_port, settings.baud, pace=settings.pace, rs485=settings.rs485
                )
            )
            bus = BusMaster(
                line,
                timeout_s=settings.timeout_s,
                retries=settings.retries,
                poll_interval_s=settings.poll_interval_s,
                probe_interval_s=settings.probe_interval_s,
                health_interval_s=settings.health_interval_s,
            )
            keypads = self._attach(bus)
            bus.on_status(self._on_status)
            counters = sorted(self._displays)
            self.mqtt = await self._stack.enter_async_context(
                MqttLink(
                    settings.mqtt_url,
                    client_id=f"motcua-{self.device_id}-{self.config.site}",
                    subscriptions=[self.topics.display_state(c) for c in counters],
                    status_topic=self.topics.device_status(self.device_id),
                    security=settings.mqtt_security,
                )
            )
            self.bus = await self._stack.enter_async_context(bus)
            self._spawn(self._dispatch_states())
            self._spawn(self._publish_stats())
            for spec, keypad in keypads:
                self._spawn(self._forward_presses(spec, keypad))
        except BaseException:
            await self._stack.aclose()
            raise
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self.mqtt is not None:
            # nobody serves these devices any more
            for spec in self.config.devices:
                self.mqtt.publish(self.topics.device_status(spec.id), b"offline", retain=True)
        await self._stack.aclose()

    async def serve(self) -> None:
        """Run until cancelled; raises DeviceUnavailable if the serial line goes away."""
        assert self.bus is not None, "use `async with Bridge(...)` first"
        await self.bus.wait_closed()

    def _attach(self, bus: BusMaster) -> list[tuple[DeviceSpec, SerialKeypad]]:
        keypads: list[tuple[DeviceSpec, SerialKeypad]] = []
        for spec in self.config.devices:
            assert spec.address is not None and spec.counter is not None  # checked by registry
            self._by_address[spec.address] = spec
            if spec.kind == "display":
                display: CounterDisplay = (
                    ModbusDisplay(bus, spec.address)
                    if spec.transport == "modbus"
                    else SerialDisplay(bus, spec.address)
                )
                self._displays.setdefault(spec.counter, []).append(display)
            else:
                keypads.append((spec, SerialKeypad(bus, spec.address)))
        return keypads

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._task_done)

    def _task_done(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("bridge task failed", exc_info=task.exception())

    # MQTT -> displays

    async def _dispatch_states(self) -> None:
        assert self.mqtt is not None
        while True:
            message = await self.mqtt.messages.get()
            try:
                match = parse_topic(message.topic)
                if match.kind != "display_state" or match.counter is None:
                    raise ProtocolError(f"unexpected topic {message.topic}")
                # an empty retained payload deletes the state: show nothing
                state = (
                    parse_display_state(message.payload)
                    if message.payload
                    else DisplayState(None, match.counter)
                )
                if state.counter != match.counter:
                    raise ProtocolError(
                        f"state for counter {state.counter} on the topic of counter {match.counter}"
                    )
            except ProtocolError as exc:
                self.stats.malformed += 1
                log.warning("dropped malformed message on %s: %s", message.topic, exc)
                continue
            except Exception:  # a bug on one message must not stop every display of the bus
                self.stats.malformed += 1
                log.exception("could not read the message on %s; dropped", message.topic)
                continue
            self.stats.states += 1
            for display in self._displays.get(match.counter, []):
                self._spawn(self._show(display, state))

    async def _show(self, display: CounterDisplay, state: DisplayState) -> None:
        try:
            await display.show(state)
        except DeviceError as exc:
            # the bus keeps the state and resends it when the device is back
            log.info("counter %d display: %s", state.counter, exc)

    # keypads -> MQTT

    async def _forward_presses(self, spec: DeviceSpec, keypad: SerialKeypad) -> None:
        assert self.mqtt is not None and spec.counter is not None
        # the MQTT seq is the bridge's: the keypad's PRESS_SEQ wraps at 255 and restarts at
        # power-up, and a controller refuses a seq it saw from this keypad lately
        seq = int(time.time() * 1000)
        last_press_seq: int | None = None
        async for press in keypad:
            if press.seq == last_press_seq:
                self.stats.repeats += 1  # the keypad sent the same press again
                continue
            last_press_seq = press.seq
            at = round(time.time(), 3)  # polled moments ago: the press is this old at most
            if isinstance(press, KeyPress):
                topic = self.topics.keypad_press(spec.counter)
                payload = encode_key_press(KeyPress(press.key, seq, at))
            else:
                topic = self.topics.rating_press(spec.counter)
                payload = encode_rating_press(RatingPress(press.score, seq, at))
            seq += 1
            self.mqtt.publish(topic, payload)
            self.stats.presses += 1

    # bus statistics -> the bridge's status

    def stats_payload(self) -> bytes:
        """The bridge's status with the bus statistics, as published."""
        assert self.bus is not None
        wall = time.time() - asyncio.get_running_loop().time()  # loop time -> epoch seconds
        devices: dict[str, object] = {}
        for address, spec in sorted(self._by_address.items()):
            link = self.bus.link_stats(address)
            heard = None if link.heard_at is None else round(wall + link.heard_at, 1)
            devices[spec.id] = {**link.counts(), "heard_at": heard}
        bus = self.bus.stats
        totals = {"frames": bus.exchanges, "retries": bus.retries, "timeouts": bus.timeouts,
                  "bad_crc": bus.bad_crc, "naks": bus.naks}
        return json.dumps({"status": "online", "bus": totals, "devices": devices},
                          separators=(",", ":")).encode()

    async def _publish_stats(self) -> None:
        assert self.mqtt is not None and self.bus is not None
        sent: tuple[int, object] | None = None
        while True:
            await asyncio.sleep(self.settings.stats_interval_s)
            counts = tuple(self.bus.link_stats(a).counts().values() for a in sorted(self._by_address))
            # again after a reconnect too: the link's "online" then replaced the last one
            now = (self.mqtt.connects, counts)
            if now != sent and self.mqtt.connected:
                self.mqtt.publish(self.topics.device_status(self.device_id), self.stats_payload(), retain=True)
                sent = now

    # bus -> device status

    def _on_status(self, status: LinkStatus) -> None:
        spec = self._by_address.get(status.address)
        if spec is None or self.mqtt is None:
            return
        health = {k: v for k, v in status.health.items() if k != "status"}
        payload = encode_device_status(DeviceStatus(online=status.online, health=health))
        self.mqtt.publish(self.topics.device_status(spec.id), payload, retain=True)
        self.stats.statuses += 1
