"""A real local HTTP server standing in for an SMS gateway: records each POST, answers as scripted."""

from __future__ import annotations

import contextlib
import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

__all__ = ["Gateway", "sms_gateway"]


@dataclass
class Gateway:
    """What the gateway received, and how it answers the next requests."""

    url: str
    received: list[dict[str, Any]] = field(default_factory=list)  # {"body", "headers"} of accepted texts
    attempts: int = 0
    script: list[tuple[int, float]] = field(default_factory=list)  # (status, delay) for the next requests
    lock: threading.Lock = field(default_factory=threading.Lock)

    def texts(self, to: str | None = None) -> list[str]:
        with self.lock:
            return [r["body"]["text"] for r in self.received if to in (None, r["body"]["to"])]

    def wait_for(self, count: int, timeout_s: float = 10.0) -> list[str]:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if len(self.texts()) >= count:
                return self.texts()
            time.sleep(0.02)
        raise TimeoutError(f"the gateway got {len(self.texts())} texts, not {count}")


@contextlib.contextmanager
def sms_gateway() -> Iterator[Gateway]:
    """Serve on a free loopback port until the context exits."""
    gateway = Gateway("")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("content-length", 0))
            body = json.loads(self.rfile.read(length) or b"null")
            with gateway.lock:
                gateway.attempts += 1
                status, delay = gateway.script.pop(0) if gateway.script else (200, 0.0)
            time.sleep(delay)
            if status == 200:
                with gateway.lock:
                    gateway.received.append({"body": body, "headers": dict(self.headers)})
            payload = json.dumps({"ok": status == 200}).encode()
            with contextlib.suppress(OSError):  # the client may have timed out and left
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    gateway.url = f"http://127.0.0.1:{server.server_address[1]}/sms"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, name="sms-gateway",
                              daemon=True)
    thread.start()
    try:
        yield gateway
    finally:
        server.shutdown()
        server.server_close()
