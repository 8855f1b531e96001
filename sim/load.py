"""`motcua load`: drive running controllers with emulated kiosks, staff and live subscribers.

    motcua load --url http://127.0.0.1:8000[,http://127.0.0.1:8001] --scenario FILE.toml
                [--speed 20] [--duration 60] [--max-tickets N] [--sites N] [--start HH:MM]

The scenario's citizens (sim/arrivals.py, the same draw as `motcua sim`) take
tickets at a kiosk at their arrival times, compressed `speed` times; every
counter that is not a standby one is opened by its staff account (the demo's:
quay{n} at the file's first site, quay{n}@SITE at the others, demo PIN) and
calls, serves for the drawn service time (compressed) and finishes; one
WebSocket subscriber per site follows the full live stream (as the demo manager,
quanly) and checks that it receives every event once and in order. Bounded by --duration (wall seconds) and
--max-tickets. Prints one JSON report: throughput, p50/p99 per operation,
errors, retries, ticket numbers reused, dropped and out-of-order events.
Loopback only: it refuses a URL that is not 127.0.0.1/localhost/::1.

With `--mqtt mqtt://HOST:PORT` (the broker the controllers drive their devices
through: `serve --mqtt ... --devices real`) a share of the staffed counters
(--keypad-share, half by default) is served with their MQTT keypads instead of
HTTP: "next" presses timed to the display state they lead to (`keypad_next`),
and a rating press after each ticket served, timed to its rating.recorded on the
live stream (`rating`); see sim/load_devices.py. The report's "devices" says how
many presses went out and how many changed nothing.

Tickets are issued at each site's kiosks in turn, one key per kiosk, as in a
hall: a kiosk may issue 30 tickets a minute (`serve --kiosk-rate`), so before
the run the driver works out the busiest kiosk's minute at this speed and, when
that is over 30, says so and how to lift the limit for the test (more kiosk
keys, or a test server's --kiosk-rate). A refusal by a limit (429) is reported
under "refused_by_limits", apart from "errors". Accounts: the demo's
(sim/load_access.py), or `--access FILE.toml` for a real server. With
`--phones SHARE` that share of the citizens follow their ticket on the ticket
page's public live stream (sim/load_actors.py, Phones). With `--soak` the run is
whole simulated days and the report has each hour's figures and the server's
memory, descriptors and event log (sim/load_soak.py); with `--roll-days` each
simulated night moves the servers' clocks (serve --demo --test-clock) so that
every simulated day is a day of their own, reported day by day. With
`--printer-out HH:MM-HH:MM` the driver plays the MQTT printers' gateways, out of
paper in that window (sim/load_printers.py).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import sys
import time
import uuid
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import numpy as np

from controller.core.errors import SiteError
from controller.core.site import Site
from controller.sitefile import load_document
from firmware_bridge.mqtt_link import MqttLink, parse_mqtt_url
from sim.arrivals import day_arrivals
from sim.load_access import Access, AccessError, demo_access, read_access
from sim.load_actors import Api, Phones, SiteWork, Timeline, kiosk, open_counter, staff, subscriber
from sim.load_devices import Keypads, keypad_counters, keypad_staff
from sim.load_printers import PrinterFault, gateway_printers, parse_window
from sim.load_soak import (
    HourClock,
    ServerProbe,
    ServerSample,
    acked_not_in_log,
    daily_report,
    hourly_report,
    listening_pid,
    logged_days,
    sample_forever,
)
from sim.load_stats import LiveCheck, LoadStats
from sim.scenario import Scenario, Surge, parse_scenario

__all__ = ["LoadOptions", "drive", "run"]

LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})
SETTLE_S = 0.5   # subscribers are connected (and subscribed) before the first ticket
OPENING_CONCURRENCY = 16  # counters opened before the timed run, this many at a time
CONNECT_TIMEOUT_S = 60.0  # every subscriber connected before the run starts
DRAIN_S = 1.5    # after the run, events still in flight reach the subscribers
DEFAULT_KIOSK_RATE = 30.0  # tickets a minute one kiosk may issue by default (serve --kiosk-rate)
SAMPLES_PER_HOUR = 12      # a soak run reads the server's /proc this often per simulated hour
NIGHT_S = 86400.0          # --roll-days: a server's clock moves a whole day forward each simulated night


class LoadError(ValueError):
    """Options the driver refuses."""


@dataclass(frozen=True)
class LoadOptions:
    """One load run."""

    urls: tuple[str, ...]
    sites: tuple[Site, ...]
    scenario: Scenario
    access: Access
    speed: float = 20.0
    duration_s: float = 60.0
    max_tickets: int = 100_000
    start_s: float | None = None
    live: bool = True
    mqtt_url: str | None = None
    keypad_share: float = 0.5
    phones: float = 0.0        # share of citizens who follow their ticket on the ticket page
    soak_days: int = 0         # > 0: whole simulated days, reported hour by hour
    soak_hours: float | None = None  # a soak cut short: this many simulated hours from the start
    server_pids: tuple[int, ...] | None = None  # the soak's servers (default: found by the URLs' ports)
    roll_days: bool = False    # each simulated night, the servers' clocks move to their next day (--test-clock)
    printer_out: tuple[float, float] | None = None  # the MQTT printers are out of paper then (day 1, sim time)


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


def parse_mqtt(url: str) -> str:
    """The broker URL of --mqtt, loopback only, as --url."""
    try:
        host, _ = parse_mqtt_url(url)
    except ValueError as exc:
        raise LoadError(f"--mqtt: {exc}") from None
    if host not in LOOPBACK or not url.startswith("mqtt://"):
        raise LoadError(f"--mqtt {url!r}: only mqtt:// on loopback (127.0.0.1, localhost, ::1) is driven")
    return url


def _hhmm(text: str) -> float:
    hours, _, minutes = text.partition(":")
    if not (hours.isdigit() and minutes.isdigit()) or int(hours) > 23 or int(minutes) > 59:
        raise LoadError(f"--start must be HH:MM, got {text!r}")
    return int(hours) * 3600.0 + int(minutes) * 60.0


def _day(sites: tuple[Site, ...], start_s: float | None) -> tuple[float, float]:
    """A simulated day of the sites: (its start, its length): from `start_s` or the first opening to the last close."""
    opens = start_s if start_s is not None else min(s.opening_s for s in sites)
    return opens, max(s.closing_s for s in sites) - opens


def _works(options: LoadOptions) -> list[SiteWork]:
    """Each site's citizens: one day, or with --soak `soak_days` days drawn apart, nights skipped."""
    rng = np.random.default_rng(options.scenario.seed)
    opens, span = _day(options.sites, options.start_s)
    works = [SiteWork(site, []) for site in options.sites]
    for day in range(max(1, options.soak_days)):
        shift = day * span  # day 2 opens where day 1 closed: the night is skipped
        for work in works:
            site = work.site
            surges = [e for e in options.scenario.for_site(site.id) if isinstance(e, Surge)]
            arrivals = day_arrivals(site, (options.scenario.weekday + day) % 5, surges, rng,
                                    options.scenario.no_show_share, options.scenario.incomplete_share)
            work.arrivals += [replace(a, at_s=a.at_s + shift) for a in arrivals if not day or a.at_s >= opens]
    return works


def kiosk_peak_per_minute(works: list[SiteWork], access: Access, sim_start_s: float, speed: float) -> int:
    """Most tickets one kiosk would issue within one wall-clock minute at this speed (kiosks taken in turn)."""
    peak = 0
    for work in works:
        keys = max(1, len(access.kiosk_keys.get(work.site.id, ())))
        times = [a.at_s / speed for a in work.arrivals if a.at_s >= sim_start_s]
        for k in range(keys):
            mine = times[k::keys]
            first = 0
            for last, at in enumerate(mine):
                while at - mine[first] >= 60.0:
                    first += 1
                peak = max(peak, last - first + 1)
    return peak


def limit_advice(peak: int, speed: float, kiosks: int) -> str | None:
    """What to tell the tester when the busiest kiosk would be throttled by the default kiosk rate."""
    if peak <= DEFAULT_KIOSK_RATE:
        return None
    need = int(np.ceil(peak * 1.2))
    return (f"at --speed {speed:g} the busiest of the {kiosks} kiosk(s) of a site issues {peak} tickets in one "
            f"minute; a kiosk may issue {DEFAULT_KIOSK_RATE:.0f} a minute by default, so some tickets will be "
            f"refused (reported under refused_by_limits, not errors). For a test: give the driver more kiosk "
            f"keys (--access FILE, keys made with `motcua users add --role kiosk`), or start a test server with "
            f"`serve --kiosk-rate {need}` (a test server only: the floor keeps its limit).")


async def _login(api: Api, staffed: dict[str, list[int]], access: Access) -> dict[tuple[str, int], dict[str, str]]:
    """One bearer token per staffed counter of each site (staff accounts are a site's own).

    Each account logs in once; the first refusal stops the run, so a wrong secret never trips the
    server's log-in guard (5 failed log-ins from one address, then waits).
    """
    auth: dict[tuple[str, int], dict[str, str]] = {}
    for site, counters in staffed.items():
        for n in counters:
            user, secret = access.staff[(site, n)]
            reply = await api.call("login", "POST", "/api/v1/auth/login", body={"user": user, "secret": secret})
            if reply is None or reply.status_code != 200:
                raise LoadError(f"cannot log in as {user}: {None if reply is None else reply.text[:200]}")
            auth[(site, n)] = {"Authorization": f"Bearer {reply.json()['token']}"}
    return auth


async def _live_token(api: Api, options: LoadOptions) -> str:
    """The bearer token the live subscribers offer (CONTRACT.md section 3: every event needs an account)."""
    body = {"user": options.access.live_user, "secret": options.access.live_secret}
    reply = await api.call("login", "POST", "/api/v1/auth/login", body=body)
    if reply is None or reply.status_code != 200:
        raise LoadError(f"cannot log in as {options.access.live_user}: "
                        f"{None if reply is None else reply.text[:200]}")
    return str(reply.json()["token"])


async def drive(options: LoadOptions) -> dict[str, Any]:
    """Run the load; the report."""
    async with contextlib.AsyncExitStack() as stack:
        keypads: Keypads | None = None
        printers: PrinterFault | None = None
        if options.mqtt_url is not None:
            sites = [s.id for s in options.sites]
            topics = Keypads.subscriptions(sites) + (PrinterFault.subscriptions(sites) if options.printer_out else [])
            link = MqttLink(options.mqtt_url, client_id=f"motcua-load-{uuid.uuid4().hex[:8]}", subscriptions=topics)
            await stack.enter_async_context(link)
            try:
                await link.wait_connected(10.0)
            except TimeoutError:
                raise LoadError(f"no MQTT broker answers at {options.mqtt_url}") from None
            keypads = Keypads(link, LoadStats())
            if options.printer_out is not None:
                printers = PrinterFault(link, gateway_printers(options.sites), options.printer_out)
                if not printers.printers:
                    raise LoadError("--printer-out: the sites have no printer behind an MQTT gateway")
                keypads.also = printers.on_message
                printers.announce()
        return await _drive(options, keypads, printers)


async def _roll_day(api: Api, admin: dict[str, str], advance_s: float) -> None:
    """Move every server's clock forward (serve --demo --test-clock): the next command starts its next day."""
    for url in api.urls:
        reply = await api.client.post(f"{url}/api/v1/_test/clock", headers=admin, json={"advance_s": advance_s})
        if reply.status_code != 200:
            raise LoadError(f"--roll-days: {url} does not move its clock ({reply.status_code}): start it with "
                            "serve --demo --test-clock")


async def _admin(api: Api) -> dict[str, str]:
    """The demo admin's token: only a demo server has a clock to move."""
    reply = await api.call("login", "POST", "/api/v1/auth/login", body={"user": "admin", "secret": "demo"})
    if reply is None or reply.status_code != 200:
        raise LoadError("--roll-days: cannot log in as the demo admin: start the server with --demo --test-clock")
    return {"Authorization": f"Bearer {reply.json()['token']}"}


def _segments(options: LoadOptions, sim_start: float, span: float, duration: float) -> list[tuple[float, float]]:
    """(simulated start, wall length) of each part of the run: one, or a day each when the servers roll days."""
    if not options.roll_days:
        return [(sim_start, duration)]
    parts, left = [], duration
    day = 0
    while left > 1e-9:
        length = min(span / options.speed, left)
        parts.append((sim_start + day * span, length))
        left -= length
        day += 1
    return parts


async def _drive(options: LoadOptions, keypads: Keypads | None, printers: PrinterFault | None) -> dict[str, Any]:
    stats = keypads.stats if keypads is not None else LoadStats()
    works = _works(options)
    opens, span = _day(options.sites, options.start_s)
    first = min((a.at_s for w in works for a in w.arrivals), default=0.0)
    sim_start = opens if options.soak_days else options.start_s if options.start_s is not None else first
    duration = options.duration_s
    if options.soak_days:
        hours = options.soak_hours if options.soak_hours is not None else options.soak_days * span / 3600
        duration = hours * 3600 / options.speed
    kiosks = max(len(options.access.kiosk_keys[w.site.id]) for w in works)
    peak = kiosk_peak_per_minute(works, options.access, sim_start, options.speed)
    advice = limit_advice(peak, options.speed, kiosks)
    if advice is not None:
        print(f"motcua load: {advice}", file=sys.stderr, flush=True)
    probes = _probes(options) if options.soak_days else []
    samples: list[list[ServerSample]] = [[] for _ in probes]
    live = {w.site.id: LiveCheck() for w in works} if options.live else {}
    limits = httpx.Limits(max_connections=256, max_keepalive_connections=256)
    async with httpx.AsyncClient(trust_env=False, timeout=30.0, limits=limits) as client:
        api = Api(client, options.urls, stats)
        staffed = {w.site.id: options.access.staffed(w.site) for w in works}
        auth = await _login(api, staffed, options.access)
        watchers: list[asyncio.Task[None]] = []
        connected = [asyncio.Event() for _ in works] if options.live else []
        token = await _live_token(api, options) if options.live else ""
        listeners = [h for h in (keypads.on_live if keypads else None, printers.on_live if printers else None) if h]

        def on_event(site: str, message: dict[str, Any]) -> None:
            for listener in listeners:
                listener(site, message)
        for i, work in enumerate(works[: len(connected)]):
            watchers.append(asyncio.create_task(subscriber(
                options.urls, work.site.id, token, live[work.site.id], connected[i], i, on_event, stats)))
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.gather(*(c.wait() for c in connected)), CONNECT_TIMEOUT_S)
        opening = asyncio.Semaphore(OPENING_CONCURRENCY)

        async def open_one(work: SiteWork, counter: int) -> None:
            async with opening:
                await open_counter(api, work, counter, auth[(work.site.id, counter)])

        admin = await _admin(api) if options.roll_days else {}
        if options.roll_days:
            await _roll_day(api, admin, 0.001)  # refused at once, before the run, by a server without a test clock
        await asyncio.gather(*(open_one(w, n) for w in works for n in staffed[w.site.id]))
        await asyncio.sleep(SETTLE_S)
        phones = Phones(options.urls, stats, options.phones) if options.phones > 0 else None
        budget = [options.max_tickets]
        by_keypad = {w.site.id: keypad_counters(staffed[w.site.id], options.keypad_share) if keypads else set()
                     for w in works}
        for work in works:
            for n in staffed[work.site.id]:
                if keypads is not None and n in by_keypad[work.site.id]:
                    keypads.counts.keypads += 1
        if keypads is not None:
            watchers.append(asyncio.create_task(keypads.route()))
        timelines: list[Timeline] = []
        for day, (day_start, length) in enumerate(_segments(options, sim_start, span, duration)):
            if day:
                # the night: every server starts its next day (new day's state, counters closed), staff open again
                await _roll_day(api, admin, NIGHT_S)
                stats.server_clock_ahead_s += NIGHT_S  # the keypads' clocks follow the servers' (NTP)
                await asyncio.gather(*(open_one(w, n) for w in works for n in staffed[w.site.id]))
            timeline = Timeline(day_start, options.speed, length)
            timelines.append(timeline)
            if not day:
                if probes:
                    watchers.append(asyncio.create_task(
                        sample_forever(probes, 3600.0 / options.speed / SAMPLES_PER_HOUR, samples)))
                if printers is not None:
                    watchers.append(asyncio.create_task(printers.run(timeline)))
            actors = [asyncio.create_task(kiosk(api, w, timeline, options.access.kiosk_keys[w.site.id], budget,
                                                phones, printers)) for w in works]
            for work in works:
                for n in staffed[work.site.id]:
                    if keypads is not None and n in by_keypad[work.site.id]:
                        actors.append(asyncio.create_task(keypad_staff(keypads, work, n, timeline)))
                    else:
                        actors.append(asyncio.create_task(staff(api, work, n, auth[(work.site.id, n)], timeline)))
            await asyncio.wait(actors, timeout=max(0.0, timeline.ends - time.monotonic()))
            for task in actors:
                task.cancel()
            await asyncio.gather(*actors, return_exceptions=True)
        wall = time.monotonic() - timelines[0].started
        if phones is not None:
            await phones.close()
        await asyncio.sleep(DRAIN_S)
        for task in watchers:
            task.cancel()
        await asyncio.gather(*watchers, return_exceptions=True)
    report = stats.report(wall, live)
    if keypads is not None:
        report["devices"] = keypads.counts.report()
    if phones is not None:
        report["phones"] = phones.report()
    logs = [p.log_path for p in probes if p.log_path is not None]
    # every ticket acknowledged to a kiosk, looked up in the event log itself (SQLite, one process)
    lost = acked_not_in_log(logs[0], stats.issued_ids) if len(logs) == 1 else None
    if options.soak_days:
        clock = HourClock(timelines[0].started, sim_start, options.speed, opens, span, timelines[-1].ends,
                          tuple(t.started for t in timelines[1:]))
        report["soak"] = {
            "days": options.soak_days, "server_rolls_days": options.roll_days, "servers": [p.pid for p in probes],
            "server_restarts_seen": sum(p.restarts for p in probes),
            "acked_not_in_event_log": None if lost is None else len(lost),
            "outages": stats.outages(timelines[0].started),
            **hourly_report(stats, clock, samples),
            "per_day": daily_report(stats, clock, samples,
                                    logged_days(logs[0]) if options.roll_days and len(logs) == 1 else None),
        }
    if printers is not None:
        report["printer_fault"] = printers.report(lost)
    report["config"] = {
        "urls": list(options.urls), "sites": len(works), "speed": options.speed, "duration_s": round(duration, 1),
        "sim_from": _clock(sim_start), "sim_to": _clock(sim_start + wall * options.speed),
        "counters_staffed": sum(len(v) for v in staffed.values()),
        "kiosks_per_site": kiosks, "kiosk_peak_per_minute": peak,
        "mqtt": options.mqtt_url,
    }
    return report


def _probes(options: LoadOptions) -> list[ServerProbe]:
    """The servers a soak run watches: given by pid, or the processes listening on the URLs' ports."""
    if options.server_pids is not None:
        return [ServerProbe(pid) for pid in options.server_pids]
    probes = []
    for url in options.urls:
        pid = listening_pid(url)
        if pid is None:
            print(f"motcua load: no process of this machine that I may read listens at {url}: its memory and "
                  "descriptors are not reported (give --server-pid)", file=sys.stderr)
        else:
            probes.append(ServerProbe(pid, url))
    return probes


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
    mqtt = getattr(args, "mqtt", None)
    share = float(getattr(args, "keypad_share", 0.5))
    if not 0 <= share <= 1:
        raise LoadError(f"--keypad-share must be 0..1, got {share}")
    phones = float(getattr(args, "phones", 0.0))
    if not 0 <= phones <= 1:
        raise LoadError(f"--phones must be 0..1 (the share of citizens who follow their ticket), got {phones}")
    days = int(getattr(args, "days", 1)) if getattr(args, "soak", False) else 0
    if getattr(args, "soak", False) and not 1 <= days <= 30:
        raise LoadError(f"--days must be 1..30, got {days}")
    hours = getattr(args, "hours", None)
    if hours is not None and not (days and 0 < float(hours) <= days * 24):
        raise LoadError(f"--hours is for --soak, 0 < H <= 24 x --days, got {hours}")
    pid = getattr(args, "server_pid", None)
    roll = bool(getattr(args, "roll_days", False))
    if roll and not days:
        raise LoadError("--roll-days is for --soak: the servers start a new day each simulated night")
    if roll and getattr(args, "access", None):
        raise LoadError("--roll-days moves a demo server's clock (serve --demo --test-clock): not with --access")
    window = None
    if getattr(args, "printer_out", None):
        if not mqtt:
            raise LoadError("--printer-out plays the printers' MQTT gateways: it needs --mqtt")
        try:
            window = parse_window(args.printer_out)
        except ValueError as exc:
            raise LoadError(str(exc)) from None
    access_file = getattr(args, "access", None)
    try:
        if access_file:
            access, sites = read_access(Path(access_file), sites)
        else:
            access = demo_access(sites, args.kiosk_key, getattr(args, "kiosks", None))
    except AccessError as exc:
        raise LoadError(f"--access: {exc}") from None
    return LoadOptions(
        urls=urls, sites=tuple(sites), scenario=scenario, access=access, speed=float(args.speed),
        duration_s=float(args.duration), max_tickets=int(getattr(args, "max_tickets", 100_000)),
        start_s=_hhmm(start) if start else None, live=not getattr(args, "no_live", False),
        mqtt_url=parse_mqtt(mqtt) if mqtt else None, keypad_share=share, phones=phones, soak_days=days,
        soak_hours=None if hours is None else float(hours),
        server_pids=None if pid is None else tuple(int(p) for p in str(pid).split(",")),
        roll_days=roll, printer_out=window,
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
    try:
        report = asyncio.run(drive(options))
    except LoadError as exc:
        print(f"motcua load: {exc}", file=sys.stderr)
        return 1
    print(json.dumps(report, ensure_ascii=False))
    return 0

