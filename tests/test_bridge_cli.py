"""`motcua bridge` and the emulator command: site file checks and a run as real processes."""

from __future__ import annotations

import argparse
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from devices.payloads import DisplayState, encode_display_state
from devices.registry import DeviceConfigError
from devices.topics import SiteTopics
from firmware_bridge.cli import run
from firmware_bridge.site import SiteFileError, load_bus
from tests.bridge_support import MqttRecorder
from tests.services import Mosquitto, PtyPair, env_without_proxies

ROOT = Path(__file__).resolve().parent.parent
HEAD = '[site]\nid = "xa"\n\n[[counter]]\nids = [1, 2]\n'


def device(id_: str, kind: str, counter: int, transport: str, bus: str, address: int) -> str:
    return (
        f'\n[[device]]\nid = "{id_}"\nkind = "{kind}"\ncounter = {counter}\n'
        f'transport = "{transport}"\nbus = "{bus}"\naddress = {address}\n'
    )


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "site.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_load_bus_selects_the_devices_of_one_bus(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        HEAD
        + device("led-1", "display", 1, "serial", "bus1", 1)
        + device("kp-1", "keypad", 1, "serial", "bus1", 2)
        + device("m-2", "display", 2, "modbus", "bus2", 1),
    )
    bus1 = load_bus(path, "bus1")
    assert (bus1.site, bus1.dialect, [d.id for d in bus1.devices]) == (
        "xa", "framed", ["led-1", "kp-1"],
    )
    assert load_bus(path, "bus2", site="xa").dialect == "modbus"


@pytest.mark.parametrize(
    ("text", "bus", "site", "reason"),
    [
        ('[province]\nid = "demo"\n', "bus1", None, "province file"),
        ("[site]\nname = 'x'\n", "bus1", None, "site.id"),
        (HEAD, "bus1", None, "no serial or modbus device on bus 'bus1'"),
        (HEAD + device("a", "display", 1, "serial", "b", 1), "b", "other", "not 'other'"),
        (
            HEAD + device("a", "display", 1, "serial", "b", 1)
            + device("c", "display", 2, "modbus", "b", 2),
            "b", None, "mixes serial and modbus",
        ),
        ("[site\n", "b", None, "not valid TOML"),
    ],
)
def test_load_bus_refuses(tmp_path: Path, text: str, bus: str, site: str | None, reason: str) -> None:
    with pytest.raises(SiteFileError, match=reason) as info:
        load_bus(write(tmp_path, text), bus, site)
    assert str(tmp_path) in str(info.value)


def test_bad_device_entry_names_the_field(tmp_path: Path) -> None:
    path = write(tmp_path, HEAD + device("a", "display", 7, "serial", "b", 1))
    with pytest.raises(DeviceConfigError) as info:
        load_bus(path, "b")
    assert info.value.field == "device[0].counter"


def _args(site_file: Path, **extra: object) -> argparse.Namespace:
    values: dict[str, object] = {
        "site_file": str(site_file), "bus": "bus1", "serial": "/nonexistent/tty",
        "baud": 9600, "mqtt": "mqtt://127.0.0.1:1", "site": None,
    }
    return argparse.Namespace(**{**values, **extra})


def test_run_refuses_bad_input_with_exit_code_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(_args(ROOT / "controller" / "sites" / "province.toml")) == 2
    assert "province file" in capsys.readouterr().err
    assert run(_args(ROOT / "controller" / "sites" / "commune-centre.toml")) == 2
    assert "no serial or modbus device" in capsys.readouterr().err


def test_run_reports_a_missing_serial_port(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, HEAD + device("led-1", "display", 1, "serial", "bus1", 1))
    assert run(_args(path)) == 1
    assert "cannot open serial port" in capsys.readouterr().err


@pytest.mark.integration
def test_bridge_and_emulator_as_processes(
    tmp_path: Path, mosquitto: Mosquitto, pty_pair: PtyPair
) -> None:
    path = write(
        tmp_path,
        HEAD
        + device("led-1", "display", 1, "serial", "bus1", 1)
        + device("kp-1", "keypad", 1, "serial", "bus1", 2),
    )
    topics = SiteTopics("xa")
    env = env_without_proxies()
    emulator = subprocess.Popen(
        [sys.executable, "-m", "firmware_bridge.emulators", "--serial", pty_pair.device_side,
         "--site-file", str(path), "--bus", "bus1"],
        stdout=subprocess.PIPE, text=True, env=env, cwd=ROOT,
    )
    bridge = subprocess.Popen(
        [sys.executable, "-m", "controller.cli", "bridge", "--site-file", str(path), "--bus",
         "bus1", "--serial", pty_pair.host_side, "--mqtt", mosquitto.url],
        stderr=subprocess.PIPE, text=True, env=env, cwd=ROOT,
    )
    try:
        with MqttRecorder(mosquitto.port, [topics.subscription("device_status")]) as ctl:
            ctl.publish(
                topics.display_state(1), encode_display_state(DisplayState("2015", 1)), retain=True
            )
            assert emulator.stdout is not None
            deadline = time.monotonic() + 10
            line = ""
            while "display 1: 2015" not in line and time.monotonic() < deadline:
                line = emulator.stdout.readline()
            assert "display 1: 2015" in line
            bridge.send_signal(signal.SIGTERM)
            assert bridge.wait(timeout=10) == 0
            statuses = {t: p for t, p, _ in ctl.drain()}
            deadline = time.monotonic() + 5
            while statuses.get(topics.device_status("bridge-bus1")) != b"offline":
                assert time.monotonic() < deadline, statuses
                time.sleep(0.05)
                statuses = {t: p for t, p, _ in ctl.drain()}
            assert statuses[topics.device_status("led-1")] == b"offline"
    finally:
        for proc in (bridge, emulator):
            if proc.poll() is None:
                proc.terminate()
                proc.wait(timeout=5)
        if emulator.stdout is not None:
            emulator.stdout.close()
        if bridge.stderr is not None:
            bridge.stderr.close()
