"""The monitor's device lines: where each device is, its availability since when, and when it last reported."""

from __future__ import annotations

from controller.devices.health import DeviceBoard
from devices.payloads import DeviceStatus
from devices.registry import DeviceSpec


def test_a_device_line_says_where_it_is_and_when_it_was_last_heard_from() -> None:
    board = DeviceBoard([
        DeviceSpec("printer-k2", "printer", kiosk="k2"),
        DeviceSpec("led-3", "display", transport="serial", counter=3, bus="bus1", address=3),
    ])
    board.observe("printer-k2", DeviceStatus(True, {"paper": "near_end", "can_print": True}), 100.0)
    board.observe("printer-k2", DeviceStatus(True, {"paper": "near_end", "can_print": True}), 130.0)
    board.observe("printer-k2", DeviceStatus(False), 200.0)  # its last will: gone, not heard from
    board.observe("bridge-bus1", DeviceStatus(True), 150.0)
    board.observe("led-3", DeviceStatus(True, {"frames": 12, "retries": 1}), 160.0)
    rows = {row["device"]: row for row in board.snapshot()}
    printer = rows["printer-k2"]
    assert (printer["status"], printer["since"], printer["last_seen"], printer["kiosk"]) == ("offline", 200.0, 130.0,
                                                                                            "k2")
    led = rows["led-3"]
    assert (led["counter"], led["bus"], led["address"], led["last_seen"]) == (3, "bus1", 3, 160.0)
    assert led["health"] == {"frames": 12, "retries": 1}
    assert rows["bridge-bus1"]["kind"] == "bridge"
