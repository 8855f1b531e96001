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
not hidden by the requests it delayed (no coordinated omission).
"""

from __future__ import annotations

import asyncio
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
from tests.server import KIOSK, ServerProcess, login, serve_process
from tests.services import env_without_proxies

SITE_FILE = Path(__file__).resolve().parent.parent / "controller" / "sites" / "province-centre.toml"
SITE = "tinh"
CLIENTS = 1000
EVENTS = 200
EVENT_EVERY_S = 0.25  # 4 events/s, one at a time: a busy centre makes about one a second
SETTLE_S = 2.0  # after the last event, before the clients stop recording
SNAPSHOT_RATE = 50.0
SNAPSHOT_S = 30.0
LIGHT_EVERY_S = 0.5  # light command load during the snapshot run: an issue, or a finish + call-next
GOAL_FANOUT_P99_MS = 150.0
GOAL_SNAPSHOT_P99_MS = 50.0


def _cpu_s(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def live_url(http_url: str, site: str = SITE) -> str:
    """The live stream as the monitor page opens it (no periodic snapshots: it reads the endpoint)."""
    return http_url.replace("http://", "ws://", 1) + f"/api/v1/sites/{site}/live?snapshots=false"


class ClientProcess:
    """benchmarks/monitor_clients.py as a subprocess: connect, ready, stop -> summary."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process

    @classmethod
    async def start(cls, url: str, clients: int) -> ClientProcess:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "benchmarks.monitor_clients", "--url", url, "--clients", str(clients),
            stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, env=env_without_proxies(),
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

    async def issue(self) -> str:
        procedure = self.procedures[self.issued % len(self.procedures)]
        self.issued += 1
        sent = time.time()
        reply = await self.http.post(f"/api/v1/sites/{SITE}/tickets", json={"procedure": procedure}, headers=KIOSK)
        reply.raise_for_status()
        number = str(reply.json()["number"])
        self.sent[number] = sent
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
    median: list[float] = []
    last: list[float] = []
    missing = 0
    for event in summary["events"].values():
        started = sent.get(str(event["number"])) if event["type"] == "ticket.issued" else None
        if started is None:
            continue
        arrivals = event["at"]
        missing += clients - len(arrivals)
        median.append((float(np.median(arrivals)) - started) * 1000)
        last.append((max(arrivals) - started) * 1000)
    streams = summary["streams"]
    return {
        "events": len(last), "median": median, "last": last, "missing": missing,
        "dropped": sum(s["dropped"] for s in streams), "out_of_order": sum(s["out_of_order"] for s in streams),
    }


async def _open_loop_snapshots(http: httpx.AsyncClient, manager: dict[str, str]) -> tuple[list[float], int]:
    latencies: list[float] = []
    errors = 0

    async def one(scheduled: float) -> None:
        nonlocal errors
        reply = await http.get(f"/api/v1/sites/{SITE}/monitor", headers=manager)
        if reply.status_code != 200:
            errors += 1
        latencies.append((time.perf_counter() - scheduled) * 1000)

    start = time.perf_counter()
    tasks = []
    for i in range(int(SNAPSHOT_RATE * SNAPSHOT_S)):
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


async def measure(server: ServerProcess, clients: int = CLIENTS, events: int = EVENTS) -> dict[str, Any]:
    """Fan-out of `events` tickets to `clients` live clients, then the snapshot endpoint under load."""
    limits = httpx.Limits(max_connections=100, max_keepalive_connections=100)
    async with httpx.AsyncClient(base_url=server.url, trust_env=False, timeout=30, limits=limits) as http:
        driver = await Driver.prepare(http, server.url)
        client_process = await ClientProcess.start(live_url(server.url), clients)
        try:
            connect_started = time.monotonic()
            await until_ready(client_process, driver.issue)
            connect_s = time.monotonic() - connect_started
            driver.sent.clear()  # the ready checks are not measured
            server_cpu = _cpu_s(server.process.pid)
            clients_cpu = _cpu_s(client_process.process.pid)
            started = time.perf_counter()
            for i in range(events):
                await asyncio.sleep(max(0.0, started + i * EVENT_EVERY_S - time.perf_counter()))
                await driver.issue()
            await asyncio.sleep(SETTLE_S)
            server_cpu = _cpu_s(server.process.pid) - server_cpu
            clients_cpu = _cpu_s(client_process.process.pid) - clients_cpu
            measured = dict(driver.sent)
            stop = asyncio.Event()
            light = asyncio.create_task(_light_load(driver, stop))
            snapshots, snapshot_errors = await _open_loop_snapshots(http, driver.manager)
            stop.set()
            light_commands = await light
            summary = await client_process.stop()
        finally:
            client_process.kill()
    return {
        "fanout": fanout_latencies(summary, measured), "connect_s": connect_s,
        "server_cpu_ms_per_event": server_cpu / events * 1000, "clients_cpu_ms_per_event": clients_cpu / events * 1000,
        "snapshots": snapshots, "snapshot_errors": snapshot_errors, "light_commands": light_commands,
        "light_rate": light_commands / SNAPSHOT_S,
    }


def _p(values: list[float], q: float) -> float:
    return float(np.percentile(values, q)) if values else float("nan")


def section(result: dict[str, Any]) -> str:
    """The markdown section of one run."""
    fan = result["fanout"]
    snap = result["snapshots"]
    fan_ok = "met" if _p(fan["last"], 99) <= GOAL_FANOUT_P99_MS and fan["missing"] == 0 else "NOT met"
    snap_ok = "met" if _p(snap, 99) <= GOAL_SNAPSHOT_P99_MS and result["snapshot_errors"] == 0 else "NOT met"
    return "\n".join([
        "## Live monitor: 1,000 WebSocket clients, the snapshot endpoint at 50 requests/s",
        "",
        "Command: `python -m benchmarks.run bench_monitor`",
        "",
        f"`motcua serve --demo` (province centre, SQLite, synchronous=FULL) with {CLIENTS:,} clients of "
        f"`WS /api/v1/sites/{SITE}/live?snapshots=false` (what the monitor page opens) in a second process "
        "(benchmarks/monitor_clients.py, Python websockets, permessage-deflate offered as browsers do). "
        f"The driver issues {fan['events']} tickets over HTTP, one every {EVENT_EVERY_S * 1000:.0f} ms; per ticket, "
        "from the request's send to its `ticket.issued` at the median client and at the last of the "
        f"{CLIENTS:,}, on the wall clock every process shares. All {CLIENTS:,} connected and subscribed in "
        f"{result['connect_s']:.1f} s.",
        "",
        "| figure | p50 ms | p99 ms | max ms |",
        "|---|---:|---:|---:|",
        f"| send → event at the median client | {_p(fan['median'], 50):.1f} | {_p(fan['median'], 99):.1f} | "
        f"{max(fan['median'], default=float('nan')):.1f} |",
        f"| send → event at the last client | {_p(fan['last'], 50):.1f} | {_p(fan['last'], 99):.1f} | "
        f"{max(fan['last'], default=float('nan')):.1f} |",
        f"| GET /monitor at {SNAPSHOT_RATE:.0f}/s, open loop, {SNAPSHOT_S:.0f} s | {_p(snap, 50):.1f} | "
        f"{_p(snap, 99):.1f} | {max(snap, default=float('nan')):.1f} |",
        "",
        f"Goal last client p99 <= {GOAL_FANOUT_P99_MS:.0f} ms: **{fan_ok}**. "
        f"Goal snapshot p99 <= {GOAL_SNAPSHOT_P99_MS:.0f} ms: **{snap_ok}**. "
        f"Events missing at some client: {fan['missing']}; gaps {fan['dropped']}, out of order "
        f"{fan['out_of_order']} (over every client's whole stream). Snapshot errors: {result['snapshot_errors']}; "
        f"the snapshot run had the {CLIENTS:,} clients connected and {result['light_rate']:.1f} commands/s "
        "(issues, finishes and calls-next) fanning out to them.",
        "",
        f"CPU per event during the fan-out run: server {result['server_cpu_ms_per_event']:.1f} ms "
        f"(for {CLIENTS:,} sends), clients {result['clients_cpu_ms_per_event']:.1f} ms. The clients' process "
        "shares the 2 cores with the server, so the last client's figure includes the clients' own time to read "
        f"{CLIENTS:,} sockets.",
    ])


async def _run(root: Path) -> dict[str, Any]:
    with serve_process(SITE_FILE, root / "data") as server:
        return await measure(server)


def run() -> str:
    raise_file_limit()  # the server inherits it: a socket per client
    with tempfile.TemporaryDirectory() as tmp:
        result = asyncio.run(_run(Path(tmp)))
    return section(result)


if __name__ == "__main__":
    print(run())
