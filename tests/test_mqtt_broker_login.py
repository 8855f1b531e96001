"""The embedded broker logs a client in before it acts on its client id (controller/devices/broker.py).

A CONNECT that fails the log-in must not disconnect, nor alter, the logged-in client
using the same id, and one user never resumes another user's session.
"""

from __future__ import annotations

import asyncio
import queue
import threading
from collections.abc import Iterator

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from controller.devices.broker import BrokerCredentials, embedded_broker
from devices.mqtt_acl import CONTROLLER_USER, floor_users
from devices.registry import default_devices
from devices.topics import SiteTopics
from tests.services import free_port

T = SiteTopics("xa")
DISPLAY, KEYPAD = "display-1@xa", "keypad-1@xa"
PASSWORDS = {DISPLAY: "display-secret", KEYPAD: "keypad-secret"}


@pytest.fixture(scope="module")
def broker_port() -> Iterator[int]:
    users = tuple(floor_users({"xa": default_devices([1, 2])}))
    passwords = {u.username: PASSWORDS.get(u.username, f"pw-{u.username}") for u in users}
    port = free_port()
    ready = threading.Event()
    stop: asyncio.Future[None] | None = None
    loop = asyncio.new_event_loop()

    async def run() -> None:
        nonlocal stop
        stop = loop.create_future()
        async with embedded_broker("127.0.0.1", port, BrokerCredentials(users, passwords)):
            ready.set()
            await stop

    thread = threading.Thread(target=loop.run_until_complete, args=(run(),), daemon=True)
    thread.start()
    assert ready.wait(10), "embedded broker did not start"
    yield port
    assert stop is not None
    loop.call_soon_threadsafe(stop.set_result, None)
    thread.join(10)
    loop.close()


class Client:
    """A paho client with a chosen client id that records CONNACKs, disconnects and messages."""

    def __init__(self, port: int, client_id: str, username: str, password: str, *, clean: bool = True) -> None:
        self.connacks: queue.Queue[bool] = queue.Queue()
        self.session_present: queue.Queue[bool] = queue.Queue()
        self.disconnects: queue.Queue[int] = queue.Queue()
        self.messages: queue.Queue[tuple[str, bytes]] = queue.Queue()
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id, clean_session=clean,
                                  protocol=mqtt.MQTTv311, reconnect_on_failure=False)
        self.client.username_pw_set(username, password)
        self.client.on_connect = lambda c, u, flags, rc, p: (self.session_present.put(flags.session_present),
                                                             self.connacks.put(not rc.is_failure))
        self.client.on_disconnect = lambda c, u, f, rc, p: self.disconnects.put(rc.value)
        self.client.on_message = lambda c, u, m: self.messages.put((m.topic, bytes(m.payload)))
        self.client.connect("127.0.0.1", port, keepalive=30)
        self.client.loop_start()

    def accepted(self) -> bool:
        try:
            return self.connacks.get(timeout=5)
        except queue.Empty:
            return False

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


@pytest.mark.integration
@pytest.mark.parametrize("clean", [True, False])
def test_a_failed_login_with_a_clients_id_leaves_that_client_alone(broker_port: int, clean: bool) -> None:
    display = Client(broker_port, "display-1", DISPLAY, PASSWORDS[DISPLAY], clean=False)
    try:
        assert display.accepted()
        display.client.subscribe(T.display_state(1), qos=1)
        intruder = Client(broker_port, "display-1", DISPLAY, "wrong password", clean=clean)
        try:
            assert not intruder.accepted()
        finally:
            intruder.close()
        stranger = Client(broker_port, "display-1", "nobody", "x", clean=clean)
        try:
            assert not stranger.accepted()
        finally:
            stranger.close()
        # The logged-in display is still connected, subscribed, and gets its state.
        assert display.disconnects.empty()
        controller = Client(broker_port, "controller-test", CONTROLLER_USER, f"pw-{CONTROLLER_USER}")
        try:
            assert controller.accepted()
            controller.client.publish(T.display_state(1), b'{"text":"1001"}', qos=1).wait_for_publish(5)
        finally:
            controller.close()
        assert display.messages.get(timeout=5) == (T.display_state(1), b'{"text":"1001"}')
        assert display.disconnects.empty()
    finally:
        display.close()


@pytest.mark.integration
def test_another_user_never_resumes_a_session(broker_port: int) -> None:
    display = Client(broker_port, "shared-id", DISPLAY, PASSWORDS[DISPLAY], clean=False)
    assert display.accepted()
    display.client.subscribe(T.display_state(1), qos=1)
    display.close()
    # The display itself resumes its session (the case the rule must not break)...
    again = Client(broker_port, "shared-id", DISPLAY, PASSWORDS[DISPLAY], clean=False)
    try:
        assert again.accepted() and again.session_present.get(timeout=5) is True
    finally:
        again.close()
    # ...but a valid keypad log-in that asks to resume "shared-id" gets a clean session of its own.
    keypad = Client(broker_port, "shared-id", KEYPAD, PASSWORDS[KEYPAD], clean=False)
    try:
        assert keypad.accepted() and keypad.session_present.get(timeout=5) is False
    finally:
        keypad.close()
