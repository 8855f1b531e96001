"""How long the event log took to take a site's commits (a histogram /metrics exports).

Every command waits for its append before anyone is answered, so a slow store is
a slow floor: the operations alert (docs/grafana/alerts.yml) watches this.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field

__all__ = ["APPEND_BUCKETS_S", "AppendLatency"]

# from a local SQLite commit (about a millisecond) to a Redis across a congested link
APPEND_BUCKETS_S = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)


@dataclass
class AppendLatency:
    """Appends observed since start: counts per bucket (not cumulative), their sum and the failures."""

    counts: list[int] = field(default_factory=lambda: [0] * (len(APPEND_BUCKETS_S) + 1))
    total_s: float = 0.0
    failures: int = 0

    def observe(self, seconds: float) -> None:
        """One append that took `seconds` (failed or not: a store that hangs then fails is slow too)."""
        self.counts[bisect.bisect_left(APPEND_BUCKETS_S, seconds)] += 1
        self.total_s += seconds

    def cumulative(self) -> list[tuple[str, int]]:
        """(le, appends at most that long) per bucket, ending with +Inf, as Prometheus histograms count."""
        rows: list[tuple[str, int]] = []
        running = 0
        for bound, n in zip((*map(str, APPEND_BUCKETS_S), "+Inf"), self.counts, strict=True):
            running += n
            rows.append((bound, running))
        return rows
