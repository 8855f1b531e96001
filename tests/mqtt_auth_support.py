"""Brokers with generated users and ACLs, a throw-away TLS CA, and a client that reports refusals."""

from __future__ import annotations

import contextlib
import queue
import subprocess
import tomllib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from tests.services import Mosquitto, _require, _stop, wait_for_port

__all__ = ["AuthClient", "TlsFiles", "broker_with_config", "make_tls", "secrets"]


def secrets(out: Path) -> dict[str, str]:
    """username -> clear password from a generated secrets.toml."""
    with (out / "secrets.toml").open("rb") as handle:
        return {name: entry["password"] for name, entry in tomllib.load(handle)["users"].items()}


@contextlib.contextmanager
def broker_with_config(config: Path, port: int) -> Iterator[Mosquitto]:
    """Run mosquitto on a generated mosquitto.conf that listens on 127.0.0.1:port.

    The generated file is used as written, plus `user root`: mosquitto started as root
    drops to its own user before reading the password file, and pytest's tmp dirs are
    root-only. On a real broker, `chgrp mosquitto passwd` does that job (README).
    """
    run_config = config.with_name("mosquitto-test.conf")
    run_config.write_text(config.read_text() + "user root\n")
    log = config.with_name("mosquitto.log")
    with log.open("wb") as sink:
        proc = subprocess.Popen([_require("mosquitto"), "-c", str(run_config)], stdout=sink, stderr=subprocess.STDOUT)
    broker = Mosquitto(port=port, process=proc, config=run_config)
    try:
        try:
            wait_for_port(port)
        except TimeoutError:
            _stop(proc)
            raise RuntimeError(f"mosquitto did not start: {log.read_text()[-2000:]}") from None
        yield broker
    finally:
        _stop(broker.process)


@dataclass(frozen=True)
class TlsFiles:
    """A CA, and a broker certificate it signed for 127.0.0.1."""

    ca: Path
    cert: Path
    key: Path
    other_ca: Path  # a CA that signed nothing of ours


def make_tls(workdir: Path) -> TlsFiles:
    """Generate a throw-away CA and a broker certificate with the openssl CLI (EC keys: fast)."""
    openssl = _require("openssl")
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]

    def run(*args: str) -> None:
        subprocess.run([openssl, *args], cwd=workdir, check=True, capture_output=True)

    for name in ("ca", "other-ca"):
        run("req", "-x509", *ec, "-keyout", f"{name}.key", "-out", f"{name}.pem", "-days", "2",
            "-subj", f"/CN=motcua test {name}")
    run("req", *ec, "-keyout", "broker.key", "-out", "broker.csr", "-subj", "/CN=127.0.0.1")
    (workdir / "san.cnf").write_text("subjectAltName=IP:127.0.0.1,DNS:localhost\n")
    run("x509", "-req", "-in", "broker.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
        "-out", "broker.pem", "-days", "2", "-extfile", "san.cnf")
    return TlsFiles(workdir / "ca.pem", workdir / "broker.pem", workdir / "broker.key", workdir / "other-ca.pem")


class AuthClient:
    """A paho client that tells how the broker answered: CONNACK, SUBACK, and what it received."""

    def __init__(self, port: int, username: str | None = None, password: str | None = None,
                 ca: Path | None = None) -> None:
        self.port = port
        self.messages: queue.Queue[tuple[str, bytes]] = queue.Queue()
        self._connack: queue.Queue[bool] = queue.Queue()
        self._suback: queue.Queue[list[int]] = queue.Queue()
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv311)
        if username is not None:
            self.client.username_pw_set(username, password)
        if ca is not None:
            self.client.tls_set(ca_certs=str(ca))
        self.client.on_connect = lambda c, u, f, rc, p: self._connack.put(not rc.is_failure)
        self.client.on_subscribe = lambda c, u, mid, rcs, p: self._suback.put([rc.value for rc in rcs])
        self.client.on_message = lambda c, u, m: self.messages.put((m.topic, bytes(m.payload)))

    def connect(self, timeout_s: float = 5.0) -> bool:
        """True if the broker accepted the CONNECT, False if it refused it."""
        self.client.connect("127.0.0.1", self.port)
        self.client.loop_start()
        try:
            return self._connack.get(timeout=timeout_s)
        except queue.Empty:
            return False  # closed without a CONNACK

    def subscribe(self, topics: Sequence[str]) -> list[int]:
        """Reason codes of the SUBACK: granted QoS, or 128 for a refused filter."""
        self.client.subscribe([(t, 1) for t in topics])
        return self._suback.get(timeout=5)

    def publish(self, topic: str, payload: bytes, *, retain: bool = False) -> None:
        """QoS 1 publish, waiting for the PUBACK (MQTT 3.1.1 acknowledges refused publishes too)."""
        self.client.publish(topic, payload, qos=1, retain=retain).wait_for_publish(5)

    def until(self, topic: str, timeout_s: float = 5.0) -> list[tuple[str, bytes]]:
        """Every message received up to and including the first on topic; TimeoutError if none comes."""
        out: list[tuple[str, bytes]] = []
        while True:
            try:
                out.append(self.messages.get(timeout=timeout_s))
            except queue.Empty:
                raise TimeoutError(f"nothing on {topic} after {timeout_s}s; got {out}") from None
            if out[-1][0] == topic:
                return out

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()

    def __enter__(self) -> AuthClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
