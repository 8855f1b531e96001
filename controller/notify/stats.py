"""What the notifier did, as Prometheus series on /metrics.

    motcua_sms_sent_total{site,kind}      texts the gateway accepted ("ahead", "called")
    motcua_sms_failed_total{site,kind}    texts that did not go out after the driver's retries
    motcua_sms_contacts{site}             phone numbers held now
    motcua_sms_fallback_total{reason}     texts the first channel (ZNS) did not deliver, sent by the second
                                          (reason: recipient, refused, unavailable; devices/sms/fallback.py)
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator, Mapping

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

__all__ = ["NotifyStats"]


class NotifyStats(Collector):
    """Counters of the notifier, collected at scrape time."""

    def __init__(self, contacts: Callable[[], Mapping[str, int]] = dict) -> None:
        self.sent: Counter[tuple[str, str]] = Counter()
        self.failed: Counter[tuple[str, str]] = Counter()
        self.contacts = contacts
        self.fallbacks: Mapping[str, int] = {}

    def collect(self) -> Iterator[Metric]:
        sent = CounterMetricFamily("motcua_sms_sent", "Texts accepted by the SMS gateway", labels=["site", "kind"])
        for (site, kind), n in sorted(self.sent.items()):
            sent.add_metric([site, kind], n)
        failed = CounterMetricFamily("motcua_sms_failed", "Texts that did not go out", labels=["site", "kind"])
        for (site, kind), n in sorted(self.failed.items()):
            failed.add_metric([site, kind], n)
        held = GaugeMetricFamily("motcua_sms_contacts", "Phone numbers held for texts", labels=["site"])
        for site, n in sorted(self.contacts().items()):
            held.add_metric([site], n)
        fallback = CounterMetricFamily("motcua_sms_fallback", "Texts the first channel did not deliver, sent by "
                                       "the second", labels=["reason"])
        for reason, n in sorted(self.fallbacks.items()):
            fallback.add_metric([reason], n)
        yield from (sent, failed, held, fallback)
