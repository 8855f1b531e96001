"""Fuzzing the device edges: MQTT payload parsers, the serial stream decoder, and the running
device router. Only ProtocolError ever comes out, dropped input is counted, and state never moves."""

from __future__ import annotations

import asyncio
import contextlib
import json
from pathlib import Path

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from counter_display.framing import OVERHEAD, STX, Frame, StreamDecoder, encode
from devices.errors import ProtocolError
from devices.payloads import (
    parse_device_status,
    parse_display_state,
    parse_key_press,
    parse_rating_press,
)
from devices.topics import SiteTopics, parse_topic
from firmware_bridge.mqtt_link import MqttMessage
from tests.devices_support import device_floor

T = SiteTopics("xa")
PARSERS = (parse_display_state, parse_key_press, parse_rating_press, parse_device_status)

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)
# objects shaped like the real payloads, with every field wrong in some way
near_misses = st.fixed_dictionaries(
    {},
    optional={
        name: json_values | st.sampled_from(["next", "NO-SHOW", " 7 ", "", "-1", "1e3", "online"])
        for name in ("key", "seq", "score", "counter", "number", "blink", "text", "status")
    },
)
payloads = st.one_of(
    st.binary(max_size=200),
    json_values.map(lambda v: json.dumps(v).encode()),
    near_misses.map(lambda v: json.dumps(v).encode()),
    st.text(max_size=50).map(str.encode),
)


@settings(max_examples=400, deadline=None)
@given(payloads)
def test_payload_parsers_raise_only_protocol_error(data: bytes) -> None:
    for parse in PARSERS:
        with contextlib.suppress(ProtocolError):
            parse(data)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=80))
def test_topic_parser_raises_only_protocol_error(topic: str) -> None:
    try:
        match = parse_topic(topic)
    except ProtocolError:
        return
    assert topic.startswith("motcua/") and match.site == topic.split("/")[1]


frames = st.builds(
    Frame,
    addr=st.integers(1, 254),
    cmd=st.integers(0, 255),
    seq=st.integers(0, 255),
    payload=st.binary(max_size=16),
)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(st.binary(max_size=40), frames.map(encode)), max_size=8), st.data())
def test_stream_decoder_accounts_for_every_byte(chunks: list[bytes], data: st.DataObject) -> None:
    stream = b"".join(chunks)
    decoder = StreamDecoder()
    decoded: list[Frame] = []
    position = 0
    while position < len(stream):  # the line delivers arbitrary slices
        size = data.draw(st.integers(1, 64))
        decoded += decoder.feed(stream[position:position + size])
        position += size
    decoded += decoder.flush()
    # every byte read is in a frame or counted as dropped: nothing vanishes, nothing raises
    assert sum(OVERHEAD + len(f.payload) for f in decoded) + decoder.dropped_bytes == len(stream)
    assert decoder.pending == 0 and decoder.frames == len(decoded)


@settings(max_examples=200, deadline=None)
@given(st.binary(min_size=1, max_size=120))
def test_stream_decoder_drops_noise_without_frames(noise: bytes) -> None:
    assume(STX not in noise)
    decoder = StreamDecoder()
    assert decoder.feed(noise) == [] and decoder.flush() == []
    assert decoder.dropped_bytes == len(noise)


def _acceptable(topic: str, payload: bytes) -> bool:
    """Whether the router could act on this message (a real press or status)."""
    try:
        match = parse_topic(topic)
        if match.kind == "keypad_press":
            parse_key_press(payload)
        elif match.kind == "rating_press":
            parse_rating_press(payload)
        elif match.kind == "device_status":
            parse_device_status(payload)
        else:
            return False
    except ProtocolError:
        return False
    return True


topics = st.one_of(
    st.sampled_from([
        T.keypad_press(1), T.rating_press(1), T.device_status("keypad-1"), T.keypad_press(99),
        T.display_state(1), T.hall_state(), "motcua/other/keypad/1/press", "motcua/xa/keypad/x/press",
    ]),
    st.text(max_size=60),
)


def test_running_router_changes_no_state_for_arbitrary_messages(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with device_floor(tmp_path) as floor:
            router = floor.service.router
            assert router is not None
            site = router.sites["xa"]
            # the fakes' "online" statuses go through the worker and the debounced health flush first
            settled = -1
            while settled != floor.runtime.last_seq or not site.inbox.empty():
                settled = floor.runtime.last_seq
                await asyncio.sleep(0.5)
            seq, snapshot = floor.runtime.last_seq, floor.runtime.floor.state.counters

            @settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.filter_too_much])
            @given(topics, payloads, st.booleans())
            def feed(topic: str, payload: bytes, retain: bool) -> None:
                assume(not _acceptable(topic, payload))
                dropped = router.stats.dropped_total()
                router.feed(MqttMessage(topic, payload, retain))
                assert router.stats.dropped_total() == dropped + 1
                assert site.inbox.empty()

            feed()
            await asyncio.sleep(0.3)  # the site's worker had its chance: nothing was queued for it
            assert floor.runtime.last_seq == seq
            assert floor.runtime.floor.state.counters == snapshot
            assert router.stats.dropped_total("xa", "malformed") > 0

    asyncio.run(scenario())
