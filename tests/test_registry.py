"""Device registry: defaults of CONTRACT.md section 4 and refusal of bad entries."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from controller.core.errors import SiteError
from controller.devices.printers import NETWORK_TIMEOUT_S, direct_address
from controller.sitefile import load_sites
from devices.mqtt_acl import site_users
from devices.printer.address import PrinterAddress
from devices.registry import DeviceConfigError, DeviceSpec, parse_devices
from tests.devices_support import COMMUNE


def test_defaults_when_no_devices_listed() -> None:
    empty: list[list[dict[str, object]] | None] = [None, []]
    for raw in empty:
        specs = parse_devices(raw, [2, 1], "xa.toml")
        assert [s.id for s in specs] == [
            "display-1", "keypad-1", "rating-1", "display-2", "keypad-2", "rating-2", "printer-k1",
        ]
        assert all(s.transport == "mqtt" for s in specs)
        assert specs[0] == DeviceSpec(id="display-1", kind="display", counter=1)
        assert specs[-1].kiosk == "k1"


def test_listed_devices() -> None:
    raw: list[dict[str, object]] = [
        {"id": "led-3", "kind": "display", "counter": 3, "transport": "serial", "bus": "bus1",
         "address": 3},
        {"id": "kp-3", "kind": "keypad", "counter": 3, "transport": "serial", "bus": "bus1",
         "address": 4},
        {"id": "m-3", "kind": "display", "counter": 3, "transport": "modbus", "bus": "bus2",
         "address": 3},
        {"id": "prn", "kind": "printer", "transport": "tcp", "url": "tcp://10.0.0.5:9100"},
        {"id": "spk", "kind": "speaker", "zone": "hall"},
    ]
    specs = parse_devices(raw, [1, 2, 3], "xa.toml")
    assert specs[0] == DeviceSpec("led-3", "display", "serial", 3, "bus1", 3)
    assert specs[2].transport == "modbus"
    assert specs[3].kiosk == "k1"
    assert specs[4].transport == "mqtt"
    assert specs[4].zone == "hall"


def _serial(**extra: object) -> dict[str, object]:
    return {"id": "led-1", "kind": "display", "counter": 1, "transport": "serial", "bus": "b",
            "address": 1, **extra}


@pytest.mark.parametrize(
    ("raw", "field", "reason"),
    [
        ([_serial(address=0)], "device[0].address", "1..254"),
        ([_serial(address=255)], "device[0].address", "1..254"),
        ([_serial(address="3")], "device[0].address", "1..254"),
        ([_serial(bus=None)], "device[0].bus", "bus id"),
        ([_serial(counter=9)], "device[0].counter", "no counter 9"),
        ([_serial(counter=None)], "device[0].counter", "needs the counter"),
        ([_serial(kind="lamp")], "device[0].kind", "not one of"),
        ([_serial(transport="zigbee")], "device[0].transport", "not one of"),
        ([_serial(adress=3)], "device[0].adress", "unknown field"),
        ([_serial(id="led 1")], "device[0].id", "letters"),
        ([_serial(kind="printer", counter=None)], "device[0].bus", "not a printer's own serial line"),
        ([_serial(kind="keypad", transport="modbus")], "device[0].transport", "cannot be driven"),
        ([{"id": "x", "kind": "display", "counter": 1, "address": 2}], "device[0].address", "bus"),
        ([{"id": "p", "kind": "printer", "transport": "tcp"}], "device[0].url", "url"),
        ([{"kind": "display", "counter": 1}], "device[0].id", "required"),
        (["led"], "device[0]", "table"),
        ([_serial(), _serial(address=2)], "device[1].id", "already used by device[0]"),
        ([_serial(), _serial(id="led-2")], "device[1].address", "already used by device[0]"),
    ],
)
def test_bad_entries_are_refused(raw: list[dict[str, object]], field: str, reason: str) -> None:
    with pytest.raises(DeviceConfigError, match=re.escape(reason)) as info:
        parse_devices(raw, [1, 2], "site.toml")
    assert info.value.field == field
    assert str(info.value).startswith(f"site.toml: {field}: ")
    assert isinstance(info.value, ValueError)


def test_same_address_on_other_bus_is_fine() -> None:
    specs = parse_devices([_serial(), _serial(id="led-2", bus="c")], [1], "s.toml")
    assert len(specs) == 2


def _printer(**extra: object) -> dict[str, object]:
    return {"id": "prn", "kind": "printer", **extra}


@pytest.mark.parametrize(
    ("entry", "field", "reason"),
    [
        (_printer(transport="network"), "host", "needs its host"),
        (_printer(transport="network", host="tcp://10.0.0.5"), "host", "no scheme"),
        (_printer(transport="network", host="10.0.0.5", port=70000), "port", "1..65535"),
        (_printer(transport="network", host="10.0.0.5", path="/dev/usb/lp0"), "path",
         'is for a printer with transport = "serial" or transport = "usb"'),
        (_printer(transport="network", host="10.0.0.5", url="tcp://10.0.0.5:9100"), "url", "not url"),
        (_printer(transport="usb"), "path", "e.g. /dev/usb/lp0"),
        (_printer(transport="usb", path="usb/lp0"), "path", "absolute"),
        (_printer(transport="serial", path="/dev/ttyUSB0", baud=12345), "baud", "not one of"),
        (_printer(transport="serial", path="/dev/ttyUSB0", host="x"), "host", 'transport = "network"'),
        (_printer(transport="local"), "transport", "local is for a speaker, not a printer"),
        ({"id": "d", "kind": "display", "counter": 1, "transport": "network", "host": "x"}, "transport",
         "network is for a printer, not a display"),
        ({"id": "d", "kind": "display", "counter": 1, "host": "10.0.0.9"}, "host", "not a display"),
        ({"id": "s", "kind": "speaker", "transport": "local", "port": 1}, "port", "not a speaker"),
    ],
)
def test_direct_devices_need_their_fields_and_only_theirs(entry: dict[str, object], field: str, reason: str) -> None:
    with pytest.raises(DeviceConfigError, match=re.escape(reason)) as info:
        parse_devices([entry], [1], "xa.toml")
    assert info.value.field == f"device[0].{field}"
    assert str(info.value).startswith(f"xa.toml: device[0].{field}: ")


def _example_devices() -> str:
    """The commented [[device]] example at the end of the commune demo file, uncommented."""
    text = COMMUNE.read_text(encoding="utf-8")
    block = text[text.index("# [[device]]"):]
    return "\n".join(line.removeprefix("#").removeprefix(" ") for line in block.splitlines())


def test_the_demo_file_example_is_valid_and_says_how_each_device_is_reached(tmp_path: Path) -> None:
    site_file = tmp_path / "xa.toml"
    site_file.write_text(COMMUNE.read_text(encoding="utf-8") + _example_devices(), encoding="utf-8")
    [site] = load_sites(site_file)
    specs = {s.id: s for s in site.devices if isinstance(s, DeviceSpec)}
    assert set(specs) == {"led-1", "display-2", "hall-tv", "printer-k1", "printer-k2", "printer-k3", "loa-sanh"}
    assert specs["hall-tv"].hall_display
    # a network printer silent for NETWORK_TIMEOUT_S is hung: its job fails within the kiosk's deadline
    assert direct_address(specs["printer-k1"]) == PrinterAddress("tcp", "192.168.1.50", port=9100,
                                                                 timeout_s=NETWORK_TIMEOUT_S)
    assert direct_address(specs["printer-k2"]) == PrinterAddress("file", "/dev/usb/lp0")
    assert direct_address(specs["printer-k3"]) == PrinterAddress("serial", "/dev/ttyUSB0", baudrate=19200,
                                                                 timeout_s=2.0)
    assert specs["loa-sanh"].local_speaker and not specs["led-1"].local_speaker
    assert specs["led-1"].on_a_bus and not specs["printer-k3"].on_a_bus
    # what this host drives needs no broker user; the bus display goes through its bridge
    users = {u.username for u in site_users("xa", list(specs.values()))}
    assert users == {"display-2@xa", "hall-tv@xa", "bridge-bus1@xa"}


def test_older_files_that_said_it_with_url_are_read_the_same_way() -> None:
    old = parse_devices([
        _printer(url="tcp://10.0.0.5:9100"),
        {"id": "p2", "kind": "printer", "kiosk": "k2", "transport": "tcp", "url": "tcp://10.0.0.6"},
        {"id": "spk", "kind": "speaker", "zone": "hall", "url": "local:"},
        {"id": "gw", "kind": "printer", "kiosk": "k3"},
    ], [1], "old.toml")
    assert direct_address(old[0]) == PrinterAddress("tcp", "10.0.0.5", port=9100)
    assert direct_address(old[1]) == PrinterAddress("tcp", "10.0.0.6", port=9100)
    assert old[2].local_speaker
    assert direct_address(old[3]) is None  # an MQTT gateway prints it


def test_a_bad_device_in_a_site_file_names_the_file_field_and_reason(tmp_path: Path) -> None:
    site_file = tmp_path / "xa.toml"
    site_file.write_text(COMMUNE.read_text(encoding="utf-8")
                         + '\n[[device]]\nid = "p"\nkind = "printer"\ntransport = "usb"\n', encoding="utf-8")
    with pytest.raises(SiteError) as info:
        load_sites(site_file)
    assert (info.value.source, info.value.field) == (str(site_file), "device[0].path")
    assert "needs the path of its device file" in info.value.reason
