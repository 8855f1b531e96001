"""The one entry point of the lifespan: the broker, the router and emulated devices, by settings.

    --devices none                 nothing (the monitor lists no devices)
    --mqtt none --devices sim      in-process fakes: a RecordingDisplay per display and a
                                   QueuedKeySource per keypad, driven directly, no broker
    --mqtt URL|embedded --devices real
                                   the registry's devices over MQTT: MQTT devices directly,
                                   serial/Modbus ones through `motcua bridge` processes
    ... --devices sim              the same, plus emulated MQTT devices (sim.py)
    --store redis:// --mqtt URL --devices real
                                   sites partitioned over processes: each process drives the
                                   devices of the sites it writes (the router follows its
                                   leases), presses reach the writer through Redis (press_relay.py)

Voice (speakers.py) and kiosk printing (printers.py) follow the same settings:
with `sim` a FakePlayer and FakePrinters on this host (and the MQTT messages
when there is a broker), with `real` the registry's speakers and printers.

Start order: broker, emulated devices (so their statuses are retained before the
router subscribes), the controller's MQTT link, the router (which publishes
every display's state: a restarted controller resyncs the floor), then voice
and printing (printer health goes through the router). Stopped in the reverse
order.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field

from controller.devices.outputs import InProcessOutput, MqttOutput
from controller.devices.press_relay import PressRelay, press_relay, shared_press_filters
from controller.devices.printers import PrintService, print_service
from controller.devices.router import INPUT_KINDS, DeviceRouter
from controller.devices.sim import SimulatedDevices
from controller.devices.speakers import VoiceService, voice_service
from controller.devices.stats import DeviceStats
from controller.runtime.controller import Controller
from controller.settings import Settings
from controller.store.base import EventStore
from controller.store.redis import RedisEventStore
from counter_display.fakes import QueuedKeySource, RecordingDisplay
from devices.payloads import DeviceStatus
from devices.registry import DeviceSpec
from firmware_bridge.mqtt_link import MqttLink

__all__ = ["DeviceService", "device_service"]

log = logging.getLogger(__name__)

CONNECT_WAIT_S = 5.0
RESYNC_CHECK_S = 0.5


@dataclass
class DeviceService:
    """What the lifespan keeps of the devices: for /metrics, tests and the monitor."""

    stats: DeviceStats
    router: DeviceRouter | None = None
    mqtt_url: str | None = None
    link: MqttLink | None = None
    sim: SimulatedDevices | None = None
    displays: dict[tuple[str, int], RecordingDisplay] = field(default_factory=dict)
    keys: dict[tuple[str, int], QueuedKeySource] = field(default_factory=dict)
    voice: VoiceService | None = None
    printing: PrintService | None = None
    relay: PressRelay | None = None


def _devices(controller: Controller) -> list[tuple[str, DeviceSpec]]:
    return [
        (site_id, spec)
        for site_id, site in controller.sites.items()
        for spec in site.devices
        if isinstance(spec, DeviceSpec)
    ]


@contextlib.asynccontextmanager
async def device_service(
    settings: Settings, controller: Controller, store: EventStore | None = None,
    check_code: Callable[[str, str], str] | None = None,
) -> AsyncIterator[DeviceService]:
    """Run the devices the settings ask for, for the life of the context.

    store: the Redis store when sites are partitioned (presses are relayed through it).
    check_code: (site, ticket) -> a number held away's check-in code, printed on tickets that return later.
    """
    service = DeviceService(DeviceStats())
    if settings.devices == "none":
        yield service
        return
    async with contextlib.AsyncExitStack() as stack:
        if settings.mqtt_url is None:
            await _in_process(stack, service, settings, controller)
        else:
            await _over_mqtt(stack, service, settings, controller, store)
        router = service.router
        service.voice = await stack.enter_async_context(
            voice_service(controller, settings.devices, service.link,
                          on_status=router.status if router is not None else None)
        )
        service.printing = await stack.enter_async_context(
            print_service(controller, settings.devices, service.router, service.link, settings.base_url,
                          poll_s=settings.device_hold_s, check_code=check_code)
        )
        yield service


async def _in_process(
    stack: contextlib.AsyncExitStack, service: DeviceService, settings: Settings, controller: Controller
) -> None:
    for site_id, spec in _devices(controller):
        if spec.counter is None:
            continue
        if spec.kind == "display":
            service.displays[(site_id, spec.counter)] = RecordingDisplay()
        elif spec.kind in ("keypad", "rating"):
            # one source per counter: a rating and a staff keypad of a counter share a desk
            service.keys.setdefault((site_id, spec.counter), QueuedKeySource())
    service.router = await stack.enter_async_context(
        DeviceRouter(
            controller, InProcessOutput(service.displays), service.stats,
            key_sources=service.keys, hold_s=settings.device_hold_s,
        )
    )
    # the fakes are in this process: they are there as long as it runs
    for site_id, spec in _devices(controller):
        if (site_id, spec.counter) in service.displays or (site_id, spec.counter) in service.keys:
            service.router.status(site_id, spec.id, DeviceStatus(online=True))
    log.info("devices in-process: %d displays, %d keypads", len(service.displays), len(service.keys))


async def _over_mqtt(
    stack: contextlib.AsyncExitStack, service: DeviceService, settings: Settings, controller: Controller,
    store: EventStore | None,
) -> None:
    url = settings.mqtt_url
    assert url is not None
    security, passwords = settings.mqtt_security, None
    if settings.mqtt_embedded:
        from controller.devices.broker import broker_credentials, embedded_broker  # amqtt only when asked for

        credentials = await broker_credentials(settings.data_dir, _devices(controller))
        url = await stack.enter_async_context(embedded_broker(*settings.mqtt_address, credentials))
        security, passwords = credentials.controller, credentials.passwords
    service.mqtt_url = url
    if settings.devices == "sim":
        service.sim = await stack.enter_async_context(
            SimulatedDevices(url, _devices(controller), passwords=passwords)
        )
    partitioned = isinstance(store, RedisEventStore) and settings.partitioned
    link = MqttLink(
        url,
        client_id=f"motcua-controller-{socket.gethostname()}-{os.getpid()}",
        # partitioned: every site's presses, shared with the other processes (press_relay.py);
        # otherwise the router subscribes to its sites' inputs itself
        subscriptions=shared_press_filters(list(controller.sites)) if partitioned else [],
        security=security,
    )
    service.link = await stack.enter_async_context(link)
    service.stats.broker_connected = lambda: link.connected
    try:
        await link.wait_connected(CONNECT_WAIT_S)
    except TimeoutError:
        # the floor works without its displays; paho keeps retrying and the states queued
        # meanwhile go out when it connects (and the router resyncs then)
        log.warning("MQTT broker %s not reachable yet; displays update when it is", url)
    service.router = await stack.enter_async_context(
        DeviceRouter(
            controller, MqttOutput(link), service.stats, messages=None if partitioned else link.messages,
            hold_s=settings.device_hold_s, subscriber=link,
            # partitioned: statuses of the sites written here; their presses come through Redis
            subscribe_kinds=("device_status",) if partitioned else INPUT_KINDS,
        )
    )
    if partitioned:
        assert isinstance(store, RedisEventStore)
        router = service.router
        relay = PressRelay(store.client, store.prefix, router, list(controller.sites), lambda: router.sites)
        router.on_orphaned = relay.give_back
        service.relay = await stack.enter_async_context(press_relay(relay, link.messages))
    watcher = asyncio.create_task(_resync_on_reconnect(link, service.router), name="motcua-devices-resync")
    stack.push_async_callback(_cancel, watcher)
    log.info("devices over %s (%s)", url, settings.devices)


async def _resync_on_reconnect(link: MqttLink, router: DeviceRouter) -> None:
    # a broker that restarted without persistence lost the retained states: send them again
    seen = link.connects
    while True:
        await asyncio.sleep(RESYNC_CHECK_S)
        if link.connects > seen:
            seen = link.connects
            if seen > 1:
                log.info("reconnected to the broker: publishing every display again")
                router.resync_all()


async def _cancel(task: asyncio.Task[None]) -> None:
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
