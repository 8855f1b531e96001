"""`motcua load` as a centre lives a day: several kiosks, refusals by limits apart, phones, the soak (issue 19)."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import sqlite3
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from controller.cli import build_parser
from controller.demo import DemoNames, demo_kiosks
from controller.sitefile import load_document
from sim.load import LoadError, _works, kiosk_peak_per_minute, limit_advice, options_from_args
from sim.load_access import AccessError, demo_access, read_access
from sim.load_actors import Api, SiteWork, Timeline, staff
from sim.load_printers import parse_window
from sim.load_soak import HourClock, ServerProbe, ServerSample, daily_report, hourly_report, listening_pid
from sim.load_stats import LiveCheck, LoadStats
from tests.server import login, serve_process
from tests.services import env_without_proxies, mosquitto_server

CENTRE = Path(__file__).resolve().parent.parent / "controller" / "sites" / "province-centre.toml"
PROVINCE = CENTRE.with_name("province.toml")


def test_a_refusal_by_a_limit_is_counted_apart_from_errors() -> None:
    stats = LoadStats()
    stats.refused("issue", "429:rate_limited")
    stats.refused("issue", "429:rate_limited")
    stats.error("call_next", "409:counter_closed")
    report = stats.report(10.0, {})
    assert report["refused_by_limits"] == {"issue:429:rate_limited": 2} and report["refused_count"] == 2
    assert report["errors"] == {"call_next:409:counter_closed": 1} and report["error_count"] == 1


def test_acknowledged_tickets_missing_from_the_stream_are_reported() -> None:
    stats = LoadStats()
    stats.issued("s", "t1", "A001")
    stats.issued("s", "t2", "A002")
    check = LiveCheck()
    check.see(1, "ticket.issued", "t1")
    assert stats.report(1.0, {"s": check})["live"]["acked_ids_not_in_log"] == 1
    check.see(2, "ticket.issued", "t2")
    assert stats.report(1.0, {"s": check})["live"]["acked_ids_not_in_log"] == 0


def test_the_hourly_report_buckets_by_simulated_hour_and_fits_the_growth() -> None:
    now = [1000.0]
    stats = LoadStats(clock=lambda: now[0])
    # speed 60: one simulated hour is 60 wall seconds; the day opens at 07:00, the run starts then
    clock = HourClock(started=1000.0, sim_start_s=7 * 3600, speed=60.0, open_s=7 * 3600, span_s=10 * 3600)
    samples: list[ServerSample] = []
    for hour in range(4):
        for i in range(30):
            now[0] = 1000.0 + hour * 60 + i
            stats.ok("issue", 0.010 + 0.002 * hour)  # p99 grows 2 ms an hour
            stats.lag("full", 0.005)
        stats.refused("issue", "429:rate_limited")
        samples.append(ServerSample(1000.0 + hour * 60 + 59, rss_mb=100.0 + 3 * hour, fds=40, log_mb=1.0 + hour))
    soak = hourly_report(stats, clock, [samples])
    hours = soak["hours"]
    assert [(h["day"], h["hour"]) for h in hours] == [(1, "07:00"), (1, "08:00"), (1, "09:00"), (1, "10:00")]
    assert all(h["ops"]["issue"]["count"] == 30 and h["refused_count"] == 1 for h in hours)
    assert [h["rss_mb"] for h in hours] == [100.0, 103.0, 106.0, 109.0]
    assert hours[2]["live_lag"]["full"]["p50_ms"] == pytest.approx(5.0)
    growth = soak["growth_per_hour"]
    assert growth["rss_mb"] == pytest.approx(3.0) and growth["fds"] == pytest.approx(0.0)
    assert growth["event_log_mb"] == pytest.approx(1.0)
    assert growth["p99_ms"]["issue"] == pytest.approx(2.0)
    assert growth["hours_fitted"] == 3  # the first hour warms up


def test_a_second_simulated_day_follows_the_first() -> None:
    clock = HourClock(started=0.0, sim_start_s=7 * 3600, speed=1.0, open_s=7 * 3600, span_s=10 * 3600)
    assert clock.hour(0.0) == (1, 7)
    assert clock.hour(9.5 * 3600) == (1, 16)
    assert clock.hour(10 * 3600) == (2, 7)  # the night is skipped


def test_the_probe_reads_memory_descriptors_and_the_listening_process() -> None:
    sample = ServerProbe(os.getpid()).sample()
    assert sample is not None and sample.rss_mb > 1 and sample.fds > 2 and sample.log_mb is None
    assert ServerProbe(2**22 + 12345).sample() is None  # no such process
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        assert listening_pid(f"http://127.0.0.1:{port}") == os.getpid()


def test_the_demo_gives_each_site_several_kiosk_keys() -> None:
    sites, _ = load_document(PROVINCE)
    names = DemoNames(sites[0].id)
    assert demo_kiosks(sites[0]) == ["k1", "k2", "k3", "k4"]
    assert names.kiosk_key("tinh") == "kiosk-demo" and names.kiosk_key("tinh", "k3") == "kiosk-demo-k3"
    assert names.kiosk_key("xa-007", "k2") == "kiosk-demo-k2@xa-007"
    access = demo_access(sites[:2])
    assert access.kiosk_keys[sites[1].id] == tuple(names.kiosk_key(sites[1].id, f"k{i}") for i in range(1, 5))
    assert len(demo_access(sites[:1], kiosks=2).kiosk_keys["tinh"]) == 2


def test_the_busiest_kiosk_minute_and_the_advice(tmp_path: Path) -> None:
    sites, _ = load_document(CENTRE)
    args = _args(tmp_path, "--speed", "60")
    options = options_from_args(args)
    works = _works(options)
    one = demo_access(sites, kiosks=1)
    four = demo_access(sites)
    peak_one = kiosk_peak_per_minute(works, one, 0.0, 60.0)
    peak_four = kiosk_peak_per_minute(works, four, 0.0, 60.0)
    assert peak_four < peak_one <= 4 * peak_four + 4
    assert limit_advice(30, 60.0, 4) is None
    advice = limit_advice(peak_four, 60.0, 4)
    assert advice is not None and f"--kiosk-rate {int(-(-peak_four * 1.2 // 1))}" in advice
    assert kiosk_peak_per_minute(works, four, 0.0, 1.0) <= 30  # in real time no kiosk comes near its limit


def _args(tmp_path: Path, *extra: str) -> argparse.Namespace:
    return build_parser().parse_args(["load", "--url", "http://127.0.0.1:9", "--scenario", str(CENTRE), *extra])


def test_an_access_file_gives_keys_and_staff(tmp_path: Path) -> None:
    sites, _ = load_document(CENTRE)
    path = tmp_path / "access.toml"
    path.write_text('[live]\nuser = "boss"\nsecret = "s3cret"\n[[site]]\nid = "tinh"\n'
                    'kiosk_keys = ["key-one-1", "key-two-2"]\n'
                    'staff = [{counter = 1, user = "an", secret = "1111"},\n'
                    '         {counter = 49, user = "bo", secret = "2"}]\n')
    access, covered = read_access(path, sites)
    assert [s.id for s in covered] == ["tinh"] and access.kiosk_keys["tinh"] == ("key-one-1", "key-two-2")
    assert access.staffed(covered[0]) == [1]  # 49 is a standby counter: not opened
    assert (access.live_user, access.live_secret) == ("boss", "s3cret")
    path.write_text('[live]\nuser = "boss"\nsecret = "x"\n[[site]]\nid = "nowhere"\nkiosk_keys = ["k"]\n')
    with pytest.raises(AccessError, match="no site 'nowhere'"):
        read_access(path, sites)
    with pytest.raises(LoadError, match="--access"):
        options_from_args(_args(tmp_path, "--access", str(path)))
    with pytest.raises(LoadError, match="--hours is for --soak"):
        options_from_args(_args(tmp_path, "--hours", "2"))
    with pytest.raises(LoadError, match="--phones"):
        options_from_args(_args(tmp_path, "--phones", "2"))


@pytest.mark.integration
@pytest.mark.slow
def test_a_short_soak_against_a_real_server(tmp_path: Path) -> None:
    # the kiosk limit of a real floor, tightened so that this short run meets it: 6 a minute, burst 10
    with serve_process(CENTRE, tmp_path / "data", kiosk_rate=6.0) as server:
        k3 = httpx.post(f"{server.url}/api/v1/sites/tinh/tickets", headers={"X-Kiosk-Key": "kiosk-demo-k3"},
                        json={"procedure": _procedure()}, timeout=10)
        assert k3.status_code == 201, k3.text  # the demo seeds more than one kiosk key
        done = subprocess.run(
            [sys.executable, "-m", "controller.cli", "load", "--url", server.url, "--scenario", str(CENTRE),
             "--speed", "300", "--soak", "--hours", "1.5", "--start", "08:30", "--phones", "0.3"],
            capture_output=True, text=True, timeout=180, env=env_without_proxies(), check=False,
        )
        assert done.returncode == 0, done.stderr[-3000:]
        assert "--kiosk-rate" in done.stderr  # it said how to lift the limit for a test
        report = json.loads(done.stdout)
        with sqlite3.connect(server.data_dir / "events.db") as db:
            logged = {json.loads(body).get("ticket") for (body,) in db.execute(
                "SELECT body FROM events WHERE type = 'ticket.issued'")}
            kiosks = {json.loads(body).get("kiosk") for (body,) in db.execute(
                "SELECT body FROM events WHERE type = 'ticket.issued'")}
    assert report["refused_count"] > 0 and set(report["refused_by_limits"]) == {"issue:429:rate_limited"}
    assert not any(":429" in key for key in report["errors"]), report["errors"]
    assert report["error_count"] == 0, report["errors"]
    assert report["tickets_issued"] > 10 and kiosks >= {"k1", "k2", "k3", "k4"}
    assert report["live"]["acked_ids_not_in_log"] == 0 and report["live"]["dropped"] == 0
    assert report["live"]["lag"]["full"]["count"] > 0
    assert report["phones"]["opened"] > 0 and report["ops"]["phone_open"]["count"] > 0
    soak = report["soak"]
    assert soak["servers"] == [server.process.pid]
    hours = soak["hours"]
    assert [h["hour"] for h in hours] == ["08:00", "09:00", "10:00"][: len(hours)] and len(hours) >= 2
    for hour in hours:
        assert hour["rss_mb"] > 10 and hour["fds"] > 5 and hour["event_log_mb"] > 0
        assert set(hour) >= {"ops", "errors", "refused_by_limits", "live_lag", "error_count", "refused_count"}
    assert set(soak["growth_per_hour"]) >= {"rss_mb", "fds", "event_log_mb", "p99_ms", "live_lag_p99_ms"}
    assert len(logged) > report["tickets_issued"]  # every acknowledged ticket is in the log (and the one above)


def _procedure() -> str:
    sites, _ = load_document(CENTRE)
    return sites[0].kiosk_procedures()[0].id


def test_an_outage_runs_from_the_first_failure_to_the_next_success() -> None:
    now = [0.0]
    stats = LoadStats(clock=lambda: now[0])
    for at, outcome in [(1.0, "ok"), (2.0, "ConnectError"), (2.5, "503:store_unavailable"), (3.0, "ConnectError"),
                        (6.5, "ok"), (7.0, "409:counter_busy"), (8.0, "ok"), (9.0, "ReadError")]:
        now[0] = at
        if outcome == "ok":
            stats.ok("issue", 0.01)
        else:
            stats.error("issue", outcome)
    stats.refused("issue", "429:rate_limited")  # a limit is no outage
    assert stats.outages(since=0.5) == [
        {"at_s": 1.5, "recovered_after_s": 4.5, "failed": 3},  # a 409 is an answer, not an outage
        {"at_s": 8.5, "recovered_after_s": None, "failed": 1},  # not recovered before the run ended
    ]


@pytest.mark.integration
def test_staff_who_find_a_ticket_left_at_their_counter_finish_it_first(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("sim.load_actors.IDLE_WAIT_S", 0.5)  # start at once, not at a random moment of 30 s
    sites, _ = load_document(CENTRE)
    with serve_process(CENTRE, tmp_path / "data") as server:
        auth = login(server.url, "quay1", "1234")
        base = f"{server.url}/api/v1/sites/tinh"
        assert httpx.post(f"{base}/counters/1/open", headers=auth, timeout=10).status_code in (200, 204)
        procedure = next(p.id for p in sites[0].kiosk_procedures() if any(
            p.agency in c.serves for n, c in sites[0].counters.items() if n == 1))
        left = httpx.post(f"{base}/tickets", headers={"X-Kiosk-Key": "kiosk-demo"}, json={"procedure": procedure},
                          timeout=10).json()
        called = httpx.post(f"{base}/counters/1/call-next", headers=auth, timeout=10)
        assert called.status_code == 200 and called.json()["id"] == left["id"]  # an earlier run left it there

        async def one_staff_member() -> LoadStats:
            stats = LoadStats()
            async with httpx.AsyncClient(trust_env=False, timeout=10) as client:
                work = SiteWork(sites[0], [])
                await staff(Api(client, [server.url], stats), work, 1, auth, Timeline(9 * 3600, 60.0, 4.0))
            return stats

        stats = asyncio.run(one_staff_member())
        after = httpx.get(f"{base}/tickets/{left['id']}", timeout=10).json()
    assert stats.errors == {"call_next:409:counter_busy": 1}
    assert stats.latencies["finish"]
    assert [h["counter"] for h in after["history"] if h["type"] == "ticket.finished"] == [1]


def test_days_whose_server_rolls_each_night_are_counted_from_their_own_start() -> None:
    # speed 60: a day of 2 simulated hours is 120 wall seconds; day 2 began 5 s after day 1 ended (the night)
    clock = HourClock(started=0.0, sim_start_s=15 * 3600, speed=60.0, open_s=15 * 3600, span_s=2 * 3600,
                      day_starts=(125.0,))
    assert clock.hour(119.0) == (1, 16) and clock.hour(124.0) == (2, 15)  # the night counts in the next day
    assert clock.hour(125.0 + 61.0) == (2, 16)
    now = [0.0]
    stats = LoadStats(clock=lambda: now[0])
    samples = []
    for day, start in ((1, 0.0), (2, 125.0)):
        for i in range(40):
            now[0] = start + i
            stats.ok("issue", 0.010 * day)  # day 2 twice as slow
        samples.append(ServerSample(start + 100.0, rss_mb=100.0, fds=30, log_mb=1.0 * day))
    logged = [("2026-12-07", 200, 40 * 1024), ("2026-12-08", 210, 60 * 1024)]
    report = daily_report(stats, clock, [samples], logged)
    days = report["days"]
    assert [(d["day"], d["tickets_issued"], d["event_log_mb_at_end"]) for d in days] == [(1, 40, 1.0), (2, 40, 2.0)]
    assert [(d["server_day"], d["events_logged"], d["logged_kb_per_ticket"]) for d in days] == [
        ("2026-12-07", 200, 1.0), ("2026-12-08", 210, 1.5)]
    [second] = report["against_day_1"]
    assert second["ops"]["issue"] == {"p50": 2.0, "p99": 2.0}
    assert (second["rss_mb_at_end"], second["logged_kb_per_ticket"]) == (1.0, 1.5)


def test_the_printer_window_and_the_new_options_are_checked(tmp_path: Path) -> None:
    assert parse_window("10:00-10:30") == (36000.0, 37800.0)
    for bad in ("10:00", "10:30-10:00", "25:00-26:00", "10-11"):
        with pytest.raises(ValueError, match="--printer-out"):
            parse_window(bad)
    with pytest.raises(LoadError, match=r"--printer-out .* needs --mqtt"):
        options_from_args(_args(tmp_path, "--printer-out", "10:00-10:30"))
    with pytest.raises(LoadError, match="--roll-days is for --soak"):
        options_from_args(_args(tmp_path, "--roll-days"))
    rolled = options_from_args(_args(tmp_path, "--soak", "--days", "2", "--roll-days"))
    assert rolled.roll_days and rolled.soak_days == 2


@pytest.mark.integration
@pytest.mark.slow
def test_two_server_days_with_a_printer_out_of_paper(tmp_path: Path) -> None:
    site = CENTRE.with_name("commune-centre.toml")
    with mosquitto_server(tmp_path) as broker, serve_process(
            site, tmp_path / "data", "--mqtt", broker.url, "--devices", "real", "--test-clock") as server:
        done = subprocess.run(
            [sys.executable, "-m", "controller.cli", "load", "--url", server.url, "--scenario", str(site),
             "--speed", "600", "--soak", "--days", "2", "--roll-days", "--start", "16:00", "--kiosks", "1",
             "--mqtt", broker.url, "--printer-out", "16:05-16:45"],
            capture_output=True, text=True, timeout=180, env=env_without_proxies(), check=False,
        )
        assert done.returncode == 0, done.stderr[-3000:]
        report = json.loads(done.stdout)
        with sqlite3.connect(server.data_dir / "events.db") as db:
            days = [day for (day,) in db.execute("SELECT DISTINCT day FROM events WHERE site = 'xa' ORDER BY day")]
    assert len(days) == 2  # the server lived two days of its own
    assert [d["server_day"] for d in report["soak"]["per_day"]["days"]] == days
    assert report["error_count"] == 0, report["errors"]
    per_day = report["soak"]["per_day"]
    assert [d["day"] for d in per_day["days"]] == [1, 2]
    assert all(d["tickets_issued"] > 0 and d["rss_mb_at_end"] > 10 for d in per_day["days"])
    assert "keypad_next" in per_day["days"][1]["ops"]  # the keypads' clocks followed the server's night
    assert per_day["against_day_1"][0]["day"] == 2
    assert report["live"]["lag"]["full"]["p50_ms"] < 1000
    fault = report["printer_fault"]
    assert fault["printers"] == ["xa/printer-k1"] and fault["tickets_while_stopped"] > 0
    assert fault["shown_on_screen"] == fault["tickets_while_stopped"]  # each on the kiosk's screen, at once
    assert fault["reasons"] == {"hết giấy / paper out": fault["tickets_while_stopped"]}
    assert fault["jobs_received"].get("stopped", 0) == 0 and fault["acked_not_in_event_log"] == 0
    assert fault["failed_after"] == 0
    assert report["soak"]["acked_not_in_event_log"] == 0
