"""`motcua load` against running controllers: it drives them and reports (issue 8)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.devices_support import COMMUNE
from tests.partition_support import cluster
from tests.server import serve_process
from tests.services import Mosquitto, env_without_proxies

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def _load(urls: str, scenario: Path, *extra: str) -> dict[str, object]:
    done = subprocess.run(
        [sys.executable, "-m", "controller.cli", "load", "--url", urls, "--scenario", str(scenario),
         "--speed", "60", "--duration", "6", "--start", "08:30", *extra],  # later options win
        capture_output=True, text=True, timeout=120, env=env_without_proxies(), check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    report: dict[str, object] = json.loads(done.stdout)
    return report


def test_load_drives_one_process_and_reports(tmp_path: Path) -> None:
    with cluster(tmp_path, processes=1, communes=4) as c:
        province = tmp_path / "province-small.toml"
        report = _load(c.servers[0].url, province)
    ops = report["ops"]
    assert isinstance(ops, dict)
    for op in ("issue", "call_next", "open", "login"):
        assert ops[op]["count"] > 0 and 0 < ops[op]["p50_ms"] <= ops[op]["p99_ms"], op
    assert report["error_count"] == 0, report["errors"]
    assert report["tickets_issued"] == ops["issue"]["count"]
    assert report["ticket_numbers_reused"] == 0
    live = report["live"]
    assert isinstance(live, dict)
    assert live["subscribers"] == 5 and live["events"] > 0
    assert live["dropped"] == live["out_of_order"] == live["issued_not_seen"] == 0


def test_load_refuses_a_remote_url(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "controller.cli", "load", "--url", "http://192.0.2.1:8000",
         "--scenario", "controller/sites/commune-centre.toml"],
        capture_output=True, text=True, timeout=60, env=env_without_proxies(), check=False,
    )
    assert done.returncode == 2 and "loopback" in done.stderr


def test_load_drives_keypads_over_mqtt_and_times_them(tmp_path: Path, mosquitto: Mosquitto) -> None:
    # one commune centre served over MQTT; half its staffed counters use their keypads
    with serve_process(COMMUNE, tmp_path / "data", "--mqtt", mosquitto.url, "--devices", "real") as server:
        report = _load(server.url, COMMUNE, "--mqtt", mosquitto.url, "--speed", "120", "--duration", "8")
    ops = report["ops"]
    assert isinstance(ops, dict)
    for op in ("keypad_next", "rating", "call_next", "issue"):
        assert ops[op]["count"] > 0 and 0 < ops[op]["p50_ms"] <= ops[op]["p99_ms"], (op, ops)
    devices = report["devices"]
    assert isinstance(devices, dict)
    assert devices["keypads"] > 0
    # every press changed a display or was seen to change nothing, but the one per keypad the run's end cut off
    answered = ops["keypad_next"]["count"] + devices["no_change"]
    assert answered <= devices["presses"] <= answered + devices["keypads"]
    assert devices["starts"] <= ops["keypad_next"]["count"]  # a "start" follows a "next" that called someone
    assert devices["ratings_recorded"] == ops["rating"]["count"] <= devices["ratings_pressed"]
    assert report["error_count"] == 0, report["errors"]
    assert report["ticket_numbers_reused"] == 0
    live = report["live"]
    assert isinstance(live, dict)
    assert live["dropped"] == live["out_of_order"] == live["issued_not_seen"] == 0
