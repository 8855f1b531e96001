"""The emulated keypads of `motcua load --mqtt`: staff who press "next" and citizens who rate, over MQTT.

Counters driven by keypad (a share of the staffed ones, the others by HTTP) are
opened by their staff over HTTP as the others are; then their staff press "next"
on the counter's keypad (`keypad/{counter}/press`, QoS 1, with a seq and `at`),
which finishes the ticket served and calls the next, and wait for the counter's
display state (`display/{counter}/state`); "start" when the citizen comes (a press
never finishes a ticket called less than 10 s ago and not started: CONTRACT.md).
The time from the press to that state is the operation `keypad_next`, reported
beside the HTTP operations. After each ticket served the citizen presses a score
on the counter's rating keypad
(`rating/{counter}/press`); with the live stream on, the time from that press to
its rating.recorded event is the operation `rating`.

A "next" with nobody waiting changes no display (an idle counter stays blank):
after DISPLAY_WAIT_S it counts as `no_change`, not as an error.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from devices.errors import ProtocolError
from devices.payloads import (
    MAX_SEQ,
    DisplayState,
    KeyPress,
    RatingPress,
    encode_key_press,
    encode_rating_press,
    parse_display_state,
)
from devices.topics import SiteTopics, parse_topic
from firmware_bridge.mqtt_link import MqttLink, MqttMessage
from sim.load_actors import IDLE_WAIT_S, SiteWork, Timeline
from sim.load_stats import LoadStats

__all__ = ["DeviceCounts", "Keypads", "keypad_counters", "keypad_staff"]

DISPLAY_WAIT_S = 3.0  # a press that changed no display within this long changed none


def keypad_counters(staffed: list[int], share: float) -> set[int]:
    """The staffed counters driven by keypad: `share` of them, spread over the list."""
    return {n for i, n in enumerate(staffed) if int((i + 1) * share) > int(i * share)}


@dataclass
class DeviceCounts:
    """What went over MQTT, for the report."""

    keypads: int = 0
    presses: int = 0     # "next": each is timed to the display state it leads to, or seen to change nothing
    starts: int = 0      # "start": the citizen is at the counter; nothing on a display answers it
    no_change: int = 0
    ratings_pressed: int = 0
    ratings_recorded: int = 0

    def report(self) -> dict[str, int]:
        return {
            "keypads": self.keypads, "presses": self.presses, "starts": self.starts, "no_change": self.no_change,
            "ratings_pressed": self.ratings_pressed, "ratings_recorded": self.ratings_recorded,
        }


@dataclass
class Keypads:
    """One MQTT connection for every emulated keypad; display states routed to the press waiting for them."""

    link: MqttLink
    stats: LoadStats
    counts: DeviceCounts = field(default_factory=DeviceCounts)
    _seqs: dict[tuple[str, str, int], int] = field(default_factory=dict)
    _waiting: dict[tuple[str, int], asyncio.Future[DisplayState]] = field(default_factory=dict)
    _rated: dict[tuple[str, int], float] = field(default_factory=dict)
    also: Callable[[MqttMessage], None] | None = None  # told of every message too (the printers' jobs)

    @staticmethod
    def subscriptions(sites: Iterable[str]) -> list[str]:
        return [SiteTopics(site).subscription("display_state") for site in sites]

    async def route(self) -> None:
        """Hand every display state that arrives to the press waiting for it (run as a task)."""
        while True:
            message = await self.link.messages.get()
            self._route(message)
            if self.also is not None:
                self.also(message)

    def _route(self, message: MqttMessage) -> None:
        if message.retain:
            return  # the state before this run (sent on subscribing), not an answer to a press
        try:
            match = parse_topic(message.topic)
            state = parse_display_state(message.payload) if message.payload else None
        except ProtocolError:
            return
        if match.counter is None:
            return
        waiter = self._waiting.pop((match.site, match.counter), None)
        if waiter is not None and not waiter.done():
            waiter.set_result(state or DisplayState(None, match.counter))

    def _seq(self, site: str, kind: str, counter: int) -> int:
        key = (site, kind, counter)
        # from the clock in milliseconds: never a seq an earlier run of this keypad sent lately
        seq = (self._seqs.get(key, int(time.time() * 1000)) + 1) % (MAX_SEQ + 1)
        self._seqs[key] = seq
        return seq

    async def next(self, site: str, counter: int) -> DisplayState | None:
        """Press "next"; the display state it led to, None when the display did not change."""
        waiter: asyncio.Future[DisplayState] = asyncio.get_running_loop().create_future()
        self._waiting[(site, counter)] = waiter
        press = KeyPress("next", self._seq(site, "keypad", counter), at=self.stats.server_now())
        started = time.perf_counter()
        self.link.publish(SiteTopics(site).keypad_press(counter), encode_key_press(press))
        self.counts.presses += 1
        try:
            state = await asyncio.wait_for(waiter, DISPLAY_WAIT_S)
        except TimeoutError:
            self._waiting.pop((site, counter), None)
            self.counts.no_change += 1
            return None
        self.stats.ok("keypad_next", time.perf_counter() - started)
        return state

    def start(self, site: str, counter: int) -> None:
        """Press "start": the citizen called is at the counter."""
        press = KeyPress("start", self._seq(site, "keypad", counter), at=self.stats.server_now())
        self.link.publish(SiteTopics(site).keypad_press(counter), encode_key_press(press))
        self.counts.starts += 1

    def rate(self, site: str, counter: int, score: int) -> None:
        """Press a score on the counter's rating keypad (its latency is taken from the live stream)."""
        press = RatingPress(score, self._seq(site, "rating", counter), at=self.stats.server_now())
        self._rated[(site, counter)] = time.perf_counter()
        self.link.publish(SiteTopics(site).rating_press(counter), encode_rating_press(press))
        self.counts.ratings_pressed += 1

    def on_live(self, site: str, message: dict[str, Any]) -> None:
        """A live event of the site: a rating.recorded ends the rating press of its counter."""
        if message.get("type") != "rating.recorded":
            return
        with contextlib.suppress(TypeError, ValueError):
            pressed = self._rated.pop((site, int(message["counter"])), None)
            if pressed is not None:
                self.counts.ratings_recorded += 1
                self.stats.ok("rating", time.perf_counter() - pressed)


async def keypad_staff(keypads: Keypads, work: SiteWork, counter: int, timeline: Timeline) -> None:
    """Serve with the keypad: "next" (finish and call), serve the drawn time, rate; idle when nobody waits."""
    site = work.site.id
    wake = work.wake.setdefault(counter, asyncio.Event())
    levels = work.site.rating_levels
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(wake.wait(), random.uniform(0, IDLE_WAIT_S))
    serving = False
    while not timeline.over():
        wake.clear()  # before pressing: a ticket issued meanwhile still wakes us
        state = await keypads.next(site, counter)
        if serving and state is not None:
            # the press finished the ticket served: its citizen rates it
            keypads.rate(site, counter, random.randint(1, levels))
        serving = state is not None and state.number is not None
        if serving and state is not None and state.number is not None:
            keypads.start(site, counter)
            await timeline.spend(work.service_for_number(state.number))
        else:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(wake.wait(), IDLE_WAIT_S)

