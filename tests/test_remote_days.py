"""Numbers from a phone for today or the next days, through a real `motcua serve` with a test clock: a number
for a later day is held, counts against that day's limits, and joins the line at that day's opening ahead of
the day's walk-ins; its holder may cancel it until then (its phone goes at once, the day's limit is free
again); a closed day, a past day or one too far ahead is refused clearly; an Idempotency-Key
returns the same number on a retry and refuses another body; the reports (JSON, CSV, Excel, HTML) and the
monitor give both waits of the numbers held away, saying which one the target counts."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import sqlite3
from collections.abc import Iterator
from contextlib import closing

import httpx
import openpyxl
import pytest

from tests.devices_support import COMMUNE
from tests.remote_support import error_of, remote_client, take_remote
from tests.server import KIOSK, ServerProcess, advance_to, login, serve_process, server_now
from tests.sms_gateway import Gateway, sms_gateway

pytestmark = pytest.mark.integration

BASE = "/api/v1/sites/xa"
TZ = dt.timezone(dt.timedelta(hours=7))
ALICE, BOB, CAROL = "0912000101", "0912000102", "0912000103"


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[ServerProcess, Gateway, dt.date]]:
    """A commune centre whose clock stands at 06:00 on a Monday (the centre opens 07:30, not on Sundays)."""
    data = tmp_path_factory.mktemp("remote-days")
    with sms_gateway() as gateway, serve_process(COMMUNE, data, "--sms", f"webhook:{gateway.url}",
                                                 "--test-clock") as server:
        now = server_now(server)
        monday = now.date() + dt.timedelta(days=7 - now.weekday())
        advance_to(server, dt.datetime.combine(monday, dt.time(6, 0), TZ))
        yield server, gateway, monday


def test_a_number_for_a_later_day_is_held_then_joins_at_that_days_opening(
    served: tuple[ServerProcess, Gateway, dt.date],
) -> None:
    server, gateway, monday = served
    tuesday, sunday = monday + dt.timedelta(days=1), monday + dt.timedelta(days=6)
    with remote_client(server, "127.0.0.5") as c:
        info = c.get(f"{BASE}/remote").json()
        assert info["today"] == monday.isoformat() and info["limits"]["days_ahead"] == 6
        assert [d["date"] for d in info["days"]] == [(monday + dt.timedelta(days=i)).isoformat() for i in range(6)]
        assert info["days"][1] == {"date": tuesday.isoformat(), "opens_at": f"{tuesday.isoformat()}T07:30:00.000+07:00",
                                   "held": True}

        body = {"procedure": "ht-khai-sinh", "phone": ALICE, "code": "123456", "travel_min": 20}
        hall = c.get(f"{BASE}/hall").json()
        message = error_of(c.post(f"{BASE}/remote/tickets", json={**body, "date": sunday.isoformat()}), 409,
                           "site_closed_that_day")
        assert message.startswith(f"Trung tâm không làm việc ngày {sunday:%d/%m/%Y}")
        for date, code in [(monday + dt.timedelta(days=7), "date_too_far"), (monday - dt.timedelta(days=1),
                                                                             "date_passed")]:
            error_of(c.post(f"{BASE}/remote/tickets", json={**body, "date": date.isoformat()}), 409, code)
        error_of(c.post(f"{BASE}/remote/tickets", json={**body, "date": "2025-02-30"}), 422, "invalid_date")
        assert c.get(f"{BASE}/hall").json() == hall  # nothing changed

        later = {"date": tuesday.isoformat()}
        alice = take_remote(c, gateway, BASE, ALICE, **later)
        assert alice.status_code == 201, alice.text
        held = alice.json()
        assert held["id"].startswith("h-") and held["state"] == "held" and held["ticket"] is None
        assert (held["date"], held["position"], held["joins_at"]) == (tuesday.isoformat(), 1,
                                                                     f"{tuesday.isoformat()}T07:30:00.000+07:00")
        assert ALICE not in alice.text
        assert take_remote(c, gateway, BASE, ALICE, "cth-ban-sao", **later).status_code == 201
        error_of(take_remote(c, gateway, BASE, ALICE, "dd-bien-dong", **later), 409, "person_daily_limit")
        bob = take_remote(c, gateway, BASE, BOB, travel_min=10, **later).json()
        assert bob["position"] == 2
        assert take_remote(c, gateway, BASE, BOB, "cth-ban-sao", **later).status_code == 201
        # Bob's two numbers are Tuesday's: today he may still take one
        assert take_remote(c, gateway, BASE, BOB, "dd-bien-dong").json()["state"] == "away"
        error_of(c.get(f"{BASE}/remote/held/h-{'0' * 32}"), 404, "unknown_held_number")

    advance_to(server, dt.datetime.combine(tuesday, dt.time(7, 31), TZ))
    with remote_client(server, "127.0.0.6") as c:
        walk_in = c.post(f"{BASE}/tickets", headers=KIOSK, json={"procedure": "ht-khai-sinh"}).json()
        now = c.get(f"{BASE}/remote/held/{held['id']}").json()
        assert now["state"] == "issued"
        ticket = now["ticket"]
        assert ticket["state"] == "away" and ticket["channel"] == "remote" and ticket["travel_s"] == 1200
        assert ticket["place_at"] == dt.datetime.combine(tuesday, dt.time(7, 30), TZ).timestamp()
        assert ticket["check_in"] == f"{ticket['number']}-{ticket['check_code']}" and ticket["position"] == 1
        assert c.get(f"{BASE}/tickets/{ticket['id']}").json()["phone_on_file"] is True  # its texts will come
        error_of(c.post(f"{BASE}/remote/held/{held['id']}/cancel"), 409, "held_number_issued")  # too late
        assert c.get(f"{BASE}/remote/held/{held['id']}").json() == now  # and nothing changed
        assert c.get(f"{BASE}/remote/held/{bob['id']}").json()["ticket"]["position"] == 2
        arrived = c.post(f"{BASE}/tickets/{ticket['id']}/check-in", headers=KIOSK, json={"code": ticket["check_in"]})
        assert arrived.status_code == 200, arrived.text
        advance_to(server, dt.datetime.combine(tuesday, dt.time(7, 36), TZ))  # 5 minutes in the hall
        staff = login(server.url, "quay1", "1234")
        assert c.post(f"{BASE}/counters/1/open", headers=staff).is_success
        called = c.post(f"{BASE}/counters/1/call-next", headers=staff).json()
        assert called["id"] == ticket["id"] != walk_in["id"]  # its place from the opening, ahead of the walk-in


def test_an_idempotency_key_returns_the_same_number_and_refuses_another_request(
    served: tuple[ServerProcess, Gateway, dt.date],
) -> None:
    server, gateway, monday = served
    key = {"Idempotency-Key": "phone-take-1"}
    with remote_client(server, "127.0.0.7") as c:
        first = take_remote(c, gateway, BASE, CAROL, "cth-ban-sao", headers=key)
        assert first.status_code == 201, first.text
        body = json.loads(first.request.content)
        again = c.post(f"{BASE}/remote/tickets", headers=key, json=body)  # the code is spent: only a replay passes
        assert again.status_code == 200 and again.headers["Idempotent-Replayed"] == "true"
        assert again.json()["id"] == first.json()["id"] and again.json()["check_code"] == first.json()["check_code"]
        error_of(c.post(f"{BASE}/remote/tickets", headers=key, json={**body, "travel_min": 60}), 409,
                 "idempotency_conflict")
        ahead = {"Idempotency-Key": "phone-take-2"}
        later = (monday + dt.timedelta(days=3)).isoformat()
        held = take_remote(c, gateway, BASE, CAROL, headers=ahead, date=later)
        assert held.status_code == 201, held.text
        replay = c.post(f"{BASE}/remote/tickets", headers=ahead, json=json.loads(held.request.content))
        assert replay.status_code == 200 and replay.json()["id"] == held.json()["id"]
        assert replay.json()["state"] == "held" and replay.json()["date"] == later


def test_reports_and_the_monitor_give_both_waits(served: tuple[ServerProcess, Gateway, dt.date]) -> None:
    server, _gateway, _monday = served
    manager = login(server.url, "quanly", "demo")
    with httpx.Client(base_url=f"{server.url}{BASE}", headers=manager, timeout=10) as c:
        body = c.get("/reports").json()
        [remote] = body["away"]
        # Tuesday: four numbers held for it, one taken that morning; Alice's checked in at 07:31, called at 07:36
        assert (remote["key"], remote["numbers"], remote["checked_in"], remote["called"]) == ("remote", 5, 1, 1)
        assert remote["hall_wait_mean_s"] == pytest.approx(300, abs=15)   # from check-in: what the target counts
        assert remote["lived_wait_mean_s"] == pytest.approx(360, abs=15)  # from the place kept, the opening
        assert remote["hall_within_target"] == 1.0
        assert body["away_note"]["vi"].startswith("Mục tiêu 15 phút tính thời gian chờ trong sảnh")
        assert c.get("/monitor").json()["away"] == body["away"]

        rows = list(csv.DictReader(io.StringIO(c.get("/reports?format=csv").content.decode("utf-8-sig"))))
        [away] = [r for r in rows if r["Nhóm / Level"] == "Giữ chỗ khi vắng mặt"]
        assert away["Mã / Code"] == "remote" and away["Chờ trong sảnh trung vị (phút) / Hall wait median (min)"]
        assert away["Chờ từ lúc lấy số trung vị (phút) / Wait since taking the number median (min)"] == "6.0"
        assert away["Giao dịch / Transactions"] == ""  # the groups' columns are not theirs
        book = openpyxl.load_workbook(io.BytesIO(c.get("/reports?format=xlsx").content))
        sheet = book["Giữ chỗ vắng mặt"]
        assert sheet["C2"].value == 5 and "Mục tiêu 15 phút" in str(sheet.cell(sheet.max_row - 1, 1).value)
        assert "hai cách tính thời gian chờ" in c.get("/reports?format=html").text


def test_a_held_number_is_cancelled_by_its_holder_and_its_phone_goes_at_once(
    served: tuple[ServerProcess, Gateway, dt.date],
) -> None:
    server, gateway, monday = served
    friday = {"date": (monday + dt.timedelta(days=4)).isoformat()}
    dave, erin, card = "0912000104", "0912000105", {"id_number": "001090000104"}
    with remote_client(server, "127.0.0.8") as c:
        first = take_remote(c, gateway, BASE, dave, headers={"Idempotency-Key": "dave-1"}, **card, **friday).json()
        assert take_remote(c, gateway, BASE, dave, "cth-ban-sao", **card, **friday).status_code == 201
        # Dave's card on another phone: his two numbers for Friday are taken (codes texted to a phone are few)
        error_of(take_remote(c, gateway, BASE, erin, "dd-bien-dong", **card, **friday), 409, "person_daily_limit")
        ref = first["id"]

        def stored() -> tuple[int, int, int]:
            """Rows of the number: its phone (contacts.db), its keyed hashes (remote.db), its card's hash."""
            with closing(sqlite3.connect(server.data_dir / "contacts.db")) as contacts, \
                    closing(sqlite3.connect(server.data_dir / "remote.db")) as remote:
                phones = contacts.execute("SELECT COUNT(*) FROM held WHERE ref = ?", (ref,)).fetchone()[0]
                takes = remote.execute("SELECT COUNT(*) FROM takes WHERE ref = ?", (ref,)).fetchone()[0]
                keys = remote.execute("SELECT COUNT(*) FROM takes WHERE idem = 'dave-1'").fetchone()[0]
            return phones, takes, keys

        assert stored() == (1, 1, 1)
        error_of(c.post(f"{BASE}/remote/held/h-{'0' * 32}/cancel"), 404, "unknown_held_number")
        assert c.post(f"{BASE}/remote/held/not-a-ref/cancel").status_code == 422

        cancelled = c.post(f"{BASE}/remote/held/{ref}/cancel")
        assert cancelled.status_code == 200, cancelled.text
        assert (cancelled.json()["state"], cancelled.json()["position"]) == ("cancelled", None)
        assert stored() == (0, 0, 0)
        again = c.post(f"{BASE}/remote/held/{ref}/cancel")  # a retried cancel (a lost answer) is harmless
        assert again.status_code == 200 and again.json()["state"] == "cancelled"
        assert c.get(f"{BASE}/remote/held/{ref}").json()["state"] == "cancelled"
        # the person's day is free again: a third number for Friday now passes
        assert take_remote(c, gateway, BASE, erin, "dd-bien-dong", **card, **friday).status_code == 201
