"""What `motcua load` measures: latency per operation, errors, refusals by limits, the live streams.

Every latency, error and refusal is kept with the wall time it was seen at, so
a soak run (sim/load_soak.py) can report each simulated hour apart. A refusal
by one of the server's limits (429: a kiosk's ticket rate, the connections of
one address, a log-in guard) is counted apart from errors: it is the server
doing what it was told, and the report says which limit refused and how often.
"""

from __future__ import annotations

import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = ["LiveCheck", "LoadStats", "latency_table", "slope_per_hour"]


@dataclass
class LiveCheck:
    """One site's live stream as a subscriber saw it: every seq once, in order, none missing."""

    last_seq: int | None = None
    received: int = 0
    dropped: int = 0        # seqs skipped over (a gap in the stream)
    out_of_order: int = 0   # a seq not above the last one (duplicate or reordered)
    issued_seen: int = 0    # ticket.issued events received
    issued_ids: set[str] = field(default_factory=set)  # their ticket ids (checked against the acknowledged)
    reconnects: int = 0

    def see(self, seq: int, kind: str, ticket: str | None = None) -> None:
        """Account for one event message."""
        self.received += 1
        if kind == "ticket.issued":
            self.issued_seen += 1
            if ticket is not None:
                self.issued_ids.add(ticket)
        if self.last_seq is not None:
            if seq <= self.last_seq:
                self.out_of_order += 1
                return
            self.dropped += seq - self.last_seq - 1
        self.last_seq = seq


def latency_table(values: dict[str, list[float]], wall_s: float | None = None) -> dict[str, dict[str, float]]:
    """count, p50/p99/max in ms (and per_s over wall_s when given) per operation, from seconds."""
    out: dict[str, dict[str, float]] = {}
    for op, seconds in sorted(values.items()):
        if not seconds:
            continue
        arr = np.asarray(seconds) * 1000.0
        row: dict[str, float] = {"count": len(seconds)}
        if wall_s is not None:
            row["per_s"] = round(len(seconds) / wall_s, 2) if wall_s > 0 else 0.0
        row |= {
            "p50_ms": round(float(np.percentile(arr, 50)), 2),
            "p99_ms": round(float(np.percentile(arr, 99)), 2),
            "max_ms": round(float(arr.max()), 2),
        }
        out[op] = row
    return out


def slope_per_hour(points: Iterable[tuple[float, float]]) -> float | None:
    """Least-squares slope of (hour, value) points: the growth per hour; None with fewer than 2 hours."""
    pairs = [(x, y) for x, y in points if y == y]  # NaN-free
    if len({x for x, _ in pairs}) < 2:
        return None
    xs, ys = np.asarray([p[0] for p in pairs]), np.asarray([p[1] for p in pairs])
    return float(np.polyfit(xs, ys, 1)[0])


@dataclass
class LoadStats:
    """Latencies (seconds) per operation, errors and refusals by operation and code, retries; each timed."""

    clock: Callable[[], float] = time.monotonic
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: Counter[str] = field(default_factory=Counter)
    limited: Counter[str] = field(default_factory=Counter)  # refused by a limit of the server (429)
    retries: Counter[str] = field(default_factory=Counter)
    issued_acked: Counter[str] = field(default_factory=Counter)  # per site, acknowledged new tickets
    issued_ids: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))  # site -> acknowledged ids
    numbers: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))  # site -> issued numbers
    # (wall time, kind, name, value): kind "ok" (value: seconds), "error", "limited", "lag" (value: seconds)
    timed: list[tuple[float, str, str, float]] = field(default_factory=list)
    # how far the servers' clocks are ahead of this machine's (moved by --roll-days each night)
    server_clock_ahead_s: float = 0.0

    def server_now(self) -> float:
        """The servers' clock now: what a device stamps its presses with, what an event's `ts` is against."""
        return time.time() + self.server_clock_ahead_s

    def ok(self, op: str, seconds: float) -> None:
        self.latencies[op].append(seconds)
        self.timed.append((self.clock(), "ok", op, seconds))

    def error(self, op: str, code: str) -> None:
        self.errors[f"{op}:{code}"] += 1
        self.timed.append((self.clock(), "error", f"{op}:{code}", 0.0))

    def refused(self, op: str, code: str) -> None:
        """A refusal by one of the server's limits: counted apart from errors."""
        self.limited[f"{op}:{code}"] += 1
        self.timed.append((self.clock(), "limited", f"{op}:{code}", 0.0))

    def lag(self, audience: str, seconds: float) -> None:
        """A live event received `seconds` after the server committed it (full stream or a phone's)."""
        self.timed.append((self.clock(), "lag", audience, seconds))

    def issued(self, site: str, ticket_id: str, number: str) -> None:
        self.issued_acked[site] += 1
        self.issued_ids[site].add(ticket_id)
        self.numbers[site].append(number)

    def lags(self) -> dict[str, list[float]]:
        out: dict[str, list[float]] = defaultdict(list)
        for _, kind, name, value in self.timed:
            if kind == "lag":
                out[name].append(value)
        return out

    def outages(self, since: float) -> list[dict[str, Any]]:
        """Spans in which requests failed for want of a server (lost connections, 5xx) until one succeeded again.

        Each: when it began (s after `since`), how long until the next success (the recovery), how many failed.
        """
        spans: list[dict[str, Any]] = []
        began: float | None = None
        failed = 0
        for at, kind, name, _ in sorted(self.timed):
            if at < since:
                continue
            code = name.split(":", 1)[1] if ":" in name else ""
            if kind == "error" and (not code[:1].isdigit() or code.startswith("5")):
                began = at if began is None else began
                failed += 1
            elif kind == "ok" and began is not None:
                spans.append({"at_s": round(began - since, 2), "recovered_after_s": round(at - began, 2),
                              "failed": failed})
                began, failed = None, 0
        if began is not None:
            spans.append({"at_s": round(began - since, 2), "recovered_after_s": None, "failed": failed})
        return spans

    def report(self, wall_s: float, live: dict[str, LiveCheck]) -> dict[str, Any]:
        """The JSON report of a run."""
        ops = latency_table(self.latencies, wall_s)
        total = sum(len(v) for v in self.latencies.values())
        reused = sum(len(n) - len(set(n)) for n in self.numbers.values())
        missing = sum(max(0, self.issued_acked[s] - live[s].issued_seen) for s in live)
        # a ticket acknowledged to a kiosk that the full stream (the event log in commit order) never showed
        lost = sum(len(self.issued_ids[s] - live[s].issued_ids) for s in live)
        return {
            "wall_s": round(wall_s, 2),
            "operations": total,
            "throughput_per_s": round(total / wall_s, 2) if wall_s > 0 else 0.0,
            "ops": ops,
            "errors": dict(sorted(self.errors.items())),
            "error_count": sum(self.errors.values()),
            "refused_by_limits": dict(sorted(self.limited.items())),
            "refused_count": sum(self.limited.values()),
            "retries": dict(sorted(self.retries.items())),
            "tickets_issued": sum(self.issued_acked.values()),
            "ticket_numbers_reused": reused,
            "live": {
                "subscribers": len(live),
                "events": sum(c.received for c in live.values()),
                "dropped": sum(c.dropped for c in live.values()),
                "out_of_order": sum(c.out_of_order for c in live.values()),
                "issued_not_seen": missing,
                "acked_ids_not_in_log": lost,
                "reconnects": sum(c.reconnects for c in live.values()),
                "lag": latency_table(self.lags()),
            },
        }
