"""The embedded broker (`--mqtt embedded`) holds devices to the same users and ACLs as the
generated mosquitto config: real connections to a running controller's broker."""

from __future__ import annotations

import asyncio
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from controller.devices.broker_auth import BrokerAccess
from controller.settings import Settings, SettingsError
from devices.mqtt_acl import CONTROLLER_USER, MqttUser, floor_users, topic_matches
from devices.registry import default_devices
from devices.topics import SiteTopics
from firmware_bridge.emulators import KeypadEmulator, LedDisplayEmulator, SerialBusEmulator
from firmware_bridge.line import SerialLine
from firmware_bridge.mqtt_emulators import MqttDisplayEmulator, MqttKeypadEmulator
from firmware_bridge.mqtt_security import ENV_PASSWORD, ENV_USERNAME, MqttSecurity
from tests.bridge_support import MqttRecorder, bridge_process, eventually
from tests.devices_support import COMMUNE, SERIAL_DEVICES
from tests.mqtt_auth_support import AuthClient, secrets
from tests.server import KIOSK, ServerProcess, login, serve_process
from tests.services import free_port, socat_pty_pair

T = SiteTopics("xa")
FLOOR_DEVICES = SERIAL_DEVICES + "".join(  # MQTT devices at counters 3 and 4
    f'\n[[device]]\nid = "{kind}-{n}"\nkind = "{kind}"\ncounter = {n}\n'
    for n in (3, 4) for kind in ("display", "keypad")
)


def _users() -> dict[str, MqttUser]:
    return {u.username: u for u in floor_users({"xa": default_devices([1, 2])})}


def test_topic_rules_are_the_grants_of_the_mosquitto_acl() -> None:
    assert topic_matches("motcua/xa/#", "motcua/xa/keypad/1/press") and topic_matches("a/#", "a")
    assert topic_matches("a/+/c", "a/b/c") and not topic_matches("a/+/c", "a/b/c/d")
    assert not topic_matches("a/b", "a/b/c") and not topic_matches("a/b/c", "a/b")
    users = _users()
    keypad, display, controller = users["keypad-1@xa"], users["display-1@xa"], users[CONTROLLER_USER]
    assert keypad.may_publish(T.keypad_press(1)) and keypad.may_publish(T.device_status("keypad-1"))
    assert not keypad.may_publish(T.keypad_press(2)) and not keypad.may_receive(T.keypad_press(1))
    # a subscription must stay inside the read grants: no wildcard reaches past them
    assert display.may_subscribe(T.display_state(1))
    for wider in (T.display_state(2), "motcua/xa/display/+/state", "motcua/xa/#", "#", "motcua/xa/display/1/#"):
        assert not display.may_subscribe(wider), wider
    assert not display.may_publish(T.display_state(1))
    assert controller.may_subscribe("motcua/xa/keypad/+/press") and controller.may_subscribe("motcua/xa/#")
    assert not controller.may_subscribe("motcua/#") and not controller.may_publish("motcua/tinh/hall/state")


def test_broker_access_checks_password_and_last_will() -> None:
    users = list(_users().values())
    passwords = {u.username: f"pw-{u.username}" for u in users}
    access = BrokerAccess(users, passwords)
    assert access.authenticate("keypad-1@xa", "pw-keypad-1@xa", T.device_status("keypad-1"))
    assert not access.authenticate("keypad-1@xa", "pw-keypad-2@xa", None)
    assert not access.authenticate("stranger", "pw-keypad-1@xa", None)
    assert not access.authenticate(None, None, None)
    # a last will is a publish the broker makes later on the client's behalf: same grants
    assert not access.authenticate("keypad-1@xa", "pw-keypad-1@xa", T.keypad_press(2))
    with pytest.raises(ValueError, match="no password"):
        BrokerAccess(users, {})


def test_the_embedded_broker_refuses_a_login_it_would_not_use() -> None:
    with pytest.raises(SettingsError, match="embedded broker logs the controller in itself"):
        Settings(site_file=COMMUNE, data_dir=Path("."), mqtt="embedded", devices="sim",
                 mqtt_security=MqttSecurity(username="motcua-controller", password="x"))
    Settings(site_file=COMMUNE, data_dir=Path("."), mqtt="embedded", devices="sim", mqtt_security=MqttSecurity())


@dataclass
class Floor:
    server: ServerProcess
    port: int
    passwords: dict[str, str]
    site_file: Path
    workdir: Path

    @property
    def mqtt_url(self) -> str:
        return f"mqtt://127.0.0.1:{self.port}"

    def security(self, username: str) -> MqttSecurity:
        return MqttSecurity(username=username, password=self.passwords[username])

    def client(self, username: str | None, password: str | None = None) -> AuthClient:
        return AuthClient(self.port, username, self.passwords.get(username or "") if password is None else password)

    def open_with_ticket(self, counter: int, procedure: str) -> str:
        manager = login(self.server.url, "quanly", "demo")
        opened = httpx.post(f"{self.server.url}/api/v1/sites/xa/counters/{counter}/open", headers=manager, timeout=10)
        opened.raise_for_status()
        ticket = httpx.post(f"{self.server.url}/api/v1/sites/xa/tickets", headers=KIOSK,
                            json={"procedure": procedure}, timeout=10)
        ticket.raise_for_status()
        return str(ticket.json()["number"])

    def monitor(self) -> dict[str, object]:
        manager = login(self.server.url, "quanly", "demo")
        body: dict[str, object] = httpx.get(f"{self.server.url}/api/v1/sites/xa/monitor", headers=manager,
                                            timeout=10).json()
        return body


@pytest.fixture(scope="module")
def floor(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Floor]:
    """One controller with the embedded broker; the devices are this test's (--devices real)."""
    workdir = tmp_path_factory.mktemp("embedded")
    site_file = workdir / "site.toml"
    site_file.write_text(COMMUNE.read_text(encoding="utf-8") + FLOOR_DEVICES, encoding="utf-8")
    port = free_port()
    data = workdir / "data"
    with serve_process(site_file, data, "--mqtt", f"embedded://127.0.0.1:{port}", "--devices", "real") as server:
        assert stat.S_IMODE((data / "mqtt" / "secrets.toml").stat().st_mode) == 0o600
        yield Floor(server, port, secrets(data / "mqtt"), site_file, workdir)


@pytest.mark.integration
def test_strangers_wrong_passwords_and_forged_wills_are_refused(floor: Floor) -> None:
    assert set(floor.passwords) == {CONTROLLER_USER, "bridge-bus1@xa", "display-3@xa", "keypad-3@xa",
                                    "display-4@xa", "keypad-4@xa"}
    with floor.client(None) as anonymous:
        assert not anonymous.connect()
    with floor.client("keypad-3@xa", floor.passwords["keypad-4@xa"]) as wrong_password:
        assert not wrong_password.connect()
    with floor.client("keypad-9@xa", "guess") as unknown:
        assert not unknown.connect()
    with floor.client("keypad-3@xa") as forger:
        forger.client.will_set(T.device_status("keypad-4"), b"offline", qos=1, retain=True)
        assert not forger.connect()
    with floor.client("keypad-3@xa") as keypad:
        keypad.client.will_set(T.device_status("keypad-3"), b"offline", qos=1, retain=True)
        assert keypad.connect()


@pytest.mark.integration
def test_an_emulated_keypad_works_with_its_credentials_and_cannot_press_for_another(floor: Floor) -> None:
    number = floor.open_with_ticket(3, "ht-khai-sinh")
    waiting_at_4 = floor.open_with_ticket(4, "dd-bien-dong")

    async def press() -> None:
        async with (
            MqttKeypadEmulator(floor.mqtt_url, "xa", 3, "keypad-3", floor.security("keypad-3@xa")) as keypad,
            MqttDisplayEmulator(floor.mqtt_url, "xa", 3, "display-3", floor.security("display-3@xa")) as display,
        ):
            await keypad.link.wait_connected(5)
            await display.link.wait_connected(5)
            keypad.press("next")
            await display.wait_until(lambda: display.number == number, timeout_s=10)

    asyncio.run(press())

    # keypad-3's own login presses for counter 4, then recalls at its own counter, on one connection
    # (the broker handles one client's publishes in order): the recorder sees the recall only
    with (
        MqttRecorder(floor.port, ["motcua/xa/keypad/+/press"],
                     login=(CONTROLLER_USER, floor.passwords[CONTROLLER_USER])) as recorder,
        floor.client("keypad-3@xa") as keypad3,
    ):
        assert keypad3.connect()
        keypad3.publish(T.keypad_press(4), b'{"key":"next","seq":900}')
        keypad3.publish(T.keypad_press(3), b'{"key":"recall","seq":901}')
        asyncio.run(recorder.wait_for(lambda t, p: t == T.keypad_press(3)))
        assert [t for t, _, _ in recorder.drain()] == [T.keypad_press(3)]

    counters = {c["id"]: c for c in floor.monitor()["counters"]}  # type: ignore[attr-defined]
    assert counters[3]["current"]["number"] == number
    assert counters[4]["current"] is None, f"counter 4 called {counters[4]['current']} ({waiting_at_4} waits)"


@pytest.mark.integration
def test_a_display_gets_only_its_own_state(floor: Floor) -> None:
    with floor.client("display-4@xa") as display:
        assert display.connect()
        # display-3's state is retained (the controller publishes every display at start)
        assert display.subscribe([T.display_state(3), "motcua/xa/display/+/state", "motcua/xa/#"]) == [128] * 3
        assert display.subscribe([T.display_state(4)]) == [1]
        assert {t for t, _ in display.until(T.display_state(4))} == {T.display_state(4)}
        # nor may it write a state, its own included: its forged number never comes back to it
        display.publish(T.display_state(4), b'{"number":"6666","counter":4}', retain=True)
        with pytest.raises(TimeoutError):
            display.until(T.display_state(4), timeout_s=0.5)
    with floor.client("display-4@xa") as again:
        assert again.connect() and again.subscribe([T.display_state(4)]) == [1]
        assert b"6666" not in again.until(T.display_state(4))[-1][1]


@pytest.mark.integration
def test_the_bridge_logs_in_like_any_device(floor: Floor) -> None:
    number = floor.open_with_ticket(1, "ht-khai-sinh")
    led, keypad = LedDisplayEmulator(1), KeypadEmulator(2)
    env = {ENV_USERNAME: "bridge-bus1@xa", ENV_PASSWORD: floor.passwords["bridge-bus1@xa"]}
    log = floor.workdir / "bridge.log"

    async def serial_floor(device_side: str) -> None:
        async with SerialLine(device_side) as line, SerialBusEmulator(line, [led, keypad]):
            await eventually(lambda: len(led.history) > 0, timeout_s=15)
            keypad.press("next")
            await eventually(lambda: led.number == number, timeout_s=15)

    with socat_pty_pair(floor.workdir) as pair, bridge_process(floor.site_file, pair, floor.mqtt_url, log, env=env):
        try:
            asyncio.run(serial_floor(pair.device_side))
        except TimeoutError:
            pytest.fail(f"LED shows {led.number!r}; bridge log: {log.read_text()[-2000:]}")
    counters = {c["id"]: c for c in floor.monitor()["counters"]}  # type: ignore[attr-defined]
    assert counters[1]["current"]["number"] == number
