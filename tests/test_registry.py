"""Device registry: defaults of CONTRACT.md section 4 and refusal of bad entries."""

from __future__ import annotations

import re

import pytest

from devices.registry import DeviceConfigError, DeviceSpec, parse_devices


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
