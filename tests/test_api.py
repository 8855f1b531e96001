"""The HTTP and WebSocket API through a real `motcua serve` process."""

from __future__ import annotations

import asyncio
import gzip
import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
import websockets

from tests.server import KIOSK, ServerProcess, login, serve_process

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    site = Path(__file__).resolve().parent.parent / "controller" / "sites" / "province-centre.toml"
    with serve_process(site, tmp_path_factory.mktemp("api")) as proc:
        yield proc


@pytest.fixture(scope="module")
def client(server: ServerProcess) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, timeout=10) as c:
        yield c


def issue(client: httpx.Client, procedure: str = "tp-ly-lich-tu-phap", **extra: object) -> httpx.Response:
    headers = dict(KIOSK)
    key = extra.pop("key", None)
    if key:
        headers["Idempotency-Key"] = str(key)
    return client.post("/api/v1/sites/tinh/tickets", json={"procedure": procedure, **extra}, headers=headers)


def test_health_metrics_docs(client: httpx.Client) -> None:
    assert client.get("/healthz").json()["status"] == "ok"
    metrics = client.get("/metrics").text
    assert "motcua_waiting{" in metrics and 'site="tinh"' in metrics
    assert client.get("/docs").status_code == 200
    assert "/api/v1/sites/{site}/tickets" in client.get("/openapi.json").json()["paths"]


def test_catalogue_is_public_and_vietnamese(client: httpx.Client) -> None:
    body = client.get("/api/v1/sites/tinh/catalogue").json()
    names = {p["id"]: p["name"] for p in body["procedures"]}
    assert names["tp-ly-lich-tu-phap"] == "Cấp Phiếu lý lịch tư pháp"
    assert len(body["counters"]) == 53


def test_issue_call_serve_journey(client: httpx.Client, server: ServerProcess) -> None:
    staff = login(server.url, "quay7", "1234")
    fee = login(server.url, "quay38", "1234")
    response = issue(client)
    assert response.status_code == 201, response.text
    ticket = response.json()
    assert 2001 <= int(ticket["number"]) <= 2999 and ticket["agency"] == "TP"
    assert ticket["position"] >= 1 and ticket["issued_at"].endswith("+07:00")
    assert client.post("/api/v1/sites/tinh/counters/7/open", headers=staff).status_code == 200
    called = client.post("/api/v1/sites/tinh/counters/7/call-next", headers=staff)
    assert called.status_code == 200 and called.json()["state"] == "called"
    number = called.json()["number"]
    assert client.post("/api/v1/sites/tinh/counters/7/start", headers=staff).json()["state"] == "serving"
    finished = client.post("/api/v1/sites/tinh/counters/7/finish", json={"outcome": "done"}, headers=staff).json()
    # Lý lịch tư pháp has a fee: the visit moves on to the fee counter with the same number.
    assert finished["state"] == "waiting" and finished["agency"] == "PHI" and finished["number"] == number
    client.post("/api/v1/sites/tinh/counters/38/open", headers=fee)
    at_fee = client.post("/api/v1/sites/tinh/counters/38/call-next", headers=fee).json()
    assert at_fee["number"] == number
    status = client.get(f"/api/v1/sites/tinh/tickets/{at_fee['id']}").json()
    assert [h["type"] for h in status["history"]][:4] == ["ticket.issued", "ticket.called", "ticket.started",
                                                          "ticket.finished"]
    rating = client.post("/api/v1/sites/tinh/ratings", json={"counter": 7, "score": 4}, headers=KIOSK)
    assert rating.status_code == 201 and rating.json()["staff"] == "quay7"


def test_call_next_with_nobody_waiting_is_204(client: httpx.Client, server: ServerProcess) -> None:
    staff = login(server.url, "quay34", "1234")
    client.post("/api/v1/sites/tinh/counters/34/open", headers=staff)
    assert client.post("/api/v1/sites/tinh/counters/34/call-next", headers=staff).status_code == 204


def test_idempotent_issue(client: httpx.Client) -> None:
    first = issue(client, key="tap-1")
    again = issue(client, key="tap-1")
    assert first.status_code == again.status_code == 201
    assert first.json()["id"] == again.json()["id"]
    conflict = issue(client, "gtvt-doi-gplx", key="tap-1")
    assert conflict.status_code == 409 and conflict.json()["error"]["code"] == "idempotency_conflict"


@pytest.mark.parametrize(
    ("path", "body", "status", "code"),
    [
        ("/api/v1/sites/tinh/tickets", {"procedure": "khong-co"}, 404, "unknown_procedure"),
        ("/api/v1/sites/tinh/tickets", {"procedure": "phi-nop-phi"}, 422, "not_a_kiosk_procedure"),
        ("/api/v1/sites/tinh/tickets", {"procedure": "tp-ly-lich-tu-phap", "priority": "vip"}, 422, "invalid_request"),
        ("/api/v1/sites/tinh/tickets", {"procedure": 5}, 422, "invalid_request"),
        ("/api/v1/sites/tinh/tickets", {"procedure": "x", "extra": 1}, 422, "invalid_request"),
        ("/api/v1/sites/nowhere/tickets", {"procedure": "tp-ly-lich-tu-phap"}, 404, "unknown_site"),
    ],
)
def test_bad_ticket_requests_change_nothing(
    client: httpx.Client, path: str, body: dict[str, object], status: int, code: str
) -> None:
    before = client.get("/metrics").text.count("motcua_tickets_issued_total")
    seq_before = _last_seq(client)
    response = client.post(path, json=body, headers=KIOSK)
    assert response.status_code == status, response.text
    assert response.json()["error"]["code"] == code
    assert _last_seq(client) == seq_before
    assert client.get("/metrics").text.count("motcua_tickets_issued_total") == before


def _last_seq(client: httpx.Client) -> float:
    for line in client.get("/metrics").text.splitlines():
        if line.startswith('motcua_last_seq{site="tinh"}'):
            return float(line.split()[-1])
    raise AssertionError("no motcua_last_seq")


def test_malformed_json_is_422(client: httpx.Client) -> None:
    response = client.post(
        "/api/v1/sites/tinh/tickets", content=b'{"procedure": ', headers={**KIOSK, "content-type": "application/json"}
    )
    assert response.status_code == 422 and response.json()["error"]["code"] == "malformed_json"


def test_wrong_state_errors(client: httpx.Client, server: ServerProcess) -> None:
    staff = login(server.url, "quay12", "1234")
    closed = client.post("/api/v1/sites/tinh/counters/12/call-next", headers=staff)
    assert closed.status_code == 409 and closed.json()["error"]["code"] == "counter_closed"
    client.post("/api/v1/sites/tinh/counters/12/open", headers=staff)
    nothing = client.post("/api/v1/sites/tinh/counters/12/finish", json={"outcome": "done"}, headers=staff)
    assert nothing.status_code == 409 and nothing.json()["error"]["code"] == "no_current_ticket"
    bad_outcome = client.post("/api/v1/sites/tinh/counters/12/finish", json={"outcome": "maybe"}, headers=staff)
    assert bad_outcome.status_code == 422
    unknown = client.post("/api/v1/sites/tinh/counters/999/call-next", headers=login(server.url, "quanly", "demo"))
    assert unknown.status_code == 404 and unknown.json()["error"]["code"] == "unknown_counter"


def test_auth_rules(client: httpx.Client, server: ServerProcess) -> None:
    assert client.post("/api/v1/sites/tinh/tickets", json={"procedure": "tp-ly-lich-tu-phap"}).status_code == 401
    wrong = client.post("/api/v1/auth/login", json={"user": "quay7", "secret": "0000"})
    assert wrong.status_code == 401 and wrong.json()["error"]["code"] == "invalid_credentials"
    staff7 = login(server.url, "quay7", "1234")
    other = client.post("/api/v1/sites/tinh/counters/8/open", headers=staff7)
    assert other.status_code == 403 and other.json()["error"]["code"] == "wrong_counter"
    assert client.get("/api/v1/sites/tinh/monitor", headers=staff7).status_code == 403
    assert client.get("/api/v1/sites/tinh/monitor", headers=login(server.url, "quanly", "demo")).status_code == 200
    bogus = client.get("/api/v1/sites/tinh/monitor", headers={"Authorization": "Bearer nope"})
    assert bogus.status_code == 401
    token_headers = login(server.url, "quay9", "1234")
    assert client.post("/api/v1/auth/logout", headers=token_headers).status_code == 204
    assert client.post("/api/v1/sites/tinh/counters/9/open", headers=token_headers).status_code == 401


def test_transfer_keeps_the_wait_clock(client: httpx.Client, server: ServerProcess) -> None:
    staff = login(server.url, "quay10", "1234")
    client.post("/api/v1/sites/tinh/counters/10/open", headers=staff)
    ticket = issue(client, "tp-cong-chung").json()
    while True:
        called = client.post("/api/v1/sites/tinh/counters/10/call-next", headers=staff)
        assert called.status_code == 200
        if called.json()["id"] == ticket["id"]:
            break
        client.post("/api/v1/sites/tinh/counters/10/finish", json={"outcome": "done"}, headers=staff)
    waited = called.json()["waited_s"]
    moved = client.post("/api/v1/sites/tinh/counters/10/transfer", json={"procedure": "khdt-tam-ngung"}, headers=staff)
    assert moved.status_code == 200, moved.text
    assert moved.json()["agency"] == "KHDT" and moved.json()["waited_s"] >= waited


def test_live_stream_resumes_after_seq(client: httpx.Client, server: ServerProcess) -> None:
    manager = login(server.url, "quanly", "demo")  # the full stream: every seq

    async def scenario() -> None:
        ws_url = server.url.replace("http", "ws") + "/api/v1/sites/tinh/live?snapshots=false"
        async with websockets.connect(ws_url, additional_headers=manager) as ws:
            number = issue(client, "gtvt-doi-gplx").json()["number"]
            message = json.loads(await asyncio.wait_for(ws.recv(), 5))
            assert message["type"] == "ticket.issued" and message["number"] == number
            seq = message["seq"]
        later = [issue(client, "gtvt-doi-gplx").json()["number"] for _ in range(3)]
        async with websockets.connect(f"{ws_url}&after={seq}", additional_headers=manager) as ws:
            missed = [json.loads(await asyncio.wait_for(ws.recv(), 5)) for _ in range(3)]
        assert [m["number"] for m in missed] == later
        assert [m["seq"] for m in missed] == [seq + 1, seq + 2, seq + 3]

    asyncio.run(scenario())


def test_staff_open_a_counter_as_themselves_and_a_manager_may_name_who_serves(
    client: httpx.Client, server: ServerProcess
) -> None:
    """Ratings feed the monthly evaluation of the staff member at the counter: nobody else may put a name there."""
    quay20, manager = login(server.url, "quay20", "1234"), login(server.url, "quanly", "demo")
    after = client.get("/api/v1/sites/tinh/hall").json()["seq"]
    blamed = client.post("/api/v1/sites/tinh/counters/20/open", json={"staff": "quay21"}, headers=quay20)
    assert blamed.status_code == 403 and blamed.json()["error"]["code"] == "open_as_self"
    assert client.get("/api/v1/sites/tinh/counters/20", headers=manager).json()["status"] == "closed"  # nothing changed
    own = client.post("/api/v1/sites/tinh/counters/20/open", json={"staff": "quay20"}, headers=quay20)
    assert own.status_code == 200 and own.json()["staff"] == "quay20"
    for nobody in ("no-such-user", "admin"):  # not a staff account
        unknown = client.post("/api/v1/sites/tinh/counters/20/open", json={"staff": nobody}, headers=manager)
        assert unknown.status_code == 422 and unknown.json()["error"]["code"] == "unknown_staff"
    named = client.post("/api/v1/sites/tinh/counters/20/open", json={"staff": "quay21"}, headers=manager)
    assert named.status_code == 200 and named.json()["staff"] == "quay21"

    async def changes() -> list[dict[str, object]]:
        url = server.url.replace("http", "ws") + f"/api/v1/sites/tinh/live?snapshots=false&after={after}"
        async with websockets.connect(url, additional_headers=manager) as ws:
            seen: list[dict[str, object]] = []
            while len(seen) < 2:
                message = json.loads(await asyncio.wait_for(ws.recv(), 5))
                if message["type"] == "counter.changed" and message["counter"] == 20:
                    seen.append(message)
            return seen

    opened, renamed = asyncio.run(changes())
    assert (opened["staff"], opened["by"]) == ("quay20", "quay20")
    assert (renamed["staff"], renamed["by"]) == ("quay21", "quanly")  # the event says who did it


def test_the_hall_board_has_a_tile_per_counter_in_use_and_the_wait_of_a_new_number(
    client: httpx.Client, server: ServerProcess
) -> None:
    """Issue 15: the hall shows every counter's number now (several calls at once) and the predicted wait per agency."""

    def board() -> tuple[dict[int, dict[str, object]], dict[str, object]]:
        body = client.get("/api/v1/sites/tinh/hall").json()
        return {t["id"]: t for t in body["counters"]}, next(a for a in body["agencies"] if a["id"] == "YT")

    def predicted_when(holds: Callable[[object], bool]) -> object:
        """The agency's predicted wait once the forecast (recomputed at most every 2 s) has caught up."""
        deadline = time.monotonic() + 10
        while not holds(wait := board()[1]["predicted_wait_s"]):
            assert time.monotonic() < deadline, f"predicted wait still {wait!r}"
            time.sleep(0.1)
        return wait

    tiles, health = board()
    assert 27 not in tiles and 28 not in tiles and health["predicted_wait_s"] is None  # no counter of YT is open
    staff = {n: login(server.url, f"quay{n}", "1234") for n in (27, 28)}
    for n in (27, 28):
        assert client.post(f"/api/v1/sites/tinh/counters/{n}/open", headers=staff[n]).status_code == 200
    tiles, _ = board()
    assert tiles[27] == {"id": 27, "status": "open", "ticket": None, "number": None}
    predicted_when(lambda wait: wait == 0)  # an idle counter calls a new number at once
    numbers = [issue(client, "yt-chung-chi-hanh-nghe").json()["number"] for _ in range(3)]
    called = [client.post(f"/api/v1/sites/tinh/counters/{n}/call-next", headers=staff[n]).json() for n in (27, 28)]
    tiles, _ = board()
    assert [tiles[27]["number"], tiles[28]["number"]] == numbers[:2] == [c["number"] for c in called]
    predicted_when(lambda wait: isinstance(wait, int) and wait > 0)  # behind one, both counters busy
    assert client.post("/api/v1/sites/tinh/counters/28/pause", json={"reason": "break"},
                       headers=staff[28]).status_code == 409  # a counter with a citizen at it cannot pause
    client.post("/api/v1/sites/tinh/counters/28/no-show", headers=staff[28])
    tiles, _ = board()
    assert tiles[28]["number"] is None and tiles[28]["status"] == "open"  # the tile empties with the counter


def test_english_names_and_papers_for_screens_switched_to_english(client: httpx.Client) -> None:
    catalogue = client.get("/api/v1/sites/tinh/catalogue").json()
    ly_lich = next(p for p in catalogue["procedures"] if p["id"] == "tp-ly-lich-tu-phap")
    assert ly_lich["name_en"] == "Criminal record certificate"
    assert len(ly_lich["papers_en"]) == len(ly_lich["papers"]) == 3
    assert catalogue["site"]["issue_cutoff_min"] == 15
    ticket = issue(client).json()
    assert ticket["procedure_name_en"] == "Criminal record certificate"
    assert ticket["agency_name_en"] == "Department of Justice"


def test_page_assets_travel_compressed_to_a_browser_that_takes_gzip(client: httpx.Client) -> None:
    """Issue 15: the kiosk's scripts and styles grew; they travel gzip-compressed, the page weighs less than before."""
    static = Path(__file__).resolve().parent.parent / "kiosk" / "static"
    for name in ("kiosk.js", "kiosk.css", "common.js"):
        source = (static / name).read_bytes()
        raw = client.get(f"/ui/{name}", headers={"Accept-Encoding": "identity"})
        assert raw.headers.get("content-encoding") is None and raw.content == source
        with client.stream("GET", f"/ui/{name}", headers={"Accept-Encoding": "gzip"}) as packed:
            wire = b"".join(packed.iter_raw())
            assert packed.headers["content-encoding"] == "gzip" and "Accept-Encoding" in packed.headers["vary"]
        assert gzip.decompress(wire) == source and len(wire) < len(source) / 2
        refused = client.get(f"/ui/{name}", headers={"Accept-Encoding": "gzip;q=0, identity"})
        assert refused.headers.get("content-encoding") is None and refused.content == source
    assert client.get("/ui/vendor/uplot/uPlot.iife.min.js", headers={"Accept-Encoding": "gzip"}).status_code == 200
