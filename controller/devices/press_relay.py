"""Keypad presses of sites partitioned over processes: wherever one arrives, the site's writer carries it out.

Every controller process subscribes to every site's press topics as one MQTT shared
subscription group ($share/motcua-controllers/...): the broker hands each press to
exactly one live process, whether or not that process writes the site. That process
pushes the press onto the site's list in Redis; the site's writer pops from the lists
of the sites it writes (one BRPOP over all of them) and routes the press as if it had
come from the broker. So:

- a press is carried out once, by the writer (the single writer of its site);
- a press that comes while the site changes hands (its writer was killed, the new one
  still replaying) waits in Redis and is carried out by the new writer;
- presses of one site keep their order (one list, one consumer).

Device statuses are not relayed: the writer subscribes to its sites' status topics
(retained, so it gets the current ones when it takes a site over).

A press is popped by the writer just before it is carried out; a writer killed in
between loses that one press (as a single process killed after the broker delivered
it would). A site given up meanwhile gets its popped presses pushed back, at the
head of its list, for the next writer (the one being carried out when the site was
given up is not: it may have been committed).

Duplicates: a QoS 1 redelivery may reach another process of the group, or come after
the site changed writer, so the seq check is made where every press passes, in Redis:
one script pushes a press only when its seq differs from the last one relayed from the
same topic. The writer's PressGate then applies the full rules (a window of recent
seqs, late, burst: keypads.py) to what it pops.

Limit: one BRPOP over many sites' lists needs a single Redis (on Redis Cluster the
lists of one process's sites are in different slots).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import logging
from collections.abc import AsyncIterator, Callable, Collection
from typing import Final

from redis.asyncio import Redis
from redis.exceptions import RedisError

from controller.devices.router import DeviceRouter
from controller.devices.stats import UNKNOWN_SITE
from controller.store.redis_keys import SiteKeys
from devices.errors import ProtocolError
from devices.topics import SiteTopics, TopicKind, parse_topic
from firmware_bridge.mqtt_link import MqttMessage

__all__ = ["PRESS_KINDS", "PressRelay", "decode_message", "encode_message", "press_relay", "shared_press_filters"]

log = logging.getLogger(__name__)

PRESS_KINDS: Final[tuple[TopicKind, ...]] = ("keypad_press", "rating_press")
SHARE_GROUP: Final = "motcua-controllers"
# How long one BRPOP waits before the list of sites is read again (a site gained meanwhile)
BLOCK_S: Final = 0.5
RETRY_S: Final = 0.2

# KEYS: the site's press list, its last-seq hash. ARGV: topic, seq ('' when the payload has none), press.
_PUSH_UNLESS_REPEAT: Final = """
if ARGV[2] ~= '' then
  if redis.call('HGET', KEYS[2], ARGV[1]) == ARGV[2] then return 0 end
  redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
end
redis.call('LPUSH', KEYS[1], ARGV[3])
return 1
"""


def shared_press_filters(site_ids: Collection[str]) -> list[str]:
    """The shared-subscription filters of every site's presses: each press to one process of the group."""
    return [f"$share/{SHARE_GROUP}/{SiteTopics(s).subscription(k)}" for s in site_ids for k in PRESS_KINDS]


def encode_message(message: MqttMessage) -> bytes:
    """A press as it sits in Redis: topic and payload, byte for byte."""
    return json.dumps(
        {"topic": message.topic, "payload": base64.b64encode(message.payload).decode(), "retain": message.retain}
    ).encode()


def decode_message(raw: bytes) -> MqttMessage:
    """A press back from Redis; ProtocolError for anything this module did not write."""
    try:
        body = json.loads(raw)
        return MqttMessage(str(body["topic"]), base64.b64decode(body["payload"]), bool(body["retain"]))
    except (ValueError, KeyError, TypeError) as exc:
        raise ProtocolError(f"not a relayed press: {exc}") from exc


class PressRelay:
    """Moves presses from the broker to Redis, and from Redis to the router of the sites written here."""

    def __init__(
        self,
        client: Redis,
        prefix: str,
        router: DeviceRouter,
        sites: Collection[str],
        written: Callable[[], Collection[str]],
    ) -> None:
        self.client = client
        self.prefix = prefix
        self.router = router
        self.sites = frozenset(sites)
        # the sites whose presses this process carries out now (the router's)
        self.written = written
        self.relayed = 0
        self.delivered = 0
        self.returned = 0
        self.repeats = 0
        self._returns: set[asyncio.Task[None]] = set()
        self._push_script = client.register_script(_PUSH_UNLESS_REPEAT)

    def _key(self, site: str) -> str:
        return SiteKeys(site, self.prefix).presses

    async def receive(self, messages: asyncio.Queue[MqttMessage]) -> None:
        """Everything the broker sends this process: presses to Redis, the rest to the router."""
        while True:
            message = await messages.get()
            site = _press_site(message.topic)
            if site is None:
                self.router.feed(message)  # statuses of the sites written here, or junk to count
            elif site not in self.sites:
                self.router.stats.drop(UNKNOWN_SITE, "unknown_site")
            else:
                await self._push(site, message)

    async def _push(self, site: str, message: MqttMessage) -> None:
        keys = SiteKeys(site, self.prefix)
        seq = _seq(message.payload)
        args: list[str | bytes] = [message.topic, "" if seq is None else str(seq), encode_message(message)]
        # Redis away: hold on to it (and to those behind it, in order) until it is back
        while True:
            try:
                pushed = await self._push_script(keys=[keys.presses, keys.press_seqs], args=args)
            except RedisError as exc:
                log.warning("press for %s not relayed yet (%s); retrying", site, exc)
                await asyncio.sleep(RETRY_S)
                continue
            if pushed:
                self.relayed += 1
            else:
                self.repeats += 1
                self.router.stats.drop(site, "duplicate")
            return

    def give_back(self, site: str, messages: list[MqttMessage]) -> None:
        """Presses popped for a site this process gave up before carrying them out: back to the head."""
        task = asyncio.get_running_loop().create_task(self._give_back(site, messages))
        self._returns.add(task)
        task.add_done_callback(self._returns.discard)

    async def _give_back(self, site: str, messages: list[MqttMessage]) -> None:
        # the list is popped from its right end: the first press must end up rightmost
        raw = [encode_message(m) for m in reversed(messages)]
        try:
            await self.client.rpush(self._key(site), *raw)
        except RedisError as exc:
            log.warning("site %s: %d presses could not be given back: %s", site, len(messages), exc)
            return
        self.returned += len(messages)

    async def deliver(self) -> None:
        """Carry out the presses of the sites written here, in the order they came."""
        while True:
            keys = {self._key(site): site for site in sorted(self.written())}
            if not keys:
                await asyncio.sleep(BLOCK_S)
                continue
            try:
                popped = await self.client.brpop(list(keys), timeout=BLOCK_S)
            except RedisError as exc:
                log.warning("presses not read (%s); retrying", exc)
                await asyncio.sleep(RETRY_S)
                continue
            if popped is None:
                continue
            key, raw = popped
            site = keys[key.decode() if isinstance(key, bytes) else key]
            if site not in self.written():
                # given up while the pop was under way: back to the head, for the new writer
                with contextlib.suppress(RedisError):
                    await self.client.rpush(self._key(site), raw)
                continue
            try:
                message = decode_message(raw.encode() if isinstance(raw, str) else raw)
            except ProtocolError as exc:
                self.router.stats.drop(site, "malformed")
                log.warning("site %s: dropped a relayed press: %s", site, exc)
                continue
            self.delivered += 1
            self.router.feed(message)


def _seq(payload: bytes) -> int | None:
    """A press payload's seq (None when it has none: the writer counts the payload as malformed)."""
    try:
        body = json.loads(payload)
    except (ValueError, UnicodeDecodeError):
        return None
    seq = body.get("seq") if isinstance(body, dict) else None
    return seq if isinstance(seq, int) and not isinstance(seq, bool) else None


def _press_site(topic: str) -> str | None:
    """The site of a press topic; None for any other topic (or one that does not parse)."""
    try:
        match = parse_topic(topic)
    except ProtocolError:
        return None
    return match.site if match.kind in PRESS_KINDS else None


@contextlib.asynccontextmanager
async def press_relay(relay: PressRelay, messages: asyncio.Queue[MqttMessage]) -> AsyncIterator[PressRelay]:
    """Run both directions of the relay for the life of the context."""
    tasks = [
        asyncio.create_task(relay.receive(messages), name="motcua-presses-in"),
        asyncio.create_task(relay.deliver(), name="motcua-presses-out"),
    ]
    try:
        yield relay
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
