"""The province operations feed over a whole province served by one process."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import websockets

from tests.server import KIOSK, ServerProcess, login, serve_process

pytestmark = pytest.mark.integration

SITES = Path(__file__).resolve().parent.parent / "controller" / "sites"
OPS = {"X-Api-Key": "ops-demo-key"}
XA7_KIOSK = {"X-Kiosk-Key": "kiosk-demo@xa-007"}


@pytest.fixture(scope="module")
def province(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    with serve_process(SITES / "province.toml", tmp_path_factory.mktemp("feed")) as proc:
        yield proc


def test_feed_lists_every_site_riskiest_first(province: ServerProcess) -> None:
    with httpx.Client(base_url=province.url, timeout=10) as c:
        staff = login(province.url, "quay1@xa-007", "1234")  # the demo's staff of counter 1 at xa-007
        c.post("/api/v1/sites/xa-007/counters/1/open", headers=staff)
        for _ in range(3):
            issued = c.post("/api/v1/sites/xa-007/tickets", headers=XA7_KIOSK, json={"procedure": "cth-ban-sao"})
            assert issued.is_success
        c.post("/api/v1/sites/xa-007/counters/1/call-next", headers=staff)
        body = c.get("/api/v1/feed", headers=OPS).json()
        assert body["version"] == 1 and len(body["sites"]) == 100
        ids = [s["site"] for s in body["sites"]]
        assert "tinh" in ids and "xa-099" in ids
        xa7 = next(s for s in body["sites"] if s["site"] == "xa-007")
        assert xa7["issued_today"] == 3 and xa7["waiting"] == 2 and xa7["counters_open"] == 1
        # Riskiest first: nobody else is waiting, so the site with a queue leads.
        assert body["sites"][0]["site"] == "xa-007"
        assert c.get("/api/v1/feed", headers=login(province.url, "ops", "demo")).status_code == 200
        assert c.get("/api/v1/feed").status_code == 401
        assert c.get("/api/v1/feed", headers={"X-Api-Key": "wrong-key-123"}).status_code == 401
        assert c.get("/api/v1/feed", headers=KIOSK).status_code == 403
        assert c.get("/api/v1/feed", headers=staff).status_code == 403


def test_live_feed_needs_the_key_and_pushes_snapshots(province: ServerProcess) -> None:
    async def scenario() -> None:
        base = province.url.replace("http", "ws") + "/api/v1/feed/live"
        async with websockets.connect(f"{base}?key=ops-demo-key") as ws:
            first = json.loads(await asyncio.wait_for(ws.recv(), 5))
            second = json.loads(await asyncio.wait_for(ws.recv(), 5))
        assert first["version"] == 1 and len(first["sites"]) == 100
        assert second["generated_at"] >= first["generated_at"]
        # Refused before the handshake completes: the client sees the HTTP refusal.
        with pytest.raises(websockets.exceptions.InvalidStatus) as refused:
            async with websockets.connect(f"{base}?key=nope-nope-nope") as ws:
                await asyncio.wait_for(ws.recv(), 5)
        assert refused.value.response.status_code == 401
        assert json.loads(bytes(refused.value.response.body or b""))["error"]["code"] == "invalid_api_key"

    asyncio.run(scenario())


def test_demo_staff_and_kiosks_act_only_at_their_own_site(province: ServerProcess) -> None:
    """On the province file the centre's quay1 and kiosk-demo are the centre's, not every commune's."""
    with httpx.Client(base_url=province.url, timeout=10) as c:
        centre_staff = login(province.url, "quay2", "1234")
        refused = c.post("/api/v1/sites/xa-008/counters/2/open", headers=centre_staff)
        assert refused.status_code == 403 and refused.json()["error"]["code"] == "forbidden"
        manager = login(province.url, "quanly", "demo")
        assert c.get("/api/v1/sites/xa-008/counters/2", headers=manager).json()["status"] == "closed"
        foreign = c.post("/api/v1/sites/xa-008/tickets", headers=KIOSK, json={"procedure": "cth-ban-sao"})
        assert foreign.status_code == 403
        own = login(province.url, "quay2@xa-008", "1234")
        assert c.post("/api/v1/sites/xa-008/counters/2/open", headers=own).json()["staff"] == "quay2@xa-008"
        assert c.post("/api/v1/sites/tinh/counters/2/open", headers=own).status_code == 403
        issued = c.post("/api/v1/sites/xa-008/tickets", headers={"X-Kiosk-Key": "kiosk-demo@xa-008"},
                        json={"procedure": "cth-ban-sao"})
        assert issued.status_code == 201
        centre = c.post("/api/v1/sites/tinh/tickets", headers=KIOSK, json={"procedure": "tp-cong-chung"})
        assert centre.status_code == 201
