"""Real local services for tests: free loopback ports, mosquitto, redis-server, socat ptys.

Every service is started on 127.0.0.1 on a free port in a temporary directory and
stopped when its context manager exits. Nothing here reaches beyond loopback.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "Mosquitto",
    "PtyPair",
    "RedisServer",
    "free_port",
    "mosquitto_server",
    "redis_server",
    "socat_pty_pair",
    "wait_for_port",
]


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that is free right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for_port(port: int, timeout_s: float = 10.0, host: str = "127.0.0.1") -> None:
    """Block until something accepts connections on host:port, or raise TimeoutError."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection((host, port), timeout=0.2):
            return
        time.sleep(0.02)
    raise TimeoutError(f"nothing listens on {host}:{port} after {timeout_s}s")


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _require(binary: str) -> str:
    path = shutil.which(binary) or (f"/usr/sbin/{binary}" if Path(f"/usr/sbin/{binary}").exists() else None)
    if path is None:
        raise RuntimeError(f"{binary} is not installed; `make test` installs it with apt-get")
    return path


@dataclass
class Mosquitto:
    """A running mosquitto broker."""

    port: int
    process: subprocess.Popen[bytes]
    config: Path

    @property
    def url(self) -> str:
        return f"mqtt://127.0.0.1:{self.port}"

    def restart(self) -> None:
        """Stop and start the broker on the same port and config."""
        self.stop()
        self.start()

    def stop(self) -> None:
        """Stop the broker (an outage begins: its retained messages and sessions are gone)."""
        _stop(self.process)

    def start(self) -> None:
        """Start the broker again on the same port and config."""
        self.process = subprocess.Popen(
            [_require("mosquitto"), "-c", str(self.config)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_for_port(self.port)


@contextlib.contextmanager
def mosquitto_server(workdir: Path, extra_config: str = "") -> Iterator[Mosquitto]:
    """Start mosquitto on a free loopback port with anonymous access (plus extra_config)."""
    port = free_port()
    config = workdir / f"mosquitto-{port}.conf"
    config.write_text(
        f"listener {port} 127.0.0.1\nallow_anonymous true\npersistence false\n{extra_config}\n"
    )
    proc = subprocess.Popen(
        [_require("mosquitto"), "-c", str(config)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    broker = Mosquitto(port=port, process=proc, config=config)
    try:
        wait_for_port(port)
        yield broker
    finally:
        _stop(broker.process)


@dataclass
class RedisServer:
    """A running redis-server."""

    port: int
    process: subprocess.Popen[bytes]
    args: list[str]

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def restart(self) -> None:
        """Stop (SIGTERM, so AOF is flushed as in a clean shutdown) and start again."""
        _stop(self.process)
        self.process = subprocess.Popen(self.args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for_port(self.port)

    def kill(self) -> None:
        """SIGKILL the server (no clean shutdown) and start it again on the same files."""
        self.process.kill()
        self.process.wait()
        self.process = subprocess.Popen(self.args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for_port(self.port)


@contextlib.contextmanager
def redis_server(workdir: Path, appendonly: bool = False) -> Iterator[RedisServer]:
    """Start redis-server on a free loopback port, data in workdir."""
    port = free_port()
    args = [
        _require("redis-server"),
        "--port", str(port),
        "--bind", "127.0.0.1",
        "--dir", str(workdir),
        "--save", "",
        "--appendonly", "yes" if appendonly else "no",
        "--appendfsync", "always",
    ]
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    server = RedisServer(port=port, process=proc, args=args)
    try:
        wait_for_port(port)
        yield server
    finally:
        _stop(server.process)


@dataclass
class PtyPair:
    """Two linked pseudo-terminals made by socat: what is written to one is read from the other."""

    host_side: str
    device_side: str
    process: subprocess.Popen[bytes]

    def close(self) -> None:
        """Unplug the line: socat exits and both ends go away."""
        _stop(self.process)


@contextlib.contextmanager
def socat_pty_pair(workdir: Path, name: str = "bus") -> Iterator[PtyPair]:
    """Create a linked pty pair with socat, as SERIAL.md describes."""
    host = workdir / f"{name}-host"
    device = workdir / f"{name}-dev"
    proc = subprocess.Popen(
        [
            _require("socat"),
            f"pty,raw,echo=0,link={host}",
            f"pty,raw,echo=0,link={device}",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 5
    while not (host.exists() and device.exists()):
        if time.monotonic() > deadline or proc.poll() is not None:
            _stop(proc)
            raise RuntimeError("socat did not create the pty pair")
        time.sleep(0.01)
    pair = PtyPair(host_side=str(host), device_side=str(device), process=proc)
    try:
        yield pair
    finally:
        pair.close()


def env_without_proxies() -> dict[str, str]:
    """Environment for child processes, with proxies removed so loopback stays loopback."""
    env = dict(os.environ)
    for key in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"):
        env.pop(key, None)
    env["NO_PROXY"] = "127.0.0.1,localhost"
    return env
