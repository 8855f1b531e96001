"""GET /metrics: Prometheus series motcua_*, read from the live state at scrape time."""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.registry import Collector

from controller.core.targets import at_risk_now, transaction_tallies
from controller.core.tickets import CounterStatus
from controller.runtime.controller import Controller

__all__ = ["ControllerCollector", "render_metrics"]


class ControllerCollector(Collector):
    """Exposes the floor of every site as gauges and counters."""

    def __init__(self, controller: Controller) -> None:
        self.controller = controller

    def collect(self) -> Iterator[Metric]:
        waiting = GaugeMetricFamily("motcua_waiting", "Tickets waiting", labels=["site", "agency"])
        longest = GaugeMetricFamily("motcua_longest_wait_seconds", "Longest current wait", labels=["site", "agency"])
        at_risk = GaugeMetricFamily("motcua_at_risk", "Waiting tickets at risk of the target",
                                    labels=["site", "agency"])
        issued = CounterMetricFamily("motcua_tickets_issued", "Tickets issued today", labels=["site", "agency"])
        served = CounterMetricFamily("motcua_transactions_served", "Transactions served today",
                                     labels=["site", "agency"])
        within = GaugeMetricFamily("motcua_within_target_ratio",
                                   "Today's transactions called within the wait target, over those called and "
                                   "those not called whose wait passed it", labels=["site", "agency"])
        over = GaugeMetricFamily("motcua_waiting_over_target", "Tickets still waiting past the wait target",
                                 labels=["site", "agency"])
        counters = GaugeMetricFamily("motcua_counters", "Counters by status", labels=["site", "status"])
        breaches = CounterMetricFamily("motcua_breaches", "Target breaches today", labels=["site", "kind"])
        satisfaction = GaugeMetricFamily("motcua_satisfaction_ratio", "Share of top-two ratings today",
                                         labels=["site"])
        last_seq = GaugeMetricFamily("motcua_last_seq", "Last committed event sequence", labels=["site"])
        append_s = HistogramMetricFamily("motcua_store_append_seconds", "Time the event log took to take a commit",
                                         labels=["site"])
        append_failed = CounterMetricFamily("motcua_store_append_failures", "Commits the event log refused or lost",
                                            labels=["site"])
        for site_id, runtime in self.controller.runtimes.items():
            state = runtime.floor.state
            now = runtime.clock()
            in_line = state.waiting_by_agency()
            tallies = transaction_tallies(state, now)
            for agency in runtime.site.agencies:
                tickets = in_line[agency]
                waiting.add_metric([site_id, agency], len(tickets))
                longest.add_metric([site_id, agency], max((t.waited(now) for t in tickets), default=0.0))
                at_risk.add_metric([site_id, agency], sum(1 for t in tickets if at_risk_now(state, t, now)))
                issued.add_metric([site_id, agency], state.issued_per_agency.get(agency, 0))
                served.add_metric([site_id, agency], state.served_per_agency.get(agency, 0))
                tally = tallies[agency]
                over.add_metric([site_id, agency], tally.waiting_over)
                if tally.share is not None:
                    within.add_metric([site_id, agency], tally.share)
            for status in CounterStatus:
                counters.add_metric([site_id, str(status)],
                                    sum(1 for c in state.counters.values() if c.status == status))
            for kind in ("transaction", "visit"):
                breaches.add_metric([site_id, kind], sum(1 for b in state.breaches if b["kind"] == kind))
            share, _ = state.satisfaction()
            if share is not None:
                satisfaction.add_metric([site_id], share)
            last_seq.add_metric([site_id], runtime.last_seq)
            latency = runtime.append_latency
            append_s.add_metric([site_id], latency.cumulative(), latency.total_s)
            append_failed.add_metric([site_id], latency.failures)
        yield from (waiting, longest, at_risk, issued, served, within, over, counters, breaches, satisfaction, last_seq,
                    append_s, append_failed)


def render_metrics(controller: Controller, *extra: Collector) -> bytes:
    """The text exposition of every motcua_* series (extra: e.g. the device router's)."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(ControllerCollector(controller))
    for collector in extra:
        registry.register(collector)
    return generate_latest(registry)
