"""MQTT topics and payload codecs of CONTRACT.md section 4."""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from devices.errors import ProtocolError
from devices.payloads import (
    KEY_NAMES,
    MAX_PAYLOAD_BYTES,
    DeviceStatus,
    DisplayState,
    KeyPress,
    RatingPress,
    encode_device_status,
    encode_display_state,
    encode_key_press,
    encode_rating_press,
    parse_device_status,
    parse_display_state,
    parse_key_press,
    parse_rating_press,
)
from devices.topics import SiteTopics, TopicMatch, parse_topic


def test_topics_golden() -> None:
    t = SiteTopics("xa")
    assert t.display_state(7) == "motcua/xa/display/7/state"
    assert t.hall_state() == "motcua/xa/hall/state"
    assert t.keypad_press(3) == "motcua/xa/keypad/3/press"
    assert t.rating_press(3) == "motcua/xa/rating/3/press"
    assert t.printer_job("k1") == "motcua/xa/printer/k1/job"
    assert t.voice_say("hall") == "motcua/xa/voice/hall/say"
    assert t.device_status("led-3") == "motcua/xa/device/led-3/status"
    assert t.subscription("keypad_press") == "motcua/xa/keypad/+/press"
    assert t.subscription("hall_state") == "motcua/xa/hall/state"


@pytest.mark.parametrize("site", ["", "a/b", "+", "#", "x y", "-x"])
def test_site_is_checked(site: str) -> None:
    with pytest.raises(ValueError):
        SiteTopics(site)


def test_topic_parts_are_checked() -> None:
    t = SiteTopics("xa")
    with pytest.raises(ValueError):
        t.display_state(0)
    with pytest.raises(ValueError):
        t.display_state(True)
    with pytest.raises(ValueError):
        t.device_status("led/3")
    with pytest.raises(ValueError):
        t.printer_job("#")


def test_parse_topic() -> None:
    assert parse_topic("motcua/xa/keypad/3/press") == TopicMatch("xa", "keypad_press", counter=3)
    assert parse_topic("motcua/xa/device/led-3/status") == TopicMatch(
        "xa", "device_status", name="led-3"
    )
    assert parse_topic("motcua/xa/hall/state") == TopicMatch("xa", "hall_state")


@pytest.mark.parametrize(
    "topic",
    [
        "motcua/xa/keypad/x/press",
        "motcua/xa/keypad/0/press",
        "motcua/xa/keypad/3",
        "other/xa/keypad/3/press",
        "motcua/xa/lamp/3/state",
        "motcua/xa/display/3/state/extra",
    ],
)
def test_parse_topic_rejects(topic: str) -> None:
    with pytest.raises(ProtocolError):
        parse_topic(topic)


def test_display_state_golden() -> None:
    state = DisplayState(number="2015", counter=7, blink=True, text="Mời công dân số 2015")
    data = encode_display_state(state)
    assert data == (
        '{"number":"2015","counter":7,"blink":true,"text":"Mời công dân số 2015"}'.encode()
    )
    assert parse_display_state(data) == state


def test_display_state_loose_input() -> None:
    assert parse_display_state(b'{"number": 2015, "counter": "7"}') == DisplayState("2015", 7)
    assert parse_display_state('{"number": "", "counter": 7, "text": null}') == DisplayState(None, 7)
    assert parse_display_state(b'{"number": null, "counter": 7}').number is None


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        (b"\xff\xfe", "UTF-8"),
        (b"{not json", "not JSON"),
        (b"[1, 2]", "JSON object"),
        (b'{"number": "2015"}', "lacks 'counter'"),
        (b'{"number": "2015", "counter": 0}', "counter"),
        (b'{"number": "20 15", "counter": 1}', "number"),
        (b'{"number": ["2015"], "counter": 1}', "number"),
        (b'{"number": "2015", "counter": 1, "blink": "yes"}', "blink"),
        (b'{"number": "2015", "counter": 1, "text": 5}', "text"),
        (b'{"number": "2015", "counter": true}', "counter"),
    ],
)
def test_display_state_malformed(payload: bytes, reason: str) -> None:
    with pytest.raises(ProtocolError, match=reason):
        parse_display_state(payload)


def test_key_press() -> None:
    assert encode_key_press(KeyPress("no_show", 4)) == b'{"key":"no_show","seq":4}'
    assert encode_key_press(KeyPress("next", 5, at=1718000000.25)) == b'{"key":"next","seq":5,"at":1718000000.25}'
    assert parse_key_press(b'{"key": "next", "seq": 5, "at": 1718000000.25}') == KeyPress("next", 5, 1718000000.25)
    assert parse_key_press(b'{"key": "next", "seq": 5, "at": null}') == KeyPress("next", 5)
    for name in KEY_NAMES:
        assert parse_key_press(encode_key_press(KeyPress(name, 1))).key == name


# issue 14 item 7: each of these changed the floor; HTTP refuses the same looseness with 422
@pytest.mark.parametrize(
    "payload",
    [
        b'{"key": "next", "seq": "2"}',
        b'{"key": "next", "seq": 7.0}',
        b'{"key": "NEXT", "seq": 1}',
        b'{"key": " Next ", "seq": 1}',
        b'{"key": "no-show", "seq": 1}',
        b'{"key": "next", "seq": 1, "at": "1718000000"}',
        b'{"key": "next", "seq": 1, "at": true}',
        b'{"key": "next", "seq": 1, "at": -5}',
        b'{"key": "next", "seq": 1, "at": NaN}',
    ],
)
def test_key_press_is_typed_as_strictly_as_http(payload: bytes) -> None:
    with pytest.raises(ProtocolError):
        parse_key_press(payload)


@pytest.mark.parametrize(
    "payload", [b'{"score": "4", "seq": 1}', b'{"score": 4.0, "seq": 1}', b'{"score": 4, "seq": "1"}']
)
def test_rating_press_is_typed_as_strictly_as_http(payload: bytes) -> None:
    with pytest.raises(ProtocolError, match="not an integer"):
        parse_rating_press(payload)


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        (b'{"key": "reboot", "seq": 1}', "unknown key"),
        (b'{"key": 1, "seq": 1}', "not a string"),
        (b'{"key": "next"}', "lacks 'seq'"),
        (b'{"key": "next", "seq": -1}', "seq"),
        (b'{"key": "next", "seq": 1.5}', "not an integer"),
        (b'{"key": "next", "seq": false}', "not an integer"),
        (b"next", "not JSON"),
    ],
)
def test_key_press_malformed(payload: bytes, reason: str) -> None:
    with pytest.raises(ProtocolError, match=reason):
        parse_key_press(payload)


def test_rating_press() -> None:
    assert encode_rating_press(RatingPress(4, 9)) == b'{"score":4,"seq":9}'
    assert parse_rating_press(b'{"score": 4, "seq": 9}') == RatingPress(4, 9)
    with pytest.raises(ProtocolError, match=r"outside 1\.\.4"):
        parse_rating_press(b'{"score": 5, "seq": 9}', levels=4)
    with pytest.raises(ProtocolError, match="outside"):
        parse_rating_press(b'{"score": 0, "seq": 9}')


def test_device_status() -> None:
    assert encode_device_status(DeviceStatus(online=True)) == b"online"
    assert encode_device_status(DeviceStatus(online=False)) == b"offline"
    health = DeviceStatus(online=True, health={"paper": "low", "errors": 2})
    assert encode_device_status(health) == b'{"status":"online","paper":"low","errors":2}'
    assert parse_device_status(encode_device_status(health)) == health
    assert parse_device_status(b"offline") == DeviceStatus(online=False)
    assert parse_device_status(b'"online"\n') == DeviceStatus(online=True)
    # JSON health alone (CONTRACT.md: "or JSON with health (paper, errors)"): the device is up
    assert parse_device_status(b'{"paper": "low", "errors": 0}') == DeviceStatus(True, {"paper": "low", "errors": 0})
    for bad in (b"maybe", b'{"status": "sleepy", "paper": "low"}', b'{"status": 1}', b"\xc3", b"[]"):
        with pytest.raises(ProtocolError):
            parse_device_status(bad)
    with pytest.raises(ValueError):
        DeviceStatus(online=True, health={"status": "x"})


def test_values_checked_when_made() -> None:
    with pytest.raises(ValueError):
        KeyPress("reboot", 1)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        RatingPress(6, 1)
    with pytest.raises(ValueError):
        DisplayState("2015", 1, text="x" * 201)


@given(
    st.builds(
        DisplayState,
        number=st.none() | st.from_regex(r"[0-9A-Za-z]{1,16}", fullmatch=True),
        counter=st.integers(1, 9999),
        blink=st.booleans(),
        text=st.text(max_size=200),
    )
)
def test_display_state_round_trip(state: DisplayState) -> None:
    assert parse_display_state(encode_display_state(state)) == state


@given(st.binary(max_size=64))
def test_parsers_only_raise_protocol_error(data: bytes) -> None:
    for parse in (parse_display_state, parse_key_press, parse_rating_press, parse_device_status):
        with contextlib.suppress(ProtocolError):
            parse(data)


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        # json.loads raises RecursionError, not a decode error, on this: it used to escape the
        # parsers and stop the router's input task for every device of the floor
        (b"[" * 5_000, "nested too deeply"),
        (b'{"key": "next", "seq": 1, "pad": "' + b"x" * MAX_PAYLOAD_BYTES + b'"}', "exceeds"),
    ],
)
def test_deeply_nested_and_oversized_payloads_are_protocol_errors(payload: bytes, reason: str) -> None:
    for parse in (parse_display_state, parse_key_press, parse_rating_press, parse_device_status):
        with pytest.raises(ProtocolError, match=reason):
            parse(payload)
