"""The device router: committed events -> displays; presses and device statuses -> the site's writer.

    commit listener (sync)     display/{counter}/state, hall/state via a DeviceOutput
    MQTT messages / key fakes  parsed and checked once here, then queued per site;
                               one worker per site runs them through SiteRuntime in order
    device statuses            coordinators (health.py) -> device.changed via SiteRuntime.record,
                               with alert.raised for a printer that cannot print (printing.py)

Anything that cannot be accepted (bad topic, malformed JSON, unknown counter,
a retained press, or one the PressGate refuses: duplicate, late, burst) is counted
in DeviceStats, logged (rate-limited) and dropped before it reaches the writer, so
it never changes state; presses a keypad's seq shows never arrived are counted as
"lost". A press that would end a ticket called moments ago is refused at the
writer ("too_soon", keypads.called_too_recently).

The router follows the sites this process writes (it is a SiteWatcher): a site
gained (sites partitioned over processes) gets its displays published again,
its worker and its topic subscriptions; a site lost gets none of them any more,
so two processes never drive the same displays or carry out the same press.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Coroutine, Mapping, Sequence
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Final, Protocol, Self

from controller.core.commands import GiveReasons
from controller.core.errors import DomainError
from controller.core.events import Event
from controller.devices.displays import HallBoard, affected_counters, display_for
from controller.devices.health import HOLD_S, DeviceBoard
from controller.devices.keypads import (
    PressGate,
    PressKind,
    TransferTarget,
    called_too_recently,
    commands_for_key,
    rating_command,
    transfer_target,
)
from controller.devices.outputs import DeviceOutput
from controller.devices.printing import printer_alert_events, printer_findings
from controller.devices.stats import UNKNOWN_SITE, DeviceLine, DeviceStats
from controller.runtime.controller import Controller
from controller.runtime.site_runtime import Committed, SiteRuntime
from counter_display.protocols import KeySource
from devices.errors import ProtocolError
from devices.payloads import (
    DeviceStatus,
    DisplayState,
    KeyPress,
    RatingAsk,
    RatingPress,
    ReasonsPress,
    parse_device_status,
    parse_key_press,
    parse_rating_input,
)
from devices.registry import DeviceSpec
from devices.topics import SiteTopics, TopicKind, parse_topic
from firmware_bridge.mqtt_link import MqttMessage

__all__ = [
    "INPUT_KINDS",
    "DeviceRouter",
    "KeyInput",
    "RatingInput",
    "StatusInput",
    "Subscriber",
    "site_filters",
]

log = logging.getLogger(__name__)

FLUSH_EVERY_S: Final = 0.2
LOG_EVERY_S: Final = 10.0
# the topics a site's writer takes in: presses and device statuses
INPUT_KINDS: Final[tuple[TopicKind, ...]] = ("keypad_press", "rating_press", "device_status")


class Subscriber(Protocol):
    """Where the router asks for a site's topics when it gains the site, and gives them up (MqttLink)."""

    def subscribe(self, filters: Sequence[str]) -> None:
        """Receive messages on filters from now on (and after every reconnect)."""

    def unsubscribe(self, filters: Sequence[str]) -> None:
        """Stop receiving messages on filters."""


@dataclass(frozen=True, slots=True)
class KeyInput:
    """A staff key press of a counter, checked."""

    counter: int
    press: KeyPress
    target: TransferTarget = field(default_factory=TransferTarget)
    source: MqttMessage | None = field(default=None, compare=False)  # as it came over MQTT


@dataclass(frozen=True, slots=True)
class RatingInput:
    """A rating press of a counter, checked."""

    counter: int
    press: RatingPress | ReasonsPress  # a score, or the reasons asked after a low one
    source: MqttMessage | None = field(default=None, compare=False)


@dataclass(frozen=True, slots=True)
class StatusInput:
    """A device status (or last will), checked."""

    device: str
    status: DeviceStatus


Inbound = KeyInput | RatingInput | StatusInput


@dataclass
class _Site:
    """The device side of one site."""

    runtime: SiteRuntime
    health: DeviceBoard
    hall: HallBoard
    displays: frozenset[int]
    raters: frozenset[int] = frozenset()  # counters with a rating keypad (asked for reasons after a low rating)
    gate: PressGate = field(default_factory=PressGate)
    shown: dict[int, DisplayState] = field(default_factory=dict)
    inbox: asyncio.Queue[Inbound] = field(default_factory=asyncio.Queue)
    # Events of a press still being carried out (several commands): shown once, at the end.
    held: list[Event] | None = None
    worker: asyncio.Task[None] | None = None

    @property
    def id(self) -> str:
        return self.runtime.site.id


def _specs(runtime: SiteRuntime) -> list[DeviceSpec]:
    return [d for d in runtime.site.devices if isinstance(d, DeviceSpec)]


def site_filters(site_id: str, kinds: Sequence[TopicKind] = INPUT_KINDS) -> list[str]:
    """The topic filters of one site's inputs of the given kinds.

    Per site rather than motcua/+/..., so a controller subscribes only to the sites it
    writes, and controllers of other deployments on the same broker are never seen.
    """
    topics = SiteTopics(site_id)
    return [topics.subscription(k) for k in kinds]


def reasons_command(runtime: SiteRuntime, counter: int, press: ReasonsPress, by: str) -> GiveReasons:
    """A keypad's reason keys (1, 2, ... in the order it was asked) as the site's reason codes."""
    reasons = runtime.site.feedback.reasons
    if any(key > len(reasons) for key in press.reasons):
        raise DomainError("invalid_reason", f"reason keys are 1..{len(reasons)}", 422)
    return GiveReasons(reasons=tuple(reasons[key - 1].code for key in press.reasons), counter=counter, by=by)


class _RateLimitedLog:
    """One warning per (site, reason) per LOG_EVERY_S, with how many were not logged."""

    def __init__(self) -> None:
        self._last: dict[tuple[str, str], float] = {}
        self._quiet: dict[tuple[str, str], int] = {}

    def warning(self, site: str, reason: str, message: str, *args: object) -> None:
        key = (site, reason)
        now = time.monotonic()
        if now - self._last.get(key, -LOG_EVERY_S) < LOG_EVERY_S:
            self._quiet[key] = self._quiet.get(key, 0) + 1
            return
        quiet = self._quiet.pop(key, 0)
        self._last[key] = now
        suffix = f" ({quiet} more not logged)" if quiet else ""
        log.warning("site %s: dropped (%s): " + message + suffix, site, reason, *args)


class DeviceRouter:
    """Routes between every site's writer and its devices; `async with DeviceRouter(...)`."""

    def __init__(
        self,
        controller: Controller,
        output: DeviceOutput,
        stats: DeviceStats | None = None,
        *,
        messages: asyncio.Queue[MqttMessage] | None = None,
        key_sources: Mapping[tuple[str, int], KeySource] | None = None,
        hold_s: float = HOLD_S,
        subscriber: Subscriber | None = None,
        subscribe_kinds: Sequence[TopicKind] = INPUT_KINDS,
        on_orphaned: Callable[[str, list[MqttMessage]], None] | None = None,
    ) -> None:
        self.controller = controller
        self.output = output
        self.stats = stats or DeviceStats()
        self.stats.device_counts = lambda: {s.id: s.health.counts() for s in self.sites.values()}
        self.stats.bus_counts = lambda: {s.id: s.health.bus_stats() for s in self.sites.values()}
        self.stats.device_lines = lambda: {s.id: _device_lines(s.health) for s in self.sites.values()}
        self.messages = messages
        self.key_sources = dict(key_sources or {})
        self.hold_s = hold_s
        # asked for each site's input topics while this process writes the site
        self.subscriber = subscriber
        self.subscribe_kinds = tuple(subscribe_kinds)
        # told of the presses (as they came) still queued for a site given up, for its next writer
        self.on_orphaned = on_orphaned
        self.sites: dict[str, _Site] = {}
        self._dirty: set[str] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        self._log = _RateLimitedLog()

    async def __aenter__(self) -> Self:
        self.controller.watch(self)
        self._spawn(self._flush_loop(), "motcua-devices-health")
        if self.messages is not None:
            self._spawn(self._consume(self.messages), "motcua-devices-mqtt")
        for (site_id, counter), source in self.key_sources.items():
            self._spawn(self._read_keys(site_id, counter, source), f"motcua-keys-{site_id}-{counter}")
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.controller.unwatch(self)
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    def _spawn(self, coro: Coroutine[Any, Any, None], name: str) -> asyncio.Task[None]:
        task = asyncio.create_task(coro, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    # the sites this process writes (SiteWatcher)

    def site_added(self, runtime: SiteRuntime) -> None:
        """Drive the site's devices from here: publish its displays, take its inputs."""
        site_id = runtime.site.id
        specs = _specs(runtime)
        site = _Site(
            runtime=runtime,
            health=DeviceBoard(specs, self.hold_s),
            hall=HallBoard(site_id),
            displays=frozenset(d.counter for d in specs if d.kind == "display" and d.counter is not None),
            raters=frozenset(d.counter for d in specs if d.kind == "rating" and d.counter is not None),
        )
        self.sites[site_id] = site
        runtime.listeners.append(self._on_committed)
        runtime.device_view = site.health.snapshot
        # a new writer (start, restart, take-over) republishes the retained display states
        self._resync(site)
        site.worker = self._spawn(self._work(site), f"motcua-devices-{site_id}")
        if self.subscriber is not None and self.subscribe_kinds:
            self.subscriber.subscribe(site_filters(site_id, self.subscribe_kinds))

    def site_removed(self, runtime: SiteRuntime) -> None:
        """Drive nothing of the site any more: another process writes it now (or none, stopping)."""
        site = self.sites.pop(runtime.site.id, None)
        if site is None:
            return
        if self.subscriber is not None and self.subscribe_kinds:
            self.subscriber.unsubscribe(site_filters(site.id, self.subscribe_kinds))
        if site.worker is not None:
            site.worker.cancel()
        orphaned: list[MqttMessage] = []
        while not site.inbox.empty():
            item = site.inbox.get_nowait()
            if isinstance(item, KeyInput | RatingInput) and item.source is not None:
                orphaned.append(item.source)
        if orphaned and self.on_orphaned is not None:
            self.on_orphaned(site.id, orphaned)
        with contextlib.suppress(ValueError):
            runtime.listeners.remove(self._on_committed)
        runtime.device_view = list
        self._dirty.discard(site.id)

    # displays: from the writer's commits

    def _resync(self, site: _Site) -> None:
        """Publish every display and the hall as the floor is now (start, restart, reconnect)."""
        state = site.runtime.floor.state
        site.hall.seed(state)
        for counter in sorted(site.displays):
            shown = display_for(state, counter)
            site.shown[counter] = shown
            self.output.publish_display(site.id, shown)
        self.output.publish_hall(site.id, site.hall.payload())

    def resync_all(self) -> None:
        """Publish the state of every display of every site again."""
        for site in self.sites.values():
            self._resync(site)

    def _on_committed(self, site_id: str, committed: Committed) -> None:
        # runs inside the writer's commit: never raise into it (the command is already durable)
        site = self.sites[site_id]
        if site.held is not None:
            site.held.extend(committed.events)
            return
        try:
            self._show(site, committed.events)
        except Exception:
            log.exception("site %s: could not route committed events to the displays", site_id)

    def _show(self, site: _Site, events: list[Event]) -> None:
        state = site.runtime.floor.state
        affected = affected_counters(events, state)
        targets = dict.fromkeys(site.displays, False) if affected is None else affected
        for counter, blink in sorted(targets.items()):
            if counter not in site.displays:
                continue
            shown = display_for(state, counter, blink)
            # a blinking state is sent again even if equal: that is what makes a recall blink
            if blink or site.shown.get(counter) != shown:
                site.shown[counter] = shown
                self.output.publish_display(site.id, shown)
        if site.hall.apply(events):
            self.output.publish_hall(site.id, site.hall.payload())
        for event in events:
            rated = event.data.get("counter")
            if event.type == "rating.recorded" and event.data.get("ask_reasons") and rated in site.raters:
                self.output.publish_rating_ask(site.id, int(rated), self._ask(site, event))

    @staticmethod
    def _ask(site: _Site, event: Event) -> RatingAsk:
        """The reasons asked of a keypad with a text display: Vietnamese names, keys in the site's order."""
        feedback = site.runtime.site.feedback
        return RatingAsk(str(event.data["ticket"]), feedback.reasons_timeout_s,
                         tuple((r.code, r.name) for r in feedback.reasons))

    # inputs: parsed and checked here, then queued for the site's worker

    async def _consume(self, messages: asyncio.Queue[MqttMessage]) -> None:
        while True:
            self.feed(await messages.get())

    def feed(self, message: MqttMessage) -> None:
        """Check one MQTT message and queue it for its site, or count and drop it."""
        try:
            self._feed(message)
        except Exception:  # a bug on one message must not stop the input of every device
            log.exception("could not route the message on %s; dropped", message.topic)

    def _feed(self, message: MqttMessage) -> None:
        try:
            match = parse_topic(message.topic)
        except ProtocolError as exc:
            self._drop(UNKNOWN_SITE, "bad_topic", "%s", exc)
            return
        site = self.sites.get(match.site)
        if site is None:
            self._drop(UNKNOWN_SITE, "unknown_site", "topic %s", message.topic)
            return
        try:
            if match.kind == "device_status" and match.name is not None:
                self._offer(site, StatusInput(match.name, parse_device_status(message.payload)))
            elif match.kind in ("keypad_press", "rating_press") and match.counter is not None:
                if message.retain:
                    # kept by the broker from some earlier time: not a press made now
                    self._drop(site.id, "retained", "press on %s", message.topic)
                    return
                if match.counter not in site.runtime.site.counters:
                    self._drop(site.id, "unknown_counter", "press on %s", message.topic)
                    return
                if match.kind == "keypad_press":
                    press = parse_key_press(message.payload)
                    target = transfer_target(message.payload) if press.key == "transfer" else TransferTarget()
                    self._offer(site, KeyInput(match.counter, press, target, message))
                else:
                    levels = site.runtime.site.rating_levels
                    rating = parse_rating_input(message.payload, levels)
                    self._offer(site, RatingInput(match.counter, rating, message))
            else:
                self._drop(site.id, "bad_topic", "not an input topic: %s", message.topic)
        except ProtocolError as exc:
            self._drop(site.id, "malformed", "%s: %s", message.topic, exc)

    def press(self, site_id: str, counter: int, press: KeyPress | RatingPress | ReasonsPress) -> None:
        """Queue a press from an in-process keypad (the same checks as over MQTT)."""
        site = self.sites.get(site_id)
        if site is None:
            self._drop(UNKNOWN_SITE, "unknown_site", "press for site %s", site_id)
        elif counter not in site.runtime.site.counters:
            self._drop(site.id, "unknown_counter", "press for counter %s", counter)
        elif isinstance(press, KeyPress):
            self._offer(site, KeyInput(counter, press))
        else:
            self._offer(site, RatingInput(counter, press))

    def device_now(self, site_id: str, device_id: str) -> dict[str, Any] | None:
        """A device's availability and health as known now (device.changed data); None when not known here."""
        site = self.sites.get(site_id)
        device = None if site is None else site.health.devices.get(device_id)
        return None if device is None else device.event_data()

    def status(self, site_id: str, device_id: str, status: DeviceStatus) -> None:
        """Queue a status of an in-process device (the same checks as over MQTT)."""
        site = self.sites.get(site_id)
        if site is None:
            self._drop(UNKNOWN_SITE, "unknown_site", "status for site %s", site_id)
        else:
            self._offer(site, StatusInput(device_id, status))

    async def _read_keys(self, site_id: str, counter: int, source: KeySource) -> None:
        async for press in source:
            self.press(site_id, counter, press)

    def _offer(self, site: _Site, item: Inbound) -> None:
        if isinstance(item, StatusInput):
            if item.device not in site.health.devices:
                self._drop(site.id, "unknown_device", "status of %s", item.device)
                return
        else:
            kind: PressKind = "keypad" if isinstance(item, KeyInput) else "rating"
            press = item.press
            key: object = press.key if isinstance(press, KeyPress) else (
                press.score if isinstance(press, RatingPress) else ("reasons", press.reasons))
            now = site.runtime.clock()
            site.health.heard(kind, item.counter, now)
            seen = site.gate.admit(kind, item.counter, press.seq, key, press.at, now)
            if seen.lost:
                self.stats.drop(site.id, "lost", seen.lost)
                site.health.refuse(kind, item.counter, "lost", seen.lost)
                self._log.warning(site.id, "lost", "%d %s presses of counter %d never arrived (seq before %d)",
                                  seen.lost, kind, item.counter, press.seq)
            if seen.verdict != "ok":
                site.health.refuse(kind, item.counter, seen.verdict)
            if seen.verdict == "duplicate":
                self._drop(site.id, "duplicate", "%s press seq %d of counter %d", kind, press.seq, item.counter)
                return
            if seen.verdict == "late":
                self._drop(site.id, "late", "%s press seq %d of counter %d made %.1f s from now by its clock",
                           kind, press.seq, item.counter, seen.age_s)
                return
            if seen.verdict == "burst":
                self._drop(site.id, "burst", "%s press seq %d of counter %d repeats the one just before",
                           kind, press.seq, item.counter)
                return
        site.inbox.put_nowait(item)

    def _drop(self, site: str, reason: str, message: str, *args: object) -> None:
        self.stats.drop(site, reason)
        self._log.warning(site, reason, message, *args)

    # the site's worker: one input at a time, in arrival order

    async def _work(self, site: _Site) -> None:
        try:
            await self._seed_health(site)
        except Exception:  # the log unreadable for a moment: devices go on, changes recorded anew
            log.exception("site %s: could not read the day's device changes", site.id)
        while True:
            item = await site.inbox.get()
            try:
                await self._handle(site, item)
            except Exception:  # a bug on one input must not stop this site's devices
                log.exception("site %s: failed to handle %r", site.id, item)

    async def _handle(self, site: _Site, item: Inbound) -> None:
        runtime = site.runtime
        if isinstance(item, StatusInput):
            site.health.observe(item.device, item.status, runtime.clock())
            await self._flush(site)
            return
        kind = "keypad" if isinstance(item, KeyInput) else "rating"
        by = f"{kind}-{item.counter}"
        try:
            if isinstance(item, KeyInput):
                since = called_too_recently(item.press.key, item.counter, runtime.floor.state, runtime.clock())
                if since is not None:
                    site.health.refuse("keypad", item.counter, "too_soon")
                    self._drop(site.id, "too_soon", "%s of counter %d %.1f s after its call: the citizen is on the way",
                               item.press.key, item.counter, since)
                    return
                commands = commands_for_key(item.press.key, item.counter, runtime.floor.state, by, item.target)
                # "next" is finish + call: showing the finish would send a blank the LED bus must
                # carry before the new number. The display gets only where the press ended.
                site.held = []
                try:
                    for command in commands:
                        await runtime.execute(command)
                finally:
                    held, site.held = site.held, None
                    if held:
                        self._show(site, held)
            elif isinstance(item.press, ReasonsPress):
                await runtime.execute(reasons_command(runtime, item.counter, item.press, by))
            else:
                await runtime.execute(rating_command(item.counter, item.press.score, by))
        except DomainError as exc:
            self.stats.rejected[(site.id, exc.code)] += 1
            log.info("site %s counter %d: %s press refused: %s", site.id, item.counter, kind, exc.message)
            return
        self.stats.presses[(site.id, kind)] += 1

    # health: device.changed through the writer, debounced by the coordinators

    async def _seed_health(self, site: _Site) -> None:
        stored = await site.runtime.store.read_day(site.id, site.runtime.floor.state.day)
        site.health.seed(
            (s.body, float(s.body["at"])) for s in stored if s.body.get("type") == "device.changed"
        )

    async def _flush(self, site: _Site) -> None:
        now = site.runtime.clock()
        changes = site.health.take_changes(now)
        if changes:
            events = [Event("device.changed", now, data) for data in changes]
            # a printer that cannot print is an alert on the monitor; the floor resolves it (state.py)
            events += printer_alert_events(changes, site.runtime.floor.state.alerts, now)
            await site.runtime.record(events)
        if site.health.next_due() is None:
            self._dirty.discard(site.id)
        else:
            self._dirty.add(site.id)

    async def _flush_loop(self) -> None:
        while True:
            await asyncio.sleep(FLUSH_EVERY_S)
            for site_id in list(self._dirty):
                site = self.sites.get(site_id)
                if site is None:
                    continue  # lost meanwhile
                try:
                    await self._flush(site)
                except Exception:  # the log may be down for a moment; try again next round
                    log.exception("site %s: could not record device changes", site_id)


def _device_lines(board: DeviceBoard) -> list[DeviceLine]:
    return [DeviceLine(row["device"], row["kind"], row["status"], row["last_seen"],
                       tuple(printer_findings(row)) if row["kind"] == "printer" else ())
            for row in board.snapshot()]
