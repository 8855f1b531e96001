"""What went through the device router, as Prometheus series on /metrics.

    motcua_mqtt_dropped_total{site,reason}          input dropped (malformed, duplicate, ...)
    motcua_device_presses_total{site,kind}          presses turned into commands
    motcua_device_commands_rejected_total{site,code} commands the core refused
    motcua_devices{site,status}                     devices online / offline / unknown
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator, Mapping

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

__all__ = ["DROP_REASONS", "UNKNOWN_SITE", "DeviceStats"]

# why an input was dropped; bounded so a noisy publisher cannot grow the label set
DROP_REASONS = frozenset(
    {"bad_topic", "malformed", "unknown_site", "unknown_counter", "unknown_device", "duplicate", "retained"}
)
UNKNOWN_SITE = "unknown"


class DeviceStats(Collector):
    """Counters of the router, collected at scrape time."""

    def __init__(self, device_counts: Callable[[], Mapping[str, Mapping[str, int]]] = dict) -> None:
        self.dropped: Counter[tuple[str, str]] = Counter()
        self.presses: Counter[tuple[str, str]] = Counter()
        self.rejected: Counter[tuple[str, str]] = Counter()
        self.device_counts = device_counts

    def drop(self, site: str, reason: str) -> None:
        """Count one dropped input."""
        if reason not in DROP_REASONS:
            raise ValueError(f"unknown drop reason {reason!r}")
        self.dropped[(site, reason)] += 1

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
        yield from (dropped, presses, rejected, devices)
