"""The pure parts of the device router, settings, and the in-process (--mqtt none) mode."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from controller.core.commands import (
    CallNext,
    Finish,
    IssueTicket,
    OpenCounter,
    PauseCounter,
    ResumeCounter,
    Start,
)
from controller.core.errors import DomainError
from controller.core.events import Event
from controller.core.floor import Floor
from controller.core.tickets import CounterStatus
from controller.devices.displays import HallBoard, affected_counters, display_for
from controller.devices.health import DeviceBoard
from controller.devices.keypads import (
    PRESS_BURST_S,
    PRESS_MAX_AGE_S,
    PRESS_MIN_CALL_S,
    PRESS_WINDOW,
    PRESS_WINDOW_S,
    PressGate,
    called_too_recently,
    commands_for_key,
    transfer_target,
)
from controller.settings import Settings, SettingsError
from controller.sitefile import load_sites
from devices.payloads import DeviceStatus, KeyPress, RatingPress
from devices.registry import DeviceSpec
from tests.bridge_support import eventually
from tests.devices_support import COMMUNE, device_floor, logged


def _floor() -> Floor:
    return Floor(load_sites(COMMUNE)[0])


def _apply(floor: Floor, *events: Event) -> list[Event]:
    floor.apply(events)
    return list(events)


def test_display_follows_call_start_finish_and_counter_status() -> None:
    floor = _floor()
    assert display_for(floor.state, 1).number is None and "đóng" in display_for(floor.state, 1).text
    _apply(floor, *floor.decide(OpenCounter(1, staff="a"), 1.0))
    assert display_for(floor.state, 1).text == ""
    floor.apply(floor.decide(IssueTicket("ht-khai-sinh", check_hours=False), 2.0))
    called = _apply(floor, *floor.decide(CallNext(1), 3.0))
    assert affected_counters(called, floor.state) == {1: True}
    shown = display_for(floor.state, 1, blink=True)
    assert (shown.number, shown.blink, shown.counter) == ("1001", True, 1)
    started = _apply(floor, *floor.decide(Start(1), 4.0))
    assert affected_counters(started, floor.state) == {1: False}
    steady = display_for(floor.state, 1)
    assert (steady.number, steady.blink) == ("1001", False)
    _apply(floor, *floor.decide(Finish(1), 5.0))
    assert display_for(floor.state, 1).number is None  # finished: the counter is free, the display blank
    _apply(floor, *floor.decide(PauseCounter(1, reason="x"), 6.0))
    assert "tạm dừng" in display_for(floor.state, 1).text
    assert affected_counters([Event("day.started", 7.0, {"day": "2030-01-01"})], floor.state) is None
    assert affected_counters([Event("device.changed", 7.0, {"counter": 1, "device": "d"})], floor.state) == {}


def test_hall_keeps_the_last_calls_and_a_recall_moves_to_the_top() -> None:
    hall = HallBoard("xa", size=3)
    calls = [Event("ticket.called", float(i), {"number": str(1000 + i), "counter": i}) for i in range(1, 5)]
    assert hall.apply(calls)
    assert [c["number"] for c in hall.payload()["calls"]] == ["1004", "1003", "1002"]
    assert hall.apply([Event("ticket.recalled", 9.0, {"number": "1002", "counter": 2})])
    assert [c["number"] for c in hall.payload()["calls"]] == ["1002", "1004", "1003"]
    assert hall.payload()["text"] == "Mời số 1002 đến quầy 2"
    assert not hall.apply([Event("ticket.started", 10.0, {"number": "1002", "counter": 2})])


def test_next_finishes_the_current_ticket_first_and_pause_toggles() -> None:
    floor = _floor()
    state = floor.state
    assert commands_for_key("next", 1, state, "k") == [CallNext(1, by="k")]
    state.counters[1].current = "some-ticket"
    assert commands_for_key("next", 1, state, "k") == [Finish(1, by="k"), CallNext(1, by="k")]
    assert commands_for_key("pause", 1, state, "k") == [PauseCounter(1, by="k", reason="keypad")]
    state.counters[1].status = CounterStatus.PAUSED
    assert commands_for_key("pause", 1, state, "k") == [ResumeCounter(1, by="k")]
    with pytest.raises(DomainError) as info:
        commands_for_key("transfer", 1, state, "k")
    assert info.value.code == "invalid_transfer"
    target = transfer_target(b'{"key": "transfer", "seq": 3, "to": 4}')
    assert commands_for_key("transfer", 1, state, "k", target)[0].to_counter == 4  # type: ignore[union-attr]


def test_a_seq_seen_in_the_window_is_a_repeat_even_after_a_newer_one() -> None:
    gate = PressGate()
    seqs = (100, 101, 100)
    verdicts = [gate.admit("keypad", 1, seq, f"k{seq}", None, 10.0 * i).verdict for i, seq in enumerate(seqs)]
    assert verdicts == ["ok", "ok", "duplicate"]  # issue 14 item 7: 100 after 101 ran again
    assert gate.admit("rating", 1, 100, 4, None, 30.0).verdict == "ok"  # other keypads count apart
    assert gate.admit("keypad", 2, 100, "next", None, 30.0).verdict == "ok"
    # out of the window, by count or by time, a seq is a new press (a count restarted long ago)
    for i in range(PRESS_WINDOW):
        gate.admit("keypad", 3, 1000 + i, f"k{i}", None, 10.0 * i)
    assert gate.admit("keypad", 3, 1000, "x", None, 10.0 * PRESS_WINDOW).verdict == "ok"
    gate.admit("keypad", 4, 7, "next", None, 0.0)
    assert gate.admit("keypad", 4, 7, "next", None, PRESS_WINDOW_S + 1).verdict == "ok"


def test_a_press_is_late_by_its_own_clock_and_a_burst_acts_once() -> None:
    gate = PressGate()
    now = 1_718_000_000.0
    assert gate.admit("keypad", 1, 1, "next", now - 1, now).verdict == "ok"
    late = gate.admit("keypad", 1, 2, "next", now + 3 - PRESS_MAX_AGE_S - 1, now + 3)
    assert late.verdict == "late" and late.age_s == pytest.approx(PRESS_MAX_AGE_S + 1)
    assert gate.admit("keypad", 1, 3, "next", now + 3 + 3600, now + 3).verdict == "late"  # a clock far ahead
    # three "next" flushed at once: the first acts, the others are the same press
    burst = [gate.admit("keypad", 1, s, "next", now + 10, now + 10 + 0.001 * s).verdict for s in (4, 5, 6)]
    assert burst == ["ok", "burst", "burst"]
    assert gate.admit("keypad", 1, 7, "start", None, now + 10.01).verdict == "ok"  # another key is another press
    assert gate.admit("keypad", 1, 8, "start", None, now + 10.01 + PRESS_BURST_S).verdict == "ok"


def test_presses_that_never_came_are_counted_from_the_seqs_skipped() -> None:
    gate = PressGate()
    assert gate.admit("keypad", 1, 41, "next", None, 0.0).lost == 0
    skipped = gate.admit("keypad", 1, 45, "next", None, 20.0)
    assert (skipped.verdict, skipped.lost) == ("ok", 3)
    # a jump of a restart (a count started from the clock) is not presses lost
    assert gate.admit("keypad", 1, 1_718_000_000_000, "next", None, 40.0).lost == 0
    assert gate.admit("keypad", 1, 1_718_000_000_001, "next", None, 60.0).lost == 0


def test_a_press_never_ends_a_ticket_called_moments_ago() -> None:
    floor = _floor()
    floor.apply(floor.decide(OpenCounter(1, staff="a"), 1.0))
    floor.apply(floor.decide(IssueTicket("ht-khai-sinh", check_hours=False), 2.0))
    assert called_too_recently("next", 1, floor.state, 3.0) is None  # nothing to end: it calls
    floor.apply(floor.decide(CallNext(1), 10.0))
    for key in ("next", "finish", "no_show"):
        assert called_too_recently(key, 1, floor.state, 12.5) == pytest.approx(2.5)  # type: ignore[arg-type]
        assert called_too_recently(key, 1, floor.state, 10.0 + PRESS_MIN_CALL_S) is None  # type: ignore[arg-type]
    assert called_too_recently("recall", 1, floor.state, 12.5) is None
    floor.apply(floor.decide(Start(1), 11.0))
    assert called_too_recently("finish", 1, floor.state, 12.5) is None  # at the counter already


def _board(hold_s: float = 5.0) -> DeviceBoard:
    return DeviceBoard(
        [
            DeviceSpec("led-1", "display", "serial", counter=1, bus="b1", address=1),
            DeviceSpec("keypad-1", "keypad", counter=1),
        ],
        hold_s,
    )


def test_a_flapping_device_is_logged_at_most_once_per_hold() -> None:
    board = _board(hold_s=5.0)
    board.observe("keypad-1", DeviceStatus(True, {"uptime": 1}), 0.0)
    assert [c["status"] for c in board.take_changes(0.0)] == ["online"]
    for i in range(1, 20):  # flapping for a second: nothing now
        board.observe("keypad-1", DeviceStatus(i % 2 == 0), i * 0.05)
        assert board.take_changes(i * 0.05) == []
    assert board.devices["keypad-1"].status == "offline"  # the live view is current
    assert board.next_due() == 5.0
    assert [c["status"] for c in board.take_changes(5.0)] == ["offline"]
    board.observe("keypad-1", DeviceStatus(True, {"uptime": 2}), 20.0)
    board.observe("keypad-1", DeviceStatus(True, {"uptime": 3}), 21.0)
    assert [c["status"] for c in board.take_changes(21.0)] == ["online"]
    board.observe("keypad-1", DeviceStatus(True, {"uptime": 99}), 40.0)  # uptime alone: not a change
    assert board.take_changes(40.0) == []
    board.observe("keypad-1", DeviceStatus(True, {"paper": "low"}), 41.0)
    assert board.take_changes(41.0)[0]["health"] == {"paper": "low"}
    assert not board.observe("ghost", DeviceStatus(True), 42.0)


def test_a_dead_bridge_takes_its_bus_offline_and_the_log_seeds_a_restart() -> None:
    board = _board(hold_s=0.0)
    board.observe("led-1", DeviceStatus(True), 0.0)
    board.observe("bridge-b1", DeviceStatus(True), 0.0)
    assert {c["device"] for c in board.take_changes(0.0)} == {"led-1", "bridge-b1"}
    board.observe("bridge-b1", DeviceStatus(False), 1.0)
    changes = {c["device"]: c for c in board.take_changes(1.0)}
    assert changes["led-1"]["status"] == "offline" and changes["led-1"]["health"] == {"reason": "bridge-b1 offline"}
    board.observe("bridge-b1", DeviceStatus(True), 2.0)  # its devices are online again as they last said
    assert board.devices["led-1"].status == "online"
    restarted = _board(hold_s=0.0)
    restarted.seed([({"device": "keypad-1", "status": "online", "health": {}}, 0.0)])
    restarted.observe("keypad-1", DeviceStatus(True), 3.0)
    assert restarted.take_changes(3.0) == []  # the log already says so


@pytest.mark.parametrize(
    ("mqtt", "devices", "reason"),
    [
        ("none", "real", "needs a broker"),
        ("mqtt://127.0.0.1:1883", "none", "add --devices"),
        ("tcp://x", "sim", "--mqtt must be"),
        ("mqtt://:1883", "sim", "--mqtt must be"),
        ("mqtt://host:99999", "sim", "Port out of range"),
    ],
)
def test_settings_refuse_device_options_that_would_do_nothing(mqtt: str, devices: str, reason: str) -> None:
    with pytest.raises(SettingsError, match=reason):
        Settings(site_file=COMMUNE, data_dir=Path("."), mqtt=mqtt, devices=devices)


def test_settings_accept_brokers() -> None:
    embedded = Settings(site_file=COMMUNE, data_dir=Path("."), mqtt="embedded", devices="sim")
    assert (embedded.mqtt_embedded, embedded.mqtt_url) == (True, "mqtt://127.0.0.1:1883")
    chosen = Settings(site_file=COMMUNE, data_dir=Path("."), mqtt="embedded://127.0.0.1:18830", devices="sim")
    assert chosen.mqtt_address == ("127.0.0.1", 18830)
    external = Settings(site_file=COMMUNE, data_dir=Path("."), mqtt="mqtt://broker.lan", devices="real")
    assert (external.mqtt_embedded, external.mqtt_url) == (False, "mqtt://broker.lan:1883")


def test_in_process_devices_without_a_broker(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with device_floor(tmp_path, "none", "sim") as f:
            display = f.service.displays[("xa", 1)]
            keys = f.service.keys[("xa", 1)]
            assert f.service.router is not None
            # the fakes of counters are online, and the kiosk's FakePrinter reports its health
            await eventually(
                lambda: {d["device"]: d["status"] for d in f.runtime.device_view()}
                == {**{f"{k}-{c}": "online" for k in ("display", "keypad", "rating") for c in range(1, 7)},
                    "printer-k1": "online"}
            )
            keys.press(KeyPress("next", 1))
            await eventually(lambda: display.number == "1001")
            # the citizen came (start): "next" may finish the ticket now, however soon after the call
            keys.press(KeyPress("start", 2))
            await eventually(lambda: display.shown is not None and not display.shown.blink)
            keys.press(KeyPress("next", 4))
            await eventually(lambda: display.number == "1002")
            # "next" is finish + call: the display went from 1001 straight to 1002, no blank between
            shown = [state.number if state else None for state in display.history]
            assert shown[shown.index("1001"):] == ["1001", "1001", "1002"]
            keys.press(RatingPress(3, 3))
            await eventually(lambda: f.service.stats.presses[("xa", "rating")] == 1)
            snapshot = f.runtime.device_view()
            assert {d["device"] for d in snapshot} >= {"display-1", "keypad-1", "rating-1"}
            assert [e.data["number"] for e in await logged(f.runtime, "ticket.called")] == ["1001", "1002"]
            assert len(await logged(f.runtime, "rating.recorded")) == 1

    asyncio.run(scenario())
