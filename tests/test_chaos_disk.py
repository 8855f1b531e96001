"""Chaos: the data dir's disk fills up under a running controller.

The data dir is a small tmpfs of its own, filled to the last byte by the test:
writes are refused with 503 store_unavailable and a clear message, reads go on,
nothing acknowledged is lost, and once space is back the controller writes again
by itself, without a restart. (A read-only remount is not possible while SQLite
holds its files open for writing, so a full disk is how the log is made unwritable.)
"""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.devices_support import COMMUNE
from tests.server import KIOSK, login, serve_process

pytestmark = [pytest.mark.integration, pytest.mark.slow]

TICKET = {"procedure": "ht-khai-sinh"}


@contextlib.contextmanager
def small_disk(path: Path, size: str = "16m") -> Iterator[Path]:
    """A tmpfs of its own at path; skip when this machine may not mount one."""
    path.mkdir(parents=True)
    mount = shutil.which("mount")
    if mount is None or os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root and mount(8)")
    done = subprocess.run([mount, "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)], capture_output=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode().strip()}")
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], check=False, capture_output=True)


def fill(directory: Path) -> Path:
    """Write a file until the disk is full; returns it (delete it to free the space)."""
    filler = directory / "filler"
    with filler.open("wb", buffering=0) as handle:
        for size in (1 << 20, 1 << 12, 1):
            block = b"\0" * size
            while True:
                try:
                    handle.write(block)
                except OSError as exc:
                    assert exc.errno == errno.ENOSPC
                    break
    return filler


def test_full_disk_refuses_writes_clearly_serves_reads_and_recovers_by_itself(tmp_path: Path) -> None:
    with small_disk(tmp_path / "data") as data, serve_process(COMMUNE, data) as server:
        staff = login(server.url, "quay1", "1234")
        manager = login(server.url, "quanly", "demo")
        with httpx.Client(base_url=f"{server.url}/api/v1/sites/xa", timeout=10) as api:
            assert api.post("/counters/1/open", headers=staff).status_code == 200
            before = [api.post("/tickets", headers={**KIOSK, "Idempotency-Key": f"a{i}"}, json=TICKET).json()
                      for i in range(3)]

            filler = fill(data)
            refused = api.post("/tickets", headers={**KIOSK, "Idempotency-Key": "full"}, json=TICKET)
            assert refused.status_code == 503, refused.text
            error = refused.json()["error"]
            assert error["code"] == "store_unavailable" and "full" in error["message"].lower()
            assert api.post("/counters/1/call-next", headers=staff).status_code == 503
            # reads go on: the floor is in memory, the log is only needed to change it
            assert api.get("/catalogue").status_code == 200
            status = api.get(f"/tickets/{before[0]['id']}")
            assert status.status_code == 200 and status.json()["state"] == "waiting"
            monitor = api.get("/monitor", headers=manager)
            assert monitor.status_code == 200
            assert monitor.json()["counters"][0]["current"] is None  # the refused call-next left no trace
            # what the operations alert MotcuaStoreFailing watches (docs/grafana/alerts.yml)
            metrics = httpx.get(f"{server.url}/metrics", timeout=10).text
            assert 'motcua_store_append_failures_total{site="xa"} 2.0' in metrics

            filler.unlink()
            # no restart: the next write goes through, and the refused request's retry is a new ticket
            retried = api.post("/tickets", headers={**KIOSK, "Idempotency-Key": "full"}, json=TICKET)
            assert retried.status_code == 201, retried.text
            called = api.post("/counters/1/call-next", headers=staff)
            assert called.status_code == 200 and called.json()["id"] == before[0]["id"]
            numbers = [t["number"] for t in before] + [retried.json()["number"]]
            assert len(set(numbers)) == 4  # no number handed out twice across the outage

        # and everything acknowledged is in the log: a restart replays it
        server.kill()
        server.start()
        with httpx.Client(base_url=f"{server.url}/api/v1/sites/xa", timeout=10) as api:
            assert api.get(f"/tickets/{before[0]['id']}").json()["state"] == "called"
            assert api.get(f"/tickets/{retried.json()['id']}").json()["state"] == "waiting"
