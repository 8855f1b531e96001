"""Appointments through a real `motcua serve`: book, full slots, look-up, cancel, check-in at the kiosk,
the routing's promise at the counter, a SIGKILL restart, concurrent bookings and the per-client limit."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.server import KIOSK, ServerProcess, advance_to, login, serve_process

pytestmark = pytest.mark.integration

SITE_FILE = Path(__file__).resolve().parent.parent / "controller" / "sites" / "province-centre.toml"
TZ = dt.timezone(dt.timedelta(hours=7))
LY_LICH = "tp-ly-lich-tu-phap"  # Sở Tư pháp: counters 7-10 (and shared ones)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    with serve_process(SITE_FILE, tmp_path_factory.mktemp("appointments"), "--test-clock",
                       "--booking-rate", "100000") as proc:
        yield proc


@pytest.fixture(scope="module")
def client(server: ServerProcess) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=f"{server.url}/api/v1/sites/tinh", timeout=10) as c:
        yield c


def book(client: httpx.Client, date: str, time: str, procedure: str = LY_LICH, **headers: str) -> httpx.Response:
    return client.post("/appointments", json={"procedure": procedure, "date": date, "time": time}, headers=headers)


def test_slots_booking_full_slot_lookup_and_cancel(client: httpx.Client) -> None:
    info = client.get("/appointments/days").json()
    assert info["capacity"] == 4 and info["grace_min"] == 10
    days = info["days"]
    assert days and all(dt.date.fromisoformat(d).weekday() < 5 for d in days)  # the centre closes at weekends
    date = days[-1]
    slots = client.get("/appointments/slots", params={"procedure": LY_LICH, "date": date}).json()["slots"]
    assert [s["time"] for s in slots[:3]] == ["07:30", "08:00", "08:30"] and slots[0]["free"] == 4

    made = [book(client, date, "09:00") for _ in range(4)]
    assert [r.status_code for r in made] == [201] * 4
    codes = {r.json()["code"] for r in made}
    assert len(codes) == 4 and all(len(c) == 6 and not set(c) & set("ILO01") for c in codes)
    full = book(client, date, "09:00")
    assert full.status_code == 409 and full.json()["error"]["code"] == "slot_full"
    assert "hết chỗ" in full.json()["error"]["message"]
    other_agency = book(client, date, "09:00", procedure="gtvt-doi-gplx")
    assert other_agency.status_code == 201, other_agency.text  # capacity is per agency
    by_time = {s["time"]: s["free"] for s in
               client.get("/appointments/slots", params={"procedure": LY_LICH, "date": date}).json()["slots"]}
    assert by_time["09:00"] == 0 and by_time["09:30"] == 4

    code = made[0].json()["code"]
    found = client.get(f"/appointments/{code.lower()[:3]}-{code.lower()[3:]}").json()  # typed any way
    assert found["status"] == "booked" and found["time"] == "09:00" and found["date"] == date
    assert found["check_in_from"].endswith("08:30:00.000+07:00")
    cancelled = client.post(f"/appointments/{code}/cancel").json()
    assert cancelled["status"] == "cancelled"
    assert client.post(f"/appointments/{code}/cancel").json()["status"] == "cancelled"
    assert book(client, date, "09:00").status_code == 201  # the place it freed

    retried = [book(client, date, "10:00", **{"Idempotency-Key": "page-tap-1"}) for _ in range(2)]
    assert [r.status_code for r in retried] == [201, 200] and retried[0].json()["code"] == retried[1].json()["code"]

    for response, status, error in (
        (book(client, date, "09:15"), 422, "invalid_slot"),
        (book(client, date, "09:00", procedure="no-such"), 404, "unknown_procedure"),
        (book(client, "2020-01-01", "09:00"), 409, "date_passed"),
        (client.get("/appointments/ABCDEF1"), 422, "invalid_code"),
        (client.get("/appointments/ABCDEF"), 404, "unknown_appointment"),
        (client.post("/appointments", json={"procedure": LY_LICH, "date": date}), 422, "invalid_request"),
    ):
        assert response.status_code == status and response.json()["error"]["code"] == error, response.text
    saturday = next(dt.date.fromisoformat(days[0]) + dt.timedelta(days=i) for i in range(7)
                    if (dt.date.fromisoformat(days[0]) + dt.timedelta(days=i)).weekday() == 5)
    closed = book(client, saturday.isoformat(), "09:00")
    assert closed.status_code == 409 and closed.json()["error"]["code"] == "site_closed_that_day"


def test_check_in_keeps_the_slot_and_the_counter_calls_within_grace(
    client: httpx.Client, server: ServerProcess
) -> None:
    day = dt.date.fromisoformat(client.get("/appointments/days").json()["days"][1])
    date = day.isoformat()
    held = book(client, date, "08:00").json()["code"]
    late = book(client, date, "08:00").json()["code"]
    later = book(client, date, "11:00").json()["code"]
    cancelled = book(client, date, "08:30").json()["code"]
    tomorrow = book(client, (day + dt.timedelta(days=1)).isoformat(), "08:00").json()["code"]
    client.post(f"/appointments/{cancelled}/cancel")
    staff = login(server.url, "quay7", "1234")
    advance_to(server, dt.datetime(day.year, day.month, day.day, 7, 45, tzinfo=TZ))

    first = client.post(f"/appointments/{held}/check-in", headers=KIOSK, json={"kiosk": "k1"})
    assert first.status_code == 201, first.text
    ticket = first.json()
    assert ticket["check_in"] == "kept" and ticket["channel"] == "appointment" and ticket["state"] == "early"
    assert ticket["slot_at"].endswith("08:00:00.000+07:00") and "giờ hẹn" in ticket["message"]
    again = client.post(f"/appointments/{held}/check-in", headers=KIOSK)
    assert again.status_code == 200 and again.json()["id"] == ticket["id"]  # once per booking
    looked = client.get(f"/appointments/{held}").json()
    assert looked["status"] == "checked_in" and looked["ticket"] == ticket["id"]
    refused = client.post(f"/appointments/{held}/cancel")
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "already_checked_in"

    other_day = client.post(f"/appointments/{tomorrow}/check-in", headers=KIOSK).json()
    assert other_day["check_in"] == "other_day" and other_day["channel"] == "kiosk" and other_day["slot_at"] is None
    assert "không phải hôm nay" in other_day["message"]
    assert client.get(f"/appointments/{tomorrow}").json()["status"] == "booked"  # kept for its own day
    for code, error in ((later, "check_in_too_early"), (cancelled, "appointment_cancelled"),
                        ("ZZZZZZ", "unknown_appointment")):
        response = client.post(f"/appointments/{code}/check-in", headers=KIOSK)
        assert response.status_code in (404, 409) and response.json()["error"]["code"] == error
    assert client.post(f"/appointments/{held}/check-in").status_code == 401  # issuing needs a kiosk or staff

    # Before the slot the counter serves whoever else waits...
    client.post("/counters/7/open", headers=staff)
    walk_in = client.post("/tickets", headers=KIOSK, json={"procedure": LY_LICH}).json()
    for waiting in (other_day, walk_in):
        assert client.post("/counters/7/call-next", headers=staff).json()["id"] == waiting["id"]
        client.post("/counters/7/finish", headers=staff, json={"outcome": "done"})
    # ...and at the slot the holder is in line with the earliest deadline: called first.
    advance_to(server, dt.datetime(day.year, day.month, day.day, 8, 1, tzinfo=TZ))
    client.post("/tickets", headers=KIOSK, json={"procedure": LY_LICH})
    called = client.post("/counters/7/call-next", headers=staff).json()
    assert called["id"] == ticket["id"] and called["waited_s"] <= 120
    client.post("/counters/7/finish", headers=staff, json={"outcome": "done"})

    advance_to(server, dt.datetime(day.year, day.month, day.day, 8, 11, tzinfo=TZ))
    too_late = client.post(f"/appointments/{late}/check-in", headers=KIOSK).json()
    assert too_late["check_in"] == "late" and too_late["channel"] == "kiosk" and "muộn" in too_late["message"]


def _bookings_of(server: ServerProcess, codes: list[str]) -> list[dict[str, Any]]:
    with httpx.Client(base_url=f"{server.url}/api/v1/sites/tinh", timeout=10) as c:
        return [c.get(f"/appointments/{code}").json() for code in codes]


def test_bookings_survive_sigkill_concurrent_requests_never_overbook_and_clients_are_limited(tmp_path: Path) -> None:
    with serve_process(SITE_FILE, tmp_path / "data", "--booking-rate", "100000") as server, \
            httpx.Client(base_url=f"{server.url}/api/v1/sites/tinh", timeout=20) as c:
        days = c.get("/appointments/days").json()["days"]
        # 24 requests race for the 4 places of one slot.
        with ThreadPoolExecutor(max_workers=12) as pool:
            replies = list(pool.map(lambda _i: book(c, days[0], "14:00"), range(24)))
        statuses = sorted(r.status_code for r in replies)
        assert statuses == [201] * 4 + [409] * 20, statuses
        codes = [r.json()["code"] for r in replies if r.status_code == 201]
        codes.append(book(c, days[1], "08:30").json()["code"])
        checked = c.post(f"/appointments/{codes[-1]}/check-in", headers=KIOSK).json()  # not its day: a normal number
        before = _bookings_of(server, codes)

        server.kill()
        # Back with the default limit (1 booking a minute, burst 3, per client address).
        server.args = [a for a in server.args if a not in ("--booking-rate", "100000")]
        server.start()

        assert _bookings_of(server, codes) == before
        full = book(c, days[0], "14:00")
        assert full.json()["error"]["code"] == "slot_full"  # refused: no token spent
        again = c.post(f"/appointments/{codes[-1]}/check-in", headers=KIOSK)
        assert again.status_code == 200 and again.json()["id"] == checked["id"]
        assert [book(c, days[-1], t).status_code for t in ("08:00", "08:30", "09:00")] == [201] * 3
        limited = book(c, days[-1], "09:30")
        assert limited.status_code == 429 and int(limited.headers["Retry-After"]) >= 1
        assert limited.json()["error"]["message"].startswith("Quá nhiều lượt đặt lịch hẹn")
