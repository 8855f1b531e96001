"""A clean-room serial bus (tests/peers/serial_peer.py, written from SERIAL.md) against the real
`motcua bridge` process over a socat pty pair, with a clean-room MQTT peer on the broker side.

The bridge is looked at from outside only: the bytes it writes on the line, what it publishes,
and its log.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.bridge_support import bridge_process
from tests.peers.mqtt_peer import Message, Peer, Topics
from tests.peers.serial_peer import (
    BLINK,
    CLEAR,
    HOST_COMMANDS,
    KEYS,
    NAK,
    PING,
    POLL,
    SHOW,
    Bus,
    Decoder,
    Display,
    Keypad,
    Parsed,
    bad_crc,
    crc16_modbus,
    frame,
    late,
    once,
    rewrite,
    split,
)
from tests.services import Mosquitto, mosquitto_server, socat_pty_pair

ROOT = Path(__file__).resolve().parent.parent
COMMUNE = ROOT / "controller" / "sites" / "commune-centre.toml"
T = Topics("xa")
DEVICES = "".join(
    f'\n[[device]]\nid = "{id_}"\nkind = "{kind}"\ncounter = 1\ntransport = "serial"\nbus = "bus1"\naddress = {a}\n'
    for id_, kind, a in (("led-1", "display", 1), ("kp-1", "keypad", 2), ("rate-1", "rating", 3))
)


@pytest.fixture(scope="module")
def broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Mosquitto]:
    with mosquitto_server(tmp_path_factory.mktemp("peers-serial")) as server:
        yield server


@dataclass
class Rig:
    bus: Bus
    display: Display
    keypad: Keypad
    rater: Keypad
    mqtt: Peer  # the controller's side, played from the contract
    log: Path

    def state(self, number: str | None, blink: bool = False) -> None:
        """Publish the display state of counter 1, as the controller does (retained, QoS 1)."""
        body = {"number": number, "counter": 1, "blink": blink, "text": ""}
        self.mqtt.publish(T.display(1), json.dumps(body).encode(), retain=True)

    def status(self, device: str) -> str | None:
        """The last status word the bridge published for a device."""
        self.mqtt.drain(0.01)
        payloads = [m.payload for m in self.mqtt.seen if m.topic == T.status(device)]
        if not payloads:
            return None
        text = payloads[-1].decode()
        return str(json.loads(text)["status"]) if text.startswith("{") else text

    def presses(self, topic: str) -> list[dict[str, object]]:
        """The presses published on topic, each checked against CONTRACT.md section 4 and
        shown without its seq and at: a bridge numbers a keypad's presses itself, up by one
        a press, and stamps each with the time it polled it."""
        self.mqtt.drain(0.01)
        bodies = [fresh(m) for m in self.mqtt.seen if m.topic == topic]
        seqs = [int(str(b.pop("seq"))) for b in bodies]
        assert all(b == a + 1 for a, b in itertools.pairwise(seqs)), seqs
        return bodies

    def keys(self, topic: str) -> list[object]:
        """The key (or score) of each press published on topic."""
        return [b.get("key", b.get("score")) for b in self.presses(topic)]


def fresh(message: Message) -> dict[str, object]:
    """A press's body, after checking its seq is an integer and its at is the time it was made."""
    body = message.json()
    assert isinstance(body, dict) and isinstance(body["seq"], int) and not isinstance(body["seq"], bool)
    at = body.pop("at")
    assert isinstance(at, float | int) and abs(time.time() - at) < 5, body
    return body


def until(check: Callable[[], bool], timeout_s: float = 10.0, what: str = "") -> None:
    deadline = time.monotonic() + timeout_s
    while not check():
        if time.monotonic() > deadline:
            raise TimeoutError(f"not reached in {timeout_s}s: {what}")
        time.sleep(0.02)


@contextlib.contextmanager
def rig(tmp_path: Path, broker: Mosquitto, first: str | None = "1024") -> Iterator[Rig]:
    site_file = tmp_path / "site.toml"
    site_file.write_text(COMMUNE.read_text(encoding="utf-8") + DEVICES, encoding="utf-8")
    display, keypad, rater = Display(1), Keypad(2), Keypad(3)
    log = tmp_path / "bridge.log"
    with (
        Peer(broker.port) as mqtt,
        socat_pty_pair(tmp_path, "rs485") as pair,
        Bus(pair.device_side, [display, keypad, rater]) as bus,
    ):
        assert mqtt.connect() and mqtt.subscribe(["motcua/xa/#"]) == [2]
        mqtt.publish(T.display(1), b"", retain=True)  # nothing left from another test
        with bridge_process(site_file, pair, broker.url, log) as proc:
            wired = Rig(bus, display, keypad, rater, mqtt, log)
            wired.state(first)
            try:
                until(lambda: display.number == first and wired.status("kp-1") == "online", what="first contact")
                yield wired
            except BaseException:
                print(log.read_text()[-3000:])
                raise
            assert proc.poll() is None, "the bridge exited"


@pytest.mark.integration
def test_the_bridge_speaks_serial_md_byte_for_byte(tmp_path: Path, broker: Mosquitto) -> None:
    with rig(tmp_path, broker) as r:
        until(lambda: r.status("led-1") == "online" and r.status("bridge-bus1") == "online")
        # the STATUS answer to its PING, as health
        health = r.mqtt.wait_for(lambda m: m.topic == T.status("led-1") and m.payload.startswith(b"{"))
        assert health.json() == {**health.json(), "status": "online", "firmware": "peer-1.0"}  # type: ignore[dict-item]

        r.keypad.press("next")
        pressed = r.mqtt.wait_for(lambda m: m.topic == T.keypad(1))
        assert fresh(pressed).get("key") == "next" and pressed.qos == 1 and not pressed.retain
        r.rater.rate(4)
        assert fresh(r.mqtt.wait_for(lambda m: m.topic == T.rating(1))).get("score") == 4
        r.state("1025", blink=True)
        until(lambda: r.display.number == "1025" and r.display.blink_s > 0, what="blink")
        r.state(None)
        until(lambda: r.display.number is None, what="clear")

    heard = r.bus.heard
    assert heard and r.bus.decoder.bad_crc == 0 and r.bus.decoder.noise == 0
    for f in heard:
        assert frame(f.addr, f.cmd, f.seq, f.payload) == f.raw, f  # our encoder, byte for byte
        assert f.addr in (1, 2, 3) and f.cmd in HOST_COMMANDS
        if f.cmd in (PING, POLL, CLEAR):
            assert f.payload == b""
    shows = [f for f in heard if f.cmd == SHOW]
    assert {f.payload for f in shows} == {b"1024|01", b"1025|01"}  # SHOW "NUMBER|COUNTER", as the example
    assert all(len(f.payload) == 1 for f in heard if f.cmd == BLINK)
    assert {f.addr for f in heard if f.cmd == POLL} == {2, 3}  # keypads are polled, displays are not
    # with every answer on time, each exchange has a new SEQ for its device: none looked like a retry
    for device in (r.display, r.keypad, r.rater):
        seqs = [f.seq for f in device.requests]
        assert all(a != b for a, b in itertools.pairwise(seqs)) and device.duplicates == 0


def _noise_then_split(request: Parsed, answer: bytes) -> list[tuple[float, bytes]]:
    # line noise with a stray STX and a plausible header, then the answer in four writes 10 ms apart
    return [(0.0, b"U\x02\x021\xaa"), *split(4, 0.01)(request, answer)]


@pytest.mark.integration
def test_noise_split_answers_bad_crc_and_late_answers_are_absorbed(tmp_path: Path, broker: Mosquitto) -> None:
    with rig(tmp_path, broker) as r:
        r.keypad.misbehave = _noise_then_split
        for key in ("next", "recall", "start"):
            r.keypad.press(key)
        until(lambda: len(r.presses(T.keypad(1))) == 3, what="three presses through the noise")
        assert r.keys(T.keypad(1)) == ["next", "recall", "start"]

        # a corrupted answer is dropped and the request retried with the same SEQ: shown once
        r.display.misbehave = once(bad_crc)
        r.state("2001")
        def shows() -> list[int]:
            return [f.seq for f in r.display.requests if f.cmd == SHOW and f.payload == b"2001|01"]

        until(lambda: len(shows()) == 2, what="SHOW retried")
        assert shows()[0] == shows()[1] and r.display.number == "2001" and r.display.shown.count("2001") == 1

        # an answer after the 300 ms timeout: retried, still shown once, the device never offline
        r.display.misbehave = once(late(0.45))
        r.state("2002")
        until(lambda: r.display.number == "2002")
        r.keypad.misbehave = once(late(0.45))
        r.keypad.press("finish")
        until(lambda: "finish" in r.keys(T.keypad(1)))
        time.sleep(0.5)  # the retried POLL's duplicate answer has come and gone
        assert r.keys(T.keypad(1)).count("finish") == 1
        assert r.display.shown.count("2002") == 1
        assert {r.status("led-1"), r.status("kp-1")} == {"online"}
        # (retained copies from earlier tests arrive flagged retained; live ones are not)
        assert all(b"offline" not in m.payload for m in r.mqtt.seen if m.topic.endswith("/status") and not m.retain)


@pytest.mark.integration
def test_wrong_answers_make_a_device_unavailable_and_it_comes_back(tmp_path: Path, broker: Mosquitto) -> None:
    with rig(tmp_path, broker, first="3001") as r:
        faults = [rewrite(addr=9), rewrite(seq_delta=1), rewrite(cmd=0x7E)]
        r.display.misbehave = faults[0]
        r.state("3002")
        until(lambda: r.status("led-1") == "offline", what="wrong address -> offline")
        # the rest of the bus is served meanwhile
        r.keypad.press("recall")
        r.mqtt.wait_for(lambda m: m.topic == T.keypad(1) and fresh(m).get("key") == "recall")
        for fault in faults[1:]:
            r.display.misbehave = fault
            asked = len(r.display.requests)
            until(lambda: len(r.display.requests) > asked, what="probed again")  # noqa: B023 (waited for here)
            time.sleep(0.1)  # its answer (a wrong one) was read
            assert r.status("led-1") == "offline"
        assert "with unknown command 0x7e" in r.log.read_text()
        r.display.misbehave = None
        until(lambda: r.status("led-1") == "online", what="back online")
        until(lambda: r.display.number == "3002", what="its current state sent again")

        # the whole bus goes quiet, then comes back
        for device in (r.display, r.keypad, r.rater):
            device.silent = True
        r.state("3003")  # a display is asked only when it has something to show (or every 10 s)
        until(lambda: {r.status(d) for d in ("led-1", "kp-1", "rate-1")} == {"offline"}, what="all offline")
        for device in (r.display, r.keypad, r.rater):
            device.silent = False
        until(lambda: {r.status(d) for d in ("led-1", "kp-1", "rate-1")} == {"online"}, what="all back")
        until(lambda: r.display.number == "3003", what="the state it missed")
        r.rater.rate(2)
        r.mqtt.wait_for(lambda m: m.topic == T.rating(1) and fresh(m).get("score") == 2)


def _answer_show(cmd: int, payload: bytes) -> Callable[[Parsed, bytes], list[tuple[float, bytes]]]:
    """Answer the next SHOW with cmd and payload (anything else as usual)."""
    done: list[bool] = []

    def apply(request: Parsed, answer: bytes) -> list[tuple[float, bytes]]:
        if request.cmd != SHOW or done:
            return [(0.0, answer)]
        done.append(True)
        return [(0.0, frame(answer[1], cmd, request.seq, payload))]
    return apply


@pytest.mark.integration
def test_refusals_and_unknown_keys_are_logged_and_cost_nothing_else(tmp_path: Path, broker: Mosquitto) -> None:
    with rig(tmp_path, broker) as r:
        # a NAK (reason 2, bad payload): logged, not retried, the device stays available
        r.display.misbehave = _answer_show(NAK, b"\x02")
        r.state("4001")
        until(lambda: "NAK reason 2" in r.log.read_text(), what="NAK logged")
        assert [f.payload for f in r.display.requests if f.cmd == SHOW].count(b"4001|01") == 1
        # a key SERIAL.md does not list: that press is dropped and logged, the one beside it kept
        with r.keypad.lock:  # both in one KEYS answer
            r.keypad.push(0x08)
            r.keypad.press("no_show")
        r.mqtt.wait_for(lambda m: m.topic == T.keypad(1) and fresh(m).get("key") == "no_show")
        until(lambda: "unknown key code 0x08" in r.log.read_text(), what="unknown key logged")
        # a KEYS answer of odd length: no pair can be trusted, nothing is published
        before = len(r.presses(T.keypad(1)))
        r.keypad.misbehave = once(lambda request, answer: [(0.0, frame(2, KEYS, request.seq, b"\x01"))])
        until(lambda: "odd length" in r.log.read_text(), what="odd KEYS logged")
        time.sleep(0.3)
        assert len(r.presses(T.keypad(1))) == before
        assert {r.status("led-1"), r.status("kp-1")} == {"online"}


@pytest.mark.integration
def test_messages_are_what_the_contract_says(tmp_path: Path, broker: Mosquitto) -> None:
    """The bridge's MQTT side: presses are QoS 1 and not retained, statuses are retained."""
    with rig(tmp_path, broker) as r:
        r.keypad.press("pause")
        r.mqtt.wait_for(lambda m: m.topic == T.keypad(1))
    with Peer(broker.port) as late_reader:
        assert late_reader.connect() and late_reader.subscribe(["motcua/xa/device/+/status"]) == [2]
        retained: list[Message] = late_reader.drain(0.3)
        # a bridge that stopped said so for itself and every device it served, retained
        assert {m.topic: m.payload for m in retained if m.retain} == {
            T.status(d): b"offline" for d in ("bridge-bus1", "led-1", "kp-1", "rate-1")
        }


def test_the_clean_room_codec_agrees_with_the_document_itself() -> None:
    """The peer's codec is checked against SERIAL.md's own numbers, so agreeing with the bridge
    byte for byte is agreeing with the document, not sharing a mistake."""
    assert crc16_modbus(b"123456789") == 0x4B37
    example = bytes.fromhex("02 05 10 01 07 31 30 32 34 7c 30 35 5d c3")  # show "1024" on counter 5
    assert frame(5, SHOW, 1, b"1024|05") == example
    decoder = Decoder()
    got = decoder.feed(b"\x00\x02" + example[:6], 0.0) + decoder.feed(example[6:], 0.01)
    assert [(f.addr, f.cmd, f.seq, f.payload) for f in got] == [(5, SHOW, 1, b"1024|05")]
    assert decoder.bad_crc == 1  # the stray STX of the noise made a candidate that failed its CRC
    assert decoder.feed(example[:-1] + b"\x00", 0.02) == [] and decoder.bad_crc == 2
    # a frame cut short and resumed after the inter-byte timeout is abandoned
    assert decoder.feed(example[:8], 1.0) + decoder.feed(example[8:], 1.2) == []
