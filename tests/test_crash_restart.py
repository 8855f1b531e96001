"""SIGKILL the controller mid-load; after a restart nothing acknowledged is lost."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest

from tests.server import KIOSK, login, serve_process
from tests.services import env_without_proxies

pytestmark = pytest.mark.integration

SITES = Path(__file__).resolve().parent.parent / "controller" / "sites"
PROCEDURES = ["gtvt-doi-gplx", "tp-ly-lich-tu-phap", "khdt-thanh-lap-dn", "ld-giay-phep-lao-dong"]


def test_sigkill_under_load_loses_nothing_acknowledged(tmp_path: Path) -> None:
    acknowledged: dict[str, dict[str, str]] = {}  # idempotency key -> ticket
    called: dict[str, str] = {}                    # ticket id -> state acknowledged by call-next
    lock = threading.Lock()
    stop = threading.Event()

    with serve_process(SITES / "province-centre.toml", tmp_path / "data") as server:
        staff = {n: login(server.url, f"quay{n}", "1234") for n in (1, 2, 7, 8)}
        with httpx.Client(base_url=server.url, timeout=5) as c:
            for n, headers in staff.items():
                assert c.post(f"/api/v1/sites/tinh/counters/{n}/open", headers=headers).status_code == 200

        def kiosk(worker: int) -> None:
            with httpx.Client(base_url=server.url, timeout=5) as c:
                i = 0
                while not stop.is_set():
                    key = f"w{worker}-{i}"
                    try:
                        r = c.post("/api/v1/sites/tinh/tickets", headers={**KIOSK, "Idempotency-Key": key},
                                   json={"procedure": PROCEDURES[(worker + i) % len(PROCEDURES)]})
                    except httpx.HTTPError:
                        return
                    if r.status_code == 201:
                        with lock:
                            acknowledged[key] = r.json()
                    i += 1

        def counter(n: int) -> None:
            with httpx.Client(base_url=server.url, timeout=5) as c:
                while not stop.is_set():
                    try:
                        r = c.post(f"/api/v1/sites/tinh/counters/{n}/call-next", headers=staff[n])
                        if r.status_code == 200:
                            with lock:
                                called[r.json()["id"]] = "called"
                            f = c.post(f"/api/v1/sites/tinh/counters/{n}/finish", headers=staff[n],
                                       json={"outcome": "done"})
                            if f.status_code == 200:
                                with lock:
                                    called[r.json()["id"]] = "finished"
                        elif r.status_code == 204:
                            time.sleep(0.01)
                    except httpx.HTTPError:
                        return

        threads = [threading.Thread(target=kiosk, args=(w,)) for w in range(4)]
        threads += [threading.Thread(target=counter, args=(n,)) for n in staff]
        for t in threads:
            t.start()
        deadline = time.monotonic() + 20
        while len(acknowledged) < 150 and time.monotonic() < deadline:
            time.sleep(0.05)
        server.kill()  # mid-load: requests are in flight
        stop.set()
        for t in threads:
            t.join(timeout=10)
        assert len(acknowledged) >= 50, "the load did not get going"

        server.start()  # same data dir
        with httpx.Client(base_url=server.url, timeout=10) as c:
            numbers: set[str] = set()
            for key, ticket in acknowledged.items():
                status = c.get(f"/api/v1/sites/tinh/tickets/{ticket['id']}")
                assert status.status_code == 200, f"acknowledged ticket {ticket['number']} lost"
                body = status.json()
                assert body["number"] == ticket["number"]
                numbers.add(body["number"])
                # An acknowledged call or finish is reflected in the replayed state.
                if called.get(ticket["id"]) == "finished":
                    assert body["step"] >= 1 or body["state"] == "done"
                elif called.get(ticket["id"]) == "called":
                    assert body["state"] != "waiting" or body["step"] >= 1
                # The same Idempotency-Key after the restart returns the same ticket.
                retry = c.post("/api/v1/sites/tinh/tickets", headers={**KIOSK, "Idempotency-Key": key},
                               json={"procedure": ticket["procedure"]})
                assert retry.status_code == 201 and retry.json()["id"] == ticket["id"]
            assert len(numbers) == len(acknowledged)
            # Numbering continues after the highest number of each agency, never reusing one.
            for procedure in PROCEDURES:
                fresh = c.post("/api/v1/sites/tinh/tickets", headers=KIOSK, json={"procedure": procedure}).json()
                same_agency = [int(t["number"]) for t in acknowledged.values() if t["agency"] == fresh["agency"]]
                assert int(fresh["number"]) > max(same_agency, default=0)
                assert fresh["number"] not in numbers


def test_broken_site_file_is_refused_with_file_field_and_reason(tmp_path: Path) -> None:
    broken = tmp_path / "broken.toml"
    text = (SITES / "commune-centre.toml").read_text(encoding="utf-8")
    broken.write_text(text.replace('serves = ["DD", "KT"]', 'serves = ["DD", "KHONG"]'), encoding="utf-8")
    result = subprocess.run(
        [sys.executable, "-m", "controller.cli", "serve", "--site", str(broken), "--data-dir", str(tmp_path / "d"),
         "--demo"],
        capture_output=True, text=True, timeout=60, env=env_without_proxies(),
    )
    assert result.returncode == 2
    assert str(broken) in result.stderr and "serves" in result.stderr and "KHONG" in result.stderr


def test_no_accounts_without_demo_refuses_to_start(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "controller.cli", "serve", "--site", str(SITES / "commune-centre.toml"),
         "--data-dir", str(tmp_path / "d")],
        capture_output=True, text=True, timeout=60, env=env_without_proxies(),
    )
    assert result.returncode == 2 and "no accounts" in result.stderr
