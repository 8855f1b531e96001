"""What went through the device router, as Prometheus series on /metrics.

    motcua_mqtt_dropped_total{site,reason}          input dropped (malformed, duplicate, late, ...),
                                                    and presses that never arrived (lost)
    motcua_device_presses_total{site,kind}          presses turned into commands
    motcua_device_commands_rejected_total{site,code} commands the core refused
    motcua_devices{site,status}                     devices online / offline / unknown
    motcua_mqtt_connected                           1 while the controller's link to the broker is up, 0
                                                    while it is down (no sample when devices run in-process)
    motcua_bus_{frames,retries,timeouts,bad_crc,naks}_total{site,bus,device}
                                                    a serial device's line, as its bridge reports it
    motcua_device_status{site,device,kind,status}   1, with each device's availability now (online,
                                                    offline, unknown: never heard from)
    motcua_device_last_seen_timestamp_seconds{site,device,kind}
                                                    when the device last reported (status, press, answer)
    motcua_device_problem{site,device,kind,problem} 1 for each thing an online printer says is wrong
                                                    or running low (paper_out, paper_low, cover_open, ...)
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

__all__ = ["DROP_REASONS", "UNKNOWN_SITE", "DeviceLine", "DeviceStats"]

# why an input was dropped; bounded so a noisy publisher cannot grow the label set
DROP_REASONS = frozenset({
    "bad_topic", "malformed", "unknown_site", "unknown_counter", "unknown_device", "duplicate", "retained",
    # the press rules (controller/devices/keypads.py, CONTRACT.md section 4)
    "late", "burst", "too_soon", "lost",
})
UNKNOWN_SITE = "unknown"


@dataclass(frozen=True, slots=True)
class DeviceLine:
    """One device as /metrics tells it: its availability, when last heard from, what it says is wrong."""

    device: str
    kind: str
    status: str
    last_seen: float | None
    problems: tuple[str, ...] = ()


class DeviceStats(Collector):
    """Counters of the router, collected at scrape time."""

    def __init__(self, device_counts: Callable[[], Mapping[str, Mapping[str, int]]] = dict) -> None:
        self.dropped: Counter[tuple[str, str]] = Counter()
        self.presses: Counter[tuple[str, str]] = Counter()
        self.rejected: Counter[tuple[str, str]] = Counter()
        self.device_counts = device_counts
        # per site: (bus, device, counters) of its serial devices, as their bridges last reported
        self.bus_counts: Callable[[], Mapping[str, Sequence[tuple[str, str, Mapping[str, int]]]]] = dict
        # per site: each device's line (DeviceLine)
        self.device_lines: Callable[[], Mapping[str, Sequence[DeviceLine]]] = dict
        # the MQTT link's state; None: there is no broker (devices in-process, or none)
        self.broker_connected: Callable[[], bool | None] = lambda: None

    def drop(self, site: str, reason: str, count: int = 1) -> None:
        """Count dropped inputs (one, unless told)."""
        if reason not in DROP_REASONS:
            raise ValueError(f"unknown drop reason {reason!r}")
        self.dropped[(site, reason)] += count

    def dropped_total(self, site: str | None = None, reason: str | None = None) -> int:
        """Dropped inputs, optionally of one site and one reason."""
        return sum(
            n for (s, r), n in self.dropped.items() if site in (None, s) and reason in (None, r)
        )

    def collect(self) -> Iterator[Metric]:
        dropped = CounterMetricFamily(
            "motcua_mqtt_dropped", "Device inputs dropped without changing state", labels=["site", "reason"]
        )
        for (site, reason), n in sorted(self.dropped.items()):
            dropped.add_metric([site, reason], n)
        presses = CounterMetricFamily(
            "motcua_device_presses", "Keypad and rating presses turned into commands", labels=["site", "kind"]
        )
        for (site, kind), n in sorted(self.presses.items()):
            presses.add_metric([site, kind], n)
        rejected = CounterMetricFamily(
            "motcua_device_commands_rejected", "Keypad commands the core refused", labels=["site", "code"]
        )
        for (site, code), n in sorted(self.rejected.items()):
            rejected.add_metric([site, code], n)
        devices = GaugeMetricFamily("motcua_devices", "Devices by availability", labels=["site", "status"])
        for site, counts in sorted(self.device_counts().items()):
            for status, n in sorted(counts.items()):
                devices.add_metric([site, status], n)
        broker = GaugeMetricFamily("motcua_mqtt_connected", "1 while the controller is connected to the MQTT broker")
        connected = self.broker_connected()
        if connected is not None:
            broker.add_metric([], 1 if connected else 0)
        yield from (dropped, presses, rejected, devices, broker)
        bus = {
            name: CounterMetricFamily(f"motcua_bus_{name}", f"Serial line {what}, per device (its bridge's count)",
                                      labels=["site", "bus", "device"])
            for name, what in (("frames", "requests sent"), ("retries", "attempts after the first"),
                               ("timeouts", "exchanges never answered"), ("bad_crc", "frames dropped on a bad CRC"),
                               ("naks", "requests refused"))
        }
        for site, rows in sorted(self.bus_counts().items()):
            for bus_id, device, counts in rows:
                for name, family in bus.items():
                    if name in counts:
                        family.add_metric([site, bus_id, device], counts[name])
        yield from bus.values()
        availability = GaugeMetricFamily("motcua_device_status", "1 with each device's availability now",
                                         labels=["site", "device", "kind", "status"])
        seen = GaugeMetricFamily("motcua_device_last_seen_timestamp_seconds",
                                 "When the device last reported (its status, a press, an answer on its bus)",
                                 labels=["site", "device", "kind"])
        problem = GaugeMetricFamily("motcua_device_problem", "1 for each thing an online printer says is wrong",
                                    labels=["site", "device", "kind", "problem"])
        for site, lines in sorted(self.device_lines().items()):
            for line in lines:
                availability.add_metric([site, line.device, line.kind, line.status], 1)
                if line.last_seen is not None:
                    seen.add_metric([site, line.device, line.kind], line.last_seen)
                for code in line.problems:
                    problem.add_metric([site, line.device, line.kind, code], 1)
        yield from (availability, seen, problem)
