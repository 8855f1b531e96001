"""CONTRACT.md sections 2 and 3 as a third party reads them: the clean-room client of tests/peers
against one real `motcua serve`.

Each test names the promise it checks. Where the document leaves room, the reading we
implement is stated beside the assertion. A refused request must answer with the error
shape and change nothing: the floor (read through the documented monitor) is the same
before and after, and the live stream carries no event for it, so the next accepted
request is exactly the next sequence number.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import json
import subprocess
import sys
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import websockets

from tests.peers.http_client import (
    EVENT_TYPES,
    PUBLIC_FIELDS,
    ContractViolation,
    LiveStream,
    Motcua,
    Session,
    check_issued,
    contract_error,
    iso_instant,
)
from tests.server import ServerProcess, serve_process

pytestmark = pytest.mark.integration

SITE_FILE = Path(__file__).resolve().parent.parent / "controller" / "sites" / "commune-centre.toml"
SITE = "xa"
KIOSK = {"X-Kiosk-Key": "kiosk-demo"}  # the documented demo kiosk key
# Accounts of another site, made with the documented `motcua users add` before the server starts.
OTHER_SITE_STAFF = ("quay1-tinh", "4321")
OTHER_SITE_KIOSK = {"X-Kiosk-Key": "kiosk-of-tinh-only"}
# Every ticket these tests issue outside the counter flow is of one agency (Chứng thực), so the
# flow's counters (4: DD/KT, 5: VHXH/HT) call only the flow's own tickets.
QUIET = "cth-ban-sao"


def _users_add(data_dir: Path, *args: str) -> None:
    subprocess.run([sys.executable, "-m", "controller.cli", "users", "--data-dir", str(data_dir), "add", *args],
                   check=True, capture_output=True, timeout=60)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    data = tmp_path_factory.mktemp("conformance")
    _users_add(data, "--user", OTHER_SITE_STAFF[0], "--role", "staff", "--site", "tinh", "--counter", "1",
               "--secret", OTHER_SITE_STAFF[1])
    _users_add(data, "--user", "kiosk-tinh", "--role", "kiosk", "--site", "tinh",
               "--secret", OTHER_SITE_KIOSK["X-Kiosk-Key"])
    with serve_process(SITE_FILE, data) as proc:
        yield proc


@pytest.fixture(scope="module")
def api(server: ServerProcess) -> Iterator[Motcua]:
    with Motcua(server.url) as client:
        yield client


@pytest.fixture(scope="module")
def manager_session(api: Motcua) -> Session:
    return api.login("quanly", "demo")


@pytest.fixture(scope="module")
def manager(manager_session: Session) -> dict[str, str]:
    return manager_session.headers


@pytest.fixture(scope="module")
def token(manager_session: Session) -> str:
    """A manager's token: the full live stream (every event, one seq after the other) is for staff and managers."""
    return manager_session.token


def ws_base(server: ServerProcess) -> str:
    return server.url.replace("http://", "ws://")


def floor(api: Motcua, manager: dict[str, str]) -> dict[str, Any]:
    """What the documented monitor says of the floor, without the fields that move with the clock."""
    snapshot = api.monitor(SITE, manager).json()
    return {
        "issued_today": snapshot.get("issued_today"),
        "agencies": [(a["id"], a["waiting"], a.get("served_today")) for a in snapshot["agencies"]],
        "counters": [(c["id"], c.get("status"), c.get("staff"), (c.get("current") or {}).get("id"),
                      c.get("served_today"), c.get("ratings_today")) for c in snapshot["counters"]],
    }


def run(scenario: Any) -> Any:
    return asyncio.run(scenario)


# -- section 2: auth --------------------------------------------------------------------------------------


def test_login_answers_token_role_and_a_future_expiry(api: Motcua) -> None:
    for user, secret, role in (("quanly", "demo", "manager"), ("admin", "demo", "admin"), ("quay5", "1234", "staff"),
                               ("ops", "demo", "ops")):
        session = api.login(user, secret)
        assert session.role == role
        expires = iso_instant(session.expires_at)
        assert datetime.now(expires.tzinfo) < expires < datetime.now(expires.tzinfo) + timedelta(days=2)


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"user": "quanly", "secret": "wrong"}, 401),
        ({"user": "nobody", "secret": "demo"}, 401),
        ({"user": "quanly"}, 422),
        ({"user": 5, "secret": "demo"}, 422),
        ({"user": "quanly", "secret": "demo", "remember": True}, 422),
    ],
)
def test_a_bad_login_is_refused_with_the_error_shape(api: Motcua, body: dict[str, object], status: int) -> None:
    response = api.http.post("/api/v1/auth/login", json=body)
    assert contract_error(response)[0] == status


def test_auth_rules_refuse_with_401_or_403_and_change_nothing(
    api: Motcua, server: ServerProcess, manager: dict[str, str], token: str
) -> None:
    """Issuing needs a kiosk key or a staff token; counter actions the staff of that counter (or a manager).

    Reading: no or a bad credential is 401, a good credential without the right is 403; an account
    made for one site (users add --site) has no right at another.
    """
    revoked = api.login("quay2", "1234").headers
    assert api.http.post("/api/v1/auth/logout", headers=revoked).status_code == 204
    ops = api.login("ops", "demo").headers
    staff1 = api.login("quay1", "1234").headers
    other_site_staff = api.login(*OTHER_SITE_STAFF).headers
    ticket = {"procedure": QUIET}
    refusals = [
        (lambda: api.issue(SITE, ticket, {}), 401),
        (lambda: api.issue(SITE, ticket, {"X-Kiosk-Key": "not-a-kiosk"}), 401),
        (lambda: api.issue(SITE, ticket, {"Authorization": "Bearer not-a-token"}), 401),
        (lambda: api.issue(SITE, ticket, {"Authorization": "Basic cXVhbmx5OmRlbW8="}), 401),
        (lambda: api.issue(SITE, ticket, revoked), 401),
        (lambda: api.issue(SITE, ticket, ops), 403),
        (lambda: api.issue(SITE, ticket, OTHER_SITE_KIOSK), 403),
        (lambda: api.issue(SITE, ticket, other_site_staff), 403),
        (lambda: api.counter(SITE, 1, "open", {}), 401),
        (lambda: api.counter(SITE, 1, "open", KIOSK), 403),
        (lambda: api.counter(SITE, 1, "open", ops), 403),
        (lambda: api.counter(SITE, 2, "open", staff1), 403),
        (lambda: api.counter(SITE, 1, "open", staff1, {"staff": "quay3"}), 403),  # staff open as themselves
        (lambda: api.counter(SITE, 1, "open", other_site_staff), 403),
        (lambda: api.counter(SITE, 2, "open", revoked), 401),
        (lambda: api.monitor(SITE, {}), 401),
        (lambda: api.monitor(SITE, staff1), 403),
    ]

    async def scenario() -> None:
        async with LiveStream.open(ws_base(server), SITE, token=token) as stream:
            first = api.issue(SITE, ticket, KIOSK)
            assert first.status_code == 201
            mark = await stream.prompted()
            before = floor(api, manager)
            for index, (call, status) in enumerate(refusals):
                got = contract_error(call())[0]
                assert got == status, f"refusal {index}: {got}, expected {status}"
            assert await stream.prompted_within(0.3) == []
            assert floor(api, manager) == before
            api.issue(SITE, ticket, KIOSK)
            nxt = await stream.prompted()
            assert nxt["type"] == "ticket.issued" and nxt["seq"] > mark["seq"]  # and nothing else was caused between

    run(scenario())


def test_public_reads_need_nothing(api: Motcua) -> None:
    """The catalogue, a ticket's status by id and the hall display need no credential."""
    catalogue = api.catalogue(SITE)
    assert catalogue.status_code == 200
    assert {"agencies", "procedures", "counters"} <= set(catalogue.json())
    issued = api.issue(SITE, {"procedure": QUIET}, KIOSK).json()
    status = api.ticket(SITE, issued["id"])
    assert status.status_code == 200
    body = status.json()
    assert body["id"] == issued["id"] and body["state"] == "waiting"
    assert isinstance(body["position"], int) and body["position"] >= 1
    assert "estimated_wait_s" in body
    assert [h["type"] for h in body["history"]] == ["ticket.issued"]
    assert all(iso_instant(h["at"]) for h in body["history"])
    hall = api.http.get(f"/hall/{SITE}")
    assert hall.status_code == 200 and "text/html" in hall.headers["content-type"]
    assert api.healthz().status_code == 200
    metrics = api.metrics()
    assert metrics.status_code == 200 and "text/plain" in metrics.headers["content-type"]
    names = {line.split("{")[0].split(" ")[0] for line in metrics.text.splitlines() if line and line[0] != "#"}
    assert names and all(name.startswith("motcua_") for name in names)


# -- section 2: tickets and idempotency ---------------------------------------------------------------------


def test_issue_answers_the_documented_fields(api: Motcua, server: ServerProcess) -> None:
    staff = api.login("quay3", "1234").headers
    for auth, body in ((KIOSK, {"procedure": QUIET}),
                       (KIOSK, {"procedure": QUIET, "priority": "elderly", "channel": "kiosk", "kiosk": "k1",
                                "phone": None}),
                       (staff, {"procedure": QUIET, "priority": None, "channel": "staff"})):
        response = api.issue(SITE, body, auth)
        assert response.status_code == 201, response.text
        issued = response.json()
        check_issued(issued)
        assert issued["procedure"] == QUIET and issued["agency"] == "CTH"
        assert issued["position"] >= 1


def test_a_retried_issue_returns_the_same_ticket_and_makes_one(
    api: Motcua, server: ServerProcess, manager: dict[str, str], token: str
) -> None:
    """header Idempotency-Key: a retried request returns the same ticket (also when the retries race)."""
    async def scenario() -> None:
        async with LiveStream.open(ws_base(server), SITE, token=token) as stream:
            key = f"tap-{uuid.uuid4().hex}"
            first = api.issue(SITE, {"procedure": QUIET}, KIOSK, key)
            again = api.issue(SITE, {"procedure": QUIET}, KIOSK, key)
            assert first.status_code == 201 and again.status_code == 201
            assert {k: again.json()[k] for k in ("id", "number", "issued_at")} == \
                   {k: first.json()[k] for k in ("id", "number", "issued_at")}
            issued = await stream.prompted()
            assert issued["type"] == "ticket.issued"

            racing = f"tap-{uuid.uuid4().hex}"
            with concurrent.futures.ThreadPoolExecutor(8) as pool:
                answers = list(pool.map(
                    lambda _: httpx.post(f"{server.url}/api/v1/sites/{SITE}/tickets", json={"procedure": QUIET},
                                         headers={**KIOSK, "Idempotency-Key": racing}, timeout=10),
                    range(8)))
            assert {a.status_code for a in answers} == {201}
            assert len({a.json()["id"] for a in answers}) == 1
            raced = await stream.prompted()
            assert raced["type"] == "ticket.issued"
            # one ticket each: the next thing on the stream is the next request's ticket
            assert await stream.prompted_within(0.3) == []
            before = floor(api, manager)
            assert api.issue(SITE, {"procedure": QUIET}, KIOSK, racing).json()["id"] == answers[0].json()["id"]
            assert floor(api, manager) == before

    run(scenario())


# -- section 2: counters ------------------------------------------------------------------------------------


def test_counter_flow_call_recall_no_show_start_finish_transfer_rate(
    api: Motcua, server: ServerProcess, token: str
) -> None:
    """Every counter action of section 2 by the staff of that counter, each one seen on the live stream."""
    at5 = api.login("quay5", "1234").headers
    at4 = api.login("quay4", "1234").headers

    def act(counter: int, action: str, auth: dict[str, str], body: object = None) -> httpx.Response:
        response = api.counter(SITE, counter, action, auth, body)
        assert response.status_code < 300, f"{action}: {response.status_code} {response.text}"
        return response

    async def scenario() -> None:
        async with LiveStream.open(ws_base(server), SITE, token=token) as stream:
            for counter, auth in ((5, at5), (4, at4)):
                act(counter, "open", auth)
                changed = await stream.prompted()
                assert changed["type"] == "counter.changed"
            assert act(5, "call-next", at5).status_code == 204  # 204 nobody waiting
            first, second = (api.issue(SITE, {"procedure": "vhxh-chinh-sach"}, KIOSK).json() for _ in range(2))
            await stream.events_until(lambda e: e["type"] == "ticket.issued" and e.get("number") == second["number"])

            called = act(5, "call-next", at5)
            assert called.status_code == 200 and called.json()["id"] == first["id"]  # 200 ticket
            check_issued(called.json(), waiting=False)  # reading: a called ticket's position is null
            act(5, "recall", at5)
            act(5, "no-show", at5)
            act(5, "pause", at5, {"reason": "nghỉ giải lao"})
            act(5, "resume", at5)
            act(5, "call-next", at5)
            act(5, "start", at5)
            moved = act(5, "transfer", at5, {"procedure": "kt-ho-kinh-doanh"}).json()
            assert moved["id"] == second["id"] and moved["agency"] == "KT"
            at_4 = act(4, "call-next", at4).json()
            assert at_4["id"] == second["id"]
            act(4, "start", at4)
            act(4, "transfer", at4, {"counter": 5})
            again = act(5, "call-next", at5).json()
            assert again["id"] == second["id"]
            act(5, "start", at5)
            act(5, "finish", at5, {"outcome": "done"})
            rated = api.rate(SITE, {"counter": 5, "score": 4}, KIOSK)
            assert rated.status_code < 300, rated.text

            events = await stream.events_until(lambda e: e["type"] == "rating.recorded")
            types = [e["type"] for e in events]
            for expected in ("ticket.called", "ticket.recalled", "ticket.no_show", "ticket.started",
                             "ticket.transferred", "ticket.finished", "counter.changed", "rating.recorded"):
                assert expected in types, f"{expected} not among {types}"
            assert set(types) <= set(EVENT_TYPES) | {"day.started"}  # "Types include": others may be added
            ordered = [t for t in types if t in ("ticket.recalled", "ticket.no_show", "ticket.finished")]
            assert ordered == ["ticket.recalled", "ticket.no_show", "ticket.finished"]  # commit order

    run(scenario())


# -- section 2: bad input -----------------------------------------------------------------------------------

BIG = b'{"procedure": "' + b"x" * 2_000_000 + b'"}'


def _bad_requests(api: Motcua, staff: dict[str, str]) -> list[tuple[str, Any, set[int]]]:
    """(what, request, fitting statuses) for input the document does not allow."""
    issue = api.issue
    return [
        ("unknown site", lambda: issue("no-such-site", {"procedure": QUIET}, KIOSK), {404}),
        ("unknown procedure", lambda: issue(SITE, {"procedure": "no-such-procedure"}, KIOSK), {404, 422}),
        ("procedure not a string", lambda: issue(SITE, {"procedure": 5}, KIOSK), {422}),
        ("procedure missing", lambda: issue(SITE, {"priority": "elderly"}, KIOSK), {422}),
        ("priority not documented", lambda: issue(SITE, {"procedure": QUIET, "priority": "vip"}, KIOSK), {422}),
        ("channel not documented", lambda: issue(SITE, {"procedure": QUIET, "channel": "fax"}, KIOSK), {422}),
        ("body is a list", lambda: issue(SITE, [{"procedure": QUIET}], KIOSK), {422}),
        ("body is null", lambda: issue(SITE, None, KIOSK, content=b"null", content_type="application/json"), {422}),
        ("empty body", lambda: issue(SITE, None, KIOSK, content=b"", content_type="application/json"), {422}),
        ("invalid JSON", lambda: issue(SITE, None, KIOSK, content=b'{"procedure": ', content_type="application/json"),
         {400, 422}),
        ("not UTF-8", lambda: issue(SITE, None, KIOSK, content=b'{"procedure": "\xff"}',
                                    content_type="application/json"), {400, 422}),
        ("body over the size limit", lambda: issue(SITE, None, KIOSK, content=BIG, content_type="application/json"),
         {413}),
        ("body over the size limit, chunked", lambda: api.http.post(
            f"/api/v1/sites/{SITE}/tickets", content=iter([BIG[:40_000], BIG[40_000:]]),
            headers={**KIOSK, "Content-Type": "application/json"}), {413}),
        ("JSON sent as text/plain", lambda: issue(SITE, None, KIOSK, content=b'{"procedure": "cth-ban-sao"}',
                                                  content_type="text/plain"), {415}),
        ("JSON sent as a form", lambda: issue(SITE, None, KIOSK, content=b"procedure=cth-ban-sao",
                                              content_type="application/x-www-form-urlencoded"), {415}),
        ("JSON sent without a content type", lambda: issue(SITE, None, KIOSK, content=b'{"procedure": "cth-ban-sao"}'),
         {415}),
        ("counter action body as text", lambda: api.counter(SITE, 6, "pause", staff, content=b'{"reason": "x"}',
                                                            content_type="text/plain"), {415}),
        ("empty Idempotency-Key", lambda: issue(SITE, {"procedure": QUIET}, KIOSK, ""), {400, 422}),
        ("unknown counter", lambda: api.counter(SITE, 999, "open", staff), {403, 404}),
        ("counter not a number", lambda: api.counter(SITE, "abc", "open", staff), {404, 422}),
        ("finish outcome not documented", lambda: api.counter(SITE, 6, "finish", staff, {"outcome": "maybe"}), {422}),
        ("transfer to nothing", lambda: api.counter(SITE, 6, "transfer", staff, {}), {422}),
        ("transfer procedure unknown", lambda: api.counter(SITE, 6, "transfer", staff, {"procedure": "x"}),
         {404, 409, 422}),
        ("rating score over the scale", lambda: api.rate(SITE, {"counter": 6, "score": 9}, KIOSK), {422}),
        ("rating score as a string", lambda: api.rate(SITE, {"counter": 6, "score": "4"}, KIOSK), {422}),
        ("rating score as a boolean", lambda: api.rate(SITE, {"counter": 6, "score": True}, KIOSK), {422}),
        ("rating score as a fraction", lambda: api.rate(SITE, {"counter": 6, "score": 3.5}, KIOSK), {422}),
        ("rating counter as a string", lambda: api.rate(SITE, {"counter": "6", "score": 4}, KIOSK), {422}),
        ("transfer counter as a boolean", lambda: api.counter(SITE, 6, "transfer", staff, {"counter": True}), {422}),
        ("phone consent as a string", lambda: issue(SITE, {"procedure": QUIET, "phone": "0912345678",
                                                           "phone_consent": "yes"}, KIOSK), {422}),
        ("rating score missing", lambda: api.rate(SITE, {"counter": 6}, KIOSK), {422}),
        ("rating at an unknown counter", lambda: api.rate(SITE, {"counter": 999, "score": 4}, KIOSK), {404, 422}),
        ("unknown ticket", lambda: api.ticket(SITE, "no-such-ticket"), {404}),
        ("unknown site catalogue", lambda: api.catalogue("no-such-site"), {404}),
    ]


def test_bad_input_gets_the_error_shape_and_changes_nothing(
    api: Motcua, server: ServerProcess, manager: dict[str, str], token: str
) -> None:
    staff = api.login("quay6", "1234").headers
    assert api.counter(SITE, 6, "open", staff).status_code == 200
    cases = _bad_requests(api, staff)

    async def scenario() -> None:
        async with LiveStream.open(ws_base(server), SITE, token=token) as stream:
            api.issue(SITE, {"procedure": QUIET}, KIOSK)
            mark = await stream.prompted()
            before = floor(api, manager)
            wrong = []
            for what, call, fitting in cases:
                response = call()
                try:
                    status = contract_error(response)[0]
                except ContractViolation as exc:
                    wrong.append(f"{what}: {exc}")
                    continue
                if status not in fitting:
                    wrong.append(f"{what}: {status} {response.text[:160]}, expected one of {sorted(fitting)}")
            assert not wrong, "\n".join(wrong)
            assert await stream.prompted_within(0.3) == []
            assert floor(api, manager) == before
            api.issue(SITE, {"procedure": QUIET}, KIOSK)
            nxt = await stream.prompted()
            assert nxt["type"] == "ticket.issued" and nxt["seq"] > mark["seq"]  # and nothing else was caused between

    run(scenario())


# -- section 3: live stream ---------------------------------------------------------------------------------


def test_live_stream_resumes_after_a_seq_without_gap_or_repeat(api: Motcua, server: ServerProcess, token: str) -> None:
    """A client that reconnects with ?after=SEQ first receives what it missed, then the live events."""
    async def scenario() -> None:
        async with LiveStream.open(ws_base(server), SITE, token=token) as stream:
            api.issue(SITE, {"procedure": QUIET}, KIOSK)
            seen = await stream.prompted()
            assert iso_instant(seen["at"])
        missed = [api.issue(SITE, {"procedure": QUIET}, KIOSK).json()["number"] for _ in range(4)]
        async with LiveStream.open(ws_base(server), SITE, after=seen["seq"], token=token) as stream:
            stream.last_seq = seen["seq"]
            backlog = [await stream.prompted() for _ in range(4)]
            live = api.issue(SITE, {"procedure": QUIET}, KIOSK).json()["number"]
            now = await stream.prompted()
        assert [e["number"] for e in backlog] == missed
        assert now["number"] == live and now["type"] == "ticket.issued"
        async with LiveStream.open(ws_base(server), SITE, after=0, token=token) as stream:
            first = await stream.event()
            assert first["seq"] == 1  # the whole log, from its first event

    run(scenario())


def test_periodic_snapshots_carry_seq_type_and_at_and_never_run_ahead(
    api: Motcua, server: ServerProcess, token: str
) -> None:
    """Every message has seq, type and at; a monitor.snapshot repeats the seq of the last event sent before it,
    and goes only to those who may read GET /monitor: a manager's stream has it, a staff member's does not.

    Reading: the snapshot is not an event, so it takes no seq of its own; it is stamped with the last event the
    client was sent, so a client resuming with ?after= the highest seq it saw never skips an event.
    """
    staff = api.login("quay3", "1234").token

    async def scenario() -> None:
        async with (LiveStream.open(ws_base(server), SITE, token=token) as stream,
                    LiveStream.open(ws_base(server), SITE, token=staff) as at_counter):
            api.issue(SITE, {"procedure": QUIET}, KIOSK)
            last = await stream.prompted()
            while not stream.snapshots:
                message = await stream.message(timeout_s=8)  # checks seq, type and an ISO-8601 at
                if message["type"] == "monitor.snapshot":
                    stream.snapshots.append(message)
                else:
                    last = message
            snapshot = stream.snapshots[0]
            assert snapshot["seq"] == last["seq"]
            assert {"agencies", "counters", "targets", "alerts"} <= set(snapshot["snapshot"])
            seen = await at_counter.events_until(lambda e: e["seq"] >= last["seq"])
            assert seen[-1]["seq"] == last["seq"]  # the staff stream has every event ...
            with pytest.raises(TimeoutError):
                await at_counter.event(timeout_s=0.5)
            assert at_counter.snapshots == []  # ... and no snapshot, in the time the manager's got one

    run(scenario())


def test_the_public_stream_shows_what_the_hall_shows_and_nothing_more(
    api: Motcua, server: ServerProcess, token: str
) -> None:
    """Without a credential: numbers, counters, agencies; never who acted, a priority, an outcome or a rating."""
    at6 = api.login("quay6", "1234").headers

    async def scenario() -> None:
        async with (LiveStream.open(ws_base(server), SITE) as public,
                    LiveStream.open(ws_base(server), SITE, token=token) as full):
            assert api.counter(SITE, 6, "open", at6).status_code == 200
            ticket = api.issue(SITE, {"procedure": QUIET, "priority": "pregnant"}, KIOSK).json()
            while True:  # counter 6 serves other agencies' tickets issued by earlier tests first
                called = api.counter(SITE, 6, "call-next", at6)
                assert called.status_code == 200, called.text
                api.counter(SITE, 6, "start", at6)
                api.counter(SITE, 6, "finish", at6, {"outcome": "rejected"})
                if called.json()["id"] == ticket["id"]:
                    break
            assert api.rate(SITE, {"counter": 6, "score": 1}, KIOSK).status_code == 201
            assert api.counter(SITE, 6, "close", at6).status_code == 200
            rated = await full.events_until(lambda e: e["type"] == "rating.recorded")
            closed = await full.events_until(lambda e: e["type"] == "counter.changed" and e.get("status") == "closed")
            shown = await public.events_until(lambda e: e["seq"] == closed[-1]["seq"])  # checks every field
        mine = [e for e in shown if e.get("ticket") == ticket["id"]]
        assert [e["type"] for e in mine] == ["ticket.issued", "ticket.called", "ticket.started", "ticket.finished"]
        assert mine[1]["number"] == ticket["number"] and mine[1]["counter"] == 6
        assert {e["seq"] for e in shown} <= {e["seq"] for e in rated + closed}  # the same events, some left out
        assert not any(e["type"] == "rating.recorded" for e in shown)
        private = [e for e in rated if e.get("ticket") == ticket["id"]]
        assert private[0]["priority"] == "pregnant" and any(e.get("outcome") == "rejected" for e in private)
        assert any("by" in e or "staff" in e for e in rated)  # what the public form leaves out is there to leave

    run(scenario())


def test_the_public_backlog_from_the_first_event_names_nobody(api: Motcua, server: ServerProcess) -> None:
    """`?after=0` on the public stream replays the day in its public form."""
    async def scenario() -> None:
        async with LiveStream.open(ws_base(server), SITE, after=0) as stream:
            first = await stream.event()
            assert first["seq"] == 1 and first["type"] in PUBLIC_FIELDS
            issued = api.issue(SITE, {"procedure": QUIET}, KIOSK).json()
            await stream.events_until(lambda e: e.get("ticket") == issued["id"])  # the whole day, each one checked

    run(scenario())


def _handshake(server: ServerProcess, path: str, **connect: Any) -> tuple[int, str]:
    """The status and error code a refused handshake answers."""
    async def scenario() -> tuple[int, str]:
        with pytest.raises(websockets.InvalidStatus) as refused:
            async with websockets.connect(ws_base(server) + path, proxy=None, open_timeout=10, **connect):
                pass
        answer = refused.value.response
        status, code, _ = contract_error(httpx.Response(answer.status_code, content=bytes(answer.body or b"")))
        return status, code

    result: tuple[int, str] = run(scenario())
    return result


@pytest.mark.parametrize(
    ("path", "status"),
    [("/api/v1/sites/no-such-site/live", 404), (f"/api/v1/sites/{SITE}/live?after=yesterday", 422)],
)
def test_a_stream_that_cannot_be_served_is_refused_like_a_request(
    server: ServerProcess, path: str, status: int
) -> None:
    """The handshake is answered as the HTTP API answers, status and error JSON."""
    assert _handshake(server, path)[0] == status


def test_a_stream_with_a_credential_that_may_not_have_it_is_refused(api: Motcua, server: ServerProcess) -> None:
    """401 invalid_token for a token that stands for nobody, 403 for another site's account or a kiosk key,
    400 for a bearer subprotocol without motcua.live.v1."""
    path = f"/api/v1/sites/{SITE}/live"
    revoked = api.login("quay2", "1234")
    assert api.http.post("/api/v1/auth/logout", headers=revoked.headers).status_code == 204
    other_site = api.login(*OTHER_SITE_STAFF)
    assert _handshake(server, path, subprotocols=["motcua.live.v1", "motcua.bearer.not-a-token"]) == \
        (401, "invalid_token")
    assert _handshake(server, path, subprotocols=["motcua.live.v1", "motcua.bearer." + revoked.token]) == \
        (401, "invalid_token")
    assert _handshake(server, path, additional_headers={"Authorization": "Bearer not-a-token"}) == \
        (401, "invalid_token")
    assert _handshake(server, path, subprotocols=["motcua.live.v1", "motcua.bearer." + other_site.token])[0] == 403
    assert _handshake(server, path, additional_headers=KIOSK)[0] == 403
    assert _handshake(server, path, subprotocols=["motcua.bearer." + api.login("quay3", "1234").token])[0] == 400


def test_a_full_stream_by_header_and_the_operations_key(api: Motcua, server: ServerProcess) -> None:
    """Other clients may send Authorization: Bearer or the operations centre's X-Api-Key with the handshake."""
    async def scenario() -> None:
        for headers in (api.login("ops", "demo").headers, {"X-Api-Key": "ops-demo-key"}):
            async with LiveStream.open(ws_base(server), SITE, headers=headers) as stream:
                assert not stream.public
                api.issue(SITE, {"procedure": QUIET, "priority": "elderly"}, KIOSK)
                issued = await stream.prompted()
                assert issued["type"] == "ticket.issued" and issued["priority"] == "elderly"

    run(scenario())


# -- section 1: the console script --------------------------------------------------------------------------

DOCUMENTED_FLAGS = {
    ("serve",): ["--site", "--host", "--port", "--data-dir", "--store", "--mqtt", "--devices", "--demo"],
    ("sim",): ["--scenario", "--policy", "--days", "--seed", "--json", "--out"],
    ("load",): ["--url", "--mqtt", "--scenario", "--speed", "--duration"],
    ("bridge",): ["--site-file", "--bus", "--serial", "--baud", "--mqtt"],
    ("voice", "build"): ["--renderer"],
    ("voice", "say"): ["--out"],
    ("printer", "test"): ["--printer"],
    ("hall",): ["--url", "--site"],
}
SIM_KEYS = {"policy", "seed", "sites", "visits", "transactions", "served", "abandoned", "wait_s",
            "within_transaction_target", "visits_over_visit_target", "utilisation", "wall_s", "simulated_s"}


def motcua(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "controller.cli", *args], capture_output=True, text=True, timeout=120)


def test_the_console_script_takes_the_documented_flags_and_answers_with_exit_codes(tmp_path: Path) -> None:
    for command, flags in DOCUMENTED_FLAGS.items():
        helped = motcua(*command, "--help")
        assert helped.returncode == 0, helped.stderr
        missing = [flag for flag in flags if flag not in helped.stdout]
        assert not missing, f"motcua {' '.join(command)} lacks {missing}"
    words = motcua("voice", "words", "21")
    assert words.returncode == 0 and words.stdout.strip()
    assert motcua("printer", "test", "--printer", "dummy").returncode == 0
    simulated = motcua("sim", "--scenario", str(SITE_FILE), "--policy", "fifo", "--days", "1", "--seed", "3",
                       "--json", "--out", str(tmp_path / "report"))
    assert simulated.returncode == 0, simulated.stderr
    body = json.loads(simulated.stdout)  # "prints one JSON object (other output goes to stderr)"
    assert set(body) >= SIM_KEYS and set(body["wait_s"]) == {"p50", "p90", "p99", "max"}
    assert body["policy"] == "fifo" and body["seed"] == 3
    assert any((tmp_path / "report").iterdir())
    refused = motcua("sim", "--scenario", str(SITE_FILE), "--policy", "no-such-policy", "--json")
    assert refused.returncode != 0 and refused.stdout == "" and "no-such-policy" in refused.stderr
    for wrong in (("serve",), ("serve", "--site", str(SITE_FILE), "--devices", "maybe"), ("no-such-command",)):
        usage = motcua(*wrong)
        assert usage.returncode == 2 and usage.stderr, wrong
