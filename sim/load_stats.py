"""What `motcua load` measures: latency per operation, errors, and the live streams' completeness."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = ["LiveCheck", "LoadStats"]


@dataclass
class LiveCheck:
    """One site's live stream as a subscriber saw it: every seq once, in order, none missing."""

    last_seq: int | None = None
    received: int = 0
    dropped: int = 0        # seqs skipped over (a gap in the stream)
    out_of_order: int = 0   # a seq not above the last one (duplicate or reordered)
    issued_seen: int = 0    # ticket.issued events received
    reconnects: int = 0

    def see(self, seq: int, kind: str) -> None:
        """Account for one event message."""
        self.received += 1
        if kind == "ticket.issued":
            self.issued_seen += 1
        if self.last_seq is not None:
            if seq <= self.last_seq:
                self.out_of_order += 1
                return
            self.dropped += seq - self.last_seq - 1
        self.last_seq = seq


@dataclass
class LoadStats:
    """Latencies (seconds) per operation, errors by operation and code, retries."""

    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: Counter[str] = field(default_factory=Counter)
    retries: Counter[str] = field(default_factory=Counter)
    issued_acked: Counter[str] = field(default_factory=Counter)  # per site, acknowledged new tickets
    numbers: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))  # site -> issued numbers

    def ok(self, op: str, seconds: float) -> None:
        self.latencies[op].append(seconds)

    def error(self, op: str, code: str) -> None:
        self.errors[f"{op}:{code}"] += 1

    def report(self, wall_s: float, live: dict[str, LiveCheck]) -> dict[str, Any]:
        """The JSON report of a run."""
        ops: dict[str, Any] = {}
        total = 0
        for op, values in sorted(self.latencies.items()):
            arr = np.asarray(values) * 1000.0
            total += len(values)
            ops[op] = {
                "count": len(values),
                "per_s": round(len(values) / wall_s, 2) if wall_s > 0 else 0.0,
                "p50_ms": round(float(np.percentile(arr, 50)), 2),
                "p99_ms": round(float(np.percentile(arr, 99)), 2),
                "max_ms": round(float(arr.max()), 2),
            }
        reused = sum(len(n) - len(set(n)) for n in self.numbers.values())
        missing = sum(max(0, self.issued_acked[s] - live[s].issued_seen) for s in live)
        return {
            "wall_s": round(wall_s, 2),
            "operations": total,
            "throughput_per_s": round(total / wall_s, 2) if wall_s > 0 else 0.0,
            "ops": ops,
            "errors": dict(sorted(self.errors.items())),
            "error_count": sum(self.errors.values()),
            "retries": dict(sorted(self.retries.items())),
            "tickets_issued": sum(self.issued_acked.values()),
            "ticket_numbers_reused": reused,
            "live": {
                "subscribers": len(live),
                "events": sum(c.received for c in live.values()),
                "dropped": sum(c.dropped for c in live.values()),
                "out_of_order": sum(c.out_of_order for c in live.values()),
                "issued_not_seen": missing,
                "reconnects": sum(c.reconnects for c in live.values()),
            },
        }
