"""Real local HTTP servers standing in for text gateways: record each POST, answer as scripted.

`sms_gateway()` is an SMS gateway's webhook ({"to", "text"}). `zns_gateway()` answers as Zalo's
notification service does: HTTP 200 with an error code in the body, `access_token` checked, the
phone in 84xxxxxxxxx form, and the message the citizen sees rendered from the template the
centre registered under that id (devices/sms/wording.py TEMPLATES), so a test reads the same
(phone, text) whichever channel carried it.
"""

from __future__ import annotations

import contextlib
import json
import re
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from devices.sms.wording import TEMPLATES, render

__all__ = ["ZNS_IDS", "ZNS_TOKEN", "Gateway", "sms_gateway", "zns_gateway"]

ZNS_TOKEN = "zalo-oa-token-for-tests"
ZNS_IDS = {kind: str(500100 + i) for i, kind in enumerate(TEMPLATES)}  # what a centre got back from Zalo


@dataclass
class Gateway:
    """What the gateway received, and how it answers the next requests."""

    url: str
    received: list[dict[str, Any]] = field(default_factory=list)  # {"body", "headers", "to", "text"} delivered
    attempts: int = 0
    script: list[tuple[int, float]] = field(default_factory=list)  # (status, delay) for the next requests
    errors: list[int] = field(default_factory=list)  # ZNS: body error codes for the next requests
    no_zalo: set[str] = field(default_factory=set)  # ZNS: phones (84...) without a Zalo account
    lock: threading.Lock = field(default_factory=threading.Lock)

    def texts(self, to: str | None = None) -> list[str]:
        with self.lock:
            return [r["text"] for r in self.received if to in (None, r["to"])]

    def wait_for(self, count: int, timeout_s: float = 10.0) -> list[str]:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if len(self.texts()) >= count:
                return self.texts()
            time.sleep(0.02)
        raise TimeoutError(f"the gateway got {len(self.texts())} texts, not {count}")


Reply = Callable[[Gateway, dict[str, Any], Mapping[str, str]], tuple[dict[str, Any], dict[str, Any] | None]]


def _sms(gateway: Gateway, body: dict[str, Any], headers: Mapping[str, str]) -> tuple[dict[str, Any],
                                                                                       dict[str, Any] | None]:
    return {"ok": True}, {"to": body["to"], "text": body["text"]}


def _zns(gateway: Gateway, body: dict[str, Any], headers: Mapping[str, str]) -> tuple[dict[str, Any],
                                                                                       dict[str, Any] | None]:
    kinds = {template_id: kind for kind, template_id in ZNS_IDS.items()}
    with gateway.lock:
        forced = gateway.errors.pop(0) if gateway.errors else 0
    phone = str(body.get("phone", ""))
    if forced:
        error = forced
    elif headers.get("access_token") != ZNS_TOKEN:
        error = -124  # access token invalid
    elif not re.fullmatch(r"84[0-9]{9}", phone):
        error = -108  # phone number invalid
    elif body.get("template_id") not in kinds:
        error = -109  # template id invalid
    elif phone in gateway.no_zalo:
        error = -118  # Zalo account not existed
    else:
        try:
            text = render(TEMPLATES[kinds[body["template_id"]]], body["template_data"])
        except KeyError:
            return {"error": -112, "message": "Template data invalid"}, None
        return {"error": 0, "message": "Success", "data": {"msg_id": f"m{gateway.attempts}"}}, {"to": phone,
                                                                                                 "text": text}
    return {"error": error, "message": "refused"}, None


@contextlib.contextmanager
def _gateway(reply: Reply, path: str) -> Iterator[Gateway]:
    gateway = Gateway("")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("content-length", 0))
            body = json.loads(self.rfile.read(length) or b"null")
            with gateway.lock:
                gateway.attempts += 1
                status, delay = gateway.script.pop(0) if gateway.script else (200, 0.0)
            time.sleep(delay)
            payload: dict[str, Any] = {"ok": False}
            if status == 200:
                payload, delivered = reply(gateway, body, self.headers)
                if delivered is not None:
                    with gateway.lock:
                        gateway.received.append({"body": body, "headers": dict(self.headers), **delivered})
            data = json.dumps(payload).encode()
            with contextlib.suppress(OSError):  # the client may have timed out and left
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    gateway.url = f"http://127.0.0.1:{server.server_address[1]}{path}"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, name="text-gateway",
                              daemon=True)
    thread.start()
    try:
        yield gateway
    finally:
        server.shutdown()
        server.server_close()


@contextlib.contextmanager
def sms_gateway() -> Iterator[Gateway]:
    """An SMS gateway's webhook on a free loopback port until the context exits."""
    with _gateway(_sms, "/sms") as gateway:
        yield gateway


@contextlib.contextmanager
def zns_gateway() -> Iterator[Gateway]:
    """Zalo's ZNS template endpoint on a free loopback port until the context exits."""
    with _gateway(_zns, "/message/template") as gateway:
        yield gateway
