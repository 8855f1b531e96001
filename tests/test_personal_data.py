"""Personal data: a phone number given at the kiosk reaches neither the event log nor the server log,
nor any other file of the data dir, even with debug logging; and it needs consent."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from controller.api.ratelimit import RateLimiter
from tests.devices_support import COMMUNE
from tests.server import KIOSK, login, serve_process

pytestmark = pytest.mark.integration

PHONE = "0912345678"


def test_a_phone_number_is_never_written_anywhere(tmp_path: Path) -> None:
    data = tmp_path / "data"
    with serve_process(COMMUNE, data, "--log-level", "debug") as server:
        url = f"{server.url}/api/v1/sites/xa/tickets"
        refused = httpx.post(url, headers=KIOSK, json={"procedure": "ht-khai-sinh", "phone": PHONE}, timeout=10)
        assert refused.status_code == 422 and refused.json()["error"]["code"] == "phone_consent_required"
        bad = httpx.post(url, headers=KIOSK, json={"procedure": "ht-khai-sinh", "phone": PHONE + "x",
                                                   "phone_consent": True}, timeout=10)
        assert bad.status_code == 422 and PHONE not in bad.text
        issued = httpx.post(url, headers=KIOSK, json={"procedure": "ht-khai-sinh", "phone": PHONE,
                                                      "phone_consent": True}, timeout=10)
        assert issued.status_code == 201 and PHONE not in issued.text
        status = httpx.get(f"{server.url}/api/v1/sites/xa/tickets/{issued.json()['id']}", timeout=10)
        assert status.status_code == 200 and PHONE not in status.text
    # after a clean stop (logs flushed, WAL checkpointed): grep every file the server wrote
    files = [p for p in data.rglob("*") if p.is_file()]
    assert any(p.name == "server.log" for p in files) and any(p.suffix == ".db" for p in files)
    for path in files:
        content = path.read_bytes()
        assert PHONE.encode() not in content, f"{path.name} holds the phone number"
        assert PHONE.encode("utf-16-le") not in content, f"{path.name} holds the phone number (UTF-16)"


def test_a_phone_for_a_feedback_answer_is_kept_only_until_the_answer(tmp_path: Path) -> None:
    """Feedback (issue 17): the number for the answer by text is never logged and is gone once answered or closed."""
    data = tmp_path / "data"
    with serve_process(COMMUNE, data, "--log-level", "debug", "--sms", "log") as server:
        url = f"{server.url}/api/v1/sites/xa/feedback"
        body = {"category": "waiting", "text": "Chờ lâu", "phone": PHONE}
        refused = httpx.post(url, headers=KIOSK, json=body, timeout=10)
        assert refused.status_code == 422 and refused.json()["error"]["code"] == "phone_consent_required"
        codes = []
        for _ in range(2):
            sent = httpx.post(url, headers=KIOSK, json={**body, "phone_consent": True}, timeout=10)
            assert sent.status_code == 201 and PHONE not in sent.text
            codes.append(sent.json()["code"])
        manager = login(server.url, "quanly", "demo")
        inbox = httpx.get(url, headers=manager, timeout=10)
        assert inbox.status_code == 200 and PHONE not in inbox.text
        # one answered (texted, then deleted), the other closed unanswered (deleted)
        answered = httpx.post(f"{url}/{codes[0]}/answer", headers=manager, json={"answer": "Đã xử lý", "upheld": False},
                              timeout=10)
        assert answered.status_code == 200 and answered.json()["text_sent"] is True
        httpx.post(f"{url}/{codes[1]}/close", headers=manager, timeout=10).raise_for_status()
    files = [p for p in data.rglob("*") if p.is_file()]
    assert any(p.name == "feedback.db" for p in files)
    for path in files:
        content = path.read_bytes()
        assert PHONE.encode() not in content, f"{path.name} holds the phone number"
        assert PHONE.encode("utf-16-le") not in content, f"{path.name} holds the phone number (UTF-16)"


def test_the_rate_limiter_holds_no_phone_number_and_forgets_phones_at_the_sites_midnight() -> None:
    hanoi = 7 * 3600
    wall = [1_767_546_000.0]  # 2026-01-05 00:00 in Hanoi (17:00 UTC the day before)
    limiter = RateLimiter(clock=lambda: 0.0, wall_clock=lambda: wall[0])
    for _ in range(3):
        assert limiter.take("phone", PHONE, 1.0, 3, utc_offset_s=hanoi) == 0.0
    assert limiter.take("phone", PHONE, 1.0, 3, utc_offset_s=hanoi) > 0  # the burst is spent: limited as before
    assert limiter.take("kiosk", "xa/k1", 30.0, 10) == 0.0
    assert PHONE not in repr(vars(limiter))
    wall[0] += 86_400 - 60  # 23:59 in Hanoi, whatever the server's own zone says: the same day, still limited
    assert limiter.take("phone", PHONE, 1.0, 3, utc_offset_s=hanoi) > 0
    wall[0] += 60  # the site's midnight (17:00 UTC): a new key, yesterday's phone buckets dropped
    assert limiter.take("phone", PHONE, 1.0, 3, utc_offset_s=hanoi) == 0.0
    assert len([k for k in vars(limiter)["_buckets"] if k[0].startswith("phone")]) == 1
