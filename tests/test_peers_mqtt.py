"""Clean-room MQTT peers (tests/peers/mqtt_peer.py, written from CONTRACT.md section 4) against a
running controller: on mosquitto without users, and on the embedded broker with its logins and ACLs.

The peers play a display, a staff keypad, a rating keypad, a printer gateway and a read-only
subscriber; the controller is only looked at from outside (HTTP, /metrics), as a vendor would.
"""

from __future__ import annotations

import re
import time
import tomllib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.peers.mqtt_peer import Message, Peer, Topics, press, rating
from tests.server import KIOSK, ServerProcess, login, serve_process
from tests.services import free_port, mosquitto_server

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parent.parent
COMMUNE = ROOT / "controller" / "sites" / "commune-centre.toml"
T = Topics("xa")


@dataclass
class Floor:
    """A running controller, seen from outside."""

    server: ServerProcess
    port: int  # the broker's
    passwords: dict[str, str]

    def peer(self, user: str | None = None, client_id: str = "", **options: Any) -> Peer:
        login_ = (user, self.passwords[user]) if user is not None else None
        return Peer(self.port, client_id, login=login_, **options)

    def manager(self) -> dict[str, str]:
        return login(self.server.url, "quanly", "demo")

    def post(self, path: str, **kwargs: Any) -> httpx.Response:
        response = httpx.post(f"{self.server.url}/api/v1/sites/xa/{path}", timeout=10, **kwargs)
        response.raise_for_status()
        return response

    def open_counter(self, counter: int) -> None:
        self.post(f"counters/{counter}/open", headers=self.manager())

    def issue(self, procedure: str = "ht-khai-sinh", kiosk: str | None = None) -> str:
        body: dict[str, str] = {"procedure": procedure}
        if kiosk is not None:
            body["kiosk"] = kiosk
        return str(self.post("tickets", headers=KIOSK, json=body).json()["number"])

    def monitor(self) -> dict[str, Any]:
        body: dict[str, Any] = httpx.get(f"{self.server.url}/api/v1/sites/xa/monitor", headers=self.manager(),
                                         timeout=10).json()
        return body

    def counter(self, counter: int) -> dict[str, Any]:
        return next(c for c in self.monitor()["counters"] if c["id"] == counter)

    def device(self, device: str) -> dict[str, Any]:
        return next(d for d in self.monitor()["devices"] if d["device"] == device)

    def metric(self, name: str, **labels: str) -> float:
        """Sum of a counter's samples whose labels include these."""
        text = httpx.get(f"{self.server.url}/metrics", timeout=10).text
        total = 0.0
        for match in re.finditer(rf"^{name}\{{([^}}]*)\}} (\S+)$", text, re.MULTILINE):
            have = dict(re.findall(r'(\w+)="([^"]*)"', match.group(1)))
            if all(have.get(k) == v for k, v in labels.items()):
                total += float(match.group(2))
        return total


def until(check: Callable[[], bool], timeout_s: float = 10.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not check():
        if time.monotonic() > deadline:
            raise TimeoutError("condition not reached")
        time.sleep(0.05)


def number_on(counter: int, number: str | None, blink: bool | None = None) -> Callable[[Message], bool]:
    def match(message: Message) -> bool:
        if message.topic != T.display(counter):
            return False
        state = message.json()
        return isinstance(state, dict) and state.get("number") == number and blink in (None, state.get("blink"))
    return match


@pytest.fixture(scope="module")
def floor(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Floor]:
    """The commune centre with its default MQTT devices, on mosquitto without users."""
    workdir = tmp_path_factory.mktemp("peers-mosquitto")
    with (
        mosquitto_server(workdir) as broker,
        serve_process(COMMUNE, workdir / "data", "--mqtt", broker.url, "--devices", "real") as server,
    ):
        yield Floor(server, broker.port, {})


def test_display_keypad_rating_printer_and_a_reader_get_what_the_contract_says(floor: Floor) -> None:
    floor.open_counter(1)
    first, second = floor.issue(), floor.issue()
    with (
        floor.peer(client_id="display-1", will=(T.status("display-1"), b"offline")) as display,
        floor.peer(client_id="keypad-1", will=(T.status("keypad-1"), b"offline")) as keypad,
        floor.peer(client_id="rating-1", will=(T.status("rating-1"), b"offline")) as rater,
        floor.peer(client_id="printer-k1", will=(T.status("printer-k1"), b"offline")) as printer,
        floor.peer(client_id="ops-reader") as reader,
    ):
        for peer, device in ((display, "display-1"), (keypad, "keypad-1"), (rater, "rating-1"),
                             (printer, "printer-k1")):
            assert peer.connect()
            peer.publish(T.status(device), b"online", retain=True)
        assert reader.connect() and reader.subscribe([T.hall(), "motcua/xa/display/+/state",
                                                      "motcua/xa/device/+/status"]) == [2, 2, 2]
        # the state is retained with QoS 1: a display that subscribes now gets it at once
        assert display.subscribe([T.display(1)]) == [2]
        retained = display.wait_for(lambda m: m.topic == T.display(1))
        assert retained.retain and retained.qos == 1
        state = retained.json()
        assert isinstance(state, dict) and state["counter"] == 1 and state["number"] is None
        assert isinstance(state["blink"], bool) and isinstance(state["text"], str)
        until(lambda: floor.device("display-1")["status"] == "online")

        # a press at QoS 0 is still a press; the display blinks the number it called
        keypad.publish(T.keypad(1), press("next", 1), qos=0)
        called = display.wait_for(number_on(1, first, blink=True))
        assert called.qos == 1 and not called.retain  # live delivery: not the retained copy
        # the same seq again (a QoS 1 redelivery): dropped, nobody else is called
        keypad.publish(T.keypad(1), press("next", 1))
        until(lambda: floor.metric("motcua_mqtt_dropped_total", reason="duplicate") == 1)
        # fields the contract does not name are ignored ("extend it freely")
        keypad.publish(T.keypad(1), press("start", 2, firmware="kp-2.1", battery=87))
        display.wait_for(number_on(1, first, blink=False))
        keypad.publish(T.keypad(1), press("finish", 3))
        display.wait_for(number_on(1, None))
        assert floor.counter(1)["current"] is None and floor.counter(1)["served_today"] == 1

        rater.publish(T.rating(1), rating(4, 1))
        until(lambda: floor.metric("motcua_device_presses_total", kind="rating") == 1)

        # the printer gateway gets the kiosk's ticket as a QoS 1 job, not retained
        assert printer.subscribe([T.printer("k1")]) == [2]
        printed = floor.issue(kiosk="k1")
        job = printer.wait_for(lambda m: m.topic == T.printer("k1"))
        body = job.json()
        assert job.qos == 1 and not job.retain and isinstance(body, dict) and body["number"] == printed
        # JSON health with no "status": the device said it, so it is up, with that health
        printer.publish(T.status("printer-k1"), b'{"paper": "low", "errors": 0}', retain=True)
        until(lambda: floor.device("printer-k1")["health"].get("paper") == "low")
        assert floor.device("printer-k1")["status"] == "online"

        keypad.publish(T.keypad(1), press("next", 4))
        display.wait_for(number_on(1, second, blink=True))
        # the read-only subscriber saw the hall (retained, QoS 1) list the calls, newest first
        hall = reader.wait_for(lambda m: m.topic == T.hall() and second.encode() in m.payload)
        assert hall.qos == 1
        calls = hall.json()["calls"]  # type: ignore[index]
        assert [(c["number"], c["counter"]) for c in calls[:2]] == [(second, 1), (first, 1)]
        reader.drain(0.2)
        assert {m.topic for m in reader.seen} >= {T.hall(), T.display(1), T.status("keypad-1")}
        assert all(m.qos == 1 for m in reader.seen if m.topic != T.status("keypad-1"))


BAD: list[tuple[str, bytes, str]] = [
    (T.keypad(1), b"{not json", "malformed"),
    (T.keypad(1), b'{"key": 5, "seq": 1}', "malformed"),
    (T.keypad(1), b'{"key": "next", "seq": "abc"}', "malformed"),
    (T.keypad(1), b'{"key": "next", "seq": true}', "malformed"),
    (T.keypad(1), b'{"key": "reboot", "seq": 7}', "malformed"),
    (T.keypad(1), b"[" * 5000, "malformed"),  # used to stop the router's input for good
    (T.keypad(1), press("next", 8, pad="x" * 20_000), "malformed"),  # oversized
    (T.rating(1), rating(9, 9), "malformed"),  # 4 levels on this site
    (T.keypad(99), press("next", 10), "unknown_counter"),
    # typed as strictly as HTTP (issue 14 item 7): each of these used to change the floor
    (T.keypad(1), b'{"key": "next", "seq": "12"}', "malformed"),
    (T.keypad(1), b'{"key": "next", "seq": 13.0}', "malformed"),
    (T.keypad(1), b'{"key": "NEXT", "seq": 14}', "malformed"),
    (T.keypad(1), b'{"key": " Next ", "seq": 15}', "malformed"),
    (T.rating(1), b'{"score": "4", "seq": 16}', "malformed"),
    # pressed a minute ago by its own clock: queued somewhere, the floor has moved on since
    (T.keypad(1), press("next", 17, at=time.time() - 60), "late"),
    (T.status("toaster-1"), b"online", "unknown_device"),
    ("motcua/xa/keypad/one/press", press("next", 11), "bad_topic"),
]


def test_bad_input_is_counted_and_changes_nothing_and_the_next_good_press_works(floor: Floor) -> None:
    floor.open_counter(2)
    floor.issue()
    before = {reason: floor.metric("motcua_mqtt_dropped_total", reason=reason) for _, _, reason in BAD}
    counters = floor.monitor()["counters"]
    with floor.peer(client_id="keypad-2") as keypad, floor.peer(client_id="display-2") as display:
        assert keypad.connect() and display.connect()
        for topic, payload, _ in BAD:
            keypad.publish(topic, payload)
        expected = {reason: before[reason] + sum(1 for *_, r in BAD if r == reason) for reason in before}
        until(lambda: all(floor.metric("motcua_mqtt_dropped_total", reason=r) == n for r, n in expected.items()))
        assert floor.monitor()["counters"] == counters
        # the input is alive after all that: the next good press calls
        assert display.subscribe([T.display(2)]) == [2]
        keypad.publish(T.keypad(2), press("next", 2))
        called = display.wait_for(lambda m: m.topic == T.display(2) and m.json()["number"] is not None)  # type: ignore[index]
        assert called.json()["number"] == floor.counter(2)["current"]["number"]  # type: ignore[index]


def test_a_seq_replayed_after_a_newer_one_is_refused(floor: Floor) -> None:
    floor.open_counter(4)
    with floor.peer(client_id="keypad-4") as keypad:
        assert keypad.connect()
        before = floor.metric("motcua_mqtt_dropped_total", reason="duplicate")
        keypad.publish(T.keypad(4), press("pause", 100, at=time.time()))
        until(lambda: floor.counter(4)["status"] == "paused")
        time.sleep(1.1)  # the same key again within a second would be one press (a burst)
        keypad.publish(T.keypad(4), press("pause", 101, at=time.time()))
        until(lambda: floor.counter(4)["status"] == "open")
        keypad.publish(T.keypad(4), press("pause", 100, at=time.time()))  # 100 again: a replay
        until(lambda: floor.metric("motcua_mqtt_dropped_total", reason="duplicate") == before + 1)
        assert floor.counter(4)["status"] == "open"


def test_sessions_retained_states_and_last_will(floor: Floor) -> None:
    floor.open_counter(3)
    floor.issue("cth-ban-sao")
    # a display with a kept session (clean_session false) gets, after an outage, what was sent meanwhile
    with floor.peer(client_id="display-3", clean_session=False) as display:
        assert display.connect() and display.subscribe([T.display(3)], qos=1) == [1]
        display.wait_for(lambda m: m.topic == T.display(3))
    waiting = floor.post("counters/3/call-next", headers=floor.manager()).json()["number"]
    with floor.peer(client_id="display-3", clean_session=False) as display:
        assert display.connect()  # no new SUBSCRIBE: the broker kept it
        assert display.wait_for(number_on(3, waiting)).qos == 1
    # a fresh session subscribes and gets the retained state, flagged retained
    with floor.peer(client_id="display-3", clean_session=True) as display:
        assert display.connect() and display.subscribe([T.display(3)]) == [2]
        assert display.wait_for(number_on(3, waiting)).retain

    keypad = floor.peer(client_id="keypad-3", will=(T.status("keypad-3"), b"offline"))
    assert keypad.connect()
    keypad.publish(T.status("keypad-3"), b"online", retain=True)
    until(lambda: floor.device("keypad-3")["status"] == "online")
    keypad.vanish()  # power cut: only the broker's last will tells
    until(lambda: floor.device("keypad-3")["status"] == "offline")


def _secrets(data: Path) -> dict[str, str]:
    with (data / "mqtt" / "secrets.toml").open("rb") as handle:
        return {name: entry["password"] for name, entry in tomllib.load(handle)["users"].items()}


# the defaults of counters 1 and 2, and a hall display (a display of no counter)
GUARDED_DEVICES = "".join(
    f'\n[[device]]\nid = "{kind}-{n}"\nkind = "{kind}"\ncounter = {n}\n'
    for n in (1, 2) for kind in ("display", "keypad", "rating")
) + '\n[[device]]\nid = "printer-k1"\nkind = "printer"\nkiosk = "k1"\n' \
  + '\n[[device]]\nid = "hall-tv"\nkind = "display"\n'


@pytest.fixture(scope="module")
def guarded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Floor]:
    """The same floor on the embedded broker: each device logs in as itself."""
    workdir = tmp_path_factory.mktemp("peers-embedded")
    site_file = workdir / "site.toml"
    site_file.write_text(COMMUNE.read_text(encoding="utf-8") + GUARDED_DEVICES, encoding="utf-8")
    port = free_port()
    with serve_process(site_file, workdir / "data", "--mqtt", f"embedded://127.0.0.1:{port}",
                       "--devices", "real") as server:
        yield Floor(server, port, _secrets(workdir / "data"))


def test_on_the_embedded_broker_each_peer_works_with_its_own_login_and_no_further(guarded: Floor) -> None:
    floor = guarded
    floor.open_counter(1)
    floor.open_counter(2)
    first = floor.issue()
    with (
        floor.peer("display-1@xa", "display-1", will=(T.status("display-1"), b"offline")) as display,
        floor.peer("keypad-1@xa", "keypad-1", will=(T.status("keypad-1"), b"offline")) as keypad,
        floor.peer("rating-1@xa", "rating-1") as rater,
        floor.peer("printer-k1@xa", "printer-k1", clean_session=False) as printer,
        floor.peer("hall-tv@xa", "hall-tv", will=(T.status("hall-tv"), b"offline")) as hall,
    ):
        assert display.connect() and keypad.connect() and rater.connect() and printer.connect()
        assert hall.connect() and hall.subscribe([T.hall(), T.display(1)], qos=1) == [1, 128]
        # QoS 1 asked: amqtt 0.12 delivers at the subscription's QoS, not at the lower of the
        # two as MQTT 3.1.1 says (a QoS 2 subscriber gets QoS 2 copies of QoS 1 publishes)
        assert display.subscribe([T.display(1), T.display(2), T.hall()], qos=1) == [1, 128, 128]
        assert display.wait_for(lambda m: m.topic == T.display(1)).retain
        assert printer.subscribe([T.printer("k1")], qos=1) == [1]
        keypad.publish(T.status("keypad-1"), b"online", retain=True)

        keypad.publish(T.keypad(2), press("next", 1))  # not its counter: the broker drops it
        keypad.publish(T.keypad(1), press("next", 2))
        assert display.wait_for(number_on(1, first, blink=True)).qos == 1
        assert floor.counter(2)["current"] is None
        # the hall display reads the last calls, and nothing else
        assert hall.wait_for(lambda m: m.topic == T.hall() and first.encode() in m.payload).qos == 1
        # malformed and oversized through this broker too: counted, the floor unchanged
        keypad.publish(T.keypad(1), b"[" * 5000)
        keypad.publish(T.keypad(1), press("recall", 3, pad="x" * 200_000))
        until(lambda: floor.metric("motcua_mqtt_dropped_total", reason="malformed") == 2)

        keypad.publish(T.keypad(1), press("start", 4))  # the citizen came: it may be finished
        keypad.publish(T.keypad(1), press("finish", 5))
        display.wait_for(number_on(1, None))
        rater.publish(T.rating(1), rating(3, 1))
        until(lambda: floor.metric("motcua_device_presses_total", kind="rating") == 1)

        printer.disconnect()  # its session is kept: a job issued meanwhile waits for it
        printed = floor.issue(kiosk="k1")
        printer = floor.peer("printer-k1@xa", "printer-k1", clean_session=False)
        assert printer.connect()
        job = printer.wait_for(lambda m: m.topic == T.printer("k1"))
        printer.disconnect()
        assert job.json()["number"] == printed  # type: ignore[index]

        until(lambda: floor.device("keypad-1")["status"] == "online")
        keypad.vanish()
        until(lambda: floor.device("keypad-1")["status"] == "offline")
