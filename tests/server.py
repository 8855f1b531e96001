"""Start the real controller for tests: `motcua serve` as a subprocess on a free port."""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx

from controller.demo import DemoNames
from tests.services import env_without_proxies, free_port

__all__ = ["KIOSK", "ServerProcess", "advance_to", "demo_kiosk", "login", "serve_process", "server_now"]

KIOSK = {"X-Kiosk-Key": "kiosk-demo"}  # a kiosk of the file's first site (the only one, or a province's centre)


def demo_kiosk(site: str, first_site: str = "tinh") -> dict[str, str]:
    """The X-Kiosk-Key header of a demo kiosk of `site`, on a file whose first site is `first_site`."""
    return {"X-Kiosk-Key": DemoNames(first_site).kiosk_key(site)}


@dataclass
class ServerProcess:
    """A running `motcua serve` process."""

    port: int
    data_dir: Path
    args: list[str]
    process: subprocess.Popen[bytes]
    log_path: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(self.args, stdout=log, stderr=subprocess.STDOUT, env=env_without_proxies())
        wait_healthy(self.url, self.process, self.log_path)

    def kill(self) -> None:
        """SIGKILL: no clean shutdown, as in a power cut of the process."""
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def wait_healthy(url: str, process: subprocess.Popen[bytes], log_path: Path, timeout_s: float = 30.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}: {log_path.read_text()[-2000:]}")
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(f"{url}/healthz", timeout=1.0).status_code == 200:
                return
        time.sleep(0.1)
    raise TimeoutError(f"server not healthy after {timeout_s}s: {log_path.read_text()[-2000:]}")


@contextlib.contextmanager
def serve_process(
    site_file: Path, data_dir: Path, *extra: str, demo: bool = True, kiosk_rate: float = 1_000_000.0
) -> Iterator[ServerProcess]:
    """Run `motcua serve` on a free port until the context exits.

    Tests drive many tickets through the one demo kiosk key, so the kiosk rate
    limit is lifted unless a test is about it.
    """
    port = free_port()
    args = [
        sys.executable, "-m", "controller.cli", "serve", "--site", str(site_file), "--port", str(port),
        "--data-dir", str(data_dir), "--log-level", "warning", "--kiosk-rate", str(kiosk_rate), *extra,
    ]
    if demo:
        args.append("--demo")
    data_dir.mkdir(parents=True, exist_ok=True)
    placeholder = subprocess.Popen(["true"])
    placeholder.wait()
    server = ServerProcess(port, data_dir, args, placeholder, data_dir / "server.log")
    server.start()
    try:
        yield server
    finally:
        server.stop()


def login(url: str, user: str, secret: str) -> dict[str, str]:
    """Log in and return the Authorization header."""
    response = httpx.post(f"{url}/api/v1/auth/login", json={"user": user, "secret": secret}, timeout=10)
    response.raise_for_status()
    return {"Authorization": f"Bearer {response.json()['token']}"}


def server_now(server: ServerProcess, tz: dt.tzinfo = dt.timezone(dt.timedelta(hours=7))) -> dt.datetime:
    """The clock of a `serve --test-clock` process, in `tz` (the demo sites' +07:00)."""
    admin = login(server.url, "admin", "demo")
    reply = httpx.post(f"{server.url}/api/v1/_test/clock", headers=admin, json={"advance_s": 0.001}, timeout=10)
    return dt.datetime.fromisoformat(reply.json()["now"]).astimezone(tz)


def advance_to(server: ServerProcess, when: dt.datetime) -> None:
    """Move a `serve --test-clock` process's clock forward to `when` (it never moves back), a day at most a step."""
    admin = login(server.url, "admin", "demo")
    left = (when - server_now(server)).total_seconds()
    assert left > 0, f"the server is already past {when}"
    while left > 0:
        step = min(left, 86_400.0)
        moved = httpx.post(f"{server.url}/api/v1/_test/clock", headers=admin, json={"advance_s": step}, timeout=10)
        assert moved.status_code == 200, moved.text
        left -= step


os.environ.setdefault("NO_PROXY", "127.0.0.1,localhost")
