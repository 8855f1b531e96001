"""What only the networked backend has to get right: lost replies and a server that goes away."""

from __future__ import annotations

import asyncio
import contextlib
import subprocess
import time
from collections.abc import Coroutine
from pathlib import Path
from typing import Any

import pytest

from controller.core.commands import IssueTicket
from controller.runtime.hub import Hub
from controller.runtime.site_runtime import SiteRuntime
from controller.sitefile import load_sites
from controller.store.base import StoreError
from controller.store.redis import RedisEventStore
from tests.services import RedisServer, redis_server, wait_for_port

pytestmark = pytest.mark.integration

DAY = "2026-11-02"
SITES = Path(__file__).resolve().parent.parent / "controller" / "sites"
NOW = 1_795_300_000.0


def run(scenario: Coroutine[Any, Any, None]) -> None:
    asyncio.run(scenario)


def event(n: int) -> dict[str, Any]:
    return {"type": "ticket.issued", "at": 1_795_300_000.0 + n, "data": {"n": n}}


class ReplyLosingProxy:
    """A TCP relay to Redis that, when armed, lets the next script run but cuts the line before its reply."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.armed = False
        self.replies_lost = 0
        self._server: asyncio.Server | None = None
        self._pumps: set[asyncio.Task[None]] = set()

    async def start(self) -> int:
        self._server = await asyncio.start_server(self._relay, "127.0.0.1", 0)
        return int(self._server.sockets[0].getsockname()[1])

    async def close(self) -> None:
        for task in self._pumps:
            task.cancel()
        await asyncio.gather(*self._pumps, return_exceptions=True)
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    async def _relay(self, client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> None:
        try:
            server_r, server_w = await asyncio.open_connection("127.0.0.1", self.target_port)
        except BaseException:
            client_w.close()
            raise
        cut = asyncio.Event()

        async def upstream() -> None:
            while data := await client_r.read(65536):
                if self.armed and b"EVALSHA" in data.upper():
                    self.armed = False
                    cut.set()
                server_w.write(data)
                await server_w.drain()

        async def downstream() -> None:
            while data := await server_r.read(65536):
                if cut.is_set():
                    self.replies_lost += 1
                    break  # the script ran on the server; its reply dies with this connection
                client_w.write(data)
                await client_w.drain()

        pumps = [asyncio.create_task(upstream()), asyncio.create_task(downstream())]
        self._pumps.update(pumps)
        try:
            await asyncio.wait(pumps, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in pumps:
                task.cancel()
            await asyncio.gather(*pumps, return_exceptions=True)
            self._pumps.difference_update(pumps)
            # Close both ends before awaiting anything: a cancellation at shutdown must not leak a socket.
            client_w.close()
            server_w.close()
            for writer in (client_w, server_w):
                with contextlib.suppress(ConnectionError):
                    await writer.wait_closed()


def test_an_append_whose_reply_was_lost_is_retried_and_committed_once(redis: RedisServer) -> None:
    async def scenario() -> None:
        proxy = ReplyLosingProxy(redis.port)
        port = await proxy.start()
        store = await RedisEventStore.connect(f"redis://127.0.0.1:{port}/0")
        try:
            assert await store.append("xa", DAY, [event(1)]) == [1]  # the script is cached on the server now
            proxy.armed = True
            assert await store.append("xa", DAY, [event(2), event(3)]) == [2, 3]
            assert proxy.replies_lost == 1, "the reply of the second append was not cut"
            stored = await store.read_after("xa", 0)
            assert [(s.seq, s.body["data"]["n"]) for s in stored] == [(1, 1), (2, 2), (3, 3)]
            assert await store.append("xa", DAY, [event(4)]) == [4]
        finally:
            await store.close()
            await proxy.close()

    run(scenario())


def test_a_server_that_goes_away_gives_store_error_quickly_and_the_store_recovers(tmp_path: Path) -> None:
    with redis_server(tmp_path, appendonly=True) as server:

        async def scenario() -> None:
            store = await RedisEventStore.connect(server.url, retry_s=0.3)
            try:
                assert await store.append("xa", DAY, [event(1)]) == [1]
                server.process.kill()
                server.process.wait()
                for operation in (
                    store.append("xa", DAY, [event(2)]),
                    store.read_day("xa", DAY),
                    store.read_after("xa", 0),
                    store.latest_day("xa"),
                    store.days("xa"),
                ):
                    started = time.monotonic()
                    with pytest.raises(StoreError, match="unavailable"):
                        await operation
                    assert time.monotonic() - started < 2.0, "an outage must fail fast, not hang the request"
                server.process = subprocess.Popen(server.args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                await asyncio.to_thread(wait_for_port, server.port)
                # The same store reconnects by itself; the refused append left nothing behind.
                assert await store.append("xa", DAY, [event(3)]) == [2]
                assert [s.body["data"]["n"] for s in await store.read_day("xa", DAY)] == [1, 3]
            finally:
                await store.close()

        run(scenario())


def test_a_runtime_whose_append_may_have_committed_rebuilds_before_the_next_command(redis: RedisServer) -> None:
    """The reply is lost and not retried (retry_s=0): the command gets StoreError, yet it is in the log.

    The next command must see it, or the next ticket would reuse its number.
    """

    async def scenario() -> None:
        proxy = ReplyLosingProxy(redis.port)
        port = await proxy.start()
        store = await RedisEventStore.connect(f"redis://127.0.0.1:{port}/0", retry_s=0)
        site = load_sites(SITES / "commune-centre.toml")[0]
        procedure = site.kiosk_procedures()[0].id
        runtime = SiteRuntime(site, store, Hub(), clock=lambda: NOW, check_hours=False)
        try:
            await runtime.recover()
            first = await runtime.execute(IssueTicket(procedure=procedure, check_hours=False))
            proxy.armed = True
            with pytest.raises(StoreError):
                await runtime.execute(IssueTicket(procedure=procedure, check_hours=False, idempotency_key="k"))
            assert proxy.replies_lost == 1
            third = await runtime.execute(IssueTicket(procedure=procedure, check_hours=False))
            numbers = [
                str(e.data["number"]) for c in (first, third) for e in c.events if e.type == "ticket.issued"
            ]
            in_log = [
                str(s.body["number"]) for s in await store.read_after(site.id, 0)
                if s.body["type"] == "ticket.issued"
            ]
            assert len(in_log) == 3 and len(set(in_log)) == 3, f"a number was reused: {in_log}"
            assert set(numbers) < set(in_log)
            # The retried kiosk request finds the ticket that was committed without an answer.
            again = await runtime.execute(IssueTicket(procedure=procedure, check_hours=False, idempotency_key="k"))
            assert [e for e in again.events if e.type == "ticket.issued"] == []
            assert "k" in runtime.floor.state.idempotency
        finally:
            await store.close()
            await proxy.close()

    run(scenario())
