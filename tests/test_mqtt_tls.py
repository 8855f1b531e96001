"""TLS and credentials for the controller and the bridge: a mosquitto TLS listener with generated
users, a throw-away CA, and a serial keypad press that reaches its LED through both."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import ssl
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from controller.cli import main
from controller.settings import Settings, SettingsError
from firmware_bridge.emulators import KeypadEmulator, LedDisplayEmulator, SerialBusEmulator
from firmware_bridge.line import SerialLine
from firmware_bridge.mqtt_link import parse_mqtt_url
from firmware_bridge.mqtt_security import ENV_PASSWORD, ENV_USERNAME, MqttSecurity, security_from_args
from tests.bridge_support import bridge_process, eventually
from tests.devices_support import COMMUNE, SERIAL_DEVICES
from tests.mqtt_auth_support import AuthClient, TlsFiles, broker_with_config, make_tls, secrets
from tests.server import KIOSK, login, serve_process
from tests.services import Mosquitto, PtyPair, env_without_proxies, free_port, socat_pty_pair

ROOT = Path(__file__).resolve().parent.parent


def _args(**values: object) -> argparse.Namespace:
    base: dict[str, object] = {"mqtt": "mqtt://127.0.0.1:1883", "mqtt_username": None, "mqtt_password": None,
                               "mqtt_ca": None, "mqtt_cert": None, "mqtt_key": None}
    return argparse.Namespace(**{**base, **values})


def test_security_settings_from_flags_and_environment(tmp_path: Path) -> None:
    ca = tmp_path / "ca.pem"
    ca.write_text("not read here")
    env = {ENV_USERNAME: "bridge-bus1@xa", ENV_PASSWORD: "from-env"}
    assert security_from_args(_args(), env) == MqttSecurity("bridge-bus1@xa", "from-env")
    flags = security_from_args(_args(mqtt="mqtts://h", mqtt_username="u", mqtt_password="p", mqtt_ca=str(ca)), env)
    assert flags == MqttSecurity("u", "p", tls=True, ca_file=str(ca))
    with pytest.raises(ValueError, match="mqtts"):
        security_from_args(_args(mqtt_ca=str(ca)), {})
    with pytest.raises(ValueError, match="no such file"):
        security_from_args(_args(mqtt="mqtts://h", mqtt_ca=str(tmp_path / "missing.pem")), {})
    with pytest.raises(ValueError, match="username"):
        security_from_args(_args(mqtt_password="p"), {})
    assert parse_mqtt_url("mqtts://broker") == ("broker", 8883)
    settings = Settings(site_file=COMMUNE, data_dir=tmp_path, mqtt="mqtts://broker", devices="real")
    assert settings.mqtt_url == "mqtts://broker:8883"
    with pytest.raises(SettingsError, match="mqtts"):
        Settings(site_file=COMMUNE, data_dir=tmp_path, mqtt="tls://broker", devices="real")


@pytest.fixture
def tls_broker(tmp_path: Path) -> Iterator[tuple[Mosquitto, TlsFiles, dict[str, str]]]:
    tls = make_tls(tmp_path)
    site_file = tmp_path / "site.toml"
    site_file.write_text(COMMUNE.read_text(encoding="utf-8") + SERIAL_DEVICES, encoding="utf-8")
    port = free_port()
    out = tmp_path / "mqtt"
    assert main(["mqtt-config", "--site", str(site_file), "--out", str(out), "--listen", "none",
                 "--tls-listen", f"127.0.0.1:{port}", "--tls-ca", str(tls.ca), "--tls-cert", str(tls.cert),
                 "--tls-key", str(tls.key)]) == 0
    with broker_with_config(out / "mosquitto.conf", port) as broker:
        yield broker, tls, secrets(out)


@pytest.mark.integration
# paho leaves the socket of a failed TLS handshake for the garbage collector: its leak, not ours
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_tls_listener_checks_the_broker_certificate_and_the_password(
    tls_broker: tuple[Mosquitto, TlsFiles, dict[str, str]],
) -> None:
    broker, tls, passwords = tls_broker
    with AuthClient(broker.port, "bridge-bus1@xa", passwords["bridge-bus1@xa"], ca=tls.ca) as good:
        assert good.connect()
    with (
        AuthClient(broker.port, "bridge-bus1@xa", passwords["bridge-bus1@xa"], ca=tls.other_ca) as impostor,
        pytest.raises(ssl.SSLCertVerificationError),
    ):
        impostor.connect()
    gc.collect()  # the leaked socket is reported here, inside this test
    with AuthClient(broker.port, "bridge-bus1@xa", "guessed", ca=tls.ca) as guesser:
        assert not guesser.connect()
    with AuthClient(broker.port, ca=tls.ca) as anonymous:
        assert not anonymous.connect()


def _bridge(site_file: Path, pair: PtyPair, url: str, ca: Path, password: str,
            log_path: Path) -> contextlib.AbstractContextManager[subprocess.Popen[bytes]]:
    # the bridge's password comes from the environment, the controller's from a flag: both paths
    return bridge_process(site_file, pair, url, log_path, "--mqtt-ca", str(ca),
                          env={ENV_USERNAME: "bridge-bus1@xa", ENV_PASSWORD: password})


@pytest.mark.integration
@pytest.mark.slow
def test_serial_keypad_to_led_over_tls_with_device_credentials(
    tmp_path: Path, tls_broker: tuple[Mosquitto, TlsFiles, dict[str, str]],
) -> None:
    broker, tls, passwords = tls_broker
    url = f"mqtts://127.0.0.1:{broker.port}"
    site_file = tmp_path / "site.toml"
    led, keypad = LedDisplayEmulator(1), KeypadEmulator(2)
    with (
        socat_pty_pair(tmp_path) as pair,
        serve_process(site_file, tmp_path / "data", "--mqtt", url, "--devices", "real", "--mqtt-ca", str(tls.ca),
                      "--mqtt-username", "motcua-controller",
                      "--mqtt-password", passwords["motcua-controller"]) as server,
        _bridge(site_file, pair, url, tls.ca, passwords["bridge-bus1@xa"], tmp_path / "bridge.log"),
    ):
        staff = login(server.url, "quay1", "1234")
        httpx.post(f"{server.url}/api/v1/sites/xa/counters/1/open", headers=staff, timeout=10).raise_for_status()
        ticket = httpx.post(f"{server.url}/api/v1/sites/xa/tickets", headers=KIOSK,
                            json={"procedure": "ht-khai-sinh"}, timeout=10)
        number = str(ticket.json()["number"])

        async def floor() -> None:
            async with SerialLine(pair.device_side) as line, SerialBusEmulator(line, [led, keypad]):
                await eventually(lambda: len(led.history) > 0, timeout_s=15)
                keypad.press("next")
                await eventually(lambda: led.number == number, timeout_s=15)

        try:
            asyncio.run(floor())
        except TimeoutError:
            pytest.fail(f"LED shows {led.number!r}; bridge log: {(tmp_path / 'bridge.log').read_text()[-2000:]}; "
                        f"server log: {server.log_path.read_text()[-2000:]}")
        manager = login(server.url, "quanly", "demo")
        monitor = httpx.get(f"{server.url}/api/v1/sites/xa/monitor", headers=manager, timeout=10).json()
        assert monitor["counters"][0]["current"]["number"] == number


def test_serve_refuses_tls_files_without_mqtts(tmp_path: Path) -> None:
    ca = tmp_path / "ca.pem"
    ca.write_text("x")
    result = subprocess.run(
        [sys.executable, "-m", "controller.cli", "serve", "--site", str(COMMUNE), "--data-dir", str(tmp_path / "d"),
         "--demo", "--mqtt", "mqtt://127.0.0.1:1", "--devices", "real", "--mqtt-ca", str(ca)],
        capture_output=True, text=True, timeout=60, env=env_without_proxies(), cwd=ROOT,
    )
    assert result.returncode == 2 and "mqtts" in result.stderr
