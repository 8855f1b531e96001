"""Reasons at a low rating over HTTP (issue 17, item 1), through a real `motcua serve`."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.server import KIOSK, ServerProcess, login, serve_process

pytestmark = pytest.mark.integration

SITE = Path(__file__).resolve().parent.parent / "controller" / "sites" / "commune-centre.toml"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    with serve_process(SITE, tmp_path_factory.mktemp("reasons")) as proc:
        yield proc


@pytest.fixture(scope="module")
def client(server: ServerProcess) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, timeout=10) as c:
        yield c


def served(client: httpx.Client, staff: dict[str, str]) -> str:
    """A ticket issued, called and finished at counter 1."""
    ticket = client.post("/api/v1/sites/xa/tickets", headers=KIOSK, json={"procedure": "ht-khai-sinh"}).json()
    client.post("/api/v1/sites/xa/counters/1/open", headers=staff).raise_for_status()
    while (called := client.post("/api/v1/sites/xa/counters/1/call-next", headers=staff)).status_code == 200:
        client.post("/api/v1/sites/xa/counters/1/finish", headers=staff).raise_for_status()
        if called.json()["id"] == ticket["id"]:
            break
    return str(ticket["id"])


def test_the_catalogue_carries_the_lists(client: httpx.Client) -> None:
    feedback = client.get("/api/v1/sites/xa/catalogue").json()["site"]["feedback"]
    assert feedback["reasons_at"] == 2 and feedback["reasons_timeout_s"] == 30
    assert {"code": "waited_long", "name": "Chờ quá lâu", "name_en": "Waited too long"} in feedback["reasons"]


def test_rating_screen_then_ticket_page(client: httpx.Client, server: ServerProcess) -> None:
    staff = login(server.url, "quay1", "1234")
    ticket = served(client, staff)
    assert client.get(f"/api/v1/sites/xa/tickets/{ticket}").json()["reasons_wanted"] is False
    rated = client.post("/api/v1/sites/xa/ratings", headers=KIOSK, json={"counter": 1, "score": 2})
    assert rated.status_code == 201 and rated.json()["ask_reasons"] is True
    assert client.get(f"/api/v1/sites/xa/tickets/{ticket}").json()["reasons_wanted"] is True
    # bad input: unknown code, HTML, empty list, a string for a list, too many: 422, nothing recorded
    for body in ({"counter": 1, "reasons": ["<b>x</b>"]}, {"counter": 1, "reasons": []},
                 {"counter": 1, "reasons": "waited_long"}, {"counter": 1, "reasons": ["waited_long"] * 9}):
        refused = client.post("/api/v1/sites/xa/ratings/reasons", headers=KIOSK, json=body)
        assert refused.status_code == 422, body
        assert refused.json()["error"]["code"]
    given = client.post("/api/v1/sites/xa/ratings/reasons", headers=KIOSK,
                        json={"counter": 1, "reasons": ["waited_long", "guidance_unclear"]})
    assert given.status_code == 201, given.text
    assert given.json()["ticket"] == ticket and given.json()["staff"] == "quay1"
    assert client.get(f"/api/v1/sites/xa/tickets/{ticket}").json()["reasons_wanted"] is False
    again = client.post(f"/api/v1/sites/xa/tickets/{ticket}/reasons", json={"reasons": ["extra_papers"]})
    assert again.status_code == 409 and again.json()["error"]["code"] == "reasons_given"


def test_the_ticket_page_answers_for_its_own_ticket(client: httpx.Client, server: ServerProcess) -> None:
    staff = login(server.url, "quay1", "1234")
    ticket = served(client, staff)
    client.post("/api/v1/sites/xa/ratings", headers=staff, json={"counter": 1, "score": 1}).raise_for_status()
    given = client.post(f"/api/v1/sites/xa/tickets/{ticket}/reasons", json={"reasons": ["staff_attitude"]})
    assert given.status_code == 201
    assert given.json() == {"ticket": ticket, "reasons": ["staff_attitude"]}  # nothing about the staff member
    other = login(server.url, "quay3", "1234")
    wrong = client.post("/api/v1/sites/xa/ratings/reasons", headers=other,
                        json={"counter": 1, "reasons": ["waited_long"]})
    assert wrong.status_code == 403


def test_a_good_rating_asks_nothing(client: httpx.Client, server: ServerProcess) -> None:
    staff = login(server.url, "quay1", "1234")
    ticket = served(client, staff)
    rated = client.post("/api/v1/sites/xa/ratings", headers=KIOSK, json={"counter": 1, "score": 4}).json()
    assert rated["ask_reasons"] is False
    refused = client.post(f"/api/v1/sites/xa/tickets/{ticket}/reasons", json={"reasons": ["waited_long"]})
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "reasons_not_asked"
