"""A follow-only process (`motcua serve --store redis://... --follow-only`): reads and forwards, never writes.

It is not counted when writers share the sites, takes no lease even when every
writer is gone, and still serves the live stream, monitor and feed of every
site and forwards commands to each site's writer.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
import uuid
from pathlib import Path

import httpx
import pytest
from websockets.asyncio.client import connect
from websockets.typing import Subprotocol

from controller.settings import Settings, SettingsError
from tests.partition_support import LEASE_TTL_S, Cluster, issue, province_file
from tests.server import demo_kiosk, login, serve_process
from tests.services import redis_server

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def test_follow_only_needs_the_shared_store(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match=r"--follow-only .* needs --store redis://"):
        Settings(site_file=tmp_path / "x.toml", data_dir=tmp_path, follow_only=True)


async def _issue_seen_live(follower: str, site: str, procedure: str, token: str) -> dict[str, object]:
    """Issue through the follower; its full stream (a manager's token) and its public stream both see it."""
    ws_url = follower.replace("http://", "ws://") + f"/api/v1/sites/{site}/live?snapshots=false"
    async with (connect(ws_url, proxy=None, subprotocols=[Subprotocol("motcua.live.v1"),
                                                          Subprotocol(f"motcua.bearer.{token}")]) as full,
                connect(ws_url, proxy=None) as public):
        async with httpx.AsyncClient(trust_env=False) as client:
            reply = await client.post(f"{follower}/api/v1/sites/{site}/tickets", json={"procedure": procedure},
                                      headers={**demo_kiosk(site), "Idempotency-Key": uuid.uuid4().hex})
        assert reply.status_code == 201, reply.text
        seen = {}
        for name, ws in (("full", full), ("public", public)):
            while True:
                event = json.loads(await asyncio.wait_for(ws.recv(), 10))
                if event["type"] == "ticket.issued" and event["ticket"] == reply.json()["id"]:
                    seen[name] = event
                    break
        assert seen["full"]["kiosk"] == "k1" and "kiosk" not in seen["public"]
        assert seen["public"]["number"] == seen["full"]["number"] == reply.json()["number"]
        return dict(reply.json())


def test_a_follower_reads_and_forwards_but_never_writes(tmp_path: Path) -> None:
    province = province_file(tmp_path, communes=2)
    with contextlib.ExitStack() as stack:
        redis = stack.enter_context(redis_server(tmp_path))
        shared = ["--store", redis.url, "--lease-ttl", str(LEASE_TTL_S), "--accounts-db", str(tmp_path / "accounts.db")]
        writer = stack.enter_context(serve_process(province, tmp_path / "writer", *shared))
        follower = stack.enter_context(serve_process(province, tmp_path / "follower", *shared, "--follow-only"))
        sites = [s["id"] for s in httpx.get(f"{follower.url}/api/v1/sites", timeout=5).json()]
        c = Cluster(redis, [writer], sites)
        # The lone writer takes every site: the follower does not count in the fair share.
        holders = c.wait_balanced([writer])
        assert set(holders.values()) == {writer.url}
        health = httpx.get(f"{follower.url}/healthz", timeout=5).json()
        assert health["role"] == "follower" and health["sites"] == 0
        assert httpx.get(f"{writer.url}/healthz", timeout=5).json()["role"] == "writer"

        site = sites[0]
        catalogue = httpx.get(f"{follower.url}/api/v1/sites/{site}/catalogue", timeout=10).json()
        procedure = next(p["id"] for p in catalogue["procedures"] if p["kiosk"])
        manager = login(follower.url, "quanly", "demo")  # a log-in through the follower works everywhere
        ticket = asyncio.run(_issue_seen_live(follower.url, site, procedure, manager["Authorization"].split()[1]))
        monitor = httpx.get(f"{follower.url}/api/v1/sites/{site}/monitor", headers=manager, timeout=10)
        assert monitor.status_code == 200, monitor.text
        assert monitor.json()["issued_today"] >= 1 and sum(a["waiting"] for a in monitor.json()["agencies"]) >= 1
        seen = httpx.get(f"{writer.url}/api/v1/sites/{site}/tickets/{ticket['id']}", timeout=10)
        assert seen.status_code == 200 and seen.json()["number"] == ticket["number"]

        # With the writer gone, the follower still takes nothing: the sites wait for a writer.
        writer.kill()
        time.sleep(LEASE_TTL_S * 2)
        assert set(c.holders().values()) == {None}
        assert httpx.get(f"{follower.url}/healthz", timeout=5).json()["sites"] == 0
        refused = httpx.post(f"{follower.url}/api/v1/sites/{site}/tickets", json={"procedure": procedure},
                             headers=demo_kiosk(site), timeout=10)
        assert refused.status_code == 503, refused.text

        # A new writer takes the sites back, and commands through the follower reach it.
        again = stack.enter_context(serve_process(province, tmp_path / "writer2", *shared))
        c.wait_balanced([again])
        assert issue(follower.url, site, procedure, uuid.uuid4().hex).status_code == 201
