"""`--devices sim`: emulated MQTT displays and keypads for the registry's MQTT devices.

They are the emulators of firmware_bridge/mqtt_emulators.py, one MQTT
connection each with its own last will, so the monitor shows them online and a
stopped controller shows them offline. Given the broker's passwords (the
embedded broker's), each logs in as its own device user and is held to its ACL.
Each display logs what it shows, which
is what `make run` prints as counters call numbers. Serial devices are not
emulated here: `python -m firmware_bridge.emulators` emulates a bus.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Mapping, Sequence
from types import TracebackType
from typing import Final, Self

from devices.mqtt_acl import device_username
from devices.registry import DeviceSpec
from firmware_bridge.mqtt_emulators import MqttDisplayEmulator, MqttKeypadEmulator
from firmware_bridge.mqtt_security import MqttSecurity

__all__ = ["SIM_DEVICE_LIMIT", "SimulatedDevices"]

log = logging.getLogger(__name__)

# each emulator is a paho client with its own network thread: a province file of
# a hundred sites would start thousands; the first sites' devices show the idea
SIM_DEVICE_LIMIT: Final = 200


class SimulatedDevices:
    """The emulated MQTT devices of some sites; `async with SimulatedDevices(url, devices)`."""

    def __init__(
        self,
        url: str,
        devices: Sequence[tuple[str, DeviceSpec]],
        limit: int = SIM_DEVICE_LIMIT,
        passwords: Mapping[str, str] | None = None,
    ) -> None:
        wanted = [
            (site, spec) for site, spec in devices
            if spec.transport == "mqtt" and spec.kind in ("display", "keypad", "rating") and spec.counter is not None
        ]
        if len(wanted) > limit:
            log.warning("emulating the first %d of %d MQTT devices", limit, len(wanted))
        self.displays: dict[tuple[str, int], MqttDisplayEmulator] = {}
        self.keypads: dict[tuple[str, str], MqttKeypadEmulator] = {}
        for site, spec in wanted[:limit]:
            assert spec.counter is not None
            security = None
            if passwords is not None:
                username = device_username(site, spec.id)
                security = MqttSecurity(username=username, password=passwords[username])
            if spec.kind == "display":
                self.displays[(site, spec.counter)] = MqttDisplayEmulator(url, site, spec.counter, spec.id, security)
            else:
                self.keypads[(site, spec.id)] = MqttKeypadEmulator(url, site, spec.counter, spec.id, security)
        self._tasks: list[asyncio.Task[None]] = []

    @property
    def count(self) -> int:
        """How many devices are emulated."""
        return len(self.displays) + len(self.keypads)

    async def __aenter__(self) -> Self:
        await asyncio.gather(
            *(d.__aenter__() for d in self.displays.values()), *(k.__aenter__() for k in self.keypads.values())
        )
        for (site, _), display in self.displays.items():
            self._tasks.append(asyncio.create_task(self._report(site, display)))
        log.info("%d emulated MQTT devices started", self.count)
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
        # in parallel: each one waits for its "offline" to be acknowledged
        await asyncio.gather(
            *(d.__aexit__(None, None, None) for d in self.displays.values()),
            *(k.__aexit__(None, None, None) for k in self.keypads.values()),
            return_exceptions=True,
        )

    @staticmethod
    async def _report(site: str, display: MqttDisplayEmulator) -> None:
        def grown_past(n: int) -> Callable[[], bool]:
            return lambda: len(display.history) > n

        seen = 0
        while True:
            with contextlib.suppress(TimeoutError):
                await display.wait_until(grown_past(seen), timeout_s=3600)
            for state in display.history[seen:]:
                shown = "blank" if state is None else f"{state.number}{' (blinking)' if state.blink else ''}"
                log.info("site %s: %s shows %s", site, display.device_id, shown)
            seen = len(display.history)
