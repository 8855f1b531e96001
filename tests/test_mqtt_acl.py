"""MQTT identity: users and ACLs from the device registry, the password file, `motcua mqtt-config`,
and a real mosquitto enforcing them."""

from __future__ import annotations

import shutil
import stat
import subprocess
from pathlib import Path

import pytest

from controller.cli import main
from devices.mqtt_acl import Grant, MqttUser, controller_user, render_acl, site_users
from devices.mqtt_passwd import hash_password, new_secret, render_passwd, verify_password
from devices.registry import DeviceSpec, default_devices
from devices.topics import SiteTopics
from tests.devices_support import COMMUNE
from tests.mqtt_auth_support import AuthClient, broker_with_config, secrets
from tests.services import free_port

T = SiteTopics("xa")
BUS_DEVICES = (
    DeviceSpec("led-3", "display", "serial", counter=3, bus="bus1", address=3),
    DeviceSpec("kp-3", "keypad", "serial", counter=3, bus="bus1", address=4),
    DeviceSpec("modbus-4", "display", "modbus", counter=4, bus="bus2", address=1),
    DeviceSpec("spk", "speaker", zone="tang-2"),
    DeviceSpec("printer-k2", "printer", kiosk="k2"),
    DeviceSpec("net-printer", "printer", "tcp", url="tcp://10.0.0.5:9100"),
)


def _grants(user: MqttUser) -> set[tuple[str, str]]:
    return {(g.access, g.topic) for g in user.grants}


def test_each_device_gets_only_its_own_topics() -> None:
    users = {u.username: u for u in site_users("xa", default_devices([1, 2]))}
    assert _grants(users["keypad-1@xa"]) == {
        ("write", T.keypad_press(1)), ("write", T.device_status("keypad-1"))
    }
    assert _grants(users["display-2@xa"]) == {
        ("read", T.display_state(2)), ("write", T.device_status("display-2"))
    }
    assert _grants(users["rating-1@xa"]) == {
        ("write", T.rating_press(1)), ("read", T.rating_ask(1)), ("write", T.device_status("rating-1"))
    }
    assert _grants(users["printer-k1@xa"]) == {
        ("read", T.printer_job("k1")), ("write", T.device_status("printer-k1"))
    }
    # nobody but the controller holds a wildcard
    assert not any("#" in g.topic or "+" in g.topic for u in users.values() for g in u.grants)


def test_a_bridge_gets_the_topics_of_the_devices_on_its_bus_and_no_more() -> None:
    users = {u.username: u for u in site_users("xa", BUS_DEVICES)}
    bridge = users["bridge-bus1@xa"]
    assert bridge.devices == ("led-3", "kp-3")
    assert _grants(bridge) == {
        ("read", T.display_state(3)), ("write", T.device_status("led-3")),
        ("write", T.keypad_press(3)), ("write", T.device_status("kp-3")),
        ("write", T.device_status("bridge-bus1")),
    }
    assert ("read", T.display_state(4)) in _grants(users["bridge-bus2@xa"])
    assert ("read", T.voice_say("tang-2")) in _grants(users["spk@xa"])
    assert ("read", T.printer_job("k2")) in _grants(users["printer-k2@xa"])
    # serial devices speak through their bridge, tcp ones through the controller
    assert not {"led-3@xa", "kp-3@xa", "net-printer@xa"} & set(users)


def test_acl_text_and_its_refusals() -> None:
    text = render_acl([controller_user(["xa", "tinh"]), *site_users("xa", default_devices([1]))])
    assert "user motcua-controller\ntopic readwrite motcua/xa/#\ntopic readwrite motcua/tinh/#\n" in text
    assert f"user keypad-1@xa\ntopic write {T.keypad_press(1)}\n" in text
    assert "pattern" not in text  # no pattern lines: they would apply to every user
    with pytest.raises(ValueError, match="twice"):
        render_acl([controller_user(["xa"]), controller_user(["tinh"])])
    with pytest.raises(ValueError, match="username"):
        MqttUser("a b", ())
    with pytest.raises(ValueError, match="spaces"):
        Grant("read", "motcua/xa/display/1 state")


def test_password_hashes_are_what_mosquitto_reads() -> None:
    hashed = hash_password("s3cret", salt=b"\x01" * 12)
    assert hashed.startswith("$7$101$AQEBAQEBAQEBAQEB$")
    assert verify_password("s3cret", hashed) and not verify_password("s3cret!", hashed)
    assert not verify_password("s3cret", "$6$garbage") and not verify_password("x", "$7$101$!!$!!")
    with pytest.raises(ValueError, match="password file"):
        render_passwd({"a:b": "x"})
    binary = shutil.which("mosquitto_passwd")
    if binary is None:
        pytest.skip("mosquitto_passwd is not installed")
    # and the other way round: a line written by mosquitto_passwd checks with our code
    line = subprocess.run([binary, "-b", "-c", "/dev/stdout", "alice", "pw"], capture_output=True, text=True,
                          check=True).stdout.strip()
    name, _, theirs = line.partition(":")
    assert name == "alice" and verify_password("pw", theirs)


def test_cli_writes_files_with_safe_modes_and_keeps_passwords_on_rerun(tmp_path: Path,
                                                                       capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "mqtt"
    assert main(["mqtt-config", "--site", str(COMMUNE), "--out", str(out), "--listen", "127.0.0.1:1883"]) == 0
    assert stat.S_IMODE((out / "secrets.toml").stat().st_mode) == 0o600
    assert stat.S_IMODE((out / "passwd").stat().st_mode) == 0o640
    first = secrets(out)
    assert "motcua-controller" in first and "keypad-1@xa" in first and len(set(first.values())) == len(first)
    lines = dict(line.split(":", 1) for line in (out / "passwd").read_text().splitlines())
    assert set(lines) == set(first)
    assert all(verify_password(first[name], hashed) for name, hashed in lines.items())
    conf = (out / "mosquitto.conf").read_text()
    assert "allow_anonymous false" in conf and f"acl_file {out / 'acl'}" in conf
    assert "listener 1883 127.0.0.1" in conf

    assert main(["mqtt-config", "--site", str(COMMUNE), "--out", str(out)]) == 0
    assert secrets(out) == first
    assert main(["mqtt-config", "--site", str(COMMUNE), "--out", str(out), "--rotate"]) == 0
    assert not set(secrets(out).values()) & set(first.values())
    capsys.readouterr()

    assert main(["mqtt-config", "--site", str(tmp_path / "missing.toml"), "--out", str(out)]) == 2
    assert main(["mqtt-config", "--site", str(COMMUNE), "--out", str(out), "--listen", "nowhere"]) == 2
    assert main(["mqtt-config", "--site", str(COMMUNE), "--out", str(out), "--tls-listen", "127.0.0.1:8883"]) == 2
    err = capsys.readouterr().err
    assert "missing.toml" in err and "HOST:PORT" in err and "--tls-ca" in err


@pytest.fixture
def guarded(tmp_path: Path) -> tuple[int, dict[str, str]]:
    port = free_port()
    out = tmp_path / "mqtt"
    assert main(["mqtt-config", "--site", str(COMMUNE), "--out", str(out), "--listen", f"127.0.0.1:{port}"]) == 0
    return port, secrets(out)


@pytest.mark.integration
def test_mosquitto_enforces_the_generated_users_and_acls(tmp_path: Path, guarded: tuple[int, dict[str, str]]) -> None:
    port, passwords = guarded
    with broker_with_config(tmp_path / "mqtt" / "mosquitto.conf", port):
        with AuthClient(port) as anonymous:
            assert not anonymous.connect()
        with AuthClient(port, "keypad-1@xa", passwords["keypad-2@xa"]) as wrong_password:
            assert not wrong_password.connect()

        with (
            AuthClient(port, "motcua-controller", passwords["motcua-controller"]) as controller,
            AuthClient(port, "keypad-1@xa", passwords["keypad-1@xa"]) as keypad,
            AuthClient(port, "display-1@xa", passwords["display-1@xa"]) as display,
        ):
            assert controller.connect() and keypad.connect() and display.connect()
            assert controller.subscribe(["motcua/xa/keypad/+/press"]) == [1]

            # a keypad presses for another counter, then for its own: only its own arrives
            keypad.publish(T.keypad_press(2), b'{"key":"next","seq":1}')
            keypad.publish(T.keypad_press(1), b'{"key":"next","seq":2}')
            assert controller.until(T.keypad_press(1)) == [(T.keypad_press(1), b'{"key":"next","seq":2}')]

            # a display may not listen to another display's state, nor publish one (mosquitto 2.0
            # grants the SUBACK and checks read access on every message it would deliver)
            assert display.subscribe([T.display_state(2), T.display_state(1)])[1] == 1
            display.publish(T.display_state(1), b'{"number":"6666","counter":1}')
            controller.publish(T.display_state(2), b'{"number":"2002","counter":2}', retain=True)
            controller.publish(T.display_state(1), b'{"number":"1001","counter":1}', retain=True)
            assert display.until(T.display_state(1)) == [(T.display_state(1), b'{"number":"1001","counter":1}')]

            # a display cannot forge a keypad press either
            display.publish(T.keypad_press(1), b'{"key":"next","seq":9}')
            keypad.publish(T.keypad_press(1), b'{"key":"recall","seq":3}')
            assert controller.until(T.keypad_press(1)) == [(T.keypad_press(1), b'{"key":"recall","seq":3}')]


def test_new_secrets_never_start_with_a_dash_so_a_command_line_takes_them() -> None:
    made = [new_secret() for _ in range(3000)]  # about 47 of them would start with "-" by chance
    assert not any(m.startswith("-") for m in made)
    assert len(set(made)) == len(made) and {len(m) for m in made} == {32}


def test_a_display_of_no_counter_is_a_hall_display_and_reads_hall_state_only() -> None:
    # CONTRACT.md: hall/state goes "controller -> hall displays"; without such a device no
    # login on a broker with users could read it
    hall = DeviceSpec("hall-tv", "display")
    assert hall.hall_display and not DeviceSpec("display-1", "display", counter=1).hall_display
    (user,) = site_users("xa", [hall])
    assert _grants(user) == {("read", T.hall_state()), ("write", T.device_status("hall-tv"))}
    assert user.may_subscribe(T.hall_state()) and not user.may_subscribe(T.display_state(1))
    with pytest.raises(ValueError, match="needs the counter"):  # a bus display still needs one
        DeviceSpec("led-9", "display", "serial", bus="bus1", address=9)
