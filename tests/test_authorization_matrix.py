"""Authorisation matrix: every API endpoint x every kind of caller, asserted.

The routes come from the running server's OpenAPI, so an endpoint added
without a rule here fails this test until someone decides who may call it.
"Allowed" means the request got past authentication and authorisation (any
status but 401/403; the action itself may still be refused, e.g. 409).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import websockets

from tests.server import KIOSK, ServerProcess, login, serve_process

pytestmark = pytest.mark.integration

SITES = Path(__file__).resolve().parent.parent / "controller" / "sites"
CALLERS = ("anonymous", "kiosk", "ops_key", "staff_own", "staff_other", "manager", "admin", "ops")
PUBLIC = set(CALLERS)
ISSUERS = {"kiosk", "staff_own", "staff_other", "manager", "admin"}
AT_COUNTER = {"staff_own", "manager", "admin"}
READERS = {"manager", "admin", "ops", "ops_key"}  # the operations centre reads everything, changes nothing

# (method, path template) -> who may call it. Counter 1 is "own" for the staff caller (quay1).
RULES: dict[tuple[str, str], set[str]] = {
    ("get", "/healthz"): PUBLIC,
    ("get", "/metrics"): PUBLIC,
    ("post", "/api/v1/auth/login"): PUBLIC,
    ("post", "/api/v1/auth/logout"): {"staff_own", "staff_other", "manager", "admin", "ops"},  # bearer tokens only
    # log-in waits after failed log-ins: seen and lifted by managers
    ("get", "/api/v1/auth/lockouts"): {"manager", "admin"},
    ("post", "/api/v1/auth/lockouts/lift"): {"manager", "admin"},
    ("get", "/api/v1/sites"): PUBLIC,
    ("get", "/api/v1/sites/{site}/catalogue"): PUBLIC,
    ("get", "/api/v1/sites/{site}/tickets/{ticket_id}"): PUBLIC,
    # the citizen's own deletion, from the ticket status page the QR opens (no account)
    ("delete", "/api/v1/sites/{site}/tickets/{ticket_id}/contact"): PUBLIC,
    ("get", "/api/v1/sites/{site}/sms"): PUBLIC,
    # the hall screen's board and the ticket's QR image
    ("get", "/api/v1/sites/{site}/hall"): PUBLIC,
    ("get", "/api/v1/sites/{site}/tickets/{ticket_id}/qr.svg"): PUBLIC,
    # a counter's view names staff, their satisfaction and who has legal priority: staff and readers only
    ("get", "/api/v1/sites/{site}/counters/{counter}"): {"staff_own", "staff_other", *READERS},
    ("post", "/api/v1/sites/{site}/tickets"): ISSUERS,
    ("post", "/api/v1/sites/{site}/ratings"): {"kiosk", "staff_own", "manager", "admin"},
    # reasons at a low rating: the counter's rating screen (kiosk key) or its staff; the ticket page (public)
    ("post", "/api/v1/sites/{site}/ratings/reasons"): {"kiosk", "staff_own", "manager", "admin"},
    ("post", "/api/v1/sites/{site}/tickets/{ticket_id}/reasons"): PUBLIC,
    # feedback: sent from the ticket page (public, limited per address) or the kiosk; the inbox is the
    # managers' (the operations centre reads it); answering is a manager's
    ("post", "/api/v1/sites/{site}/feedback"): PUBLIC,
    ("get", "/api/v1/sites/{site}/feedback/{code}"): PUBLIC,
    ("get", "/api/v1/sites/{site}/feedback"): READERS,
    ("post", "/api/v1/sites/{site}/feedback/{code}/assign"): {"manager", "admin"},
    ("post", "/api/v1/sites/{site}/feedback/{code}/answer"): {"manager", "admin"},
    ("post", "/api/v1/sites/{site}/feedback/{code}/close"): {"manager", "admin"},
    ("post", "/api/v1/sites/{site}/feedback/{code}/topic"): {"manager", "admin"},
    ("get", "/api/v1/sites/{site}/monitor"): READERS,
    ("get", "/api/v1/sites/{site}/monitor/series"): READERS,
    ("get", "/api/v1/sites/{site}/reports"): READERS,
    ("get", "/api/v1/sites/{site}/forecast"): READERS,
    # the monthly evaluation ranks named staff members: the site's managers only
    ("get", "/api/v1/sites/{site}/evaluation"): {"manager", "admin"},
    ("post", "/api/v1/sites/{site}/alerts/{alert}/acknowledge"): {"manager", "admin"},
    ("get", "/api/v1/feed"): {"ops_key", "manager", "admin", "ops"},
    # appointments: booking, look-up and cancel are the public /book page's (limited per client address);
    # a check-in issues a ticket
    ("get", "/api/v1/sites/{site}/appointments/days"): PUBLIC,
    ("get", "/api/v1/sites/{site}/appointments/slots"): PUBLIC,
    ("post", "/api/v1/sites/{site}/appointments"): PUBLIC,
    ("get", "/api/v1/sites/{site}/appointments/{code}"): PUBLIC,
    ("post", "/api/v1/sites/{site}/appointments/{code}/cancel"): PUBLIC,
    ("post", "/api/v1/sites/{site}/appointments/{code}/check-in"): ISSUERS,
    # numbers taken from a phone: the phone page's (a texted code proves the phone; the ticket's own code
    # moves it back or rejoins); a check-in puts it in line, by a kiosk (with the code) or staff
    ("get", "/api/v1/sites/{site}/remote"): PUBLIC,
    ("post", "/api/v1/sites/{site}/remote/code"): PUBLIC,
    ("post", "/api/v1/sites/{site}/remote/tickets"): PUBLIC,
    # a number held for a later day: its id is its holder's proof, like an appointment's code
    ("get", "/api/v1/sites/{site}/remote/held/{ref}"): PUBLIC,
    ("post", "/api/v1/sites/{site}/remote/held/{ref}/cancel"): PUBLIC,
    ("post", "/api/v1/sites/{site}/tickets/{ticket_id}/check-in"): ISSUERS,
    ("post", "/api/v1/sites/{site}/tickets/{ticket_id}/more-time"): PUBLIC,
    ("post", "/api/v1/sites/{site}/tickets/{ticket_id}/rejoin"): PUBLIC,
    # the kiosk: whether a number taken now may come back later (public, as the hall's wait); what its scanner
    # read (a check-in, an ID card's check-ins, a receipt): a kiosk or staff
    ("get", "/api/v1/sites/{site}/return-later"): PUBLIC,
    ("post", "/api/v1/sites/{site}/scan"): ISSUERS,
    **{("post", f"/api/v1/sites/{{site}}/counters/{{counter}}/{action}"): AT_COUNTER
       for action in ("open", "close", "pause", "resume", "call-next", "recall", "no-show", "start", "finish",
                      "transfer")},
}
# Public read-only endpoints mounted outside the OpenAPI schema (screens use them).
EXTRA: dict[tuple[str, str], set[str]] = {}
# WS /api/v1/sites/{site}/live: what each caller gets (CONTRACT.md section 3); a kiosk key is refused (403)
LIVE = {"anonymous": "public", "kiosk": 403, "ops_key": "full", "staff_own": "full", "staff_other": "full",
        "manager": "full", "admin": "full", "ops": "full"}

BODIES = {
    "/api/v1/auth/login": {"user": "quanly", "secret": "demo"},
    "/api/v1/auth/lockouts/lift": {"user": "nobody"},
    "/api/v1/sites/{site}/tickets": {"procedure": "cth-ban-sao"},
    "/api/v1/sites/{site}/scan": {"text": "1001-ABCDEF"},
    "/api/v1/sites/{site}/ratings": {"counter": 1, "score": 4},
    "/api/v1/sites/{site}/ratings/reasons": {"counter": 1, "reasons": ["waited_long"]},
    "/api/v1/sites/{site}/feedback": {"category": "waiting", "text": "Chờ lâu quá"},
    "/api/v1/sites/{site}/feedback/{code}/assign": {"agency": "TP"},
    "/api/v1/sites/{site}/feedback/{code}/answer": {"answer": "Xin lỗi", "upheld": False},
    "/api/v1/sites/{site}/feedback/{code}/topic": {"topic": "waiting"},
    "/api/v1/sites/{site}/tickets/{ticket_id}/reasons": {"reasons": ["waited_long"]},
    "/api/v1/sites/{site}/counters/{counter}/transfer": {"counter": 2},
    "/api/v1/sites/{site}/counters/{counter}/finish": {"outcome": "done"},
}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    with serve_process(SITES / "commune-centre.toml", tmp_path_factory.mktemp("authz")) as proc:
        yield proc


def headers_for(server: ServerProcess, caller: str) -> dict[str, str]:
    match caller:
        case "anonymous":
            return {}
        case "kiosk":
            return dict(KIOSK)
        case "ops_key":
            return {"X-Api-Key": "ops-demo-key"}
        case "staff_own":
            return login(server.url, "quay1", "1234")
        case "staff_other":
            return login(server.url, "quay3", "1234")
        case "manager":
            return login(server.url, "quanly", "demo")
        case "admin":
            return login(server.url, "admin", "demo")
        case "ops":
            return login(server.url, "ops", "demo")
    raise AssertionError(caller)


def test_every_endpoint_has_a_rule(server: ServerProcess) -> None:
    paths = httpx.get(f"{server.url}/openapi.json", timeout=10).json()["paths"]
    routes = {(method, path) for path, ops in paths.items() for method in ops}
    assert routes - RULES.keys() == set(), "endpoints without an authorisation rule"
    assert RULES.keys() - routes == set(), "rules for endpoints that no longer exist"


@pytest.mark.parametrize("caller", CALLERS)
def test_matrix(server: ServerProcess, caller: str) -> None:
    with httpx.Client(base_url=server.url, timeout=10) as c:
        ticket = c.post("/api/v1/sites/xa/tickets", headers=KIOSK, json={"procedure": "ht-khai-sinh"}).json()
        failures = []
        for (method, template), allowed in {**RULES, **EXTRA}.items():
            # logout revokes the token it is given: use a fresh one for that row
            headers = headers_for(server, caller)
            path = (template.replace("{site}", "xa").replace("{counter}", "1")
                    .replace("{ticket_id}", ticket["id"]).replace("{alert}", "no-such-alert")
                    .replace("{code}", "ABCDEF").replace("{ref}", "h-" + "0" * 32))
            response = c.request(method.upper(), path, headers=headers, json=BODIES.get(template))
            refused = response.status_code in (401, 403)
            if refused == (caller in allowed):
                failures.append(f"{method.upper()} {template} as {caller}: {response.status_code}")
            assert response.status_code < 500, f"{method.upper()} {template} as {caller}: {response.text}"
        assert not failures, "\n".join(failures)


@pytest.mark.parametrize("caller", CALLERS)
def test_live_stream_matrix(server: ServerProcess, caller: str) -> None:
    """Without a credential the public stream, with a staff/manager/ops one the full stream, a kiosk key refused."""
    with httpx.Client(base_url=server.url, timeout=10) as c:
        ticket = c.post("/api/v1/sites/xa/tickets", headers=KIOSK, json={"procedure": "ht-khai-sinh"}).json()
    url = server.url.replace("http://", "ws://") + "/api/v1/sites/xa/live?after=0&snapshots=false"

    async def scenario() -> str | int:
        try:
            async with websockets.connect(url, additional_headers=headers_for(server, caller), proxy=None) as ws:
                while (event := json.loads(await asyncio.wait_for(ws.recv(), 5))).get("ticket") != ticket["id"]:
                    pass
        except websockets.InvalidStatus as refused:
            return refused.response.status_code
        return "full" if event.get("kiosk") == "k1" else "public"

    assert asyncio.run(scenario()) == LIVE[caller]
