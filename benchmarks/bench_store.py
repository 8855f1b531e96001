"""Event log backends side by side: append latency, concurrent throughput, replay of 50,000 events.

SQLite (WAL, synchronous=FULL) against Redis with the same durability promise
(appendonly yes, appendfsync always), and Redis without AOF to show what the
fsync costs. Every backend runs the same workload in the same run.
"""

from __future__ import annotations

import asyncio
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from controller.store.base import EventStore
from controller.store.redis import RedisEventStore
from controller.store.sqlite import SqliteEventStore
from tests.services import redis_server

DAY = "2026-11-02"
LATENCY_APPENDS = 2000
REPLAY_EVENTS = 50_000
FILL_BATCH = 100
SITES = 32
APPENDS_PER_SITE = 60


def body(n: int) -> dict[str, Any]:
    """A ticket.issued body of the usual size (about 250 bytes of JSON)."""
    return {
        "type": "ticket.issued",
        "at": 1_795_300_000.0 + n,
        "ticket": f"t{n:06d}",
        "number": f"{1000 + n % 999}",
        "agency": "TP",
        "procedure": "tp-ly-lich-tu-phap",
        "priority": None,
        "channel": "kiosk",
        "kiosk": "k1",
        "idempotency_key": f"kiosk-k1-{n}",
        "deadline": 1_795_300_900.0 + n,
        "visit_deadline": 1_795_301_800.0 + n,
        "by": "kiosk-k1",
    }


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


@dataclass
class Figures:
    name: str
    p50_ms: float
    p99_ms: float
    appends_per_s: float
    replay_s: float
    replay_events: int


async def measure(name: str, open_store: Callable[[], Awaitable[EventStore]]) -> Figures:
    store = await open_store()
    try:
        # One writer awaiting each commit, as a site's runtime does: the latency a kiosk waits for.
        latencies: list[float] = []
        for n in range(LATENCY_APPENDS):
            started = time.perf_counter()
            await store.append("latency", DAY, [body(n)])
            latencies.append((time.perf_counter() - started) * 1000)

        # Many sites' writers at once, one append in flight each: what one process can commit.
        async def site_writer(site: str) -> None:
            for n in range(APPENDS_PER_SITE):
                await store.append(site, DAY, [body(n)])

        started = time.perf_counter()
        await asyncio.gather(*(site_writer(f"xa-{i}") for i in range(SITES)))
        appends_per_s = SITES * APPENDS_PER_SITE / (time.perf_counter() - started)

        for first in range(0, REPLAY_EVENTS, FILL_BATCH):
            await store.append("replay", DAY, [body(n) for n in range(first, first + FILL_BATCH)])
    finally:
        await store.close()

    # Replay as a restarted process does: a fresh handle, the whole day read and decoded.
    # Best of three, so a neighbour's burst on this small machine does not decide the figure.
    replays: list[float] = []
    for _ in range(3):
        store = await open_store()
        try:
            started = time.perf_counter()
            events = await store.read_day("replay", DAY)
            replays.append(time.perf_counter() - started)
        finally:
            await store.close()
    replay_s = min(replays)
    return Figures(
        name, statistics.median(latencies), percentile(latencies, 0.99), appends_per_s, replay_s, len(events)
    )


def run() -> str:
    with tempfile.TemporaryDirectory() as tmp, ExitStack() as stack:
        root = Path(tmp)
        (root / "aof").mkdir()
        (root / "mem").mkdir()
        aof = stack.enter_context(redis_server(root / "aof", appendonly=True))
        mem = stack.enter_context(redis_server(root / "mem", appendonly=False))
        figures = [
            asyncio.run(measure("SQLite (WAL, synchronous=FULL)", lambda: SqliteEventStore(root / "e.db").open())),
            asyncio.run(measure("Redis (appendonly, fsync always)", lambda: RedisEventStore.connect(aof.url))),
            asyncio.run(measure("Redis (no persistence)", lambda: RedisEventStore.connect(mem.url))),
        ]
    rows = [
        f"| {f.name} | {f.p50_ms:.2f} ms | {f.p99_ms:.2f} ms | {f.appends_per_s:,.0f} | "
        f"{f.replay_s:.2f} s ({f.replay_events / f.replay_s:,.0f} events/s) |"
        for f in figures
    ]
    return "\n".join([
        "## Event log: SQLite vs Redis",
        "",
        "Command: `python -m benchmarks.run bench_store`",
        "",
        f"Append latency: {LATENCY_APPENDS:,} single-event appends, one writer awaiting each commit "
        "(what a kiosk waits for). Throughput: "
        f"{SITES} sites appending at once, one append in flight per site (a site's single writer), "
        f"{SITES * APPENDS_PER_SITE:,} appends. Replay: a fresh handle reads and decodes one site-day of "
        f"{REPLAY_EVENTS:,} events (~250-byte ticket bodies), as a restart or a lease take-over does; best of 3.",
        "Both durable configurations fsync every commit before acknowledging it. Redis runs on the same "
        "machine (loopback), so its figures are the floor of a networked deployment.",
        "",
        "| backend | append p50 | append p99 | appends/s, concurrent sites | replay 50,000 events |",
        "|---|---:|---:|---:|---:|",
        *rows,
    ])


if __name__ == "__main__":
    print(run())
