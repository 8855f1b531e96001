"""Device availability: one coordinator per device, a board per site. Pure (time passed in).

A coordinator owns what is known of one device: its own status ("online",
"offline" from its last will, or JSON health) and whether the bridge that serves
it is up. Serial devices sit behind a `motcua bridge`; when that bridge dies its
last will marks it offline, and every device of its bus is offline with it even
though their own retained statuses still say "online".

A bridge's status carries the statistics of its bus (firmware_bridge/bridge.py):
the totals stay in the bridge's health, and each device's own counters (frames,
retries, timeouts, bad CRC, NAKs) and when the bridge last heard it go to that
device's coordinator: its monitor row shows them as `bus`, and /metrics as
motcua_bus_*_total. Every row has `last_seen`: the last status, press or answer
on the bus heard from the device (epoch seconds, None before any), and
`refused`: a keypad's presses the press rules refused, or that never came, by
reason (keypads.py), since this process took the site.

The live availability is shown at once (monitor); the event log gets a
device.changed only when availability or a lasting health field changed, at
most once per `hold_s` per device, so a flapping device or a status that
carries its uptime cannot flood the log. The last state always lands: a change
held back is committed when its hold ends, unless the device went back.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from devices.payloads import DeviceStatus
from devices.registry import DeviceSpec

__all__ = ["BUS_COUNTERS", "HOLD_S", "VOLATILE_HEALTH", "DeviceBoard", "DeviceCoordinator"]

HOLD_S: Final = 5.0
# health fields that change on every report: shown live, never a reason to log a change
VOLATILE_HEALTH: Final = frozenset({"uptime", "uptime_s", "rssi", "heap", "free_heap", "at", "ts", "bus", "devices"})
BUS_COUNTERS: Final = ("frames", "retries", "timeouts", "bad_crc", "naks")
BRIDGE_PREFIX: Final = "bridge-"

_Logged = tuple[str, tuple[tuple[str, str], ...]]


def _lasting(health: Mapping[str, object]) -> tuple[tuple[str, str], ...]:
    return tuple(sorted((k, repr(v)) for k, v in health.items() if k not in VOLATILE_HEALTH))


@dataclass(slots=True)
class DeviceCoordinator:
    """What is known of one device, and what the log last said about it."""

    id: str
    kind: str
    counter: int | None = None
    transport: str = "mqtt"
    bus: str | None = None
    hold_s: float = HOLD_S
    address: int | None = None
    kiosk: str | None = None
    zone: str | None = None
    own: str = "unknown"
    bridge_up: bool = True
    health: dict[str, object] = field(default_factory=dict)
    since: float | None = None
    last_seen: float | None = None  # the device's own last report (not a last will)
    bus_stats: dict[str, int] | None = None  # a serial device's counters, from its bridge's status
    refused: dict[str, int] = field(default_factory=dict)  # a keypad's presses refused today, by reason
    _logged: _Logged | None = None
    _logged_at: float = -math.inf

    @classmethod
    def of(cls, spec: DeviceSpec, hold_s: float = HOLD_S) -> DeviceCoordinator:
        """A coordinator for a registry device."""
        return cls(spec.id, spec.kind, spec.counter, spec.transport, spec.bus, hold_s, spec.address, spec.kiosk,
                   spec.zone)

    @property
    def status(self) -> str:
        """online / offline / unknown, as the floor should see it now."""
        return self.own if self.bridge_up else "offline"

    def observe(self, status: DeviceStatus, now: float) -> None:
        """The device reported its status (or its last will did)."""
        before = self.status
        self.own = "online" if status.online else "offline"
        # a device that went silent has no current health; keep the last known otherwise
        self.health = dict(status.health) if status.online else {}
        if status.online:
            self.seen(now)
        if self.status != before:
            self.since = now

    def seen(self, at: float) -> None:
        """The device was heard at `at` (a status, a press, an answer on its bus)."""
        if self.last_seen is None or at > self.last_seen:
            self.last_seen = at

    def bridge(self, up: bool, now: float) -> None:
        """The bridge serving this device came up or went down."""
        before = self.status
        self.bridge_up = up
        if self.status != before:
            self.since = now

    def seed(self, data: Mapping[str, Any], at: float) -> None:
        """What the log already says (a device.changed of today), so a restart does not repeat it."""
        status = str(data.get("status", "unknown"))
        health = data.get("health")
        self._logged = (status, _lasting(health if isinstance(health, Mapping) else {}))
        self._logged_at = at

    def _now_state(self) -> _Logged:
        return (self.status, _lasting(self.health) if self.status == "online" else ())

    def pending(self) -> bool:
        """Whether the live state differs from what the log says."""
        return self.status != "unknown" and self._now_state() != self._logged

    def due_at(self) -> float | None:
        """When a pending change may be committed; None when nothing is pending."""
        return self._logged_at + self.hold_s if self.pending() else None

    def take_change(self, now: float) -> dict[str, Any] | None:
        """The device.changed data to commit now, if a change is pending and its hold is over."""
        due = self.due_at()
        if due is None or now < due:
            return None
        self._logged = self._now_state()
        self._logged_at = now
        return self.event_data()

    def event_data(self) -> dict[str, Any]:
        """The data of a device.changed event for the current state."""
        health = dict(self.health) if self.status == "online" else {}
        if not self.bridge_up:
            health = {"reason": f"{BRIDGE_PREFIX}{self.bus} offline"}
        return {
            "device": self.id,
            "kind": self.kind,
            "counter": self.counter,
            "transport": self.transport,
            "status": self.status,
            "health": health,
        }

    def row(self) -> dict[str, Any]:
        """The monitor's line for this device: where it is, its availability since when, its last report,
        its bus counters (serial) and the presses refused (keypads)."""
        return {**self.event_data(), "health": dict(self.health), "since": self.since, "last_seen": self.last_seen,
                "bus": self.bus, "address": self.address, "kiosk": self.kiosk, "zone": self.zone,
                "bus_stats": None if self.bus_stats is None else dict(self.bus_stats), "refused": dict(self.refused)}


class DeviceBoard:
    """The coordinators of one site, found by device id; bridges found by bus."""

    def __init__(self, specs: Iterable[DeviceSpec], hold_s: float = HOLD_S) -> None:
        self.hold_s = hold_s
        self.devices: dict[str, DeviceCoordinator] = {s.id: DeviceCoordinator.of(s, hold_s) for s in specs}
        self.buses = sorted({d.bus for d in self.devices.values() if d.bus is not None})
        for bus in self.buses:
            bridge_id = f"{BRIDGE_PREFIX}{bus}"
            self.devices.setdefault(bridge_id, DeviceCoordinator(bridge_id, "bridge", hold_s=hold_s))

    def observe(self, device_id: str, status: DeviceStatus, now: float) -> bool:
        """Record a status; False when the device is not on this site's registry."""
        device = self.devices.get(device_id)
        if device is None:
            return False
        device.observe(status, now)
        if device.kind == "bridge":
            bus = device_id.removeprefix(BRIDGE_PREFIX)
            reports = status.health.get("devices")
            reports = reports if isinstance(reports, Mapping) else {}
            for other in self.devices.values():
                if other.bus == bus:
                    other.bridge(status.online, now)
                    report = reports.get(other.id)
                    if isinstance(report, Mapping):
                        self._bus_report(other, report)
        return True

    @staticmethod
    def _bus_report(device: DeviceCoordinator, report: Mapping[str, Any]) -> None:
        counts = {k: v for k in BUS_COUNTERS if isinstance(v := report.get(k), int) and not isinstance(v, bool)}
        device.bus_stats = counts
        heard = report.get("heard_at")
        if isinstance(heard, int | float) and not isinstance(heard, bool):
            device.seen(float(heard))

    def _keypads(self, kind: str, counter: int) -> list[DeviceCoordinator]:
        return [d for d in self.devices.values() if d.kind == kind and d.counter == counter]

    def heard(self, kind: str, counter: int, at: float) -> None:
        """A press came from the keypad (kind "keypad" or "rating") of counter."""
        for device in self._keypads(kind, counter):
            device.seen(at)

    def refuse(self, kind: str, counter: int, reason: str, count: int = 1) -> None:
        """Presses of that keypad were refused (late, burst, ...) or never came (lost)."""
        for device in self._keypads(kind, counter):
            device.refused[reason] = device.refused.get(reason, 0) + count

    def bus_stats(self) -> list[tuple[str, str, dict[str, int]]]:
        """(bus, device, counters) of every serial device whose bridge reported them."""
        return [(d.bus or "", d.id, dict(d.bus_stats)) for d in self.devices.values() if d.bus_stats is not None]

    def seed(self, events: Iterable[tuple[Mapping[str, Any], float]]) -> None:
        """Fold today's logged device.changed data (in order) into what the log says."""
        for data, at in events:
            device = self.devices.get(str(data.get("device")))
            if device is not None:
                device.seed(data, at)

    def take_changes(self, now: float) -> list[dict[str, Any]]:
        """Every change due now, as device.changed data."""
        return [data for d in self.devices.values() if (data := d.take_change(now)) is not None]

    def next_due(self) -> float | None:
        """The earliest time a held-back change becomes due."""
        dues = [due for d in self.devices.values() if (due := d.due_at()) is not None]
        return min(dues, default=None)

    def snapshot(self) -> list[dict[str, Any]]:
        """Every device with its availability, for the monitor."""
        return [d.row() for d in self.devices.values()]

    def counts(self) -> dict[str, int]:
        """How many devices are online, offline and unknown."""
        out = {"online": 0, "offline": 0, "unknown": 0}
        for device in self.devices.values():
            out[device.status] = out.get(device.status, 0) + 1
        return out
