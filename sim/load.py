"""`motcua load`: drive running controllers with emulated kiosks, staff and live subscribers.

    motcua load --url http://127.0.0.1:8000[,http://127.0.0.1:8001] --scenario FILE.toml
                [--speed 20] [--duration 60] [--max-tickets N] [--sites N] [--start HH:MM]

The scenario's citizens (sim/arrivals.py, the same draw as `motcua sim`) take
tickets at a kiosk at their arrival times, compressed `speed` times; every
counter that is not a standby one is opened by its staff account (quay{n},
demo PIN) and calls, serves for the drawn service time (compressed) and
finishes; one WebSocket subscriber per site checks that it receives every
event once and in order. Bounded by --duration (wall seconds) and
--max-tickets. Prints one JSON report: throughput, p50/p99 per operation,
errors, retries, ticket numbers reused, dropped and out-of-order events.
Loopback only: it refuses a URL that is not 127.0.0.1/localhost/::1.

MQTT devices are not emulated by this driver (--mqtt is accepted and ignored
with a warning); bench_devices measures the device path.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import sys
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpx
import numpy as np

from controller.core.errors import SiteError
from controller.core.site import Site
from controller.sitefile import load_document
from sim.arrivals import day_arrivals
from sim.load_actors import Api, SiteWork, Timeline, kiosk, open_counter, staff, subscriber
from sim.load_stats import LiveCheck, LoadStats
from sim.scenario import Scenario, Surge, parse_scenario

__all__ = ["LoadOptions", "drive", "run"]

LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})
SETTLE_S = 0.5   # subscribers are connected (and subscribed) before the first ticket
OPENING_CONCURRENCY = 16  # counters opened before the timed run, this many at a time
CONNECT_TIMEOUT_S = 60.0  # every subscriber connected before the run starts
DRAIN_S = 1.5    # after the run, events still in flight reach the subscribers


class LoadError(ValueError):
    """Options the driver refuses."""


@dataclass(frozen=True)
class LoadOptions:
    """One load run."""

    urls: tuple[str, ...]
    sites: tuple[Site, ...]
    scenario: Scenario
    speed: float = 20.0
    duration_s: float = 60.0
    max_tickets: int = 100_000
    start_s: float | None = None
    kiosk_key: str = "kiosk-demo"
    staff_pin: str = "1234"
    live: bool = True


def parse_urls(spec: str) -> tuple[str, ...]:
    """Comma-separated controller URLs, loopback only."""
    urls = tuple(u.strip().rstrip("/") for u in spec.split(",") if u.strip())
    if not urls:
        raise LoadError("--url names no controller")
    for url in urls:
        parts = urlsplit(url)
        if parts.scheme != "http" or parts.hostname not in LOOPBACK:
            raise LoadError(f"--url {url!r}: only http:// on loopback (127.0.0.1, localhost, ::1) is driven")
    return urls


def _hhmm(text: str) -> float:
    hours, _, minutes = text.partition(":")
    if not (hours.isdigit() and minutes.isdigit()) or int(hours) > 23 or int(minutes) > 59:
        raise LoadError(f"--start must be HH:MM, got {text!r}")
    return int(hours) * 3600.0 + int(minutes) * 60.0


def _works(options: LoadOptions) -> list[SiteWork]:
    rng = np.random.default_rng(options.scenario.seed)
    works = []
    for site in options.sites:
        surges = [e for e in options.scenario.for_site(site.id) if isinstance(e, Surge)]
        arrivals = day_arrivals(site, options.scenario.weekday, surges, rng,
                                options.scenario.no_show_share, options.scenario.incomplete_share)
        works.append(SiteWork(site, arrivals))
    return works


async def _login(api: Api, counters: set[int], pin: str) -> dict[int, dict[str, str]]:
    """One bearer token per counter number (the demo staff accounts cover every site)."""
    auth: dict[int, dict[str, str]] = {}
    for n in sorted(counters):
        reply = await api.call("login", "POST", "/api/v1/auth/login", body={"user": f"quay{n}", "secret": pin})
        if reply is None or reply.status_code != 200:
            raise LoadError(f"cannot log in as quay{n}: {None if reply is None else reply.text[:200]}")
        auth[n] = {"Authorization": f"Bearer {reply.json()['token']}"}
    return auth


async def drive(options: LoadOptions) -> dict[str, Any]:
    """Run the load; the report."""
    stats = LoadStats()
    works = _works(options)
    first = min((a.at_s for w in works for a in w.arrivals), default=0.0)
    sim_start = options.start_s if options.start_s is not None else first
    live = {w.site.id: LiveCheck() for w in works} if options.live else {}
    limits = httpx.Limits(max_connections=256, max_keepalive_connections=256)
    async with httpx.AsyncClient(trust_env=False, timeout=30.0, limits=limits) as client:
        api = Api(client, options.urls, stats)
        staffed = {w.site.id: sorted(n for n, c in w.site.counters.items() if not c.standby) for w in works}
        auth = await _login(api, {n for ns in staffed.values() for n in ns}, options.staff_pin)
        watchers: list[asyncio.Task[None]] = []
        connected = [asyncio.Event() for _ in works] if options.live else []
        for i, work in enumerate(works[: len(connected)]):
            watchers.append(asyncio.create_task(
                subscriber(options.urls, work.site.id, live[work.site.id], connected[i], i)))
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.gather(*(c.wait() for c in connected)), CONNECT_TIMEOUT_S)
        opening = asyncio.Semaphore(OPENING_CONCURRENCY)

        async def open_one(work: SiteWork, counter: int) -> None:
            async with opening:
                await open_counter(api, work, counter, auth[counter])

        await asyncio.gather(*(open_one(w, n) for w in works for n in staffed[w.site.id]))
        await asyncio.sleep(SETTLE_S)
        timeline = Timeline(sim_start, options.speed, options.duration_s)
        budget = [options.max_tickets]
        actors = [asyncio.create_task(kiosk(api, w, timeline, options.kiosk_key, budget)) for w in works]
        actors += [asyncio.create_task(staff(api, w, n, auth[n], timeline)) for w in works for n in staffed[w.site.id]]
        await asyncio.wait(actors, timeout=max(0.0, timeline.ends - time.monotonic()))
        wall = time.monotonic() - timeline.started
        for task in actors:
            task.cancel()
        await asyncio.gather(*actors, return_exceptions=True)
        await asyncio.sleep(DRAIN_S)
        for task in watchers:
            task.cancel()
        await asyncio.gather(*watchers, return_exceptions=True)
    report = stats.report(wall, live)
    report["config"] = {
        "urls": list(options.urls), "sites": len(works), "speed": options.speed, "duration_s": options.duration_s,
        "sim_from": _clock(sim_start), "sim_to": _clock(sim_start + wall * options.speed),
        "counters_staffed": sum(len(v) for v in staffed.values()),
    }
    return report


def _clock(seconds: float) -> str:
    minutes = int(seconds // 60)
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def options_from_args(args: argparse.Namespace) -> LoadOptions:
    """Validate the command line into options; LoadError or SiteError when refused."""
    urls = parse_urls(args.url)
    if not args.speed > 0:
        raise LoadError(f"--speed must be > 0, got {args.speed}")
    if not 0 < args.duration <= 24 * 3600:
        raise LoadError(f"--duration must be 0 < S <= 86400, got {args.duration}")
    sites, table = load_document(args.scenario)
    scenario = parse_scenario(table, str(args.scenario), sites)
    limit = getattr(args, "sites", None)
    if limit is not None:
        sites = sites[: max(1, int(limit))]
    start = getattr(args, "start", None)
    return LoadOptions(
        urls=urls, sites=tuple(sites), scenario=scenario, speed=float(args.speed), duration_s=float(args.duration),
        max_tickets=int(getattr(args, "max_tickets", 100_000)), start_s=_hhmm(start) if start else None,
        kiosk_key=args.kiosk_key, live=not getattr(args, "no_live", False),
    )


def run(args: argparse.Namespace) -> int:
    """`motcua load`: JSON report on stdout; exit 2 for refused options, 1 when the run failed."""
    try:
        options = options_from_args(args)
    except SiteError as exc:
        print(f"motcua load: bad scenario file: {exc.source}: field {exc.field}: {exc.reason}", file=sys.stderr)
        return 2
    except LoadError as exc:
        print(f"motcua load: {exc}", file=sys.stderr)
        return 2
    if getattr(args, "mqtt", None):
        print("motcua load: --mqtt ignored: this driver emulates kiosks, staff and live clients only", file=sys.stderr)
    try:
        report = asyncio.run(drive(options))
    except LoadError as exc:
        print(f"motcua load: {exc}", file=sys.stderr)
        return 1
    print(json.dumps(report, ensure_ascii=False))
    return 0

