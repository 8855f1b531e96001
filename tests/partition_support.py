"""Helpers for the partitioning tests: a small province on three `motcua serve` processes sharing Redis."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
from redis import Redis as SyncRedis

from tests.server import ServerProcess, demo_kiosk, serve_process
from tests.services import RedisServer, redis_server

__all__ = ["Cluster", "cluster", "issue", "province_file"]

SITES_DIR = Path(__file__).resolve().parent.parent / "controller" / "sites"
LEASE_TTL_S = 2.0


def province_file(folder: Path, communes: int = 29) -> Path:
    """A province of one centre and `communes` commune centres (30 sites by default)."""
    path = folder / "province-small.toml"
    path.write_text(
        '[province]\nid = "test"\nname = "Tỉnh thử"\n'
        f'centre = "{SITES_DIR / "province-centre.toml"}"\n'
        f'commune_template = "{SITES_DIR / "commune-centre.toml"}"\ncommunes = {communes}\n',
        encoding="utf-8",
    )
    return path


@dataclass
class Cluster:
    """Redis and the controller processes that share it."""

    redis: RedisServer
    servers: list[ServerProcess]
    sites: list[str]

    def client(self) -> SyncRedis:
        return SyncRedis.from_url(self.redis.url)

    def holders(self) -> dict[str, str | None]:
        """site -> holder URL of its lease (None when free), straight from Redis."""
        with contextlib.closing(self.client()) as client:
            out: dict[str, str | None] = {}
            for site in self.sites:
                value = client.get(f"motcua:{{{site}}}:lease")
                text = value.decode() if isinstance(value, bytes) else value
                out[site] = None if text is None else str(text).split("|", 1)[1]
            return out

    def served(self, server: ServerProcess) -> int:
        return int(httpx.get(f"{server.url}/healthz", timeout=5).json()["sites"])

    def wait_balanced(self, alive: list[ServerProcess], timeout_s: float = 30.0) -> dict[str, str | None]:
        """Wait until every site is held by one of `alive` and each serves its fair share."""
        deadline = time.monotonic() + timeout_s
        share = -(-len(self.sites) // len(alive))
        urls = {s.url for s in alive}
        while True:
            holders = self.holders()
            counts = [self.served(s) for s in alive]
            if all(h in urls for h in holders.values()) and sum(counts) == len(self.sites) and max(counts) <= share:
                return holders
            if time.monotonic() > deadline:
                raise TimeoutError(f"not balanced: served {counts}, holders {holders}")
            time.sleep(0.2)


@contextlib.contextmanager
def cluster(tmp_path: Path, processes: int = 3, communes: int = 29) -> Iterator[Cluster]:
    """Redis plus `processes` controllers on a province of communes + 1 sites, shared accounts."""
    province = province_file(tmp_path, communes)
    with contextlib.ExitStack() as stack:
        server = stack.enter_context(redis_server(tmp_path))
        extra = ["--store", server.url, "--lease-ttl", str(LEASE_TTL_S), "--accounts-db", str(tmp_path / "accounts.db")]
        servers = [stack.enter_context(serve_process(province, tmp_path / f"p{i}", *extra)) for i in range(processes)]
        sites = [s["id"] for s in httpx.get(f"{servers[0].url}/api/v1/sites", timeout=5).json()]
        yield Cluster(server, servers, sites)


def issue(url: str, site: str, procedure: str, key: str, timeout_s: float = 20.0) -> httpx.Response:
    """Issue a ticket, retrying 503 (site moving) and lost replies with the same Idempotency-Key."""
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            reply = httpx.post(f"{url}/api/v1/sites/{site}/tickets", json={"procedure": procedure},
                               headers={**demo_kiosk(site), "Idempotency-Key": key}, timeout=10)
            if reply.status_code != 503:
                return reply
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline:
            raise TimeoutError(f"site {site} did not accept a ticket within {timeout_s}s")
        time.sleep(0.1)
