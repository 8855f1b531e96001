"""Numbers taken from a phone, through a real `motcua serve` with texts going to a real local gateway:
the code, the number AWAY, check-in with its code, the limits, bad input that changes nothing, and a
SIGKILL that keeps every remote place, every limit and every pending text. The phone is never written
to the event log or the server's log."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.devices_support import COMMUNE
from tests.remote_support import error_of, remote_client, take_remote, texted_code
from tests.server import KIOSK, ServerProcess, login, serve_process
from tests.sms_gateway import Gateway, sms_gateway

pytestmark = pytest.mark.integration

PHONE = "0912000001"
OTHER = "0912000002"
LOCKED = "0912000003"
FOURTH = "0912000004"
BASE = "/api/v1/sites/xa"


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[ServerProcess, Gateway]]:
    data = tmp_path_factory.mktemp("remote")
    with sms_gateway() as gateway, serve_process(COMMUNE, data, "--sms", f"webhook:{gateway.url}") as server:
        yield server, gateway


def _take(c: httpx.Client, gateway: Gateway, phone: str, procedure: str = "ht-khai-sinh",
          travel_min: int = 20) -> httpx.Response:
    return take_remote(c, gateway, BASE, phone, procedure, travel_min)


def test_a_number_from_a_phone_waits_away_and_checks_in_at_the_kiosk_with_its_code(
    served: tuple[ServerProcess, Gateway],
) -> None:
    server, gateway = served
    with remote_client(server, "127.0.0.2") as c:
        info = c.get(f"{BASE}/remote").json()
        assert info["enabled"] is True and info["travel_min"] == [10, 20, 30, 60]
        assert {a["id"] for a in info["agencies"]} >= {"HT", "CTH"}
        assert info["limits"]["per_person_day"] == 2

        error_of(c.post(f"{BASE}/remote/code", json={"phone": "12"}), 422, "invalid_request")
        assert c.post(f"{BASE}/remote/code", json={"phone": PHONE}).status_code == 202
        code = texted_code(gateway, PHONE, 0)
        assert "mã xác nhận" in gateway.texts(PHONE)[-1]
        wrong = "000000" if code != "000000" else "111111"
        hall = c.get(f"{BASE}/hall").json()
        message = error_of(c.post(f"{BASE}/remote/tickets", json={"procedure": "ht-khai-sinh", "phone": PHONE,
                                                                "code": wrong, "travel_min": 20}), 422, "wrong_code")
        assert "còn 4 lần" in message
        assert c.get(f"{BASE}/hall").json() == hall  # nothing changed

        taken = c.post(f"{BASE}/remote/tickets",
                       json={"procedure": "ht-khai-sinh", "phone": PHONE, "code": code, "travel_min": 20})
        assert taken.status_code == 201, taken.text
        ticket = taken.json()
        assert ticket["state"] == "away" and ticket["channel"] == "remote" and ticket["position"] >= 1
        assert ticket["travel_s"] == 1200 and ticket["check_in"] == f"{ticket['number']}-{ticket['check_code']}"
        assert ticket["qr_svg"].startswith("<svg") and PHONE not in taken.text
        # the code is spent: used again it is refused
        error_of(c.post(f"{BASE}/remote/tickets", json={"procedure": "ht-khai-tu", "phone": PHONE, "code": code,
                                                      "travel_min": 20}), 422, "code_expired")

        walk_in = c.post(f"{BASE}/tickets", headers=KIOSK, json={"procedure": "ht-khai-sinh"}).json()
        check_in = f"{BASE}/tickets/{ticket['id']}/check-in"
        error_of(c.post(check_in, json={}), 401, "unauthenticated")
        error_of(c.post(check_in, headers=KIOSK, json={}), 422, "wrong_ticket_code")
        other_code = "2222-ABCDEF" if ticket["check_code"] != "ABCDEF" else "2222-ABCDEG"
        error_of(c.post(check_in, headers=KIOSK, json={"code": other_code}), 422, "wrong_ticket_code")
        assert c.get(f"{BASE}/tickets/{ticket['id']}").json()["state"] == "away"
        # the scanner types what the QR holds: "NUMBER-CODE"; the number works in the path too
        arrived = c.post(f"{BASE}/tickets/{ticket['number']}/check-in", headers=KIOSK,
                         json={"code": ticket["check_in"]})
        assert arrived.status_code == 200, arrived.text
        assert arrived.json()["state"] == "waiting"
        error_of(c.post(check_in, headers=KIOSK, json={"code": ticket["check_code"]}), 409, "already_checked_in")
        # a walk-in's ticket is not checked in
        error_of(c.post(f"{BASE}/tickets/{walk_in['id']}/check-in", headers=login(server.url, "quay1", "1234"),
                      json={}), 409, "not_remote")
        # the place was kept: the number taken before the walk-in is called first
        staff = login(server.url, "quay1", "1234")
        assert c.post(f"{BASE}/counters/1/open", headers=staff).is_success
        called = c.post(f"{BASE}/counters/1/call-next", headers=staff).json()
        assert called["id"] == ticket["id"]


def test_limits_per_person_and_a_locked_phone_answer_clearly(served: tuple[ServerProcess, Gateway]) -> None:
    server, gateway = served
    with remote_client(server, "127.0.0.3") as c:
        assert _take(c, gateway, OTHER, "cth-ban-sao").status_code == 201
        assert _take(c, gateway, OTHER, "ht-khai-tu").status_code == 201
        error_of(_take(c, gateway, OTHER, "dd-bien-dong"), 409, "person_daily_limit")  # 2 a day
        assert _take(c, gateway, FOURTH, "cth-ban-sao").status_code == 201
        error_of(_take(c, gateway, FOURTH, "cth-chu-ky"), 409, "person_agency_limit")  # 1 per agency
        assert c.post(f"{BASE}/remote/code", json={"phone": LOCKED}).status_code == 202
        code = texted_code(gateway, LOCKED, 0)
        wrong = "000000" if code != "000000" else "111111"
        body = {"procedure": "dd-bien-dong", "phone": LOCKED, "code": wrong, "travel_min": 10}
        for _ in range(4):
            error_of(c.post(f"{BASE}/remote/tickets", json=body), 422, "wrong_code")
        locked = c.post(f"{BASE}/remote/tickets", json=body)
        assert "khóa 15 phút" in error_of(locked, 429, "phone_locked")
        assert 850 <= int(locked.headers["Retry-After"]) <= 900
        # locked even with the right code, and no new code is sent meanwhile
        error_of(c.post(f"{BASE}/remote/tickets", json={**body, "code": code}), 429, "phone_locked")
        error_of(c.post(f"{BASE}/remote/code", json={"phone": LOCKED}), 429, "phone_locked")
    # scripted requests: each phone's bucket (3, then 1 a minute), and each address's (20, then 20 a minute)
    with remote_client(server, "127.0.0.4") as c:
        flood = [c.post(f"{BASE}/remote/code", json={"phone": "0912999999"}) for _ in range(4)]
        assert [r.status_code for r in flood[:3]] == [202] * 3
        assert "số điện thoại này" in error_of(flood[3], 429, "rate_limited") and "Retry-After" in flood[3].headers
        flood = [c.post(f"{BASE}/remote/code", json={"phone": f"09129{i:05d}"}) for i in range(18)]
        assert [r.status_code for r in flood[:17]] == [202] * 17
        assert "thiết bị này" in error_of(flood[17], 429, "rate_limited")


def test_a_sigkill_keeps_every_remote_place_limit_and_pending_text(tmp_path: Path) -> None:
    data = tmp_path / "data"
    phone = "0912000009"
    with sms_gateway() as gateway, serve_process(COMMUNE, data, "--sms", f"webhook:{gateway.url}") as server:
        with httpx.Client(base_url=server.url, timeout=10) as c:
            # nobody serves HT yet: no predicted call, so no "come now" text is due
            ticket = _take(c, gateway, phone, travel_min=10).json()
            assert ticket["state"] == "away" and ticket["estimated_wait_s"] is None
            texts = len(gateway.texts())
        server.kill()
        server.start()
        with httpx.Client(base_url=server.url, timeout=10) as c:
            again = c.get(f"{BASE}/tickets/{ticket['id']}").json()
            assert again["state"] == "away" and again["place_at"] == ticket["place_at"]
            assert again["phone_on_file"] is True
            error_of(_take(c, gateway, phone, "ht-khai-tu"), 409, "person_agency_limit")  # the day's count is kept
            staff = login(server.url, "quay1", "1234")
            assert c.post(f"{BASE}/counters/1/open", headers=staff).is_success  # a counter frees: come now
            gateway.wait_for(texts + 2)  # the code of the refused take, then "come now"
            come = [t for t in gateway.texts(phone) if "mời đến ngay" in t]
            assert come and ticket["number"] in come[0]
    for path in [data / "events.db", data / "server.log", data / "remote.db"]:
        if path.exists():
            assert phone.encode() not in path.read_bytes(), path


def test_without_texts_numbers_from_a_phone_are_refused_clearly(tmp_path: Path) -> None:
    with serve_process(COMMUNE, tmp_path / "data") as server, httpx.Client(base_url=server.url, timeout=10) as c:
        info = c.get(f"{BASE}/remote").json()
        assert info["enabled"] is False and info["reason"] == "remote_unavailable"
        message = error_of(c.post(f"{BASE}/remote/code", json={"phone": PHONE}), 409, "remote_unavailable")
        assert message.startswith("Trung tâm chưa nhận lấy số qua điện thoại")
