"""The device router follows the sites its process writes (sites partitioned over processes).

A site removed from the controller (its lease lost) gets no display updates, no
subscriptions and no presses carried out here; added back (a lease gained) its
displays are published again from the floor and its presses work.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from pathlib import Path

import pytest

from controller.core.commands import CallNext, IssueTicket, OpenCounter, Start
from controller.devices.outputs import InProcessOutput
from controller.devices.press_relay import PressRelay, decode_message, encode_message
from controller.devices.router import DeviceRouter, site_filters
from controller.devices.stats import UNKNOWN_SITE
from controller.runtime.controller import Controller
from controller.sitefile import load_sites
from controller.store import open_store
from controller.store.redis import RedisEventStore
from controller.store.redis_keys import SiteKeys
from counter_display.fakes import RecordingDisplay
from devices.payloads import KeyPress, encode_key_press
from devices.topics import SiteTopics
from firmware_bridge.mqtt_link import MqttMessage
from tests.bridge_support import eventually
from tests.devices_support import COMMUNE
from tests.services import RedisServer

T = SiteTopics("xa")


class Subscriptions:
    """The topic filters the router asked for, as a broker connection would keep them."""

    def __init__(self) -> None:
        self.filters: list[str] = []

    def subscribe(self, filters: Sequence[str]) -> None:
        self.filters += [f for f in filters if f not in self.filters]

    def unsubscribe(self, filters: Sequence[str]) -> None:
        self.filters = [f for f in self.filters if f not in filters]


def test_the_router_drives_a_site_only_while_its_process_writes_it(tmp_path: Path) -> None:
    async def scenario() -> None:
        store = await open_store("sqlite", str(tmp_path))
        controller = Controller(load_sites(COMMUNE), store, check_hours=False)
        await controller.start(tick=False)
        runtime = controller.runtime("xa")
        await runtime.execute(OpenCounter(1, staff="quay1"))
        numbers = []
        for _ in range(3):
            issued = await runtime.execute(IssueTicket("ht-khai-sinh", check_hours=False))
            numbers.append(str(issued.events[0].data["number"]))
        display, topics = RecordingDisplay(), Subscriptions()
        output = InProcessOutput({("xa", 1): display})
        try:
            async with DeviceRouter(controller, output, subscriber=topics) as router:
                await output.drain()
                assert display.history == [None]  # published at start: counter open, nobody called
                assert topics.filters == site_filters("xa")

                gone = controller.remove_runtime("xa")  # the lease moved to another process
                assert gone is runtime and topics.filters == []
                assert runtime.device_view() == []
                router.press("xa", 1, KeyPress("next", 1))
                assert router.stats.dropped_total(UNKNOWN_SITE, "unknown_site") == 1
                await runtime.execute(CallNext(1))  # its commits are not routed here any more
                await output.drain()
                assert display.history == [None]  # not driven from here

                # presses queued but not yet carried out when the site goes are handed back, in order
                given: list[MqttMessage] = []
                router.on_orphaned = lambda site, messages: given.extend(messages)
                controller.add_runtime(runtime)
                presses = [MqttMessage(T.keypad_press(1), encode_key_press(KeyPress(key, n)), False)
                           for key, n in (("recall", 7), ("pause", 8))]
                for message in presses:
                    router.feed(message)
                controller.remove_runtime("xa")
                assert given == presses

                controller.add_runtime(runtime)  # and back: displays republished from the floor
                await output.drain()
                assert display.number == numbers[0]
                assert topics.filters == site_filters("xa")
                await runtime.execute(Start(1))  # the citizen came to the counter
                router.press("xa", 1, KeyPress("next", 9))  # finish the first, call the second
                await eventually(lambda: display.number == numbers[1])
        finally:
            await controller.stop()
            await store.close()

    asyncio.run(scenario())


@pytest.mark.integration
def test_presses_given_back_are_the_next_ones_popped_in_their_order(tmp_path: Path, redis: RedisServer) -> None:
    async def scenario() -> None:
        store = await RedisEventStore.connect(redis.url)
        controller = Controller(load_sites(COMMUNE), store, check_hours=False, serve_all=False)
        router = DeviceRouter(controller, InProcessOutput({}))
        relay = PressRelay(store.client, store.prefix, router, ["xa"], lambda: ["xa"])
        try:
            waiting = MqttMessage(T.keypad_press(2), b'{"key": "next", "seq": 1}', False)
            await store.client.lpush(SiteKeys("xa").presses, encode_message(waiting))  # relayed earlier
            back = [MqttMessage(T.keypad_press(1), encode_key_press(KeyPress("next", n)), False) for n in (1, 2)]
            relay.give_back("xa", back)
            await eventually(lambda: relay.returned == 2)
            popped = [decode_message((await store.client.brpop([SiteKeys("xa").presses], 1))[1]) for _ in range(3)]
            assert popped == [*back, waiting]
        finally:
            await store.close()

    asyncio.run(scenario())


@pytest.mark.integration
def test_a_redelivered_press_is_relayed_once_whichever_process_gets_it(tmp_path: Path, redis: RedisServer) -> None:
    async def scenario() -> None:
        store = await RedisEventStore.connect(redis.url)
        controller = Controller(load_sites(COMMUNE), store, check_hours=False, serve_all=False)
        router = DeviceRouter(controller, InProcessOutput({}))
        # two processes of the shared group: neither writes the site, both relay its presses
        first = PressRelay(store.client, store.prefix, router, ["xa"], lambda: [])
        second = PressRelay(store.client, store.prefix, router, ["xa"], lambda: [])
        try:
            press = MqttMessage(T.keypad_press(1), encode_key_press(KeyPress("next", 7)), False)
            await first._push("xa", press)
            await second._push("xa", press)  # the QoS 1 redelivery, to the other process
            following = MqttMessage(T.keypad_press(1), encode_key_press(KeyPress("next", 8)), False)
            other_keypad = MqttMessage(T.keypad_press(2), encode_key_press(KeyPress("next", 7)), False)
            await second._push("xa", following)
            await first._push("xa", other_keypad)  # the same seq from another keypad is its own press
            queued = [decode_message(raw) for raw in reversed(await store.client.lrange(SiteKeys("xa").presses, 0, -1))]
            assert queued == [press, following, other_keypad]
            assert (first.relayed, second.relayed, second.repeats) == (2, 1, 1)
            assert router.stats.dropped.get(("xa", "duplicate"), 0) == 1
        finally:
            await store.close()

    asyncio.run(scenario())
