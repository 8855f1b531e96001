"""Devices and tokens with sites partitioned over two `motcua serve` processes (real redis-server and mosquitto).

- A keypad press on MQTT is carried out once, by the site's writer, whichever process
  the broker hands it to; after the writer is SIGKILLed, a press made while the site
  changes hands and one made after both go through the new writer, which republishes
  the retained display state.
- A login token issued by one process is accepted by the other, and a logout on one
  takes effect on both (tokens live in Redis; each process has its own accounts file).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from redis import Redis as SyncRedis

from controller.demo import DemoNames
from devices.payloads import parse_display_state
from devices.topics import SiteTopics
from tests.bridge_support import MqttRecorder
from tests.partition_support import LEASE_TTL_S, Cluster, province_file
from tests.server import ServerProcess, demo_kiosk, login, serve_process
from tests.services import Mosquitto, RedisServer

pytestmark = pytest.mark.integration

COUNTER = 1
PROCEDURE = "ht-khai-sinh"  # served at counter 1 of a commune centre


@contextlib.contextmanager
def two_processes(tmp_path: Path, redis: RedisServer, *extra: str) -> Iterator[Cluster]:
    """Two controllers on one Redis, a province of 4 sites, each process with its own accounts file."""
    province = province_file(tmp_path, communes=3)
    args = ["--store", redis.url, "--lease-ttl", str(LEASE_TTL_S), *extra]
    with contextlib.ExitStack() as stack:
        servers = [stack.enter_context(serve_process(province, tmp_path / f"p{i}", *args)) for i in range(2)]
        sites = [s["id"] for s in httpx.get(f"{servers[0].url}/api/v1/sites", timeout=5).json()]
        cluster = Cluster(redis, servers, sites)
        cluster.wait_balanced(servers)
        yield cluster


def owner_of(cluster: Cluster, site: str) -> ServerProcess:
    holder = cluster.holders()[site]
    return next(s for s in cluster.servers if s.url == holder)


def called(cluster: Cluster, site: str) -> list[str]:
    """Ticket ids of every ticket.called in the site's log, straight from Redis."""
    with contextlib.closing(SyncRedis.from_url(cluster.redis.url)) as client:
        entries = client.xrange(f"motcua:{{{site}}}:log")
    bodies = [json.loads(fields[b"b"]) for _, fields in entries]
    return [str(b["ticket"]) for b in bodies if b["type"] == "ticket.called"]


def shows(number: str) -> object:
    return lambda topic, payload: bool(payload) and parse_display_state(payload).number == number


def steady(number: str) -> object:
    """The display shows number without blinking: its ticket was started."""
    def match(topic: str, payload: bytes) -> bool:
        if not payload:
            return False
        state = parse_display_state(payload)
        return state.number == number and not state.blink
    return match


def test_a_press_is_carried_out_once_by_the_writer_and_survives_its_sigkill(
    tmp_path: Path, redis: RedisServer, mosquitto: Mosquitto
) -> None:
    with two_processes(tmp_path, redis, "--mqtt", mosquitto.url, "--devices", "real") as cluster:
        site = next(s for s in cluster.sites if s != "tinh")
        owner = owner_of(cluster, site)
        other = next(s for s in cluster.servers if s is not owner)
        topics = SiteTopics(site)
        # through the process that does not write the site: forwarded, and its token checked there
        manager = login(other.url, "quanly", "demo")
        httpx.post(f"{other.url}/api/v1/sites/{site}/counters/{COUNTER}/open", headers=manager,
                   timeout=10).raise_for_status()
        tickets = []
        for _ in range(3):
            reply = httpx.post(f"{other.url}/api/v1/sites/{site}/tickets", headers=demo_kiosk(site),
                               json={"procedure": PROCEDURE}, timeout=10)
            reply.raise_for_status()
            tickets.append((str(reply.json()["id"]), str(reply.json()["number"])))

        async def scenario() -> None:
            with MqttRecorder(mosquitto.port, [topics.display_state(COUNTER)]) as display:
                def press(seq: int, key: str = "next") -> None:
                    payload = json.dumps({"key": key, "seq": seq}).encode()
                    display.publish(topics.keypad_press(COUNTER), payload)

                press(1)
                await display.wait_for(shows(tickets[0][1]))
                await asyncio.sleep(0.5)  # a second execution would have shown by now
                assert called(cluster, site) == [tickets[0][0]]
                # its citizen came: the next "next" may finish it however soon (CONTRACT.md)
                press(10, "start")
                await display.wait_for(steady(tickets[0][1]))

                # the retained state is dropped, so only a republish by the new writer can bring it back
                display.publish(topics.display_state(COUNTER), b"", retain=True)
                owner.kill()
                began = time.monotonic()
                press(2)  # while the site has no writer: waits in Redis for the next one
                await display.wait_for(shows(tickets[1][1]), timeout_s=LEASE_TTL_S * 4 + 10)
                took = time.monotonic() - began
                assert owner_of(cluster, site) is other
                press(11, "start")
                await display.wait_for(steady(tickets[1][1]))
                press(3)
                await display.wait_for(shows(tickets[2][1]))
            with MqttRecorder(mosquitto.port, [topics.display_state(COUNTER)]) as late:
                _, payload = await late.wait_for(lambda t, p: bool(p))
                assert parse_display_state(payload).number == tickets[2][1]  # retained, republished
            assert took < LEASE_TTL_S * 4 + 10
            assert called(cluster, site) == [t[0] for t in tickets]  # each ticket called once, in order

        asyncio.run(scenario())


def test_a_token_from_one_process_works_on_the_other_and_a_logout_counts_on_both(
    tmp_path: Path, redis: RedisServer
) -> None:
    with two_processes(tmp_path, redis) as cluster:
        first, second = cluster.servers
        holders = cluster.holders()
        on_second = next(s for s, h in holders.items() if h == second.url)
        on_first = next(s for s, h in holders.items() if h == first.url)
        staff = login(first.url, DemoNames("tinh").staff(on_second, 1), "1234")
        # served where it is sent: the second process checks a token the first one issued
        opened = httpx.post(f"{second.url}/api/v1/sites/{on_second}/counters/1/open", headers=staff, timeout=10)
        assert opened.status_code == 200, opened.text
        assert httpx.post(f"{second.url}/api/v1/auth/logout", headers=staff, timeout=10).status_code == 204
        refused = httpx.post(f"{first.url}/api/v1/sites/{on_first}/counters/1/open", headers=staff, timeout=10)
        assert refused.status_code == 401
        assert refused.json()["error"]["code"] == "invalid_token"
