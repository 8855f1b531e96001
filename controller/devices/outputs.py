"""Where display and hall states go: one small contract, an MQTT driver and an in-process fake.

`publish_display` / `publish_hall` are called from the site writer's commit
listener, so they must not block or await: the MQTT driver hands the message to
paho's queue; the in-process one schedules the fake display's show().
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Mapping
from typing import Any, Protocol

from counter_display.fakes import RecordingDisplay
from devices.errors import DeviceError
from devices.payloads import DisplayState, RatingAsk, encode_display_state, encode_rating_ask
from devices.topics import SiteTopics
from firmware_bridge.mqtt_link import MqttLink

__all__ = ["DeviceOutput", "InProcessOutput", "MqttOutput"]

log = logging.getLogger(__name__)


class DeviceOutput(Protocol):
    """Sends display and hall states towards the devices."""

    def publish_display(self, site: str, state: DisplayState) -> None:
        """Show state on the display of state.counter (retained: a late display gets it)."""

    def publish_hall(self, site: str, hall: Mapping[str, Any]) -> None:
        """Show the last calls on the hall displays of site."""

    def publish_rating_ask(self, site: str, counter: int, ask: RatingAsk) -> None:
        """Ask the counter's rating keypad, if it has a text display, for the reasons of a low rating."""


class MqttOutput:
    """Publishes display/{counter}/state and hall/state retained with QoS 1."""

    def __init__(self, link: MqttLink) -> None:
        self.link = link
        self._topics: dict[str, SiteTopics] = {}

    def _site(self, site: str) -> SiteTopics:
        topics = self._topics.get(site)
        if topics is None:
            topics = self._topics[site] = SiteTopics(site)
        return topics

    def publish_display(self, site: str, state: DisplayState) -> None:
        self.link.publish(self._site(site).display_state(state.counter), encode_display_state(state), retain=True)

    def publish_hall(self, site: str, hall: Mapping[str, Any]) -> None:
        payload = json.dumps(hall, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        self.link.publish(self._site(site).hall_state(), payload, retain=True)

    def publish_rating_ask(self, site: str, counter: int, ask: RatingAsk) -> None:
        # not retained: a keypad that connects later must not ask about a citizen long gone
        self.link.publish(self._site(site).rating_ask(counter), encode_rating_ask(ask), retain=False)


class InProcessOutput:
    """`--mqtt none --devices sim`: the shipped fake displays, driven directly."""

    def __init__(self, displays: Mapping[tuple[str, int], RecordingDisplay]) -> None:
        self.displays = dict(displays)
        self.halls: dict[str, Mapping[str, Any]] = {}
        self.asks: list[tuple[str, int, RatingAsk]] = []  # the in-process keypads have no display: kept to see
        self._tasks: set[asyncio.Task[None]] = set()

    def publish_display(self, site: str, state: DisplayState) -> None:
        display = self.displays.get((site, state.counter))
        if display is None:
            return
        # show() is async (a real driver waits for the bus); keep the order per display
        task = asyncio.get_running_loop().create_task(self._show(display, state))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def publish_hall(self, site: str, hall: Mapping[str, Any]) -> None:
        self.halls[site] = dict(hall)

    def publish_rating_ask(self, site: str, counter: int, ask: RatingAsk) -> None:
        self.asks = [*self.asks[-99:], (site, counter, ask)]

    async def drain(self) -> None:
        """Wait for every show() started so far."""
        while self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)

    @staticmethod
    async def _show(display: RecordingDisplay, state: DisplayState) -> None:
        try:
            await display.show(state)
        except DeviceError as exc:
            log.info("display of counter %d: %s", state.counter, exc)
