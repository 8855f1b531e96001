"""A controller with its device service, in this process, for the device tests."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

from controller.core.commands import IssueTicket, OpenCounter
from controller.core.events import Event
from controller.devices.service import DeviceService, device_service
from controller.runtime.controller import Controller
from controller.runtime.site_runtime import SiteRuntime
from controller.settings import Settings
from controller.sitefile import load_sites
from controller.store import open_store

__all__ = ["DeviceFloor", "device_floor", "logged"]

ROOT = Path(__file__).resolve().parent.parent
COMMUNE = ROOT / "controller" / "sites" / "commune-centre.toml"


@dataclass
class DeviceFloor:
    """The controller, its site "xa" and the running device service."""

    controller: Controller
    runtime: SiteRuntime
    service: DeviceService


async def logged(runtime: SiteRuntime, kind: str) -> list[Event]:
    """Today's committed events of one type, from the log itself."""
    stored = await runtime.store.read_day(runtime.site.id, runtime.floor.state.day)
    return [Event.from_dict(s.body) for s in stored if s.body["type"] == kind]


@contextlib.asynccontextmanager
async def device_floor(
    tmp_path: Path, mqtt: str = "none", devices: str = "sim", *, tickets: int = 3, site_file: Path = COMMUNE
) -> AsyncIterator[DeviceFloor]:
    """Site xa with counter 1 open and some tickets waiting, devices run as the settings say."""
    settings = Settings(
        site_file=site_file, data_dir=tmp_path, mqtt=mqtt, devices=devices, any_hour=True, tick=False,
        device_hold_s=0.2,
    )
    store = await open_store("sqlite", str(tmp_path))
    controller = Controller(load_sites(site_file), store, check_hours=False)
    await controller.start(tick=False)
    runtime = controller.runtime("xa")
    await runtime.execute(OpenCounter(1, staff="quay1"))
    for _ in range(tickets):
        await runtime.execute(IssueTicket("ht-khai-sinh", check_hours=False))
    try:
        async with device_service(settings, controller) as service:
            yield DeviceFloor(controller, runtime, service)
    finally:
        await controller.stop()
        await store.close()


# The site-file entries of one serial bus: an LED display and a keypad at counter 1, behind bridge "bus1".
SERIAL_DEVICES = """
[[device]]
id = "led-1"
kind = "display"
counter = 1
transport = "serial"
bus = "bus1"
address = 1

[[device]]
id = "kp-1"
kind = "keypad"
counter = 1
transport = "serial"
bus = "bus1"
address = 2
"""
