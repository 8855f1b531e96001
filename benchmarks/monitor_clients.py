"""Many live monitor clients in one process, for bench_monitor.

    MOTCUA_LIVE_TOKEN=TOKEN python -m benchmarks.monitor_clients \
        --url ws://HOST:PORT/api/v1/sites/SITE/live?snapshots=false --clients 1000

Opens the clients (as the monitor page does: a WebSocket each, offering
permessage-deflate as browsers do, and with a manager's token from
MOTCUA_LIVE_TOKEN the subprotocols the page offers for the full stream;
without it, the public stream), prints `{"connected": N}`, then
`{"ready": true}` once every client has received an event (so every one is
subscribed), and records each message's arrival on the wall clock
(time.time(), shared with the driving process). On the line `stop` from stdin
it closes the clients and prints one JSON line: per event (seq) its type,
ticket number and every client's arrival time, and per client whether its
stream had every seq once and in order.

The clients share the CPU with the server they measure, so each is an asyncio
Protocol around websockets' sans-I/O ClientProtocol: a message is stamped in
data_received, when its bytes are read from the socket, with no task switch
per client and no parsing until `stop`. (websockets' asyncio client costs
about 65 µs of CPU per message here; a thousand of those would be counted in
the last client's latency.)
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import resource
import sys
import time
from typing import Any
from urllib.parse import urlsplit

from websockets.client import ClientProtocol
from websockets.extensions.permessage_deflate import enable_client_permessage_deflate
from websockets.frames import Frame, Opcode
from websockets.http11 import Response
from websockets.protocol import State
from websockets.typing import Subprotocol
from websockets.uri import parse_uri

from sim.load_stats import LiveCheck

__all__ = ["LiveClient", "main", "raise_file_limit", "run_clients", "summarise"]

LIVE_SUBPROTOCOL = "motcua.live.v1"  # CONTRACT.md section 3: offered with the bearer one, answered
BEARER_PREFIX = "motcua.bearer."
CONNECT_AT_ONCE = 50  # handshakes in flight at once (the server's accept backlog is 2048)
OPEN_TIMEOUT_S = 60.0
CLOSE_TIMEOUT_S = 10.0
READY_POLL_S = 0.02

Arrivals = list[tuple[float, bytes]]


def raise_file_limit() -> int:
    """Lift the soft RLIMIT_NOFILE to the hard limit (a socket per client); the new soft limit."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


class LiveClient(asyncio.Protocol):
    """One live-stream client: the handshake, then every text message stamped on arrival."""

    def __init__(self, url: str, arrivals: Arrivals, token: str | None = None) -> None:
        loop = asyncio.get_running_loop()
        offered = None if token is None else [Subprotocol(LIVE_SUBPROTOCOL), Subprotocol(BEARER_PREFIX + token)]
        self.ws = ClientProtocol(parse_uri(url), extensions=enable_client_permessage_deflate(None),
                                 subprotocols=offered)
        self.arrivals = arrivals
        self.opened: asyncio.Future[None] = loop.create_future()
        self.closed: asyncio.Future[None] = loop.create_future()
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        self.ws.send_request(self.ws.connect())
        self._flush()

    def data_received(self, data: bytes) -> None:
        at = time.time()
        self.ws.receive_data(data)
        for event in self.ws.events_received():
            if isinstance(event, Response) and not self.opened.done():
                if self.ws.state is State.OPEN:
                    self.opened.set_result(None)
                else:
                    self.opened.set_exception(ConnectionError(f"handshake refused: {self.ws.handshake_exc}"))
            elif isinstance(event, Frame) and event.opcode is Opcode.TEXT:
                self.arrivals.append((at, bytes(event.data)))  # the server sends each message in one frame
        self._flush()

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.opened.done():
            self.opened.set_exception(exc or ConnectionError("closed before the handshake"))
        if not self.closed.done():
            self.closed.set_result(None)

    def close(self) -> None:
        """Start the closing handshake (the server closes the TCP connection after it)."""
        if self.ws.state is State.OPEN:
            self.ws.send_close()
            self._flush()

    def _flush(self) -> None:
        assert self.transport is not None
        for chunk in self.ws.data_to_send():  # a pong, a close frame, or b"" to half-close
            if chunk:
                self.transport.write(chunk)
            elif self.transport.can_write_eof():
                self.transport.write_eof()


def summarise(per_client: list[Arrivals]) -> dict[str, Any]:
    """Per event its arrival on every client; per client whether its stream was complete and in order."""
    events: dict[int, dict[str, Any]] = {}
    streams: list[dict[str, int]] = []
    for arrivals in per_client:
        check = LiveCheck()
        first: int | None = None
        for at, raw in arrivals:
            message = json.loads(raw)
            if message.get("type") == "monitor.snapshot" or "seq" not in message:
                continue
            seq = int(message["seq"])
            first = seq if first is None else first
            check.see(seq, str(message["type"]))
            event = events.setdefault(seq, {"type": message["type"], "number": message.get("number"), "at": []})
            event["at"].append(at)
        streams.append({"first": first or 0, "last": check.last_seq or 0, "received": check.received,
                        "dropped": check.dropped, "out_of_order": check.out_of_order})
    return {"clients": len(per_client), "events": {str(seq): e for seq, e in sorted(events.items())},
            "streams": streams}


async def _stdin_line() -> str:
    return await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)


async def run_clients(url: str, clients: int, token: str | None = None) -> dict[str, Any]:
    """Connect (with a bearer token: the full stream), report connected and ready, record until `stop`, then
    summarise."""
    loop = asyncio.get_running_loop()
    where = urlsplit(url)
    per_client: list[Arrivals] = [[] for _ in range(clients)]
    gate = asyncio.Semaphore(CONNECT_AT_ONCE)

    async def open_one(arrivals: Arrivals) -> LiveClient:
        async with gate:
            _, client = await loop.create_connection(lambda: LiveClient(url, arrivals, token), where.hostname,
                                                     where.port)
            await asyncio.wait_for(client.opened, OPEN_TIMEOUT_S)
            return client

    opened = list(await asyncio.gather(*(open_one(arrivals) for arrivals in per_client)))
    # The arrivals are a few hundred thousand tuples by the end: the collector's full passes over them
    # stalled this process for up to 300 ms, counted as the server's latency. They hold no cycles.
    gc.disable()
    print(json.dumps({"connected": len(opened)}), flush=True)
    try:
        while not all(per_client):
            await asyncio.sleep(READY_POLL_S)
        print(json.dumps({"ready": True}), flush=True)
        while (await _stdin_line()).strip() not in ("stop", ""):
            pass
    finally:
        for client in opened:
            client.close()
        await asyncio.wait([client.closed for client in opened], timeout=CLOSE_TIMEOUT_S)
        for client in opened:
            if client.transport is not None:
                client.transport.close()
    return summarise(per_client)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", required=True, help="the live stream, ws://HOST:PORT/api/v1/sites/SITE/live?...")
    parser.add_argument("--clients", type=int, default=1000)
    args = parser.parse_args(argv)
    raise_file_limit()
    # from the environment, not the command line: ps shows every user a process's arguments
    token = os.environ.get("MOTCUA_LIVE_TOKEN") or None
    print(json.dumps(asyncio.run(run_clients(args.url, args.clients, token))), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
