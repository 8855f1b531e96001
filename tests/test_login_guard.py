"""Log-in guessing (issue 14, item 1): the guard's counts on a controlled clock, then a real server.

A 4-digit staff PIN fell in 3 s at 113 tries a second. With the guard, one address gets 5
free tries and then waits (1 min, doubling to 1 h); an account waits for everyone only after
failures from at least 3 addresses, and a manager lifts a wait at once.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from controller.api.login_guard import Attempt, LoginGuard, LoginPolicy, Refusal
from tests.server import ServerProcess, serve_process

SITE_FILE = Path(__file__).resolve().parent.parent / "controller" / "sites" / "commune-centre.toml"


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


def fail(guard: LoginGuard, user: str, address: str) -> Attempt | Refusal:
    counted = guard.attempt(user, address)
    if isinstance(counted, Attempt):
        guard.failed(counted)
    return counted


def test_an_address_gets_five_free_tries_then_waits_that_double_up_to_an_hour() -> None:
    clock = Clock()
    guard = LoginGuard(clock=clock)
    for _ in range(5):
        assert isinstance(fail(guard, "quay1", "10.0.0.9"), Attempt)
    waits = []
    for _ in range(9):
        refused = guard.attempt("quay1", "10.0.0.9")
        assert isinstance(refused, Refusal) and refused.scope == "address"
        waits.append(refused.retry_after_s)
        clock.now += refused.retry_after_s  # waiting out the refusal: refused tries were not counted
        assert isinstance(fail(guard, "quay1", "10.0.0.9"), Attempt)
    assert waits == [60, 120, 240, 480, 960, 1920, 3600, 3600, 3600]
    assert guard.refused_total == {"address": 9, "account": 0}
    assert guard.failures_total == 14
    # other addresses, and other accounts from them, are not held by this address's failures
    assert isinstance(guard.attempt("quay1", "10.0.0.10"), Attempt)


def test_refused_tries_are_not_counted_and_a_day_without_failures_forgets() -> None:
    clock = Clock()
    guard = LoginGuard(clock=clock)
    for _ in range(5):
        fail(guard, "quay1", "a")
    for _ in range(100):  # hammering during the wait neither checks the secret nor makes the wait longer
        refused = guard.attempt("quay1", "a")
        assert isinstance(refused, Refusal)
    assert refused.retry_after_s == 60
    clock.now += 86400
    assert guard.lockouts() == {"accounts": [], "addresses": []}
    for _ in range(5):
        assert isinstance(fail(guard, "quay1", "a"), Attempt)


def test_parallel_guesses_are_counted_before_their_secret_is_checked() -> None:
    guard = LoginGuard(clock=Clock())
    started = [guard.attempt("quay1", "a") for _ in range(20)]  # none has finished its (slow) check yet
    assert sum(isinstance(s, Attempt) for s in started) == 5


def test_a_right_secret_gives_its_try_back() -> None:
    guard = LoginGuard(clock=Clock())
    for _ in range(4):
        fail(guard, "quay1", "a")
    for _ in range(10):  # the staff member at that desk logs in (and out) all day
        counted = guard.attempt("quay1", "a")
        assert isinstance(counted, Attempt)
        guard.succeeded(counted)
    assert guard.lockouts()["addresses"] == [{"address": "a", "failures": 4, "wait_until": 0.0}]


def test_one_address_cannot_lock_a_staff_member_out_but_three_can_until_a_manager_lifts_it() -> None:
    clock = Clock()
    guard = LoginGuard(clock=clock)
    for _ in range(40):  # one address, a long time: only it waits
        counted = fail(guard, "quay2", "a")
        if isinstance(counted, Refusal):
            clock.now += counted.retry_after_s
    at_desk = guard.attempt("quay2", "desk")
    assert isinstance(at_desk, Attempt)
    guard.succeeded(at_desk)  # the right PIN
    for address in ("b", "c"):
        for _ in range(5):
            assert isinstance(fail(guard, "quay2", address), Attempt)
    refused = guard.attempt("quay2", "desk")  # 15 failures from 3 addresses: the account waits for everyone
    assert isinstance(refused, Refusal) and refused.scope == "account" and refused.retry_after_s == 900
    assert isinstance(guard.attempt("quay3", "desk"), Attempt)  # other staff are not held
    locked = guard.lockouts()["accounts"]
    assert [(a["user"], a["failures"], a["addresses"]) for a in locked] == [("quay2", 15, 3), ("quay3", 1, 1)]
    assert locked[0]["wait_until"] == clock.now + 900
    assert guard.waiting()["account"] == 1 and guard.waiting()["address"] >= 2  # b and c wait their minute
    assert guard.lift(user="quay2") and not guard.lift(user="nobody")
    assert isinstance(guard.attempt("quay2", "desk"), Attempt)
    assert guard.lift(address="a")
    assert isinstance(guard.attempt("quay9", "a"), Attempt)


def test_policies_that_make_no_sense_are_refused() -> None:
    with pytest.raises(ValueError):
        LoginPolicy(address_free=6, account_free=5)
    with pytest.raises(ValueError):
        LoginPolicy(address_first_wait_s=0)


def test_names_and_addresses_beyond_the_bound_forget_the_oldest() -> None:
    clock = Clock()
    guard = LoginGuard(LoginPolicy(max_records=100), clock=clock)
    for i in range(1000):
        clock.now += 1
        fail(guard, f"name{i}", f"addr{i}")
    listed = guard.lockouts()
    assert 50 <= len(listed["accounts"]) <= 100 and 50 <= len(listed["addresses"]) <= 100
    assert "name999" in {a["user"] for a in listed["accounts"]}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    with serve_process(SITE_FILE, tmp_path_factory.mktemp("login")) as proc:
        yield proc


def from_address(server: ServerProcess, address: str) -> httpx.Client:
    """A client whose requests come from another loopback address (127.0.0.0/8 is all this machine)."""
    return httpx.Client(base_url=server.url, timeout=10, transport=httpx.HTTPTransport(local_address=address))


def log_in(client: httpx.Client, user: str, secret: str) -> httpx.Response:
    return client.post("/api/v1/auth/login", json={"user": user, "secret": secret})


def metric(client: httpx.Client, name: str) -> float:
    match = re.search(rf"^{re.escape(name)} (\S+)$", client.get("/metrics").text, re.MULTILINE)
    assert match is not None, f"{name} missing from /metrics"
    return float(match.group(1))


@pytest.mark.integration
def test_guessing_a_pin_is_stopped_after_five_tries_and_answered_429(server: ServerProcess) -> None:
    with from_address(server, "127.0.0.11") as attacker, from_address(server, "127.0.0.12") as desk:
        answers = [log_in(attacker, "quay1", f"{pin:04d}") for pin in range(5)]
        assert [a.status_code for a in answers] == [401] * 5
        refused = log_in(attacker, "quay1", "1234")  # even the right PIN: the address waits
        assert refused.status_code == 429
        assert refused.json()["error"]["code"] == "too_many_failures"
        assert "thử lại sau" in refused.json()["error"]["message"]
        assert 55 <= int(refused.headers["Retry-After"]) <= 60
        # the staff member at their own desk is not held by someone else's guesses
        assert log_in(desk, "quay1", "1234").status_code == 200
        assert metric(desk, 'motcua_login_refused_total{scope="address"}') >= 1
        assert metric(desk, 'motcua_login_waiting{scope="address"}') >= 1
        assert metric(desk, "motcua_login_failures_total") >= 5
    assert re.search(r"log-in: address 127\.0\.0\.11 must wait \d+ s", (server.data_dir / "server.log").read_text())


@pytest.mark.integration
def test_a_burst_of_parallel_guesses_gets_five_checked(server: ServerProcess) -> None:
    async def burst() -> list[int]:
        transport = httpx.AsyncHTTPTransport(local_address="127.0.0.21")
        async with httpx.AsyncClient(base_url=server.url, timeout=30, transport=transport) as client:
            answers = await asyncio.gather(*(
                client.post("/api/v1/auth/login", json={"user": "quay2", "secret": f"{pin:04d}"})
                for pin in range(40)))
        return [a.status_code for a in answers]

    statuses = asyncio.run(burst())
    assert statuses.count(401) == 5 and statuses.count(429) == 35


@pytest.mark.integration
def test_an_account_guessed_from_three_addresses_waits_until_a_manager_lifts_it(server: ServerProcess) -> None:
    with from_address(server, "127.0.0.40") as manager_desk:
        token = log_in(manager_desk, "quanly", "demo").json()["token"]
        manager = {"Authorization": f"Bearer {token}"}
        for n in (41, 42, 43):
            with from_address(server, f"127.0.0.{n}") as attacker:
                assert [log_in(attacker, "quay3", "0000").status_code for _ in range(5)] == [401] * 5
        with from_address(server, "127.0.0.44") as desk:
            locked = log_in(desk, "quay3", "1234")
            assert locked.status_code == 429 and locked.json()["error"]["code"] == "account_locked"
            assert "quản lý" in locked.json()["error"]["message"]
            assert 850 <= int(locked.headers["Retry-After"]) <= 900
            listed = manager_desk.get("/api/v1/auth/lockouts", headers=manager)
            assert listed.status_code == 200
            entry = next(a for a in listed.json()["accounts"] if a["user"] == "quay3")
            assert entry["failures"] == 15 and entry["addresses"] == 3 and entry["wait_until"] is not None
            staff = {"Authorization": f"Bearer {log_in(desk, 'quay4', '1234').json()['token']}"}
            assert desk.post("/api/v1/auth/lockouts/lift", headers=staff, json={"user": "quay3"}).status_code == 403
            assert manager_desk.post("/api/v1/auth/lockouts/lift", headers=manager,
                                     json={"user": "quay3", "address": "127.0.0.41"}).status_code == 422
            lifted = manager_desk.post("/api/v1/auth/lockouts/lift", headers=manager, json={"user": "quay3"})
            assert lifted.status_code == 200 and lifted.json()["lifted"] is True
            assert log_in(desk, "quay3", "1234").status_code == 200
    log = (server.data_dir / "server.log").read_text()
    assert "log-in: account quay3 must wait 900 s" in log
    assert "log-in: quanly lifted the failed log-ins of account quay3" in log
