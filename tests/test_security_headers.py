"""Script injection and security headers (issue 14, item 2) against a real `motcua serve --demo`.

An unknown site name is echoed by the screens' 404 page: it must come back as text, never
markup. Every answer carries a Content-Security-Policy that allows this origin only (no
inline script or style, no framing), with nosniff and a referrer policy.
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.server import KIOSK, ServerProcess, login, serve_process

pytestmark = pytest.mark.integration

SITE_FILE = Path(__file__).resolve().parent.parent / "controller" / "sites" / "commune-centre.toml"
PAYLOAD = "<img src=x onerror=alert(1)>"
QUOTED = "%3Cimg%20src=x%20onerror=alert(1)%3E"
SCREENS = [f"/kiosk/{QUOTED}", f"/hall/{QUOTED}", f"/monitor/{QUOTED}", f"/book/{QUOTED}", f"/t/{QUOTED}",
           f"/t/{QUOTED}/x", f"/counter/{QUOTED}/1", f"/reports/{QUOTED}", f"/f/{QUOTED}", f"/f/{QUOTED}/x"]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    with serve_process(SITE_FILE, tmp_path_factory.mktemp("headers")) as proc:
        yield proc


@pytest.fixture(scope="module")
def client(server: ServerProcess) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, timeout=10) as c:
        yield c


def directives(policy: str) -> dict[str, list[str]]:
    parsed = {}
    for part in policy.split(";"):
        name, *values = part.split()
        parsed[name] = values
    return parsed


def assert_secured(response: httpx.Response) -> None:
    what = f"{response.request.method} {response.request.url.path} -> {response.status_code}"
    assert response.headers.get("x-content-type-options") == "nosniff", what
    assert response.headers.get("referrer-policy") == "no-referrer", what
    assert response.headers.get("x-frame-options") == "DENY", what
    policy = directives(response.headers.get("content-security-policy", "default-src *"))
    assert policy.get("default-src") == ["'self'"], what
    assert policy.get("script-src") == ["'self'"], what  # no inline script, no foreign origin
    assert policy.get("frame-ancestors") == ["'none'"], what
    assert policy.get("object-src") == ["'none'"], what
    assert all("unsafe" not in value and "*" not in value and "http" not in value
               for values in policy.values() for value in values), what


@pytest.mark.parametrize("path", SCREENS)
def test_an_unknown_site_name_is_shown_as_text_never_markup(client: httpx.Client, path: str) -> None:
    page = client.get(path)
    assert page.status_code == 404
    assert page.headers["content-type"].startswith("text/html")
    assert PAYLOAD not in page.text and "<img" not in page.text
    assert "&lt;img src=x onerror=alert(1)&gt;" in page.text
    assert "Không tìm thấy" in page.text
    assert 'style="' not in page.text and "<script" not in page.text  # the policy allows neither inline
    assert_secured(page)


def test_every_kind_of_answer_carries_the_security_headers(client: httpx.Client, server: ServerProcess) -> None:
    manager = login(server.url, "quanly", "demo")
    answers = [
        client.get("/kiosk/xa"), client.get("/counter/xa/1"), client.get("/hall/xa"), client.get("/monitor"),
        client.get("/book/xa"), client.get("/t/xa"), client.get("/docs"), client.get("/ui/kiosk.js"),
        client.get("/reports/xa"),
        client.get("/ui/nothing.js"), client.get("/openapi.json"), client.get("/metrics"), client.get("/healthz"),
        client.get("/api/v1/sites/xa/catalogue"), client.get("/api/v1/sites/nowhere/catalogue"),
        # 415, refused by the body middleware before any route
        client.post("/api/v1/sites/xa/tickets", headers={**KIOSK, "content-type": "text/plain"}, content=b"x"),
        client.post("/api/v1/sites/xa/tickets", headers={**KIOSK, "content-type": "application/json"},
                    content=b"[" * 70_000),  # 413
        client.get("/api/v1/sites/xa/monitor"),  # 401
        client.get("/api/v1/sites/xa/reports", headers=manager, params={"format": "csv"}),
        client.get("/api/v1/sites/xa/reports", headers=manager, params={"format": "xlsx"}),
        client.delete("/healthz"),  # 405
    ]
    statuses = [a.status_code for a in answers]
    assert {200, 401, 404, 405, 413, 415} <= set(statuses), statuses
    for answer in answers:
        assert_secured(answer)


def test_the_printable_report_allows_only_its_own_inline_style(client: httpx.Client, server: ServerProcess) -> None:
    manager = login(server.url, "quanly", "demo")
    report = client.get("/api/v1/sites/xa/reports", headers=manager, params={"format": "html"})
    assert report.status_code == 200
    assert_secured(report)
    styles = re.findall(r"<style>(.*?)</style>", report.text, re.DOTALL)
    assert len(styles) == 1 and "<script" not in report.text
    digest = base64.b64encode(hashlib.sha256(styles[0].encode()).digest()).decode()
    assert directives(report.headers["content-security-policy"])["style-src"] == ["'self'", f"'sha256-{digest}'"]


def test_docs_are_served_from_this_origin(client: httpx.Client) -> None:
    docs = client.get("/docs")
    assert docs.status_code == 200
    sources = re.findall(r'(?:src|href)="([^"]+)"', docs.text)
    assert sources and all(s.startswith("/") or s == "data:," for s in sources), sources
    assert "<script>" not in docs.text
    assert client.get("/redoc").status_code == 404  # FastAPI's ReDoc page loads from a CDN: not served
