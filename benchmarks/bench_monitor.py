"""Live monitor fan-out: 1,000 WebSocket clients on one controller, and the snapshot endpoint under load.

A real `motcua serve` (demo province centre, SQLite) and, in a second process
(benchmarks/monitor_clients.py), 1,000 clients of WS /api/v1/sites/tinh/live
as the monitor page opens it. The driver (this process) issues tickets over
HTTP one at a time and takes, per event, the time from the request's send to
the arrival at the median and at the last of the 1,000 clients, all on the
machine's wall clock (time.time(), the same clock in every process). Then,
with the clients still connected and a light command load running, it reads
GET /api/v1/sites/tinh/monitor at 50 requests/s open loop: requests go at
scheduled times, and latency counts from the scheduled time, so a stall is
not hidden by the requests it delayed (no coordinated omission). Last, the
fan-out again in partitioned mode: two processes sharing a Redis log, 1,000
clients on each.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import numpy as np

from benchmarks.monitor_clients import raise_file_limit
from benchmarks.run import process_cpu_s
from tests.server import KIOSK, ServerProcess, login, serve_process
from tests.services import env_without_proxies, redis_server

SITE_FILE = Path(__file__).resolve().parent.parent / "controller" / "sites" / "province-centre.toml"
SITE = "tinh"
CLIENTS = 1000
EVENTS = 200
# A measured ticket every 500 ms, and half-way between two of them a counter finishes and calls the next
# (unmeasured): the line stays short, as on a working floor. A line that only grows makes the tick commit
# bursts of target.at_risk events, each one a fan-out of its own, that the measured tickets queue behind.
EVENT_EVERY_S = 0.5
SETTLE_S = 2.0  # after the last event, before the clients stop recording
SNAPSHOT_RATE = 50.0
SNAPSHOT_S = 30.0
SNAPSHOT_WARMUP_S = 2.0  # at the same rate, not measured: the client's connection pool grows to its size
LIGHT_EVERY_S = 0.5  # light command load during the snapshot run: an issue, or a finish + call-next
FOLLOWERS = 2  # partitioned processes, each with CLIENTS clients
GOAL_FANOUT_P99_MS = 150.0
GOAL_SNAPSHOT_P99_MS = 50.0


def live_url(http_url: str, site: str = SITE) -> str:
    """The live stream as the monitor page opens it (no periodic snapshots: it reads the endpoint)."""
    return http_url.replace("http://", "ws://", 1) + f"/api/v1/sites/{site}/live?snapshots=false"


class ClientProcess:
    """benchmarks/monitor_clients.py as a subprocess: connect, ready, stop -> summary."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process

    @classmethod
    async def start(cls, url: str, clients: int, token: str | None = None) -> ClientProcess:
        """Start the clients; with a manager's `token` they follow the full stream, as the monitor page does."""
        env = env_without_proxies() | ({"MOTCUA_LIVE_TOKEN": token} if token else {})
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "benchmarks.monitor_clients", "--url", url, "--clients", str(clients),
            stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, env=env,
            limit=2**30,  # the summary is one long JSON line
        )
        return cls(process)

    async def line(self, timeout_s: float) -> dict[str, Any]:
        assert self.process.stdout is not None
        raw = await asyncio.wait_for(self.process.stdout.readline(), timeout_s)
        if not raw:
            raise RuntimeError(f"monitor clients exited with {await self.process.wait()}")
        reply: dict[str, Any] = json.loads(raw)
        return reply

    async def stop(self) -> dict[str, Any]:
        assert self.process.stdin is not None
        self.process.stdin.write(b"stop\n")
        await self.process.stdin.drain()
        summary = await self.line(120.0)
        await self.process.wait()
        return summary

    def kill(self) -> None:
        if self.process.returncode is None:
            self.process.kill()


async def until_ready(clients: ClientProcess, poke: Any, timeout_s: float = 120.0) -> None:
    """Wait for every client to be connected, then poke (an event) until every client has seen one."""
    connected = await clients.line(timeout_s)
    assert "connected" in connected, connected
    waiting = asyncio.ensure_future(clients.line(timeout_s))
    while not waiting.done():
        await poke()
        await asyncio.wait([waiting], timeout=0.5)
    assert waiting.result().get("ready"), waiting.result()


@dataclass
class Driver:
    """HTTP commands against the site: kiosk issues and a manager acting at counters."""

    http: httpx.AsyncClient
    manager: dict[str, str]
    procedures: list[str]
    counters: list[int]
    issued: int = 0
    turn: int = 0
    sent: dict[str, float] = field(default_factory=dict)  # ticket number -> wall-clock send time
    replied: dict[str, float] = field(default_factory=dict)  # ticket number -> ms until the HTTP reply

    @classmethod
    async def prepare(cls, http: httpx.AsyncClient, url: str) -> Driver:
        manager = await asyncio.to_thread(login, url, "quanly", "demo")
        catalogue = (await http.get(f"/api/v1/sites/{SITE}/catalogue")).json()
        counters = [c["id"] for c in catalogue["counters"] if not c["standby"]]
        served = {agency for c in catalogue["counters"] if not c["standby"] for agency in c["serves"]}
        procedures = [p["id"] for p in catalogue["procedures"] if p["kiosk"] and p["agency"] in served]
        for counter in counters:
            reply = await http.post(f"/api/v1/sites/{SITE}/counters/{counter}/open", headers=manager)
            reply.raise_for_status()
        return cls(http, manager, procedures, counters)

    @property
    def token(self) -> str:
        """The manager's bearer token (the monitor page's live stream is the authenticated one)."""
        return self.manager["Authorization"].split(" ", 1)[1]

    async def issue(self) -> str:
        procedure = self.procedures[self.issued % len(self.procedures)]
        self.issued += 1
        sent = time.time()
        reply = await self.http.post(f"/api/v1/sites/{SITE}/tickets", json={"procedure": procedure}, headers=KIOSK)
        reply.raise_for_status()
        number = str(reply.json()["number"])
        self.sent[number] = sent
        self.replied[number] = (time.time() - sent) * 1000
        return number

    async def serve_one(self) -> None:
        """A counter finishes its ticket (if any) and calls the next one."""
        counter = self.counters[self.turn % len(self.counters)]
        self.turn += 1
        base = f"/api/v1/sites/{SITE}/counters/{counter}"
        await self.http.post(f"{base}/finish", json={"outcome": "done"}, headers=self.manager)
        await self.http.post(f"{base}/call-next", headers=self.manager)


def fanout_latencies(summary: dict[str, Any], sent: dict[str, float]) -> dict[str, Any]:
    """Per measured ticket: ms from its request's send to the median and to the last client's arrival."""
    clients = summary["clients"]
    first: list[float] = []
    median: list[float] = []
    last: list[float] = []
    missing = 0
    for event in summary["events"].values():
        started = sent.get(str(event["number"])) if event["type"] == "ticket.issued" else None
        if started is None:
            continue
        arrivals = event["at"]
        missing += clients - len(arrivals)
        first.append((min(arrivals) - started) * 1000)
        median.append((float(np.median(arrivals)) - started) * 1000)
        last.append((max(arrivals) - started) * 1000)
    streams = summary["streams"]
    return {
        "events": len(last), "first": first, "median": median, "last": last, "missing": missing,
        "dropped": sum(s["dropped"] for s in streams), "out_of_order": sum(s["out_of_order"] for s in streams),
    }


async def _open_loop_snapshots(
    http: httpx.AsyncClient, manager: dict[str, str], seconds: float
) -> tuple[list[float], int]:
    """GET the snapshot at SNAPSHOT_RATE on a fixed schedule; ms from each scheduled time to its reply."""
    latencies: list[float] = []
    errors = 0

    async def one(scheduled: float) -> None:
        nonlocal errors
        try:
            reply = await http.get(f"/api/v1/sites/{SITE}/monitor", headers=manager)
            ok = reply.status_code == 200
        except httpx.HTTPError:
            ok = False
        if ok:
            latencies.append((time.perf_counter() - scheduled) * 1000)
        else:
            errors += 1

    start = time.perf_counter()
    tasks = []
    for i in range(int(SNAPSHOT_RATE * seconds)):
        scheduled = start + i / SNAPSHOT_RATE
        await asyncio.sleep(max(0.0, scheduled - time.perf_counter()))
        tasks.append(asyncio.create_task(one(scheduled)))
    await asyncio.gather(*tasks)
    return latencies, errors


async def _light_load(driver: Driver, stop: asyncio.Event) -> int:
    commands = 0
    while not stop.is_set():
        if commands % 2 == 0:
            await driver.issue()
        else:
            await driver.serve_one()
        commands += 1
        await asyncio.sleep(LIGHT_EVERY_S)
    return commands


def merge(summaries: list[dict[str, Any]]) -> dict[str, Any]:
    """The summaries of several client processes as one."""
    events: dict[str, dict[str, Any]] = {}
    for summary in summaries:
        for seq, event in summary["events"].items():
            events.setdefault(seq, {**event, "at": []})["at"].extend(event["at"])
    return {"clients": sum(s["clients"] for s in summaries), "events": events,
            "streams": [stream for s in summaries for stream in s["streams"]]}


@dataclass
class FanOut:
    """Client processes connected and ready, and what one fan-out run cost."""

    processes: list[ClientProcess]
    connect_s: float = 0.0
    cpu_s: dict[str, float] = field(default_factory=dict)  # per process, during the run
    window: tuple[float, float] = (0.0, 0.0)  # wall clock, the run's start and end

    @classmethod
    async def connect(cls, urls: list[str], clients_each: int, driver: Driver) -> FanOut:
        fan = cls([])
        started = time.monotonic()
        for url in urls:  # started one by one: a failed start must not leave the others running
            fan.processes.append(await ClientProcess.start(live_url(url), clients_each, driver.token))
        await asyncio.gather(*(until_ready(p, driver.issue) for p in fan.processes))
        fan.connect_s = time.monotonic() - started
        driver.sent.clear()  # the ready checks are not measured
        return fan

    async def run(self, driver: Driver, servers: list[ServerProcess], events: int) -> dict[str, float]:
        """Issue `events` tickets one at a time; the tickets measured (number -> send time)."""
        pids = {f"server {i + 1}": s.process.pid for i, s in enumerate(servers)}
        pids |= {f"clients {i + 1}": p.process.pid for i, p in enumerate(self.processes)}
        before = {name: process_cpu_s(pid) for name, pid in pids.items()}
        began = time.time()
        started = time.perf_counter()
        for i in range(events):
            await asyncio.sleep(max(0.0, started + i * EVENT_EVERY_S - time.perf_counter()))
            await driver.issue()
            await asyncio.sleep(max(0.0, started + (i + 0.5) * EVENT_EVERY_S - time.perf_counter()))
            await driver.serve_one()
        await asyncio.sleep(SETTLE_S)
        self.cpu_s = {name: process_cpu_s(pid) - before[name] for name, pid in pids.items()}
        self.window = (began, time.time())
        return dict(driver.sent)

    def cpu_ms_per_event(self, summary: dict[str, Any]) -> dict[str, float]:
        """CPU ms per event fanned out during the run (the measured tickets and the events between them)."""
        start, end = self.window
        fanned = sum(1 for event in summary["events"].values() if start <= min(event["at"]) <= end)
        return {name: seconds / max(1, fanned) * 1000 for name, seconds in self.cpu_s.items()}

    async def stop(self) -> dict[str, Any]:
        try:
            return merge([await p.stop() for p in self.processes])
        finally:
            for p in self.processes:
                p.kill()


def _http(url: str) -> httpx.AsyncClient:
    # keep-alive expiry under uvicorn's 5 s, so a pooled connection is never reused as the server closes it
    limits = httpx.Limits(max_connections=100, max_keepalive_connections=100, keepalive_expiry=4.0)
    return httpx.AsyncClient(base_url=url, trust_env=False, timeout=30, limits=limits)


async def measure(
    server: ServerProcess, clients: int = CLIENTS, events: int = EVENTS, snapshot_s: float = SNAPSHOT_S
) -> dict[str, Any]:
    """Fan-out of `events` tickets to `clients` live clients, then the snapshot endpoint under load."""
    async with _http(server.url) as http:
        driver = await Driver.prepare(http, server.url)
        fan = await FanOut.connect([server.url], clients, driver)
        try:
            measured = await fan.run(driver, [server], events)
            stop = asyncio.Event()
            light = asyncio.create_task(_light_load(driver, stop))
            await _open_loop_snapshots(http, driver.manager, SNAPSHOT_WARMUP_S)  # the pool's connections open
            snapshots, snapshot_errors = await _open_loop_snapshots(http, driver.manager, snapshot_s)
            stop.set()
            light_commands = await light
        finally:
            summary = await fan.stop()
    return {
        "clients": clients, "fanout": fanout_latencies(summary, measured), "connect_s": fan.connect_s,
        "reply_ms": [driver.replied[number] for number in measured],
        "cpu_ms_per_event": fan.cpu_ms_per_event(summary), "snapshots": snapshots, "snapshot_s": snapshot_s,
        "snapshot_errors": snapshot_errors, "light_rate": light_commands / (snapshot_s + SNAPSHOT_WARMUP_S),
    }


async def measure_followers(servers: list[ServerProcess], clients_each: int, events: int) -> dict[str, Any]:
    """Partitioned mode (Redis): `clients_each` live clients on every process, tickets issued on the first."""
    async with _http(servers[0].url) as http:
        driver = await Driver.prepare(http, servers[0].url)
        fan = await FanOut.connect([s.url for s in servers], clients_each, driver)
        try:
            measured = await fan.run(driver, servers, events)
        finally:
            summary = await fan.stop()
    return {"clients": clients_each * len(servers), "fanout": fanout_latencies(summary, measured),
            "reply_ms": [driver.replied[number] for number in measured],
            "connect_s": fan.connect_s, "cpu_ms_per_event": fan.cpu_ms_per_event(summary)}


def _p(values: list[float], q: float) -> float:
    return float(np.percentile(values, q)) if values else float("nan")


def _row(label: str, values: list[float]) -> str:
    top = max(values, default=float("nan"))
    return f"| {label} | {_p(values, 50):.1f} | {_p(values, 99):.1f} | {top:.1f} |"


def _latency_rows(result: dict[str, Any], label: str) -> list[str]:
    fan = result["fanout"]
    return [
        _row(f"{label}: issue request → its HTTP reply", result["reply_ms"]),
        _row(f"{label}: send → event at the first client", fan["first"]),
        _row(f"{label}: send → event at the median client", fan["median"]),
        _row(f"{label}: send → event at the last client", fan["last"]),
    ]


def _integrity(fan: dict[str, Any]) -> str:
    return (f"events missing at some client {fan['missing']}, gaps {fan['dropped']}, "
            f"out of order {fan['out_of_order']}")


def _cpu(result: dict[str, Any]) -> str:
    return ", ".join(f"{name} {ms:.1f} ms" for name, ms in result["cpu_ms_per_event"].items())


def section(one: dict[str, Any], followers: dict[str, Any] | str, load: tuple[float, float] = (0.0, 0.0)) -> str:
    """The markdown section of a run: one process, then the partitioned processes (or why they did not run)."""
    fan = one["fanout"]
    snap = one["snapshots"]
    clients = one["clients"]
    fan_ok = "met" if _p(fan["last"], 99) <= GOAL_FANOUT_P99_MS and fan["missing"] == 0 else "NOT met"
    snap_ok = "met" if _p(snap, 99) <= GOAL_SNAPSHOT_P99_MS and one["snapshot_errors"] == 0 else "NOT met"
    rows = _latency_rows(one, "1 process")
    rows.append(_row(f"1 process: GET /monitor at {SNAPSHOT_RATE:.0f}/s, open loop, {one['snapshot_s']:.0f} s", snap))
    if isinstance(followers, dict):
        rows += _latency_rows(followers, f"{FOLLOWERS} processes on Redis")
        follower_text = (
            f"Partitioned (`--store redis://`, {FOLLOWERS} processes, {CLIENTS:,} clients on each, tickets issued "
            "on the first and forwarded to the site's writer when it is the other): "
            f"{_integrity(followers['fanout'])}; "
            f"CPU per event: {_cpu(followers)}. Every process serves its live clients by following the site's "
            "Redis stream (controller/api/follow.py), one reader of the stream per process. Two servers, two "
            "client processes and Redis share the 2 cores here, so this run shows that the stream stays complete "
            "and what each process spends, not the latency of a process per core."
        )
    else:
        follower_text = f"Partitioned run ({FOLLOWERS} processes on Redis): not measured in this run ({followers})."
    return "\n".join([
        f"## Live monitor: {clients:,} WebSocket clients, the snapshot endpoint at {SNAPSHOT_RATE:.0f} requests/s",
        "",
        "Command: `python -m benchmarks.run bench_monitor`",
        "",
        f"`motcua serve --demo` (province centre, SQLite, synchronous=FULL) with {clients:,} clients of "
        f"`WS /api/v1/sites/{SITE}/live?snapshots=false` (what the monitor page opens: the full stream, with a "
        "manager's token) in a second process "
        "(benchmarks/monitor_clients.py: websockets' sans-I/O protocol, a message stamped when its bytes are read, "
        "permessage-deflate offered as browsers do). "
        f"The driver issues {fan['events']} tickets over HTTP, one every {EVENT_EVERY_S * 1000:.0f} ms, and "
        "half-way between two of them a counter finishes and calls the next (unmeasured; the line stays short, "
        "so the tick does not add bursts of target.at_risk events); per ticket, "
        "the time from the request's send to its `ticket.issued` at the first, the median and the last of the "
        f"{clients:,}, on the wall clock every process shares. All connected and subscribed in "
        f"{one['connect_s']:.1f} s. Then, clients still connected and {one['light_rate']:.1f} commands/s "
        f"(issues, finishes, calls-next) fanning out to them, GET /api/v1/sites/{SITE}/monitor at "
        f"{SNAPSHOT_RATE:.0f}/s open loop: each request sent at its scheduled time and timed from it, after "
        f"{SNAPSHOT_WARMUP_S:.0f} s unmeasured at the same rate.",
        "",
        "| figure | p50 ms | p99 ms | max ms |",
        "|---|---:|---:|---:|",
        *rows,
        "",
        f"Goal last client p99 <= {GOAL_FANOUT_P99_MS:.0f} ms: **{fan_ok}**. "
        f"Goal snapshot p99 <= {GOAL_SNAPSHOT_P99_MS:.0f} ms: **{snap_ok}** (errors: {one['snapshot_errors']}). "
        f"One process: {_integrity(fan)} (every client's whole stream). CPU per event fanned out: {_cpu(one)}. "
        "The clients' process shares the 2 cores with the server, so its time is in the figures too; "
        f"the machine's 1-minute load average was {load[0]:.1f} at the start and {load[1]:.1f} at the end "
        "(other work on a shared machine shows up in the p99s).",
        "",
        follower_text,
        "",
        _sharding(one),
    ])


def _sharding(one: dict[str, Any]) -> str:
    per_client_us = one["cpu_ms_per_event"]["server 1"] / one["clients"] * 1000
    return (
        "How it shards past 1,000 clients. A live client costs the process serving it about "
        f"{per_client_us:.0f} µs of CPU per event (this run, including the command itself; mostly the socket "
        "send), so a process's fan-out burst, and the last client's wait, grow with its clients: about 1,000 "
        "per process keeps the burst within the goal. Past that, run several processes on the shared log "
        "(`motcua serve --store redis://...`, partitioned mode) behind a load balancer that spreads WebSocket "
        "connections (least connections). Any process serves any site's live stream: it reads the site's "
        "Redis stream once (one blocked XREAD per site per process, controller/api/follow.py) and fans it out "
        "to its own clients through its own hub, so a process with 1,000 clients costs what one process "
        "does, Redis sees one reader per process and not per client, and the site's writer is not in the "
        "fan-out path of clients connected elsewhere (commands sent to another process are forwarded to it). "
        "Capacity grows with processes (cores), about 1,000 clients each. Each monitor page re-reads "
        "GET /monitor after events (debounced 300 ms): the server computes one snapshot per floor change and "
        "shares it with every reader for up to a second (SiteRuntime.monitor_snapshot), so 1,000 open pages "
        "cost 1,000 cached replies per burst, not 1,000 computations (not measured here). Processes started "
        "with `--follow-only` take no site to write, so live clients can be served by processes of their own "
        "(not measured here)."
    )


async def _one_process(root: Path) -> dict[str, Any]:
    with serve_process(SITE_FILE, root / "sqlite") as server:
        return await measure(server)


async def _partitioned(root: Path) -> dict[str, Any]:
    with contextlib.ExitStack() as stack:
        redis = stack.enter_context(redis_server(root, appendonly=True))
        extra = ["--store", redis.url, "--lease-ttl", "3", "--accounts-db", str(root / "accounts.db")]
        servers = [stack.enter_context(serve_process(SITE_FILE, root / f"p{i}", *extra)) for i in range(FOLLOWERS)]
        await asyncio.to_thread(_wait_served, servers)
        return await measure_followers(servers, CLIENTS, EVENTS)


def _wait_served(servers: list[ServerProcess], timeout_s: float = 60.0) -> None:
    deadline = time.monotonic() + timeout_s
    while sum(int(httpx.get(f"{s.url}/healthz", timeout=5).json()["sites"]) for s in servers) < 1:
        if time.monotonic() > deadline:
            raise TimeoutError(f"site {SITE} not served after {timeout_s}s")
        time.sleep(0.2)


def run() -> str:
    raise_file_limit()  # the servers inherit it: a socket per client
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as tmp:
        one = asyncio.run(_one_process(Path(tmp)))
        followers: dict[str, Any] | str
        try:
            followers = asyncio.run(_partitioned(Path(tmp)))
        except Exception as exc:  # the one-process figures stand without it
            followers = f"{type(exc).__name__}: {exc}"
    return section(one, followers, (load_before, os.getloadavg()[0]))


if __name__ == "__main__":
    print(run())
