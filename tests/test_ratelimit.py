"""Kiosk abuse: per-kiosk and per-phone rate limits, phone consent; retries are never limited."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from controller.api.ratelimit import RateLimiter
from tests.server import KIOSK, ServerProcess, login, serve_process

SITES = Path(__file__).resolve().parent.parent / "controller" / "sites"


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_bucket_refills_at_its_rate() -> None:
    clock = Clock()
    limiter = RateLimiter(clock)
    assert [limiter.take("kiosk", "k1", 6.0, 3) for _ in range(3)] == [0.0, 0.0, 0.0]
    assert limiter.take("kiosk", "k1", 6.0, 3) == pytest.approx(10.0)  # 6/min: one token per 10 s
    assert limiter.take("kiosk", "k2", 6.0, 3) == 0.0  # another kiosk has its own bucket
    clock.now = 10.0
    assert limiter.take("kiosk", "k1", 6.0, 3) == 0.0
    assert limiter.take("kiosk", "k1", 6.0, 3) > 0
    limiter.refund("kiosk", "k1", 3)
    assert limiter.take("kiosk", "k1", 6.0, 3) == 0.0


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    with serve_process(SITES / "commune-centre.toml", tmp_path_factory.mktemp("rl"), kiosk_rate=6) as proc:
        yield proc


def issue(c: httpx.Client, headers: dict[str, str], **body: object) -> httpx.Response:
    return c.post("/api/v1/sites/xa/tickets", headers=headers, json={"procedure": "cth-ban-sao", **body})


@pytest.mark.integration
def test_kiosk_limit_refuses_clearly_and_retries_pass(server: ServerProcess) -> None:
    with httpx.Client(base_url=server.url, timeout=10) as c:
        first = issue(c, {**KIOSK, "Idempotency-Key": "tap-0"})
        assert first.status_code == 201
        for i in range(1, 10):  # burst of 10 at 6 per minute
            assert issue(c, {**KIOSK, "Idempotency-Key": f"tap-{i}"}).status_code == 201
        refused = issue(c, {**KIOSK, "Idempotency-Key": "tap-10"})
        assert refused.status_code == 429
        assert refused.json()["error"]["code"] == "rate_limited"
        assert "thử lại sau" in refused.json()["error"]["message"]
        assert int(refused.headers["Retry-After"]) >= 1
        # A retry of an accepted tap is not a new ticket: it is never limited.
        again = issue(c, {**KIOSK, "Idempotency-Key": "tap-0"})
        assert again.status_code == 201 and again.json()["id"] == first.json()["id"]
        # Staff issuing at the counter are not held by the kiosk's bucket.
        staff = login(server.url, "quay1", "1234")
        assert issue(c, staff).status_code == 201


@pytest.mark.integration
def test_phone_needs_consent_and_is_limited(server: ServerProcess) -> None:
    staff = login(server.url, "quay2", "1234")
    with httpx.Client(base_url=server.url, timeout=10) as c:
        no_consent = issue(c, staff, phone="0912345678")
        assert no_consent.status_code == 422 and no_consent.json()["error"]["code"] == "phone_consent_required"
        for _ in range(3):
            assert issue(c, staff, phone="0912345678", phone_consent=True).status_code == 201
        limited = issue(c, staff, phone="0912345678", phone_consent=True)
        assert limited.status_code == 429 and "điện thoại" in limited.json()["error"]["message"]
        assert issue(c, staff, phone="0987654321", phone_consent=True).status_code == 201
