"""The shipped Prometheus alert rules: valid, each fires (and stays quiet) as meant, on series /metrics exports."""

from __future__ import annotations

import asyncio
import itertools
import re
import shutil
import subprocess
from pathlib import Path

import httpx
import pytest

from controller.api.metrics import render_metrics
from controller.core.commands import IssueTicket
from controller.runtime.controller import Controller
from controller.sitefile import load_sites
from controller.store.sqlite import SqliteEventStore
from tests.bridge_support import eventually
from tests.devices_support import COMMUNE
from tests.server import serve_process
from tests.services import Mosquitto

RULES_DIR = Path(__file__).resolve().parent.parent / "docs" / "grafana"
RULES = RULES_DIR / "alerts.yml"


def promtool(*args: str) -> str:
    tool = shutil.which("promtool")
    if tool is None:
        pytest.fail("promtool is missing: `make system-deps` installs it (Debian package prometheus)")
    done = subprocess.run([tool, *args], cwd=RULES_DIR, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def test_rules_are_valid() -> None:
    assert "SUCCESS: 6 rules found" in promtool("check", "rules", "alerts.yml")


def test_each_alert_fires_after_its_wait_and_not_on_healthy_series() -> None:
    # alerts.test.yml feeds series and expects every alert, its labels and its summary
    tested = set(re.findall(r"alertname: (\w+)", (RULES_DIR / "alerts.test.yml").read_text(encoding="utf-8")))
    assert tested == set(re.findall(r"- alert: (\w+)", RULES.read_text(encoding="utf-8")))
    assert "SUCCESS" in promtool("test", "rules", "alerts.test.yml")


@pytest.mark.integration
def test_rules_use_only_series_a_running_server_exports(tmp_path: Path) -> None:
    used = set(re.findall(r"\b(motcua_[a-z_]+)\b", RULES.read_text(encoding="utf-8")))
    assert {"motcua_mqtt_connected", "motcua_store_append_seconds_bucket", "motcua_devices"} <= used
    with serve_process(COMMUNE, tmp_path / "data", "--mqtt", "embedded", "--devices", "sim") as server:
        text = httpx.get(f"{server.url}/metrics", timeout=10).text
    samples = {m.group(1) for m in re.finditer(r"^([a-z_]+)[{ ]", text, re.MULTILINE)}
    # a family with no sample yet (no transaction called today) is still declared
    families = {m.group(1) for m in re.finditer(r"^# TYPE ([a-z_]+) ", text, re.MULTILINE)}
    assert used <= samples | families, f"alerted on but not exported: {sorted(used - samples - families)}"
    assert re.search(r"^motcua_mqtt_connected 1\.0$", text, re.MULTILINE)


@pytest.mark.integration
def test_broker_state_follows_the_controllers_link(tmp_path: Path, mosquitto: Mosquitto) -> None:
    # what MotcuaBrokerDown watches: 0 while mosquitto is away, 1 again once the link reconnects
    with serve_process(COMMUNE, tmp_path / "data", "--mqtt", mosquitto.url, "--devices", "sim") as server:
        def connected() -> str:
            found = re.search(r"^motcua_mqtt_connected (\S+)$", httpx.get(f"{server.url}/metrics", timeout=10).text,
                              re.MULTILINE)
            return found.group(1) if found else "absent"

        async def outage() -> None:
            await eventually(lambda: connected() == "1.0", timeout_s=15)
            mosquitto.stop()
            await eventually(lambda: connected() == "0.0", timeout_s=15)
            mosquitto.start()
            await eventually(lambda: connected() == "1.0", timeout_s=30)

        asyncio.run(outage())


def test_store_append_latency_is_a_histogram_per_site(tmp_path: Path) -> None:
    async def scrape() -> str:
        async with SqliteEventStore(tmp_path / "events.db") as store:
            controller = Controller(load_sites(COMMUNE), store)
            await controller.start(tick=False)
            runtime = next(iter(controller.runtimes.values()))
            ticks = itertools.count(step=0.3)  # each append "takes" 0.3 s on this timer
            runtime.timer = lambda: next(ticks)
            for _ in range(2):
                await runtime.execute(IssueTicket("ht-khai-sinh", check_hours=False))
            return render_metrics(controller).decode()

    text = asyncio.run(scrape())
    assert 'motcua_store_append_seconds_bucket{le="0.25",site="xa"} 0.0' in text
    assert 'motcua_store_append_seconds_bucket{le="0.5",site="xa"} 2.0' in text
    assert 'motcua_store_append_seconds_count{site="xa"} 2.0' in text
    total = re.search(r'^motcua_store_append_seconds_sum\{site="xa"\} (\S+)$', text, re.MULTILINE)
    assert total is not None and float(total.group(1)) == pytest.approx(0.6)
    assert 'motcua_store_append_failures_total{site="xa"} 0.0' in text
