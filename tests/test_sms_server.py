"""The SMS notifier in a real `motcua serve`: texts reach a real local HTTP gateway, also after a
SIGKILL restart; failures are counted; the number is deleted on request and when the visit ends,
and is never found in the event log, the server log or any other file of the data dir."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import pytest

from tests.devices_support import COMMUNE
from tests.server import KIOSK, ServerProcess, login, serve_process
from tests.sms_gateway import ZNS_IDS, ZNS_TOKEN, sms_gateway, zns_gateway

pytestmark = pytest.mark.integration

PHONE = "0912345678"
OTHER = "0987654321"
THIRD = "0901112233"


def issue(server: ServerProcess, phone: str | None = None) -> dict[str, object]:
    body: dict[str, object] = {"procedure": "ht-khai-sinh"}
    if phone:
        body |= {"phone": phone, "phone_consent": True}
    response = httpx.post(f"{server.url}/api/v1/sites/xa/tickets", headers=KIOSK, json=body, timeout=10)
    assert response.status_code == 201, response.text
    issued: dict[str, object] = response.json()
    return issued


def serve_next(server: ServerProcess, staff: dict[str, str]) -> str:
    """Finish whoever is at counter 1 (visit over), call the next; the number called."""
    base = f"{server.url}/api/v1/sites/xa/counters/1"
    if httpx.get(base, headers=staff, timeout=10).json().get("current"):
        finish_current(server, staff)
    called = httpx.post(f"{base}/call-next", headers=staff, timeout=10)
    assert called.status_code == 200, called.text
    return str(called.json()["number"])


def metric(server: ServerProcess, series: str) -> float:
    """The value of one series (name with its labels) on /metrics; 0 when absent."""
    for line in httpx.get(f"{server.url}/metrics", timeout=10).text.splitlines():
        if line.rsplit(" ", 1)[0] == series:
            return float(line.rsplit(" ", 1)[1])
    return 0.0


def finish_current(server: ServerProcess, staff: dict[str, str]) -> None:
    base = f"{server.url}/api/v1/sites/xa/counters/1"
    assert httpx.post(f"{base}/start", headers=staff, timeout=10).status_code == 200
    assert httpx.post(f"{base}/finish", headers=staff, json={"outcome": "rejected"}, timeout=10).status_code == 200


def test_texts_survive_a_sigkill_and_the_number_is_never_written_anywhere(tmp_path: Path) -> None:
    data = tmp_path / "data"
    with sms_gateway() as gateway, serve_process(COMMUNE, data, "--sms", f"webhook:{gateway.url}",
                                                 "--log-level", "debug") as server:
        assert httpx.get(f"{server.url}/api/v1/sites/xa/sms", timeout=10).json() == {"enabled": True}
        staff = login(server.url, "quay1", "1234")
        assert httpx.post(f"{server.url}/api/v1/sites/xa/counters/1/open", headers=staff, timeout=10).is_success
        for _ in range(5):
            issue(server)
        mine = issue(server, PHONE)
        assert mine["sms"] is True and mine["position"] == 6 and PHONE not in str(mine)
        serve_next(server, staff)  # 4 ahead: no text yet
        server.kill()  # the number must come back from contacts.db, the floor from the event log
        server.start()
        staff = login(server.url, "quay1", "1234")
        ticket = httpx.get(f"{server.url}/api/v1/sites/xa/tickets/{mine['id']}", timeout=10).json()
        assert ticket["phone_on_file"] is True and PHONE not in str(ticket)
        serve_next(server, staff)  # 3 ahead
        [ahead] = gateway.wait_for(1)
        assert f"số {mine['number']} còn 3 người trước bạn" in ahead
        for _ in range(3):
            serve_next(server, staff)
        assert serve_next(server, staff) == mine["number"]
        called = gateway.wait_for(2)[1]
        assert called.startswith(f"Trung tâm Phục vụ hành chính công xã: mời số {mine['number']} đến quầy 1.")
        assert [r["body"]["to"] for r in gateway.received] == [PHONE, PHONE]

        # a gateway that stays down: counted, logged without the number, the floor goes on
        other = issue(server, OTHER)
        third = issue(server, THIRD)
        gateway.script = [(500, 0.0)] * 3
        assert serve_next(server, staff) == other["number"]
        for _ in range(100):  # the driver retries after 0.5 s and 1 s
            if metric(server, 'motcua_sms_failed_total{kind="called",site="xa"}') == 1.0:
                break
            time.sleep(0.05)
        assert metric(server, 'motcua_sms_failed_total{kind="called",site="xa"}') == 1.0
        assert metric(server, 'motcua_sms_sent_total{kind="ahead",site="xa"}') == 1.0

        # the citizen asks to be forgotten: no text when called
        forget = httpx.delete(f"{server.url}/api/v1/sites/xa/tickets/{third['id']}/contact", timeout=10)
        assert forget.status_code == 204
        ticket = httpx.get(f"{server.url}/api/v1/sites/xa/tickets/{third['id']}", timeout=10).json()
        assert ticket["phone_on_file"] is False
        assert serve_next(server, staff) == third["number"]
        finish_current(server, staff)
        assert metric(server, 'motcua_sms_contacts{site="xa"}') == 0.0  # every visit with a number is over
        assert len(gateway.texts()) == 2
    files = [p for p in data.rglob("*") if p.is_file()]
    assert {"events.db", "contacts.db", "server.log"} <= {p.name for p in files}
    for path in files:
        content = path.read_bytes()
        for phone in (PHONE, OTHER, THIRD):
            assert phone.encode() not in content, f"{path.name} holds a phone number"


def test_the_demo_log_driver_shows_only_a_masked_number(tmp_path: Path) -> None:
    data = tmp_path / "data"
    with serve_process(COMMUNE, data, "--sms", "log", "--log-level", "info") as server:
        staff = login(server.url, "quay1", "1234")
        httpx.post(f"{server.url}/api/v1/sites/xa/counters/1/open", headers=staff, timeout=10)
        mine = issue(server, PHONE)
        assert serve_next(server, staff) == mine["number"]
        for _ in range(100):
            if "091*****78" in (data / "server.log").read_text():
                break
            time.sleep(0.05)
        log = (data / "server.log").read_text()
        assert f"091*****78: Trung tâm Phục vụ hành chính công xã: mời số {mine['number']} đến quầy 1." in log
        assert PHONE not in log
        without = httpx.post(f"{server.url}/api/v1/sites/xa/tickets", headers=KIOSK,
                             json={"procedure": "ht-khai-sinh", "phone": PHONE}, timeout=10)
        assert without.json()["error"]["code"] == "phone_consent_required"


def test_zns_first_and_sms_for_a_phone_without_zalo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MOTCUA_ZNS_TOKEN", ZNS_TOKEN)
    data = tmp_path / "data"
    templates = f"called={ZNS_IDS['called']},ahead={ZNS_IDS['ahead']}"  # the other texts go by SMS
    with sms_gateway() as sms, zns_gateway() as zns, serve_process(
            COMMUNE, data, "--sms", f"zns:{zns.url}", "--sms-fallback", f"webhook:{sms.url}",
            "--zns-templates", templates) as server:
        zns.no_zalo.add("84987654321")
        staff = login(server.url, "quay1", "1234")
        assert httpx.post(f"{server.url}/api/v1/sites/xa/counters/1/open", headers=staff, timeout=10).is_success
        mine, other = issue(server, PHONE), issue(server, OTHER)
        assert serve_next(server, staff) == mine["number"]
        assert zns.wait_for(1) == [f"Trung tâm Phục vụ hành chính công xã: mời số {mine['number']} đến quầy 1. "
                                   f"/ Number {mine['number']}, please go to counter 1."]
        assert serve_next(server, staff) == other["number"]
        assert sms.wait_for(1)[0].startswith(f"Trung tâm Phục vụ hành chính công xã: mời số {other['number']} ")
        assert [r["to"] for r in zns.received] == ["84912345678"] and [r["to"] for r in sms.received] == [OTHER]
        assert metric(server, 'motcua_sms_fallback_total{reason="recipient"}') == 1.0
    assert ZNS_TOKEN not in (data / "server.log").read_text()
