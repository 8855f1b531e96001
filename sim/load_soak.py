"""`motcua load --soak`: what drifts over a simulated day, hour by hour.

A soak run drives whole simulated days (opening to closing, nights skipped)
and, for every simulated hour, reports what the driver measured in it (p50/p99
per operation, errors, refusals by limits, live-stream lag) beside what the
server process looked like at its end: resident memory (VmRSS of
/proc/PID/status), open file descriptors (/proc/PID/fd) and the size of the
event log (the SQLite files the process holds open: events.db and its WAL).
The growth per hour of memory, descriptors and p99 is the least-squares slope
over the hours after the first (start-up and the first tickets warm the caches).

The server is found by the port of its URL (the process that listens there, on
this machine), or given with --server-pid.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import sqlite3
import time
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from sim.load_stats import LoadStats, latency_table, slope_per_hour

__all__ = [
    "HourClock", "ServerProbe", "ServerSample", "acked_not_in_log", "daily_report", "hourly_report", "listening_pid",
    "logged_days", "sample_forever",
]

LOG_FILE = "events.db"  # controller/store: DATA_DIR/events.db
MIN_COUNT_FOR_P99 = 20  # an hour with fewer samples of an operation says nothing of its p99


def _listening_inodes(port: int) -> set[str]:
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            if len(fields) > 9 and fields[3] == "0A" and int(fields[1].rsplit(":", 1)[1], 16) == port:
                inodes.add(fields[9])
    return inodes


def listening_pid(url: str) -> int | None:
    """The process that listens on the port of `url` on this machine, or None (not found, not ours to read)."""
    parts = urlsplit(url)
    port = parts.port or 80
    wanted = {f"socket:[{inode}]" for inode in _listening_inodes(port)}
    if not wanted:
        return None
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            for fd in (entry / "fd").iterdir():
                if os.readlink(fd) in wanted:
                    return int(entry.name)
        except OSError:
            continue
    return None


@dataclass(frozen=True)
class ServerSample:
    """The server process at one moment."""

    at: float  # monotonic
    rss_mb: float
    fds: int
    log_mb: float | None  # None: no SQLite event log open (Redis store)


@dataclass
class ServerProbe:
    """Reads one server process's memory, descriptors and event log size from /proc.

    Given the server's URL, a process that is gone (killed and restarted) is found again by its port.
    """

    pid: int
    url: str | None = None
    log_path: str | None = None  # the event log it holds open, once seen
    restarts: int = 0

    def sample(self) -> ServerSample | None:
        """Now; None when the process is gone."""
        found = self._sample()
        if found is None and self.url is not None:
            pid = listening_pid(self.url)
            if pid is not None and pid != self.pid:
                self.pid, self.restarts = pid, self.restarts + 1
                found = self._sample()
        return found

    def _sample(self) -> ServerSample | None:
        try:
            status = Path(f"/proc/{self.pid}/status").read_text()
            rss_kb = next(int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS:"))
            fds = list(Path(f"/proc/{self.pid}/fd").iterdir())
        except (OSError, StopIteration):
            return None
        log_mb = None
        for fd in fds:
            with contextlib.suppress(OSError):
                target = os.readlink(fd)
                if target.endswith(LOG_FILE):
                    self.log_path = target
                    wal = Path(target + "-wal")  # SQLite holds the WAL open only while writing: read it by name
                    size = os.stat(target).st_size + (wal.stat().st_size if wal.exists() else 0)
                    log_mb = round(size / 2**20, 2)
                    break
        return ServerSample(time.monotonic(), round(rss_kb / 1024, 1), len(fds), log_mb)


async def sample_forever(probes: list[ServerProbe], every_s: float, out: list[list[ServerSample]]) -> None:
    """Sample every server every `every_s` wall seconds into out[i] (run as a task; cancelled at the end)."""
    while True:
        for probe, samples in zip(probes, out, strict=True):
            sample = probe.sample()
            if sample is not None:
                samples.append(sample)
        await asyncio.sleep(every_s)


@dataclass(frozen=True)
class HourClock:
    """Wall (monotonic) time -> simulated (day, hour): days of `span_s` simulated seconds from `open_s`.

    With `day_starts` (a run whose server rolls its day each night, which takes some wall time) each
    day is counted from its own wall start; without, day 2 follows day 1 at once.
    """

    started: float     # monotonic time of the run's start
    sim_start_s: float  # simulated local time at the start (seconds from midnight of day 1)
    speed: float
    open_s: float      # a simulated day starts here (seconds from midnight)
    span_s: float      # and lasts this long (opening to closing); nights are skipped
    ends: float = float("inf")  # monotonic end of the run: what is seen after it (the drain) counts in its last hour
    day_starts: tuple[float, ...] = ()  # monotonic start of each simulated day after the first, when nights pause

    def sim(self, at: float) -> float:
        """Simulated seconds since opening of day 1 (nights skipped)."""
        at = min(at, self.ends - 1e-6)
        later = [i for i, start in enumerate(self.day_starts) if at >= start]
        if later:
            day = later[-1] + 1
            return day * self.span_s + (at - self.day_starts[later[-1]]) * self.speed
        return self.sim_start_s - self.open_s + (at - self.started) * self.speed

    def hour(self, at: float) -> tuple[int, int]:
        """(day from 1, hour of the day) at wall time `at`."""
        elapsed = max(0.0, self.sim(at))
        day = int(elapsed // self.span_s)
        local = self.open_s + elapsed - day * self.span_s
        return day + 1, int(local // 3600)

    def index(self, at: float) -> float:
        """Hours since the first hour's start, for slopes (day 2's 08:00 follows day 1's last hour)."""
        return self.sim(at) / 3600.0


def _hourly_rows(stats: LoadStats, clock: HourClock, samples: list[list[ServerSample]]) -> list[dict[str, Any]]:
    latencies: dict[tuple[int, int], dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    lags: dict[tuple[int, int], dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    errors: dict[tuple[int, int], Counter[str]] = defaultdict(Counter)
    refused: dict[tuple[int, int], Counter[str]] = defaultdict(Counter)
    first_at: dict[tuple[int, int], float] = {}
    for at, kind, name, value in stats.timed:
        if at < clock.started:
            continue  # log-ins and openings before the run
        key = clock.hour(at)
        first_at.setdefault(key, at)
        if kind == "ok":
            latencies[key][name].append(value)
        elif kind == "lag":
            lags[key][name].append(value)
        elif kind == "error":
            errors[key][name] += 1
        else:
            refused[key][name] += 1
    last_sample: dict[tuple[int, int], list[ServerSample]] = {}
    for server in samples:
        by_hour: dict[tuple[int, int], ServerSample] = {}
        for sample in server:
            if sample.at >= clock.started:
                by_hour[clock.hour(sample.at)] = sample  # the last one in each hour: its end
        for key, sample in by_hour.items():
            last_sample.setdefault(key, []).append(sample)
    rows = []
    for key in sorted(set(latencies) | set(errors) | set(refused) | set(last_sample)):
        day, hour = key
        server = last_sample.get(key, [])
        logs = [s.log_mb for s in server if s.log_mb is not None]
        rows.append({
            "day": day, "hour": f"{hour:02d}:00",
            "ops": latency_table(latencies[key]),
            "errors": dict(sorted(errors[key].items())), "error_count": sum(errors[key].values()),
            "refused_by_limits": dict(sorted(refused[key].items())), "refused_count": sum(refused[key].values()),
            "live_lag": latency_table(lags[key]),
            "rss_mb": round(sum(s.rss_mb for s in server), 1) if server else None,
            "fds": sum(s.fds for s in server) if server else None,
            "event_log_mb": round(sum(logs), 2) if logs else None,
            "_index": (day - 1) * clock.span_s / 3600 + (hour * 3600 - clock.open_s) / 3600,
        })
    return rows


def hourly_report(stats: LoadStats, clock: HourClock, samples: list[list[ServerSample]]) -> dict[str, Any]:
    """Per simulated hour: latencies, errors, refusals, live lag, server memory, fds and event log; the growth."""
    rows = _hourly_rows(stats, clock, samples)
    settled = rows[1:] if len(rows) > 2 else rows  # the first hour warms up

    def growth(field_name: str) -> float | None:
        slope = slope_per_hour((r["_index"], float(r[field_name])) for r in settled if r[field_name] is not None)
        return None if slope is None else round(slope, 3)

    ops = sorted({op for r in settled for op in r["ops"]})
    p99_growth = {}
    for op in ops:
        points = [(r["_index"], r["ops"][op]["p99_ms"]) for r in settled
                  if op in r["ops"] and r["ops"][op]["count"] >= MIN_COUNT_FOR_P99]
        slope = slope_per_hour(points)
        if slope is not None:
            p99_growth[op] = round(slope, 3)
    lag_points = [(r["_index"], r["live_lag"]["full"]["p99_ms"]) for r in settled if "full" in r["live_lag"]]
    lag_slope = slope_per_hour(lag_points)
    growths = {
        "rss_mb": growth("rss_mb"), "fds": growth("fds"), "event_log_mb": growth("event_log_mb"),
        "p99_ms": p99_growth, "live_lag_p99_ms": None if lag_slope is None else round(lag_slope, 3),
        "hours_fitted": len(settled),
    }
    for row in rows:
        del row["_index"]
    return {"hours": rows, "growth_per_hour": growths}


def acked_not_in_log(path: str, issued: dict[str, set[str]]) -> set[str]:
    """Tickets acknowledged to a kiosk (site -> ids) that the SQLite event log has no ticket.issued for."""
    with contextlib.closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as db:
        missing: set[str] = set()
        for site, ids in issued.items():
            logged = {str(json.loads(body).get("ticket")) for (body,) in db.execute(
                "SELECT body FROM events WHERE site = ? AND type = 'ticket.issued'", (site,))}
            missing |= ids - logged
    return missing


def logged_days(path: str) -> list[tuple[str, int, int]]:
    """(server day, events, bytes of their bodies) of each day in the SQLite event log, oldest first."""
    with contextlib.closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as db:
        return [(str(day), int(count), int(size or 0)) for day, count, size in db.execute(
            "SELECT day, COUNT(*), SUM(LENGTH(body)) FROM events GROUP BY day ORDER BY day")]


def daily_report(stats: LoadStats, clock: HourClock, samples: list[list[ServerSample]],
                 logged: list[tuple[str, int, int]] | None = None) -> dict[str, Any]:
    """Per simulated day: tickets, p50/p99 per operation, errors, refusals, the server at the day's end (RSS,
    descriptors, event log files), and, given the log's own days (`logged`: a server that rolled its day each
    night, one log day per simulated day), what each day wrote to it; each later day beside the first."""
    latencies: dict[int, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    errors: Counter[int] = Counter()
    refused: Counter[int] = Counter()
    for at, kind, name, value in stats.timed:
        if at < clock.started:
            continue
        day = clock.hour(at)[0]
        if kind == "ok":
            latencies[day][name].append(value)
        elif kind == "error":
            errors[day] += 1
        elif kind == "limited":
            refused[day] += 1
    ends: dict[int, list[ServerSample]] = defaultdict(list)
    for server in samples:
        last: dict[int, ServerSample] = {}
        for sample in server:
            if sample.at >= clock.started:
                last[clock.hour(sample.at)[0]] = sample
        for day, sample in last.items():
            ends[day].append(sample)
    rows = []
    for day in sorted(set(latencies) | set(ends)):
        server = ends.get(day, [])
        logs = [s.log_mb for s in server if s.log_mb is not None]
        tickets = len(latencies[day].get("issue", []))
        written = logged[day - 1] if logged is not None and day <= len(logged) else None
        rows.append({
            "day": day, "tickets_issued": tickets,
            "ops": latency_table(latencies[day]), "error_count": errors[day], "refused_count": refused[day],
            "rss_mb_at_end": round(sum(s.rss_mb for s in server), 1) if server else None,
            "fds_at_end": sum(s.fds for s in server) if server else None,
            # the files (events.db and its WAL, which SQLite reuses at its largest): what the disk holds
            "event_log_mb_at_end": round(sum(logs), 2) if logs else None,
            # what the day wrote to the log, from the log itself; days draw their own citizens (the next
            # weekday), so per ticket compares them fairly
            "server_day": None if written is None else written[0],
            "events_logged": None if written is None else written[1],
            "logged_kb_per_ticket": round(written[2] / 1024 / tickets, 2) if written and tickets else None,
        })
    return {"days": rows, "against_day_1": [_against(rows[0], row) for row in rows[1:]]}


def _ratio(later: float | None, first: float | None) -> float | None:
    return None if later is None or not first else round(later / first, 3)


def _against(first: dict[str, Any], later: dict[str, Any]) -> dict[str, Any]:
    """A later day's figures over the first day's (1.0: the same): what a day that grows or slows shows."""
    ops = {}
    for op, row in later["ops"].items():
        base = first["ops"].get(op)
        if base is not None and min(row["count"], base["count"]) >= MIN_COUNT_FOR_P99:
            ops[op] = {"p50": _ratio(row["p50_ms"], base["p50_ms"]), "p99": _ratio(row["p99_ms"], base["p99_ms"])}
    return {
        "day": later["day"], "ops": ops, "tickets_issued": _ratio(later["tickets_issued"], first["tickets_issued"]),
        "rss_mb_at_end": _ratio(later["rss_mb_at_end"], first["rss_mb_at_end"]),
        "fds_at_end": _ratio(later["fds_at_end"], first["fds_at_end"]),
        "logged_kb_per_ticket": _ratio(later["logged_kb_per_ticket"], first["logged_kb_per_ticket"]),
    }
