"""Soak: a whole simulated day against a real server, hour by hour (`motcua load --soak`).

A `motcua serve --demo` process on SQLite with its devices on a mosquitto
broker (`--mqtt ... --devices real`); `motcua load --soak` drives the day at
`speed` times real time: kiosks k1..k4 of each site in turn, half the staffed
counters with HTTP and half with their MQTT keypads and rating keypads, one full
live-stream subscriber per site and 20 % of citizens following their ticket on
the ticket page's public stream. Per simulated hour it reports p50/p99 per
operation, live-stream lag, errors, refusals by limits, and the server's RSS,
open descriptors and event log size; the growth per hour is the least-squares
slope over the hours after the first.

The length is a parameter (environment, so `make bench` keeps its defaults):
SOAK_CENTRE_SPEED (30), SOAK_CENTRE_HOURS (the whole day; 0 skips the centre run),
SOAK_PROVINCE_SPEED (15), SOAK_PROVINCE_HOURS (2; 0 skips the province run).

Then days of the server's own (`--roll-days` on a `--demo --test-clock` server:
each simulated night the server starts its next day): SOAK_DAYS (2; 0 skips),
SOAK_DAYS_SPEED (60), SOAK_DAYS_START (HH:MM each day starts at; default the
opening: whole days); the report shows each day's figures and each later day
against the first.

Then a shorter run (SOAK_FAULT_SPEED 60, SOAK_FAULT_HOURS 1.5) with faults
mid-run: kiosk k1's printer out of paper from 10 % to 25 % of the run (its MQTT
gateway played by the driver, --printer-out), the controller SIGKILLed and
restarted at 35 %, the broker restarted at 65 %; the report shows each gap, the
recovery, what the kiosk did while its printer was stopped, and that every
ticket acknowledged to a kiosk is in the event log.

The full run, on a quiet machine (about 50 minutes):

    python -m benchmarks.run bench_soak

A short one (a few minutes; its figures say little about a day):

    SOAK_CENTRE_HOURS=0 SOAK_PROVINCE_HOURS=0 SOAK_DAYS_START=15:30 SOAK_DAYS_SPEED=120 \
        python -m benchmarks.bench_soak
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from controller.sitefile import load_document
from sim.load import DEFAULT_KIOSK_RATE, _works, kiosk_peak_per_minute, options_from_args
from tests.server import serve_process
from tests.services import env_without_proxies, mosquitto_server

SITES_DIR = Path(__file__).resolve().parent.parent / "controller" / "sites"
PHONES = 0.2
FAULT_SPEED = float(os.environ.get("SOAK_FAULT_SPEED", 60.0))
FAULT_HOURS = float(os.environ.get("SOAK_FAULT_HOURS", 1.5))
SETUP_S = 8.0  # the driver logs in, connects its subscribers and opens the counters before its clock starts
PRINTER_OUT = (0.10, 0.25)  # kiosk k1's printer is out of paper in this part of the fault run


def _hhmm(seconds: float) -> str:
    minutes = int(seconds // 60)
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def _env(name: str, default: float) -> float:
    return float(os.environ.get(name, default))


def _kiosk_rate(scenario: Path, speed: float, url: str) -> float:
    """The kiosk rate the test server needs at this speed (the driver's own advice), never below the default."""
    from controller.cli import build_parser

    args = build_parser().parse_args(["load", "--url", url, "--scenario", str(scenario), "--speed", str(speed)])
    options = options_from_args(args)
    works = _works(options)
    peak = kiosk_peak_per_minute(works, options.access, min(s.opening_s for s in options.sites), speed)
    return max(DEFAULT_KIOSK_RATE, float(int(peak * 1.2) + 1))


def soak(scenario: Path, speed: float, hours: float | None, workdir: Path, *extra: str, days: int = 1,
         server_flags: tuple[str, ...] = ()) -> dict[str, Any]:
    """One soak run on a fresh server and broker; the driver's report."""
    with ExitStack() as stack:
        broker = stack.enter_context(mosquitto_server(workdir))
        rate = _kiosk_rate(scenario, speed, "http://127.0.0.1:1")
        server = stack.enter_context(serve_process(
            scenario, workdir / "data", "--mqtt", broker.url, "--devices", "real", *server_flags, kiosk_rate=rate))
        command = [sys.executable, "-m", "controller.cli", "load", "--url", server.url, "--scenario", str(scenario),
                   "--speed", str(speed), "--soak", "--days", str(days), "--mqtt", broker.url, "--phones", str(PHONES),
                   *extra]
        if hours is not None:
            command += ["--hours", str(hours)]
        span = days * 9.5 * 3600 if hours is None else hours * 3600
        done = subprocess.run(command, capture_output=True, text=True, timeout=span / speed + 600,
                              env=env_without_proxies(), check=True)
    report: dict[str, Any] = json.loads(done.stdout)
    report["kiosk_rate"] = rate
    return report


def faults(scenario: Path, speed: float, hours: float, workdir: Path) -> dict[str, Any]:
    """A soak with faults mid-run: the controller SIGKILLed and restarted, then the broker restarted."""
    with ExitStack() as stack:
        broker = stack.enter_context(mosquitto_server(workdir))
        rate = _kiosk_rate(scenario, speed, "http://127.0.0.1:1")
        server = stack.enter_context(serve_process(
            scenario, workdir / "data", "--mqtt", broker.url, "--devices", "real", kiosk_rate=rate))
        opening = min(site.opening_s for site in load_document(scenario)[0])
        window = "-".join(_hhmm(opening + share * hours * 3600) for share in PRINTER_OUT)
        command = [sys.executable, "-m", "controller.cli", "load", "--url", server.url, "--scenario", str(scenario),
                   "--speed", str(speed), "--soak", "--hours", str(hours), "--mqtt", broker.url,
                   "--phones", str(PHONES), "--printer-out", window]
        wall = hours * 3600 / speed
        with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
            driver = subprocess.Popen(command, stdout=out, stderr=err, text=True, env=env_without_proxies())
            started = time.monotonic()
            time.sleep(SETUP_S + 0.35 * wall)
            killed = time.monotonic()
            server.kill()  # SIGKILL: no clean shutdown
            server.start()  # same port, same data dir: replays the day
            controller_back = time.monotonic() - killed
            time.sleep(max(0.0, started + SETUP_S + 0.65 * wall - time.monotonic()))
            stopped = time.monotonic()
            broker.restart()
            broker_back = time.monotonic() - stopped
            driver.wait(timeout=wall + 600)
            out.seek(0)
            err.seek(0)
            if driver.returncode != 0:
                raise RuntimeError(f"motcua load failed: {err.read()[-2000:]}")
            report: dict[str, Any] = json.loads(out.read())
    report["kiosk_rate"] = rate
    report["faults"] = {"controller_healthy_after_s": round(controller_back, 2),
                        "broker_listening_after_s": round(broker_back, 2)}
    return report


def _ms(row: dict[str, Any], op: str) -> str:
    o = row["ops"].get(op)
    return "–" if o is None else f"{o['p50_ms']:.0f} / {o['p99_ms']:.0f}"


def _lag(row: dict[str, Any], audience: str) -> str:
    o = row["live_lag"].get(audience)
    return "–" if o is None else f"{o['p50_ms']:.0f} / {o['p99_ms']:.0f}"


def table(report: dict[str, Any]) -> list[str]:
    """The per-hour table of a soak report."""
    lines = [
        "| day hour | issue p50/p99 ms | call-next | finish | keypad next | rating | live lag full | phone call "
        "lag | errors | refused | RSS MB | fds | event log MB |",
        "|---|---|---|---|---|---|---|---|---:|---:|---:|---:|---:|",
    ]
    for row in report["soak"]["hours"]:
        lines.append(
            f"| d{row['day']} {row['hour']} | {_ms(row, 'issue')} | {_ms(row, 'call_next')} | {_ms(row, 'finish')} | "
            f"{_ms(row, 'keypad_next')} | {_ms(row, 'rating')} | {_lag(row, 'full')} | {_lag(row, 'phone_called')} | "
            f"{row['error_count']} | {row['refused_count']} | {row['rss_mb']} | {row['fds']} | {row['event_log_mb']} |"
        )
    return lines


def _signed(value: float | None, digits: int = 2) -> str:
    return "–" if value is None else f"{value:+.{digits}f}"


def growth_line(report: dict[str, Any]) -> str:
    g = report["soak"]["growth_per_hour"]
    p99 = ", ".join(f"{op} {_signed(v, 1)}" for op, v in sorted(g["p99_ms"].items()))
    return (f"Growth per simulated hour (least squares over {g['hours_fitted']} hours after the first): "
            f"RSS {_signed(g['rss_mb'])} MB, fds {_signed(g['fds'])}, event log {_signed(g['event_log_mb'])} MB, "
            f"live lag p99 {_signed(g['live_lag_p99_ms'], 1)} ms, p99 ms: {p99}.")


def memory_line(report: dict[str, Any]) -> str:
    """RSS from the first hour's end to the last, per ticket issued: the day's state, or a leak to look for."""
    rss = [h["rss_mb"] for h in report["soak"]["hours"] if h["rss_mb"] is not None]
    if len(rss) < 2 or not report["tickets_issued"]:
        return ""
    grown = rss[-1] - rss[0]
    per_ticket_kb = grown * 1024 / report["tickets_issued"]
    return (f"RSS {rss[0]:.1f} -> {rss[-1]:.1f} MB from the end of the first hour to the last: "
            f"{per_ticket_kb:.1f} KB per ticket issued in the run. Each site keeps the day's tickets and their "
            "histories in memory (controller/core/floor.py: a new SiteState at day.started), so memory grows "
            "with the day's tickets; a leak would go on growing in the hours with few tickets.")


def day_table(report: dict[str, Any]) -> list[str]:
    """A line per server day, and each later day against the first."""
    lines = [
        "| day | tickets | issue p50/p99 ms | call-next | finish | keypad next | errors | refused | RSS MB at end "
        "| fds | event log files MB at end | server day | events logged | KB logged per ticket |",
        "|---|---:|---|---|---|---|---:|---:|---:|---:|---:|---|---:|---:|",
    ]
    per_day = report["soak"]["per_day"]
    for row in per_day["days"]:
        lines.append(
            f"| {row['day']} | {row['tickets_issued']} | {_ms(row, 'issue')} | {_ms(row, 'call_next')} | "
            f"{_ms(row, 'finish')} | {_ms(row, 'keypad_next')} | {row['error_count']} | {row['refused_count']} | "
            f"{row['rss_mb_at_end']} | {row['fds_at_end']} | {row['event_log_mb_at_end']} | "
            f"{row['server_day']} | {row['events_logged']} | {row['logged_kb_per_ticket']} |")
    for later in per_day["against_day_1"]:
        ops = ", ".join(f"{op} p50 x{r['p50']} p99 x{r['p99']}" for op, r in sorted(later["ops"].items()))
        lines += ["", f"Day {later['day']} over day 1: {ops or 'too few samples per operation'}; RSS at the end "
                      f"x{later['rss_mb_at_end']}, descriptors x{later['fds_at_end']}, logged per ticket "
                      f"x{later['logged_kb_per_ticket']}."]
    return lines


def printer_line(report: dict[str, Any]) -> str:
    """What the kiosks did while their printer was out of paper."""
    p = report.get("printer_fault")
    if p is None:
        return ""
    return (f"Kiosk printer{'s' if len(p['printers']) > 1 else ''} {', '.join(p['printers'])} out of paper "
            f"{p['window'][0]}-{p['window'][1]} (simulated; {p['stopped_for_s']} s wall): "
            f"{p['tickets_while_stopped']} tickets issued at that kiosk meanwhile, {p['shown_on_screen']} shown on "
            f"the kiosk's screen at once with the photo notice ({json.dumps(p['reasons'], ensure_ascii=False)}), "
            f"{p['sent_while_stopped']} sent to the stopped printer, jobs it received "
            f"{json.dumps(p['jobs_received'])}; missing from the event log: **{p['acked_not_in_event_log']}**. "
            f"First print failed {p['noticed_after_s']} s after the paper ran out, first job sent again "
            f"{p['recovered_after_s']} s after it was back ({p['failed_after']} of {p['tickets_after']} later "
            f"prints failed); the floor's printer alert raised after {p['alert_raised_after_s']} s, answered "
            f"{p['alert_answered_after_s']} s after the paper was back (device changes are held 5 s).")


def summary(report: dict[str, Any]) -> str:
    live = report["live"]
    devices = report.get("devices", {})
    phones = report.get("phones", {})
    return (f"{report['tickets_issued']} tickets in {report['wall_s']:.0f} s wall; errors "
            f"{json.dumps(report['errors'])}; refused by limits {json.dumps(report['refused_by_limits'])} "
            f"(kiosk rate of the test server {report['kiosk_rate']:.0f}/min); live: {live['events']} events, "
            f"dropped {live['dropped']}, out of order {live['out_of_order']}, acknowledged tickets not in the "
            f"stream {live['acked_ids_not_in_log']}; keypads {devices.get('keypads', 0)}, presses "
            f"{devices.get('presses', 0)}, ratings {devices.get('ratings_recorded', 0)}; phones opened "
            f"{phones.get('opened', 0)} (at most {phones.get('open_max', 0)} at once), "
            f"{phones.get('saw_their_call', 0)} saw their call.")


def run() -> str:
    centre_speed = _env("SOAK_CENTRE_SPEED", 30.0)
    centre_hours = os.environ.get("SOAK_CENTRE_HOURS")
    province_speed = _env("SOAK_PROVINCE_SPEED", 15.0)
    province_hours = _env("SOAK_PROVINCE_HOURS", 2.0)
    days = int(_env("SOAK_DAYS", 2))
    days_speed = _env("SOAK_DAYS_SPEED", 60.0)
    days_start = os.environ.get("SOAK_DAYS_START")
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        centre = None
        if centre_hours is None or float(centre_hours) > 0:
            (root / "centre").mkdir()
            centre = soak(SITES_DIR / "province-centre.toml", centre_speed,
                          None if centre_hours is None else float(centre_hours), root / "centre")
        rolled = None
        if days > 0:
            (root / "days").mkdir()
            rolled = soak(SITES_DIR / "province-centre.toml", days_speed, None, root / "days", "--roll-days",
                          *(["--start", days_start] if days_start else []), days=days, server_flags=("--test-clock",))
        province = None
        if province_hours > 0:
            (root / "province").mkdir()
            province = soak(SITES_DIR / "province.toml", province_speed, province_hours, root / "province")
        (root / "faults").mkdir()
        faulted = faults(SITES_DIR / "province-centre.toml", FAULT_SPEED, FAULT_HOURS, root / "faults")
    sites = len(load_document(SITES_DIR / "province.toml")[0])
    lines = [
        "## Soak: a simulated day hour by hour (memory, descriptors, event log, p99, live lag)",
        "",
        "Command: `python -m benchmarks.run bench_soak` (length: SOAK_CENTRE_SPEED, SOAK_CENTRE_HOURS, "
        "SOAK_PROVINCE_SPEED, SOAK_PROVINCE_HOURS, SOAK_DAYS, SOAK_DAYS_SPEED, SOAK_DAYS_START, SOAK_FAULT_SPEED, "
        "SOAK_FAULT_HOURS; see benchmarks/bench_soak.py). By hand: "
        "`motcua serve --site S --demo --mqtt mqtt://127.0.0.1:1883 --devices real --kiosk-rate R [--test-clock]` "
        "and `motcua load --url URL --scenario S --speed X --soak [--hours H] [--days N --roll-days] "
        "[--printer-out HH:MM-HH:MM] --mqtt mqtt://127.0.0.1:1883 --phones 0.2`.",
        "",
        "One `motcua serve --demo` process on SQLite, devices on mosquitto; `motcua load --soak` drives the day: "
        "the demo's kiosks k1..k4 of each site in turn, half the staffed counters by HTTP and half by their MQTT "
        f"keypads (and rating keypads), a full live subscriber per site, {PHONES:.0%} of citizens on the ticket "
        "page's public stream. The test server's kiosk rate is what the driver advised for the speed (a kiosk "
        "may issue 30 a minute on a floor; at 30x the busiest demo kiosk takes 32 in a wall minute). "
        "RSS and descriptors from /proc/PID, the event log is DATA_DIR/events.db with its WAL, all at the end "
        "of each simulated hour. The driver runs on the same 2 cores.",
        "",
    ]
    if centre is not None:
        lines += [
            f"### Province centre, {centre_speed:g}x, "
            f"{'the whole day' if centre_hours is None else f'{float(centre_hours):g} simulated hours'}",
            "",
            *table(centre),
            "",
            growth_line(centre),
            "",
            memory_line(centre),
            "",
            summary(centre),
        ]
    if rolled is not None:
        lines += [
            "",
            f"### Days of the server's own: province centre, {days} days at {days_speed:g}x"
            + (f", each from {days_start}" if days_start else ", whole days"),
            "",
            "The server runs with `--demo --test-clock` and the driver with `--roll-days`: each simulated night it "
            "moves the server's clock a day forward, the server starts its next day (`day.started`: a new day's "
            "state, ticket numbers from 1, counters closed) and the staff open their counters again. Each day "
            "draws its own citizens (the next weekday), so compare the latencies and the event log per ticket, "
            "not the totals.",
            "",
            *day_table(rolled),
            "",
            summary(rolled),
        ]
    if province is not None:
        lines += [
            "",
            f"### Province ({sites} sites: centre + communes), {province_speed:g}x, {province_hours:g} simulated hours",
            "",
            *table(province),
            "",
            growth_line(province),
            "",
            memory_line(province),
            "",
            summary(province),
        ]
    f = faulted["faults"]
    fsoak = faulted["soak"]
    outages = "; ".join(
        f"at {o['at_s']:.0f} s wall, {o['failed']} requests failed, the next one succeeded "
        f"{o['recovered_after_s']} s later" for o in fsoak["outages"]) or "none seen"
    lines += [
        "",
        f"### Faults mid-run: province centre, {FAULT_SPEED:g}x, {FAULT_HOURS:g} simulated hours",
        "",
        printer_line(faulted),
        "",
        "At 35 % of the run the controller is killed (SIGKILL) and started again on the same port and data "
        f"dir (healthy again after {f['controller_healthy_after_s']:.1f} s, replaying the day); at 65 % the broker "
        f"is restarted (listening again after {f['broker_listening_after_s']:.1f} s; persistence off, so its "
        f"sessions and retained states are gone). Gaps the driver saw: {outages}. Tickets acknowledged to a "
        f"kiosk and missing from the event log (DATA_DIR/events.db, read after the run): "
        f"**{fsoak['acked_not_in_event_log']}** of {faulted['tickets_issued']}; live stream: "
        f"{faulted['live']['reconnects']} reconnects with ?after=, dropped {faulted['live']['dropped']}, out of order "
        f"{faulted['live']['out_of_order']}, acknowledged tickets not in the stream "
        f"{faulted['live']['acked_ids_not_in_log']}. Errors: {json.dumps(faulted['errors'])} (lost connections "
        "while the controller was down; a finish whose reply was lost leaves the ticket at the counter, so the "
        "next call-next is refused counter_busy and the staff finish it first). Keypads: "
        f"{json.dumps(faulted.get('devices', {}))} (presses while the broker is down change nothing).",
        "",
        *table(faulted),
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    print(run())
