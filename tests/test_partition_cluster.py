"""Sites partitioned over three controller processes sharing one redis-server (issue 8).

Every site has exactly one writer; any process answers for any site (forwarding);
a killed process's sites move within the lease time without losing an acknowledged
ticket or reusing a number; a paused writer that wakes after losing its lease
cannot write.
"""

from __future__ import annotations

import asyncio
import json
import signal
import time
import uuid
from collections import Counter
from pathlib import Path

import httpx
import pytest
from websockets.asyncio.client import connect
from websockets.typing import Subprotocol

from controller.core.events import Event
from controller.store.redis import RedisEventStore
from tests.partition_support import LEASE_TTL_S, Cluster, cluster, issue
from tests.server import demo_kiosk, login

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.timing]


def _procedure(url: str, site: str) -> str:
    catalogue = httpx.get(f"{url}/api/v1/sites/{site}/catalogue", timeout=10).json()
    return str(next(p["id"] for p in catalogue["procedures"] if p["kiosk"]))


async def _stored_tickets(redis_url: str, sites: list[str]) -> dict[str, list[tuple[int, str, str]]]:
    """site -> [(seq, ticket id, number)] of every ticket.issued in the log; also checks seqs are contiguous."""
    out: dict[str, list[tuple[int, str, str]]] = {}
    async with await RedisEventStore.connect(redis_url) as store:
        for site in sites:
            events = await store.read_after(site, 0, 100_000)
            assert [e.seq for e in events] == list(range(1, len(events) + 1)), f"{site}: seqs not contiguous"
            issued = [(e.seq, Event.from_dict(e.body)) for e in events if e.body["type"] == "ticket.issued"]
            out[site] = [(seq, str(ev.data["ticket"]), str(ev.data["number"])) for seq, ev in issued]
    return out


def _owner_url(c: Cluster, site: str) -> str:
    holder = c.holders()[site]
    assert holder is not None
    return holder


def test_each_site_has_one_writer_and_any_process_answers(tmp_path: Path) -> None:
    with cluster(tmp_path) as c:
        holders = c.wait_balanced(c.servers)
        assert Counter(holders.values()) == {s.url: 10 for s in c.servers}
        # A command for each site through each process in turn, reads and staff calls through others.
        # a token from one process works on every process (the demo manager's covers every site)
        auth = login(c.servers[1].url, "quanly", "demo")
        for i, site in enumerate(c.sites):
            entry, reader, staff = (c.servers[(i + k) % 3].url for k in range(3))
            reply = issue(entry, site, _procedure(reader, site), uuid.uuid4().hex)
            assert reply.status_code == 201, reply.text
            ticket = reply.json()
            seen = httpx.get(f"{reader}/api/v1/sites/{site}/tickets/{ticket['id']}", timeout=10)
            assert seen.status_code == 200 and seen.json()["number"] == ticket["number"]
            opened = httpx.post(f"{staff}/api/v1/sites/{site}/counters/1/open", headers=auth, timeout=10)
            assert opened.status_code == 200, opened.text
        # the province feed of any process covers every site (each posted by its writer)
        deadline = time.monotonic() + 10
        while True:
            feed = httpx.get(f"{c.servers[2].url}/api/v1/feed", headers={"X-Api-Key": "ops-demo-key"}, timeout=10)
            issued = {s["site"]: s["issued_today"] for s in feed.json()["sites"]}
            if len(issued) == 30 and all(n == 1 for n in issued.values()):
                break
            assert time.monotonic() < deadline, issued
            time.sleep(0.3)
        # a live client on a process that does not write the site gets its events, resumable by seq
        site = c.sites[0]
        elsewhere = next(s.url for s in c.servers if s.url != holders[site])
        token = auth["Authorization"].split()[1]  # the full stream: every seq, tick events too
        asyncio.run(_live_from_elsewhere(elsewhere, site, _procedure(elsewhere, site), token))


async def _live_from_elsewhere(url: str, site: str, procedure: str, token: str) -> None:
    ws_url = url.replace("http://", "ws://") + f"/api/v1/sites/{site}/live?snapshots=false"
    offered = [Subprotocol("motcua.live.v1"), Subprotocol(f"motcua.bearer.{token}")]
    async with connect(ws_url + "&after=0", proxy=None, subprotocols=offered) as ws:
        backlog = [json.loads(await ws.recv()) for _ in range(3)]  # day.started, ticket.issued, counter.changed
        assert [m["seq"] for m in backlog] == [1, 2, 3]
        async with httpx.AsyncClient(trust_env=False) as client:
            reply = await client.post(f"{url}/api/v1/sites/{site}/tickets", json={"procedure": procedure},
                                      headers=demo_kiosk(site))
        assert reply.status_code == 201
        seqs = []
        while True:  # the tick may commit events of its own in between: every seq still arrives, in order
            event = json.loads(await asyncio.wait_for(ws.recv(), 5))
            seqs.append(event["seq"])
            if event["type"] == "ticket.issued" and event["ticket"] == reply.json()["id"]:
                break
        assert seqs == list(range(4, 4 + len(seqs)))


def test_killed_process_sites_move_within_the_lease_time(tmp_path: Path) -> None:
    with cluster(tmp_path) as c:
        holders = c.wait_balanced(c.servers)
        victim, survivors = c.servers[0], c.servers[1:]
        moved = [site for site, holder in holders.items() if holder == victim.url]
        procedures = {site: _procedure(survivors[0].url, site) for site in c.sites}
        acked: dict[str, list[tuple[str, str]]] = {site: [] for site in c.sites}
        for i, site in enumerate(c.sites):  # tickets before the kill, some through the victim
            reply = issue(c.servers[i % 3].url, site, procedures[site], uuid.uuid4().hex)
            acked[site].append((reply.json()["id"], reply.json()["number"]))
        victim.kill()
        killed_at = time.monotonic()
        # Keep issuing at the moved sites through the survivors; 503 site_moving is retried with the key.
        waiting = set(moved)
        took: dict[str, float] = {}
        while waiting:
            for site in sorted(waiting):
                reply = issue(survivors[len(took) % 2].url, site, procedures[site], uuid.uuid4().hex)
                assert reply.status_code == 201, reply.text
                acked[site].append((reply.json()["id"], reply.json()["number"]))
                if c.holders()[site] in {s.url for s in survivors}:
                    took[site] = time.monotonic() - killed_at
                    waiting.discard(site)
        # within the lease TTL plus one renewal interval and the replay, for every moved site
        assert max(took.values()) < LEASE_TTL_S + LEASE_TTL_S / 3 + 2.0, took
        c.wait_balanced(survivors)
        stored = asyncio.run(_stored_tickets(c.redis.url, c.sites))
        for site in c.sites:
            ids = [t for _, t, _ in stored[site]]
            numbers = [n for _, _, n in stored[site]]
            assert {t for t, _ in acked[site]} <= set(ids), f"{site}: an acknowledged ticket is lost"
            assert len(numbers) == len(set(numbers)), f"{site}: a ticket number was reused: {numbers}"
            assert len(ids) == len(set(ids))


def test_paused_writer_cannot_write_after_losing_its_lease(tmp_path: Path) -> None:
    with cluster(tmp_path) as c:
        holders = c.wait_balanced(c.servers)
        sleeper, others = c.servers[0], c.servers[1:]
        its_sites = [site for site, holder in holders.items() if holder == sleeper.url]
        procedures = {site: _procedure(others[0].url, site) for site in its_sites}
        sleeper.process.send_signal(signal.SIGSTOP)
        try:
            time.sleep(LEASE_TTL_S * 1.5)
            taken = c.wait_balanced(others)
            assert all(taken[site] != sleeper.url for site in its_sites)
            for site in its_sites:  # the new writers carry on numbering
                assert issue(others[0].url, site, procedures[site], uuid.uuid4().hex).status_code == 201
        finally:
            sleeper.process.send_signal(signal.SIGCONT)
        # The woken process still believed it wrote these sites; whatever it tries now is refused by
        # the fencing token (or forwarded to the new writer once it noticed): never a second writer.
        with httpx.Client(trust_env=False, timeout=15) as client:
            replies = [client.post(f"{sleeper.url}/api/v1/sites/{site}/tickets", json={"procedure": procedures[site]},
                                   headers=demo_kiosk(site)) for site in its_sites]
        assert {r.status_code for r in replies} <= {201, 503}, [r.text for r in replies]
        stored = asyncio.run(_stored_tickets(c.redis.url, c.sites))
        for site in its_sites:
            numbers = [n for _, _, n in stored[site]]
            assert len(numbers) == len(set(numbers)), f"{site}: a ticket number was issued twice: {numbers}"
            for reply in replies:
                if reply.status_code == 201 and reply.json()["site"] == site:
                    assert reply.json()["id"] in {t for _, t, _ in stored[site]}
        # it rejoins as an ordinary member and gets its share back from the others
        c.wait_balanced(c.servers)
        assert c.holders().values() and all(h is not None for h in c.holders().values())
