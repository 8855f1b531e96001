"""Live fan-out: the hub encodes once and drops only the slow; the monitor bench's clients work."""

from __future__ import annotations

import asyncio
import contextlib
import json
from pathlib import Path

import httpx
import pytest
from websockets.asyncio.client import connect

from benchmarks.bench_monitor import ClientProcess, Driver, fanout_latencies, live_url, until_ready
from controller.api.follow import StreamFollower
from controller.runtime.hub import FANOUT_CHUNK, Hub, Subscription, encode
from controller.sitefile import load_sites
from controller.store.redis import RedisEventStore
from tests.server import serve_process
from tests.services import redis_server

SITE_FILE = Path(__file__).resolve().parent.parent / "controller" / "sites" / "province-centre.toml"


def _message(seq: int) -> dict[str, object]:
    return {"seq": seq, "site": "tinh", "type": "ticket.issued", "number": f"100{seq}", "agency_name": "Sở Tư pháp"}


def test_hub_encodes_each_event_once_for_every_subscriber() -> None:
    async def scenario() -> None:
        hub = Hub()
        async with hub.subscribe("tinh") as first, hub.subscribe("tinh") as second, hub.subscribe("xa") as other:
            hub.publish("tinh", _message(1))
            a, b = await first.get(), await second.get()
            assert a is b  # one frame, one encoding, shared
            assert a.seq == 1 and json.loads(a.text) == _message(1)
            assert "Sở Tư pháp" in a.text  # sent as UTF-8 text, as send_json did
            assert a.text == encode(_message(1))
            assert other.queue.empty()

    asyncio.run(scenario())


def test_a_slow_subscriber_is_dropped_and_the_others_get_everything() -> None:
    async def scenario() -> None:
        hub = Hub()
        async with hub.subscribe("tinh") as fast, hub.subscribe("tinh", limit=3) as slow:  # slow: stopped reading
            got: list[int] = []
            for seq in range(1, 11):
                hub.publish("tinh", _message(seq))
                got.append((await fast.get()).seq)
            assert got == list(range(1, 11))
            assert slow.overflowed  # the live endpoint closes it with 4008: reconnect with ?after=SEQ
            assert [slow.queue.get_nowait().seq for _ in range(slow.queue.qsize())] == [1, 2, 3]

    asyncio.run(scenario())


def test_a_large_fan_out_lets_other_work_run_and_keeps_every_subscriber_in_order() -> None:
    async def scenario() -> None:
        hub = Hub()
        async with contextlib.AsyncExitStack() as stack:
            subs: list[Subscription] = [
                await stack.enter_async_context(hub.subscribe("tinh")) for _ in range(FANOUT_CHUNK * 3 + 7)
            ]
            for seq in (1, 2, 3):
                hub.publish("tinh", _message(seq))
            reached_when_other_work_ran: list[int] = []
            asyncio.get_running_loop().call_soon(lambda: reached_when_other_work_ran.append(
                sum(1 for sub in subs if not sub.queue.empty())))
            for sub in subs:
                assert [(await sub.get()).seq for _ in range(3)] == [1, 2, 3]
            # a request arriving as the fan-out starts is served before every subscriber has been offered it
            assert 0 < reached_when_other_work_ran[0] < len(subs)

    asyncio.run(scenario())


@pytest.mark.integration
def test_bench_monitor_clients_receive_every_event_in_order(tmp_path: Path) -> None:
    """benchmarks/monitor_clients.py with 5 clients: every ticket reaches every client, once, in order."""
    async def scenario(url: str) -> None:
        async with httpx.AsyncClient(base_url=url, trust_env=False, timeout=10) as http:
            driver = await Driver.prepare(http, url)
            clients = await ClientProcess.start(live_url(url), 5, driver.token)  # as the monitor page: full
            try:
                await until_ready(clients, driver.issue, timeout_s=30)
                driver.sent.clear()
                numbers = [await driver.issue() for _ in range(10)]
                await asyncio.sleep(0.5)
                summary = await clients.stop()
            finally:
                clients.kill()
        issued = [e for e in summary["events"].values() if e["type"] == "ticket.issued"]
        assert [e["number"] for e in issued][-10:] == numbers
        assert all(len(e["at"]) == 5 for e in issued)
        assert all(s["dropped"] == 0 and s["out_of_order"] == 0 for s in summary["streams"])
        figures = fanout_latencies(summary, driver.sent)
        assert figures["events"] == 10 and figures["missing"] == 0
        assert all(0 < last < 10_000 for last in figures["last"])
        async with connect(live_url(url), proxy=None) as ws:  # offers permessage-deflate, as browsers do
            assert ws.protocol.extensions == []  # declined: see controller/serve.py

    with serve_process(SITE_FILE, tmp_path / "data") as server:
        asyncio.run(scenario(server.url))


@pytest.mark.integration
def test_a_process_reads_a_followed_site_once_for_all_its_live_clients(tmp_path: Path) -> None:
    """Partitioned mode: however many clients follow a site here, one reader of its stream feeds them."""
    site = load_sites(SITE_FILE)[0]

    def event(n: int) -> dict[str, object]:
        return {"type": "ticket.issued", "at": 1_795_300_000.0 + n, "number": str(1000 + n)}

    async def scenario(url: str) -> None:
        async with await RedisEventStore.connect(url) as store:
            follower = StreamFollower(url)
            try:
                await store.append(site.id, "2026-11-02", [event(1)])
                async with follower.tails.subscribe(site) as (a, head_a), follower.tails.subscribe(site) as (b, head_b):
                    assert head_a == head_b == 1
                    assert follower.tails.reading == {site.id}
                    await store.append(site.id, "2026-11-02", [event(2), event(3)])
                    for sub in (a, b):
                        frames = [await asyncio.wait_for(sub.get(), 5) for _ in range(2)]
                        assert [f.seq for f in frames] == [2, 3]
                        assert [json.loads(f.text)["number"] for f in frames] == ["1002", "1003"]
                assert follower.tails.reading == set()  # the last client left: nobody reads the site here
            finally:
                await follower.close()

    with redis_server(tmp_path) as redis:
        asyncio.run(scenario(redis.url))
