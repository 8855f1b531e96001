"""The authenticated live stream ends with its credential (the app in this process, rechecked every 0.2 s)."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest
import websockets

from controller.accounts import TOKEN_TTL_S
from controller.settings import Settings
from tests.app_support import running_app
from tests.devices_support import COMMUNE
from tests.peers.http_client import CLOSE_CREDENTIAL_GONE, LiveStream
from tests.server import KIOSK
from tests.services import free_port

pytestmark = pytest.mark.integration


async def _closed_with(stream: LiveStream, timeout_s: float = 5.0) -> int:
    """Read until the server closes the stream; the close code."""
    with pytest.raises(websockets.ConnectionClosed) as closed:
        async with asyncio.timeout(timeout_s):
            while True:
                await stream.message(timeout_s)
    assert closed.value.rcvd is not None, "closed without a close frame"
    return closed.value.rcvd.code


def test_a_logout_ends_a_full_stream_and_a_public_one_goes_on(tmp_path: Path) -> None:
    settings = Settings(site_file=COMMUNE, data_dir=tmp_path, port=free_port(), demo=True, live_recheck_s=0.2)

    async def scenario() -> None:
        async with running_app(settings) as (client, _app):
            ws = f"ws://{settings.host}:{settings.port}"
            login = await client.post("/api/v1/auth/login", json={"user": "quay1", "secret": "1234"})
            token = login.json()["token"]
            async with (LiveStream.open(ws, "xa", token=token) as full, LiveStream.open(ws, "xa") as public):
                assert (await client.post("/api/v1/sites/xa/tickets", headers=KIOSK,
                                          json={"procedure": "ht-khai-sinh"})).status_code == 201
                issued = await full.prompted()
                assert issued["type"] == "ticket.issued" and issued["kiosk"] == "k1"
                await asyncio.sleep(0.5)  # a live credential is checked and kept
                logout = await client.post("/api/v1/auth/logout", headers={"Authorization": f"Bearer {token}"})
                assert logout.status_code == 204
                assert await _closed_with(full) == CLOSE_CREDENTIAL_GONE
                await client.post("/api/v1/sites/xa/tickets", headers=KIOSK, json={"procedure": "ht-khai-sinh"})
                seen = await public.events_until(lambda e: e["type"] == "ticket.issued" and e["seq"] > issued["seq"])
                assert "kiosk" not in seen[-1]

    asyncio.run(scenario())


def test_a_token_that_expires_while_streaming_ends_the_stream(tmp_path: Path) -> None:
    settings = Settings(site_file=COMMUNE, data_dir=tmp_path, port=free_port(), demo=True, live_recheck_s=0.2)

    async def scenario() -> None:
        async with running_app(settings) as (_client, app):
            issued = app.state.accounts.login("quanly", "demo", now=time.time() - TOKEN_TTL_S + 1.0)
            assert issued is not None  # a token issued long enough ago to expire a second from now
            async with LiveStream.open(f"ws://{settings.host}:{settings.port}", "xa", token=issued[0]) as full:
                assert await _closed_with(full, timeout_s=10) == CLOSE_CREDENTIAL_GONE

    asyncio.run(scenario())
