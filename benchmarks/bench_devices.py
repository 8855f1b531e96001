"""Keypad press -> display state, through the running controller and mosquitto on loopback.

`motcua serve --mqtt mqtt://... --devices real` runs as a process with a 50-counter
site; a paho client presses "next" on the keypad topic of each counter in turn
(1,000 presses, one at a time) and times until that counter's display state with
the newly called number arrives. Each press is a Finish and a CallNext, each
committed to the SQLite log (synchronous=FULL) before the display state goes out.
Before a counter's next "next" its ticket is started ("start", not timed): a press
never finishes a ticket called less than 10 s ago and not started (CONTRACT.md).
The broker alone (publish -> receive on loopback, QoS 1) is measured beside it.
"""

from __future__ import annotations

import json
import queue
import socket
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from devices.topics import SiteTopics
from tests.server import KIOSK, login, serve_process
from tests.services import mosquitto_server

__all__ = ["run"]

COUNTERS = 50
PRESSES = 1000
GOAL_P99_MS = 50.0
SITE = "bench"


def _site(path: Path) -> Path:
    ids = ", ".join(str(c) for c in range(1, COUNTERS + 1))
    path.write_text(
        f"""[site]
id = "{SITE}"
name = "Trung tâm đo"
level = "commune"
timezone = "Asia/Ho_Chi_Minh"
hours = [["00:00", "23:59"]]

[[agency]]
id = "A"
name = "Tư pháp"
number_block = 1000

[[agency]]
id = "B"
name = "Chứng thực"
number_block = 2000

[[procedure]]
id = "a"
agency = "A"
name = "Đăng ký khai sinh"
share = 0.5
service = 5.0

[[procedure]]
id = "b"
agency = "B"
name = "Chứng thực bản sao"
share = 0.5
service = 5.0

[[counter]]
ids = [{ids}]
serves = ["A", "B"]
""",
        encoding="utf-8",
    )
    return path


def _no_delay(client: mqtt.Client, userdata: Any, sock: Any) -> None:
    # as the controller's link does: no Nagle wait behind our own PUBACKs
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


class _Client:
    """A paho client whose received messages land in a queue with their arrival time."""

    def __init__(self, port: int, topics: list[str]) -> None:
        self.received: queue.Queue[tuple[str, bytes, float]] = queue.Queue()
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv311)
        self.client.on_message = lambda c, u, m: self.received.put((m.topic, bytes(m.payload), time.perf_counter()))
        self.client.on_socket_open = _no_delay
        self.client.connect("127.0.0.1", port)
        self.client.loop_start()
        for topic in topics:
            self.client.subscribe(topic, qos=1)[1]
        time.sleep(0.3)  # let the subscriptions and retained states arrive
        while not self.received.empty():
            self.received.get_nowait()

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()

    def wait(self, topic: str, want: str | None, timeout_s: float = 5.0) -> float:
        """Arrival time of the next message on topic (a blinking state when want is set)."""
        deadline = time.monotonic() + timeout_s
        while True:
            got, payload, at = self.received.get(timeout=max(0.0, deadline - time.monotonic()))
            if got != topic:
                continue
            if want is None:
                return at
            state = json.loads(payload)
            if state.get("blink") and state.get("number"):
                return at


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def _broker_alone(port: int) -> list[float]:
    client = _Client(port, ["bench/echo"])
    try:
        out: list[float] = []
        for i in range(PRESSES):
            started = time.perf_counter()
            client.client.publish("bench/echo", str(i).encode(), qos=1)
            out.append((client.wait("bench/echo", None) - started) * 1000)
        return out
    finally:
        client.close()


def _presses(port: int) -> list[float]:
    topics = SiteTopics(SITE)
    client = _Client(port, [topics.subscription("display_state")])
    try:
        out: list[float] = []
        seq = int(time.time() * 1000)  # a count no earlier run of a keypad used (CONTRACT.md)
        for i in range(PRESSES):
            counter = i % COUNTERS + 1
            if i >= COUNTERS:  # the counter has a called ticket: its citizen came to the counter
                seq += 1
                start = json.dumps({"key": "start", "seq": seq}).encode()
                client.client.publish(topics.keypad_press(counter), start, qos=1)
                client.wait(topics.display_state(counter), None)
            seq += 1
            press = json.dumps({"key": "next", "seq": seq}).encode()
            started = time.perf_counter()
            client.client.publish(topics.keypad_press(counter), press, qos=1)
            out.append((client.wait(topics.display_state(counter), "called") - started) * 1000)
        return out
    finally:
        client.close()


def run() -> str:
    """Measure and return the markdown section."""
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        # the broker's own sockets without Nagle too, as a latency-minded deployment sets it
        with mosquitto_server(work, "set_tcp_nodelay true") as broker:
            broker_ms = _broker_alone(broker.port)
            with serve_process(
                _site(work / "site.toml"), work / "data", "--mqtt", broker.url, "--devices", "real"
            ) as server:
                manager = login(server.url, "quanly", "demo")
                with httpx.Client(base_url=server.url, timeout=10) as http:
                    for counter in range(1, COUNTERS + 1):
                        http.post(f"/api/v1/sites/{SITE}/counters/{counter}/open", headers=manager).raise_for_status()
                    for i in range(PRESSES + COUNTERS):
                        http.post(
                            f"/api/v1/sites/{SITE}/tickets", headers=KIOSK, json={"procedure": "ab"[i % 2]}
                        ).raise_for_status()
                started = time.perf_counter()
                press_ms = _presses(broker.port)
                wall = time.perf_counter() - started
    p50, p99 = statistics.median(press_ms), _pct(press_ms, 0.99)
    b50, b99 = statistics.median(broker_ms), _pct(broker_ms, 0.99)
    verdict = "met" if p99 < GOAL_P99_MS else "NOT met"
    return f"""## Devices: keypad press -> display state (MQTT, through the controller)

{PRESSES:,} "next" presses, one at a time, over {COUNTERS} counters of one site: keypad topic ->
mosquitto -> `motcua serve --mqtt ... --devices real` (Finish + CallNext, each committed to the
SQLite log with synchronous=FULL) -> retained display state -> mosquitto -> the timing client.
Loopback, one machine; the broker alone measured in the same run.

| path | p50 ms | p99 ms | max ms |
|---|---|---|---|
| press -> display state (controller) | {p50:.2f} | {p99:.2f} | {max(press_ms):.2f} |
| broker alone (publish -> receive, QoS 1) | {b50:.2f} | {b99:.2f} | {max(broker_ms):.2f} |

Goal p99 < {GOAL_P99_MS:.0f} ms: {verdict}. {PRESSES / wall:.0f} presses/s sequentially.
The serial path (bridge at 9600 baud) is in the serial bus section.

Command: `python -m benchmarks.run bench_devices`
"""
