"""Redis with AOF (appendfsync always) SIGKILLed under load: nothing acknowledged is lost.

Once through the store alone, once through a real `motcua serve --store redis://...`.
"""

from __future__ import annotations

import asyncio
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from controller.store.base import StoreError
from controller.store.redis import RedisEventStore
from tests.server import KIOSK, serve_process
from tests.services import RedisServer, redis_server, wait_for_port

pytestmark = [pytest.mark.integration, pytest.mark.timing]

SITES = Path(__file__).resolve().parent.parent / "controller" / "sites"
PROCEDURES = ["gtvt-doi-gplx", "tp-ly-lich-tu-phap", "khdt-thanh-lap-dn", "ld-giay-phep-lao-dong"]
DAY = "2026-11-02"


@pytest.fixture
def aof_redis(tmp_path: Path) -> Iterator[RedisServer]:
    with redis_server(tmp_path, appendonly=True) as server:
        yield server


def stop_redis(server: RedisServer) -> None:
    """SIGKILL without the restart RedisServer.kill() does, to hold an outage open."""
    server.process.kill()
    server.process.wait()


def start_redis(server: RedisServer) -> None:
    server.process = subprocess.Popen(server.args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_for_port(server.port)


def test_sigkill_of_redis_under_appends_loses_no_acknowledged_event(aof_redis: RedisServer) -> None:
    async def scenario() -> None:
        store = await RedisEventStore.connect(aof_redis.url, retry_s=0.2)
        acknowledged: dict[int, tuple[int, int]] = {}
        refused = 0
        stop = asyncio.Event()

        async def writer(w: int) -> None:
            nonlocal refused
            i = 0
            while not stop.is_set():
                body = {"type": "ticket.issued", "at": float(i), "data": {"w": w, "i": i}}
                try:
                    (seq,) = await store.append("xa", DAY, [body])
                    acknowledged[seq] = (w, i)
                except StoreError:
                    refused += 1
                    await asyncio.sleep(0.01)
                i += 1

        try:
            writers = [asyncio.create_task(writer(w)) for w in range(8)]
            while len(acknowledged) < 300:
                await asyncio.sleep(0.01)
            await asyncio.to_thread(aof_redis.kill)  # SIGKILL mid-append, then start on the same AOF
            before_restart = len(acknowledged)
            while len(acknowledged) < before_restart + 300:
                await asyncio.sleep(0.01)
            stop.set()
            await asyncio.gather(*writers)

            stored = await store.read_day("xa", DAY)
            by_seq = {s.seq: (s.body["data"]["w"], s.body["data"]["i"]) for s in stored}
            assert [s.seq for s in stored] == list(range(1, len(stored) + 1)), "seqs stay consecutive"
            lost = {seq: ev for seq, ev in acknowledged.items() if by_seq.get(seq) != ev}
            assert lost == {}, f"{len(lost)} acknowledged appends lost or moved"
            assert len(set(by_seq.values())) == len(by_seq), "a retried append was written twice"
        finally:
            await store.close()

    asyncio.run(scenario())


def _issue(client: httpx.Client, key: str, procedure: str) -> httpx.Response:
    return client.post("/api/v1/sites/tinh/tickets", headers={**KIOSK, "Idempotency-Key": key},
                       json={"procedure": procedure})


def test_controller_on_redis_survives_redis_sigkill_and_an_outage(tmp_path: Path, aof_redis: RedisServer) -> None:
    acknowledged: dict[str, dict[str, Any]] = {}
    statuses: list[int] = []
    lock = threading.Lock()
    stop = threading.Event()

    with serve_process(SITES / "province-centre.toml", tmp_path / "data", "--store", aof_redis.url) as server:

        def kiosk(worker: int) -> None:
            with httpx.Client(base_url=server.url, timeout=10) as c:
                i = 0
                while not stop.is_set():
                    key = f"w{worker}-{i}"
                    r = _issue(c, key, PROCEDURES[(worker + i) % len(PROCEDURES)])
                    with lock:
                        statuses.append(r.status_code)
                        if r.status_code == 201:
                            acknowledged[key] = r.json()
                    i += 1 if r.status_code == 201 else 0  # a refused request is retried with its key

        threads = [threading.Thread(target=kiosk, args=(w,)) for w in range(4)]
        for t in threads:
            t.start()
        try:
            deadline = time.monotonic() + 20
            while len(acknowledged) < 60 and time.monotonic() < deadline:
                time.sleep(0.02)
            aof_redis.kill()  # SIGKILL under load, back on the same AOF at once
            mark = len(acknowledged)
            while len(acknowledged) < mark + 60 and time.monotonic() < deadline:
                time.sleep(0.02)
        finally:
            stop.set()
            for t in threads:
                t.join(timeout=20)
        assert len(acknowledged) >= mark + 60, "issuing did not resume after the restart"
        assert set(statuses) <= {201, 503}, f"unexpected statuses {sorted(set(statuses))}"

        with httpx.Client(base_url=server.url, timeout=10) as c:
            # An outage held open: every write is a clear 503, never a 500 and never a hang.
            stop_redis(aof_redis)
            try:
                for n in range(3):
                    started = time.monotonic()
                    r = _issue(c, f"outage-{n}", PROCEDURES[n])
                    assert r.status_code == 503 and r.json()["error"]["code"] == "store_unavailable", r.text
                    assert time.monotonic() - started < 5
            finally:
                start_redis(aof_redis)
            # The same keys succeed once the log is back.
            for n in range(3):
                r = _issue(c, f"outage-{n}", PROCEDURES[n])
                assert r.status_code == 201, r.text
                acknowledged[f"outage-{n}"] = r.json()

        # Restart the controller too: what it knows now comes from Redis alone.
        server.stop()
        server.start()
        with httpx.Client(base_url=server.url, timeout=10) as c:
            numbers = set()
            for key, ticket in acknowledged.items():
                r = c.get(f"/api/v1/sites/tinh/tickets/{ticket['id']}")
                assert r.status_code == 200, f"acknowledged ticket {ticket['number']} ({key}) lost"
                assert r.json()["number"] == ticket["number"]
                numbers.add(ticket["number"])
            assert len(numbers) == len(acknowledged), "a ticket number was handed out twice"
            for procedure in PROCEDURES:
                fresh = _issue(c, f"after-{procedure}", procedure).json()
                same_agency = [int(t["number"]) for t in acknowledged.values() if t["agency"] == fresh["agency"]]
                assert int(fresh["number"]) > max(same_agency, default=0), "numbering continues"
