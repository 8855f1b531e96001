"""Feedback and complaints over HTTP (issue 17, item 2), through a real `motcua serve --sms log`."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import httpx
import pytest
from redis import Redis

from tests.server import KIOSK, ServerProcess, login, serve_process
from tests.services import RedisServer

pytestmark = pytest.mark.integration

SITE = Path(__file__).resolve().parent.parent / "controller" / "sites" / "commune-centre.toml"
BASE = "/api/v1/sites/xa"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    with serve_process(SITE, tmp_path_factory.mktemp("feedback"), "--sms", "log", "--test-clock",
                       "--log-level", "info") as proc:
        yield proc


@pytest.fixture(scope="module")
def client(server: ServerProcess) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, timeout=10) as c:
        yield c


def served(client: httpx.Client, server: ServerProcess) -> str:
    staff = login(server.url, "quay1", "1234")
    ticket = client.post(f"{BASE}/tickets", headers=KIOSK, json={"procedure": "ht-khai-sinh"}).json()
    client.post(f"{BASE}/counters/1/open", headers=staff).raise_for_status()
    while (called := client.post(f"{BASE}/counters/1/call-next", headers=staff)).status_code == 200:
        client.post(f"{BASE}/counters/1/finish", headers=staff).raise_for_status()
        if called.json()["id"] == ticket["id"]:
            break
    return str(ticket["id"])


def test_bad_input_is_refused_and_keeps_nothing(client: httpx.Client, server: ServerProcess) -> None:
    manager = login(server.url, "quanly", "demo")
    before = client.get(f"{BASE}/feedback", headers=manager).json()["count"]
    cases = [
        ({"category": "waiting", "text": ""}, 422),
        ({"category": "waiting", "text": " \n\t "}, 422),                    # nothing but blanks
        ({"category": "waiting", "text": "x" * 1001}, 422),                  # over the 1000 characters kept
        ({"category": "waiting", "text": "x" * 5000}, 422),
        ({"category": "nope", "text": "Chờ lâu"}, 422),
        ({"category": "waiting", "text": "Chờ lâu", "phone": "0912345678"}, 422),  # no consent
        ({"category": "waiting", "text": "Chờ lâu", "ticket": "20000101-9999"}, 404),
        ({"category": "waiting", "text": 5}, 422),
        ({"category": "waiting", "text": "ok", "extra": 1}, 422),
    ]
    for body, status in cases:
        response = client.post(f"{BASE}/feedback", headers=KIOSK, json=body)
        assert response.status_code == status, (body, response.text)
        assert response.json()["error"]["code"]
    assert client.get(f"{BASE}/feedback", headers=manager).json()["count"] == before
    huge = client.post(
        f"{BASE}/feedback", headers={**KIOSK, "content-type": "application/json"},
        content=b'{"category":"waiting","text":"' + b"x" * 70000 + b'"}')
    assert huge.status_code == 413


def test_from_the_ticket_page_to_the_answer(client: httpx.Client, server: ServerProcess) -> None:
    ticket = served(client, server)
    text = "<script>alert(1)</script> Cán bộ hướng dẫn chưa rõ"
    sent = client.post(f"{BASE}/feedback", json={"category": "staff", "text": text, "ticket": ticket})
    assert sent.status_code == 201, sent.text
    item = sent.json()
    assert item["text"] == text and item["status"] == "open" and "staff" not in item  # kept as text, as sent
    code = item["code"]
    assert len(code) == 8
    assert item["follow_url"] == f"{server.url}/f/xa/{code}" and "<svg" in item["qr_svg"]  # where to read the answer
    manager = login(server.url, "quanly", "demo")
    inbox = client.get(f"{BASE}/feedback?status=open", headers=manager).json()
    mine = next(i for i in inbox["items"] if i["code"] == code)
    assert (mine["ticket"], mine["staff"], mine["counter"]) == (ticket, "quay1", 1)  # bound to who served
    assert client.post(f"{BASE}/feedback/{code}/assign", headers=manager, json={"agency": "nope"}).status_code == 422
    agency = client.get(f"{BASE}/catalogue").json()["agencies"][0]["id"]
    assigned = client.post(f"{BASE}/feedback/{code}/assign", headers=manager, json={"agency": agency})
    assert assigned.json()["status"] == "assigned" and assigned.json()["agency"] == agency
    staff = login(server.url, "quay1", "1234")
    assert client.post(f"{BASE}/feedback/{code}/answer", headers=staff,
                       json={"answer": "x", "upheld": True}).status_code == 403
    answered = client.post(f"{BASE}/feedback/{code}/answer", headers=manager,
                           json={"answer": "Xin lỗi ông/bà, chúng tôi đã nhắc cán bộ.", "upheld": True})
    assert answered.status_code == 200 and answered.json()["upheld"] is True
    seen = client.get(f"{BASE}/feedback/{code.lower()[:4]}-{code.lower()[4:]}").json()  # typed loosely
    assert seen["answer"] == "Xin lỗi ông/bà, chúng tôi đã nhắc cán bộ." and seen["status"] == "answered"
    again = client.post(f"{BASE}/feedback/{code}/answer", headers=manager, json={"answer": "y", "upheld": False})
    assert again.status_code == 409
    closed = client.post(f"{BASE}/feedback/{code}/close", headers=manager)
    assert closed.json()["status"] == "closed"


def test_the_reply_by_text_goes_once_then_the_number_is_gone(client: httpx.Client, server: ServerProcess) -> None:
    sent = client.post(f"{BASE}/feedback", headers=KIOSK, json={
        "category": "facilities", "text": "Phòng chờ nóng", "phone": "0912000111", "phone_consent": True})
    assert sent.status_code == 201 and sent.json()["reply_by_text"] is True
    code = sent.json()["code"]
    manager = login(server.url, "quanly", "demo")
    answered = client.post(f"{BASE}/feedback/{code}/answer", headers=manager,
                           json={"answer": "Đã lắp thêm quạt.", "upheld": True}).json()
    assert answered["text_sent"] is True and answered["has_phone"] is False
    log = (server.data_dir / "server.log").read_text()
    assert f"phản ánh {code} đã được trả lời, xem tại {server.url}/f/xa/{code}" in log
    assert "091*****11" in log and "0912000111" not in log
    assert b"0912000111" not in (server.data_dir / "feedback.db").read_bytes()


def test_an_idempotency_key_returns_the_same_item_and_refuses_another_body(
    client: httpx.Client, server: ServerProcess,
) -> None:
    key = {**KIOSK, "Idempotency-Key": "kiosk-k1-feedback-1"}
    body = {"category": "waiting", "text": "Gửi lại vì mất mạng", "phone": "0912000777", "phone_consent": True}
    first = client.post(f"{BASE}/feedback", headers=key, json=body)
    assert first.status_code == 201, first.text
    assert "Idempotent-Replayed" not in first.headers
    again = client.post(f"{BASE}/feedback", headers=key, json=body)  # the answer was lost: the same item
    assert again.status_code == 200 and again.headers["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    other = client.post(f"{BASE}/feedback", headers=key, json={**body, "text": "Một phản ánh khác"})
    assert other.status_code == 409 and other.json()["error"]["code"] == "idempotency_conflict"
    assert other.json()["error"]["message"].startswith("Khóa Idempotency-Key này đã dùng")
    manager = login(server.url, "quanly", "demo")
    sent = [i for i in client.get(f"{BASE}/feedback", headers=manager).json()["items"]
            if i["text"] in (body["text"], "Một phản ánh khác")]
    assert [i["code"] for i in sent] == [first.json()["code"]]  # one item, whatever the retries
    with closing(sqlite3.connect(server.data_dir / "feedback.db")) as db:  # the key is kept, with no phone
        [row] = db.execute("SELECT * FROM feedback_requests WHERE idem = ?", ("kiosk-k1-feedback-1",)).fetchall()
    assert "0912000777" not in repr(row)


def test_a_flood_is_limited(client: httpx.Client) -> None:
    codes = []
    for _ in range(10):
        response = client.post(f"{BASE}/feedback", json={"category": "other", "text": "spam"})
        codes.append(response.status_code)
    assert 429 in codes and codes.count(201) <= 3
    limited = client.post(f"{BASE}/feedback", json={"category": "other", "text": "spam"})
    assert limited.status_code == 429 and int(limited.headers["Retry-After"]) >= 1


def test_overdue_after_the_response_deadline(client: httpx.Client, server: ServerProcess) -> None:
    sent = client.post(f"{BASE}/feedback", headers=KIOSK, json={"category": "result", "text": "Trễ hẹn trả kết quả"})
    code = sent.json()["code"]
    manager = login(server.url, "quanly", "demo")
    admin = login(server.url, "admin", "demo")
    assert all(not i["overdue"] for i in client.get(f"{BASE}/feedback", headers=manager).json()["items"]
               if i["code"] == code)
    for _ in range(10):  # the default response deadline: 10 days
        client.post("/api/v1/_test/clock", headers=admin, json={"advance_s": 86400}).raise_for_status()
    client.post("/api/v1/_test/clock", headers=admin, json={"advance_s": 60}).raise_for_status()
    overdue = client.get(f"{BASE}/feedback?status=overdue", headers=manager).json()
    assert code in [i["code"] for i in overdue["items"]] and overdue["overdue"] >= 1


def test_topics_guessed_then_corrected_and_kept(client: httpx.Client, server: ServerProcess) -> None:
    manager = login(server.url, "quanly", "demo")
    sent = client.post(f"{BASE}/feedback", headers=KIOSK,
                       json={"category": "other", "text": "cho qua lau, 2 tieng chua duoc goi so"})
    code = sent.json()["code"]
    assert "topic" not in sent.json()  # the citizen's view says nothing of it

    def mine() -> dict[str, object]:
        items = client.get(f"{BASE}/feedback", headers=manager).json()["items"]
        return next(i for i in items if i["code"] == code)

    assert (mine()["topic"], mine()["topic_auto"]) == ("waiting", True)
    waiting = client.get(f"{BASE}/feedback?topic=waiting", headers=manager).json()
    assert code in [i["code"] for i in waiting["items"]] and waiting["topics"]["waiting"] >= 1
    # bad input changes nothing
    for body, status in (({"topic": "nope"}, 422), ({"topic": ""}, 422), ({"topic": 3}, 422), ({}, 422)):
        answer = client.post(f"{BASE}/feedback/{code}/topic", headers=manager, json=body)
        assert answer.status_code == status and answer.json()["error"]["code"]
    assert client.post(f"{BASE}/feedback/{code}/topic", headers=login(server.url, "quay1", "1234"),
                       json={"topic": "staff"}).status_code == 403
    assert mine()["topic_auto"] is True
    corrected = client.post(f"{BASE}/feedback/{code}/topic", headers=manager, json={"topic": "facilities"})
    assert corrected.status_code == 200 and corrected.json()["topic_by"] == "quanly"
    assert (mine()["topic"], mine()["topic_auto"]) == ("facilities", False)
    # it stays through the item's life
    client.post(f"{BASE}/feedback/{code}/answer", headers=manager,
                json={"answer": "Đã bố trí thêm quầy", "upheld": True}).raise_for_status()
    assert (mine()["topic"], mine()["topic_auto"]) == ("facilities", False)
    waiting = client.get(f"{BASE}/feedback?topic=waiting", headers=manager).json()
    assert code not in [i["code"] for i in waiting["items"]]


def test_with_a_redis_store_feedback_is_kept_there(tmp_path: Path, redis: RedisServer) -> None:
    """A scale-out set-up keeps feedback in its Redis (it answered 503 before): sent, answered, counted by the
    month's evaluation; texts need --store sqlite, so no number is taken."""
    with serve_process(SITE, tmp_path / "data", "--store", redis.url) as proc, \
            httpx.Client(base_url=proc.url, timeout=10) as c:
        sent = c.post(f"{BASE}/feedback", headers=KIOSK, json={"category": "staff", "text": "Cán bộ chưa niềm nở"})
        assert sent.status_code == 201, sent.text
        code = sent.json()["code"]
        refused = c.post(f"{BASE}/feedback", headers=KIOSK, json={
            "category": "staff", "text": "Gọi lại cho tôi", "phone": "0912000111", "phone_consent": True})
        assert refused.status_code == 422 and refused.json()["error"]["code"] == "texts_unavailable"
        manager = login(proc.url, "quanly", "demo")
        c.post(f"{BASE}/feedback/{code}/answer", headers=manager,
               json={"answer": "Đã nhắc nhở cán bộ.", "upheld": True}).raise_for_status()
        assert c.get(f"{BASE}/feedback/{code}").json()["answer"] == "Đã nhắc nhở cán bộ."
        assert c.get(f"{BASE}/evaluation", headers=manager).json()["total"]["complaints_upheld"] == 1
    assert not (tmp_path / "data" / "feedback.db").exists()
    assert Redis.from_url(redis.url).get(f"motcua:{{xa}}:fb:code:{code}") is not None
