"""The serial framing codec of SERIAL.md: golden bytes and property round trips."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from counter_display.framing import (
    ACK,
    KEYS,
    MAX_PAYLOAD,
    SHOW,
    STX,
    Frame,
    KeyEvent,
    StreamDecoder,
    blink_payload,
    brightness_payload,
    crc16_modbus,
    encode,
    keys_payload,
    parse_show_payload,
    rating_key,
    read_keys,
    show_payload,
)
from devices.errors import ProtocolError

EXAMPLE = bytes.fromhex("02 05 10 01 07 31 30 32 34 7c 30 35 5d c3")

frames = st.builds(
    Frame,
    addr=st.integers(1, 0xFF),
    cmd=st.integers(0, 0xFF),
    seq=st.integers(0, 0xFF),
    payload=st.binary(max_size=MAX_PAYLOAD),
)


def test_crc_check_value() -> None:
    assert crc16_modbus(b"123456789") == 0x4B37
    assert crc16_modbus(b"") == 0xFFFF


def test_serial_md_example_encodes_byte_exactly() -> None:
    frame = Frame(addr=5, cmd=SHOW, seq=1, payload=show_payload("1024", 5))
    assert encode(frame) == EXAMPLE


def test_serial_md_example_decodes() -> None:
    decoder = StreamDecoder()
    [frame] = decoder.feed(EXAMPLE)
    assert frame == Frame(5, SHOW, 1, b"1024|05")
    assert parse_show_payload(frame.payload) == ("1024", 5)
    assert encode(frame) == EXAMPLE


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"addr": 0, "cmd": SHOW, "seq": 0}, "addr"),
        ({"addr": 256, "cmd": SHOW, "seq": 0}, "addr"),
        ({"addr": 1, "cmd": SHOW, "seq": 256}, "seq"),
        ({"addr": 1, "cmd": SHOW, "seq": -1}, "seq"),
        ({"addr": 1, "cmd": 300, "seq": 0}, "cmd"),
        ({"addr": 1, "cmd": SHOW, "seq": 0, "payload": bytes(241)}, "exceeds"),
    ],
)
def test_frame_rejects_bad_values(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Frame(**kwargs)  # type: ignore[arg-type]


def test_frame_rejects_non_bytes_payload() -> None:
    with pytest.raises(TypeError):
        Frame(1, SHOW, 0, "1024")  # type: ignore[arg-type]


@given(frames)
def test_round_trip(frame: Frame) -> None:
    decoder = StreamDecoder()
    assert decoder.feed(encode(frame)) == [frame]
    assert decoder.pending == 0
    assert decoder.bad_crc == decoder.dropped_bytes == 0


@given(st.lists(frames, min_size=1, max_size=4), st.data())
def test_split_reads_at_every_offset(batch: list[Frame], data: st.DataObject) -> None:
    stream = b"".join(encode(f) for f in batch)
    cut = data.draw(st.integers(0, len(stream)))
    decoder = StreamDecoder()
    assert decoder.feed(stream[:cut]) + decoder.feed(stream[cut:]) == batch


def test_byte_by_byte_at_every_offset() -> None:
    decoder = StreamDecoder()
    out: list[Frame] = []
    for byte in EXAMPLE * 3:
        out += decoder.feed(bytes((byte,)))
    assert len(out) == 3
    assert decoder.dropped_bytes == 0


@given(
    st.lists(
        st.tuples(st.binary(max_size=20).map(lambda b: b.replace(b"\x02", b"")), frames),
        min_size=1,
        max_size=4,
    )
)
def test_garbage_between_frames_is_dropped(parts: list[tuple[bytes, Frame]]) -> None:
    stream = b"".join(garbage + encode(frame) for garbage, frame in parts)
    decoder = StreamDecoder()
    assert decoder.feed(stream) == [frame for _, frame in parts]
    assert decoder.dropped_bytes == sum(len(garbage) for garbage, _ in parts)


@given(st.binary(min_size=1, max_size=30), frames)
def test_stray_stx_in_noise_does_not_swallow_the_next_frame(noise: bytes, frame: Frame) -> None:
    # noise may contain 0x02 whose fake LEN reaches into the real frame
    decoder = StreamDecoder()
    got = decoder.feed(b"\x02" + noise + encode(frame)) + decoder.flush()
    assert frame in got


def test_bad_crc_is_counted_and_dropped() -> None:
    corrupted = bytearray(EXAMPLE)
    corrupted[6] ^= 0x01
    decoder = StreamDecoder()
    assert decoder.feed(bytes(corrupted) + EXAMPLE) == [Frame(5, SHOW, 1, b"1024|05")]
    assert decoder.bad_crc == 1
    assert decoder.dropped_bytes == len(EXAMPLE)


def test_impossible_length_drops_the_stx_only() -> None:
    decoder = StreamDecoder()
    assert decoder.feed(bytes((STX, 5, SHOW, 1, 241)) + EXAMPLE) == [Frame(5, SHOW, 1, b"1024|05")]
    assert decoder.dropped_bytes == 5


def test_inter_byte_timeout_abandons_a_partial_frame() -> None:
    decoder = StreamDecoder(inter_byte_timeout_s=0.01)
    assert decoder.feed(EXAMPLE[:6], now=1.0) == []
    assert decoder.feed(EXAMPLE, now=1.5) == [Frame(5, SHOW, 1, b"1024|05")]
    assert decoder.dropped_bytes == 6


def test_without_time_a_partial_frame_waits() -> None:
    decoder = StreamDecoder(inter_byte_timeout_s=0.01)
    assert decoder.feed(EXAMPLE[:6]) == []
    assert decoder.feed(EXAMPLE[6:]) == [Frame(5, SHOW, 1, b"1024|05")]


def test_reset_drops_pending_bytes() -> None:
    decoder = StreamDecoder()
    decoder.feed(EXAMPLE[:9])
    decoder.reset()
    assert decoder.pending == 0
    assert decoder.dropped_bytes == 9
    assert decoder.feed(EXAMPLE[9:]) == []


def test_show_payload_validation() -> None:
    assert show_payload("A015", 12) == b"A015|12"
    assert show_payload("7", 103) == b"7|103"
    for bad in ("", "20 15", "số1", "1|2"):
        with pytest.raises(ValueError):
            show_payload(bad, 1)
    with pytest.raises(ValueError):
        show_payload("1", -1)


@pytest.mark.parametrize("payload", [b"1024", b"|05", b"1024|x", b"\xff|01"])
def test_parse_show_payload_rejects(payload: bytes) -> None:
    with pytest.raises(ProtocolError):
        parse_show_payload(payload)


def test_one_byte_payloads() -> None:
    assert blink_payload(5) == b"\x05"
    assert brightness_payload(15) == b"\x0f"
    with pytest.raises(ValueError):
        brightness_payload(16)
    with pytest.raises(ValueError):
        blink_payload(256)


def test_keys_payload_golden() -> None:
    events = [KeyEvent(0x01, 7), KeyEvent(rating_key(5), 8)]
    assert keys_payload(events) == bytes.fromhex("01 07 45 08")
    assert read_keys(bytes.fromhex("01 07 45 08")) == (events, [])
    assert events[0].action == "next"
    assert events[0].score is None
    assert events[1].action is None
    assert events[1].score == 5
    reply = Frame(3, KEYS, 9, keys_payload(events))
    assert encode(reply) == bytes.fromhex("02 03 31 09 04 01 07 45 08") + encode(reply)[-2:]


@pytest.mark.parametrize("payload", [b"\x01", b"\x08\x01", b"\x40\x01", b"\x46\x01"])
def test_read_keys_takes_no_press_from_a_bad_pair(payload: bytes) -> None:
    if len(payload) % 2:
        with pytest.raises(ProtocolError):
            read_keys(payload)
    else:  # an unknown key code is reported, never taken for a press
        assert read_keys(payload) == ([], [(payload[0], payload[1])])


@given(st.lists(st.sampled_from([*range(1, 8), *range(0x41, 0x46)]), max_size=20))
def test_keys_round_trip(codes: list[int]) -> None:
    events = [KeyEvent(code, i) for i, code in enumerate(codes)]
    assert read_keys(keys_payload(events)) == (events, [])


def test_ack_frame_golden() -> None:
    ack = encode(Frame(5, ACK, 1))
    assert ack[:5] == bytes((STX, 5, ACK, 1, 0))
    assert crc16_modbus(ack[1:5]) == ack[5] | ack[6] << 8


def test_read_keys_keeps_the_known_presses_beside_an_unknown_key() -> None:
    events, unknown = read_keys(bytes.fromhex("08 01 02 02 46 03 44 04"))
    assert events == [KeyEvent(0x02, 2), KeyEvent(rating_key(4), 4)]
    assert unknown == [(0x08, 1), (0x46, 3)]
    with pytest.raises(ProtocolError, match="odd length"):
        read_keys(b"\x01\x02\x03")
