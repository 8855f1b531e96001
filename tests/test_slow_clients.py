"""Slow and silent clients (issue 14, item 6): real sockets against a real `motcua serve`.

Before, 200 half-sent requests and 200 silent sockets stayed open for good (slowloris):
only the open-file limit bounded them. Now a request head (a WebSocket handshake too)
and a body must arrive in time, and one client address holds a bounded number of
connections, WebSockets included. Every 127.0.0.0/8 address is this machine, so the
tests speak from several "clients".
"""

from __future__ import annotations

import asyncio
import re
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import websockets

from controller.connections import ConnectionLimits, ConnectionTable
from controller.settings import Settings, SettingsError
from tests.server import ServerProcess, serve_process

SITE_FILE = Path(__file__).resolve().parent.parent / "controller" / "sites" / "commune-centre.toml"
CAP = 8
HALF_SENT = (b"POST /api/v1/sites/xa/tickets HTTP/1.1\r\nHost: x\r\nX-Kiosk-Key: kiosk-demo\r\n",
             b"GET /api/v1/sites/xa/live HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n")


class FakeTransport:
    def __init__(self, host: str) -> None:
        self.host = host

    def get_extra_info(self, name: str) -> object:
        return (self.host, 40000) if name == "peername" else None


def test_the_defaults_bound_slow_clients_and_bad_limits_stop_start_up(tmp_path: Path) -> None:
    settings = Settings(site_file=SITE_FILE, data_dir=tmp_path)
    assert settings.connection_limits == ConnectionLimits(10.0, 30.0, 64, "127.0.0.1,::1")
    for bad in ({"head_timeout_s": 0}, {"body_timeout_s": -1}, {"max_connections_per_client": -1}):
        with pytest.raises(SettingsError):
            Settings(site_file=SITE_FILE, data_dir=tmp_path, **bad)  # type: ignore[arg-type]


def test_the_cap_counts_per_address_and_spares_trusted_proxies() -> None:
    table = ConnectionTable(ConnectionLimits(per_client=2, trusted_proxies="127.0.0.1,10.1.0.0/16"))
    client = [FakeTransport("192.0.2.7") for _ in range(3)]
    assert [table.admit(t) for t in client] == [True, True, False]
    assert table.admit(FakeTransport("192.0.2.8"))  # another address has its own count
    assert all(table.admit(FakeTransport(proxy)) for proxy in ["127.0.0.1"] * 5 + ["10.1.2.3"] * 5)
    table.release(client[0])
    table.release(client[0])  # a repeat gives nothing back twice
    assert table.open_from("192.0.2.7") == 1 and table.admit(client[2])
    assert table.refused_total == 1
    trusting_everyone = ConnectionTable(ConnectionLimits(per_client=1, trusted_proxies="*"))
    assert trusting_everyone.admit(FakeTransport("127.0.0.1")) and not trusting_everyone.admit(
        FakeTransport("127.0.0.1"))


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    with serve_process(SITE_FILE, tmp_path_factory.mktemp("slow"), "--head-timeout", "1", "--body-timeout", "2",
                       "--max-connections-per-client", str(CAP)) as proc:
        yield proc


def connect(server: ServerProcess, source: str) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", server.port), timeout=10, source_address=(source, 0))
    sock.settimeout(15)  # bounds the test if the server never closes; the server's own deadline is 1 s
    return sock


def closed_by_server(sock: socket.socket) -> bool:
    """Whether the server closes the connection (whatever it wrote first), within the socket's timeout."""
    try:
        while sock.recv(4096):
            pass
        return True
    except ConnectionResetError:
        return True
    except TimeoutError:
        return False
    finally:
        sock.close()


def metric(server: ServerProcess, name: str) -> float:
    text = httpx.get(f"{server.url}/metrics", timeout=10).text
    match = re.search(rf"^{re.escape(name)} (\S+)$", text, re.MULTILINE)
    assert match is not None, f"{name} missing"
    return float(match.group(1))


@pytest.mark.integration
def test_silent_sockets_and_half_sent_requests_and_handshakes_are_closed(server: ServerProcess) -> None:
    before = metric(server, 'motcua_connections_timed_out_total{phase="head"}')
    held: list[socket.socket] = []
    for n in range(25):  # 200 connections from 25 addresses, each within its cap
        for i in range(CAP):
            sock = connect(server, f"127.0.1.{n + 1}")
            if i % 2:
                sock.sendall(HALF_SENT[n % 2])  # a request head, or a WebSocket handshake, never finished
            held.append(sock)
    assert httpx.get(f"{server.url}/healthz", timeout=10).status_code == 200  # still serving meanwhile
    assert all(closed_by_server(sock) for sock in held)
    assert metric(server, 'motcua_connections_timed_out_total{phase="head"}') - before >= 200


@pytest.mark.integration
def test_a_body_sent_a_byte_at_a_time_is_cut_off(server: ServerProcess) -> None:
    sock = connect(server, "127.0.2.1")
    sock.sendall(b"POST /api/v1/auth/login HTTP/1.1\r\nHost: x\r\ncontent-type: application/json\r\n"
                 b"content-length: 200\r\n\r\n{")
    for _ in range(6):  # a byte every half second: the body is still unfinished at its 2 s deadline
        time.sleep(0.5)
        try:
            sock.sendall(b" ")
        except (BrokenPipeError, ConnectionResetError):
            break
    assert closed_by_server(sock)
    assert metric(server, 'motcua_connections_timed_out_total{phase="body"}') >= 1


@pytest.mark.integration
def test_one_address_holds_at_most_its_cap_websockets_included(server: ServerProcess) -> None:
    async def scenario() -> None:
        def from_address(address: str) -> socket.socket:
            sock = socket.socket()
            sock.bind((address, 0))
            sock.connect(("127.0.0.1", server.port))
            return sock

        live = f"ws://127.0.0.1:{server.port}/api/v1/sites/xa/live"
        streams = [await websockets.connect(live, sock=from_address("127.0.3.1")) for _ in range(CAP)]
        try:
            await asyncio.sleep(1.5)  # past the head deadline: an open WebSocket is not a slow request
            for stream in streams:  # each is still open and answered (the public stream sends no snapshots)
                await asyncio.wait_for(await stream.ping(), 10)
            transport = httpx.AsyncHTTPTransport(local_address="127.0.3.1")
            async with httpx.AsyncClient(base_url=server.url, timeout=10, transport=transport) as capped:
                refused = await capped.get("/healthz")
            assert refused.status_code == 429 and refused.headers["retry-after"] == "5"
            assert refused.json()["error"]["code"] == "too_many_connections"
            assert "thử lại sau" in refused.json()["error"]["message"]
            other = httpx.AsyncHTTPTransport(local_address="127.0.3.2")
            async with httpx.AsyncClient(base_url=server.url, timeout=10, transport=other) as neighbour:
                assert (await neighbour.get("/healthz")).status_code == 200
            await streams.pop().close()
            for _ in range(50):  # the server learns of the close a moment later
                transport = httpx.AsyncHTTPTransport(local_address="127.0.3.1")
                async with httpx.AsyncClient(base_url=server.url, timeout=10, transport=transport) as again:
                    if (await again.get("/healthz")).status_code == 200:
                        break
                await asyncio.sleep(0.1)
            else:
                raise AssertionError("a closed WebSocket did not give its place back")
        finally:
            for stream in streams:
                await stream.close()

    asyncio.run(scenario())
    assert metric(server, "motcua_connections_refused_total") >= 1
    assert "connections: 127.0.3.1 holds 8 connections" in (server.data_dir / "server.log").read_text()
