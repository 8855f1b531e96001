"""Connection limits of `motcua serve`: slow and silent clients are closed, and one address holds few sockets.

uvicorn closes a keep-alive connection idle after a response (timeout_keep_alive, 5 s),
bounds a request head's size (h11, 16 KiB) and pings WebSockets (a client that stops
answering is closed). It does not time a request that is being sent: a socket that
never sends a byte, or sends a request head (a WebSocket handshake too) or a body a few
bytes at a time, stays open for good (slowloris), and nothing bounds the sockets of one
client. This table and the protocol classes of controller/protocols.py, given to uvicorn in
place of its own, add:

- a head deadline: from the moment a connection is ready for a request (opened, or
  its last response sent) its complete request head must arrive within
  ConnectionLimits.head_timeout_s, or the connection is closed;
- a body deadline: once the head is in, the body must be complete within
  body_timeout_s;
- a cap of per_client open connections (HTTP and WebSocket alike) per client address.
  A connection over it is answered 429 with Retry-After and the error JSON, then
  closed. Proxies trusted for X-Forwarded-For (uvicorn's forwarded_allow_ips,
  127.0.0.1 by default) carry many clients' connections and are not capped: cap
  clients on the proxy.
"""

from __future__ import annotations

import asyncio
import ipaddress
import json
import logging
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

__all__ = ["REFUSED_LINGER_S", "ConnectionLimits", "ConnectionTable", "refusal"]

log = logging.getLogger("motcua")

REFUSED_LINGER_S = 1.0  # a refused client has this long to read its 429 before the socket closes
REFUSAL_LOG_EVERY_S = 60.0


@dataclass(frozen=True)
class ConnectionLimits:
    """How long a request may take to arrive, and how many connections one address may hold."""

    head_timeout_s: float = 10.0
    body_timeout_s: float = 30.0
    per_client: int = 64  # 0: no cap
    trusted_proxies: str = "127.0.0.1,::1"  # uvicorn's forwarded_allow_ips: not capped ("*": none exempt)

    def __post_init__(self) -> None:
        if not self.head_timeout_s > 0 or not self.body_timeout_s > 0:
            raise ValueError(f"--head-timeout and --body-timeout must be > 0 seconds, got {self.head_timeout_s} "
                             f"and {self.body_timeout_s}")
        if self.per_client < 0:
            raise ValueError(f"--max-connections-per-client must be >= 0 (0: no cap), got {self.per_client}")


def _networks(hosts: str) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    if hosts.strip() == "*":
        return []  # every proxy header trusted: nothing tells a proxy from a client, so everyone is capped
    networks = []
    for host in (h.strip() for h in hosts.split(",")):
        try:
            networks.append(ipaddress.ip_network(host, strict=False))
        except ValueError:
            continue  # a name, not an address: uvicorn matches it literally; a peer address never is one
    return networks


def refusal(retry_after_s: int) -> bytes:
    """The raw 429 answer to a connection over its address's cap."""
    body = json.dumps({"error": {
        "code": "too_many_connections",
        "message": f"Quá nhiều kết nối từ địa chỉ này; vui lòng thử lại sau {retry_after_s} giây "
                   f"/ too many connections from this address, try again in {retry_after_s} s",
    }}, ensure_ascii=False).encode()
    head = (f"HTTP/1.1 429 Too Many Requests\r\ncontent-type: application/json\r\nretry-after: {retry_after_s}\r\n"
            f"content-length: {len(body)}\r\nconnection: close\r\n\r\n")
    return head.encode("ascii") + body


class ConnectionTable(Collector):
    """Open connections per client address, and what the limits closed or refused (as /metrics series).

        motcua_connections_open                        HTTP and WebSocket connections open now
        motcua_connections_refused_total               refused over the per-address cap
        motcua_connections_timed_out_total{phase}      closed: head or body not complete in time
    """

    def __init__(self, limits: ConnectionLimits | None = None) -> None:
        self.limits = limits or ConnectionLimits()
        self._exempt = _networks(self.limits.trusted_proxies)
        self._open: Counter[str] = Counter()
        self._by_transport: dict[asyncio.BaseTransport, str] = {}
        self._logged: dict[str, float] = {}
        self.refused_total = 0
        self.timed_out_total: Counter[str] = Counter()

    def _capped(self, host: str) -> bool:
        if self.limits.per_client == 0:
            return False
        try:
            address = ipaddress.ip_address(host)
        except ValueError:
            return False  # a unix socket: only this machine connects there
        return not any(address in network for network in self._exempt)

    def admit(self, transport: asyncio.BaseTransport) -> bool:
        """Count a new connection; False (nothing counted) when its address holds its cap already."""
        peer = transport.get_extra_info("peername")
        host = str(peer[0]) if isinstance(peer, tuple) and peer else "local"
        if self._capped(host) and self._open[host] >= self.limits.per_client:
            self.refused_total += 1
            now = time.monotonic()
            if now - self._logged.get(host, -REFUSAL_LOG_EVERY_S) >= REFUSAL_LOG_EVERY_S:
                self._logged = {h: t for h, t in self._logged.items() if now - t < REFUSAL_LOG_EVERY_S}
                self._logged[host] = now
                log.warning("connections: %s holds %d connections, its cap: refusing more (logged once a minute)",
                            host, self._open[host])
            return False
        self._open[host] += 1
        self._by_transport[transport] = host
        return True

    def release(self, transport: asyncio.BaseTransport) -> None:
        """The connection is gone (once per admitted transport; a repeat does nothing)."""
        host = self._by_transport.pop(transport, None)
        if host is not None:
            self._open[host] -= 1
            if self._open[host] <= 0:
                del self._open[host]

    def open_from(self, host: str) -> int:
        """Connections open now from one address."""
        return self._open.get(host, 0)

    def collect(self) -> Iterator[Metric]:
        open_now = GaugeMetricFamily("motcua_connections_open", "HTTP and WebSocket connections open now")
        open_now.add_metric([], len(self._by_transport))
        refused = CounterMetricFamily("motcua_connections_refused",
                                      "Connections refused because their address held its cap")
        refused.add_metric([], self.refused_total)
        timed_out = CounterMetricFamily("motcua_connections_timed_out", "Connections closed because a request "
                                        "head or body did not arrive in time", labels=["phase"])
        for phase in ("head", "body"):
            timed_out.add_metric([phase], self.timed_out_total[phase])
        yield from (open_now, refused, timed_out)
