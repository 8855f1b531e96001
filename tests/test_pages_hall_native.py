"""The hall board model, the pygame drawing (SDL dummy driver) and the native feed on a real server."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import numpy
import pygame
import pytest

from controller.api.board import called_board
from counter_display.hall_board import BLINK_S, PAGE_S, Call, HallBoard
from counter_display.hall_draw import BLUE, GOLD, PANEL, HallPainter, site_time
from counter_display.hall_native import BoardFeed, HallApp
from kiosk.qr import qr_matrix, qr_svg
from tests.server import KIOSK, login, serve_process

ROOT = Path(__file__).resolve().parent.parent
SHOTS = ROOT / "test-output" / "pages"


def board_body(**extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "site": "tinh", "name": "Trung tâm Phục vụ hành chính công tỉnh", "seq": 10, "notice": "Kính chào quý khách",
        "called": [{"ticket": "d-2001", "number": "2001", "counter": 7}],
        "agencies": [
            {"id": "TP", "name": "Sở Tư pháp", "role": "service", "waiting": 3},
            {"id": "PHI", "name": "Quầy thu phí, lệ phí", "role": "fee", "waiting": 0},
        ],
    }
    body.update(extra)
    return body


def called(seq: int, ticket: str, number: str, counter: int, kind: str = "ticket.called") -> dict[str, Any]:
    return {"seq": seq, "type": kind, "ticket": ticket, "number": number, "counter": counter}


def test_board_folds_calls_newest_first_and_ignores_replays() -> None:
    board = HallBoard.from_board(board_body(), rows=3)
    assert [a.id for a in board.agencies] == ["TP"]  # an empty fee queue is not worth a line
    assert not board.apply(called(10, "d-2002", "2002", 8), now=1.0)  # at or before the board's seq: seen
    assert board.apply(called(11, "d-2002", "2002", 8), now=1.0)
    assert board.apply(called(12, "d-3001", "3001", 11), now=2.0)
    assert [c.number for c in board.calls] == ["3001", "2002", "2001"]
    assert board.apply(called(13, "d-2001", "2001", 7, "ticket.recalled"), now=3.0)
    assert [c.number for c in board.calls] == ["2001", "3001", "2002"]  # a recall goes back to the top, once
    assert board.apply(called(14, "d-4001", "4001", 16), now=4.0)
    assert len(board.calls) == 3 and board.calls[-1].number == "3001"
    assert not board.apply({"seq": 15, "type": "ticket.issued", "ticket": "d-9", "number": "9"}, now=5.0)
    assert board.seq == 15
    assert not board.apply({"seq": 99, "type": "monitor.snapshot"}, now=5.0) and board.seq == 15
    assert board.blinking(4.5) and not board.blinking(4.0 + BLINK_S)
    assert board.blink_phase(4.6) and not board.blink_phase(4.2)


def test_call_rejects_bad_values() -> None:
    with pytest.raises(ValueError):
        Call("t", "", 3)
    with pytest.raises(ValueError):
        Call("t", "2001", 0)


def test_called_board_keeps_latest_call_per_ticket() -> None:
    history: dict[str, list[tuple[str, float, int | None]]] = {
        "a": [("ticket.issued", 1.0, None), ("ticket.called", 5.0, 7), ("ticket.recalled", 9.0, 7)],
        "b": [("ticket.called", 7.0, 8), ("ticket.finished", 8.0, 8)],
        "c": [("ticket.issued", 2.0, None)],
    }
    rows = called_board(history, {"a": "2001", "b": "2002", "c": "2003"}, limit=5, utc_offset_s=7 * 3600)
    assert [(r["number"], r["counter"], r["recall"]) for r in rows] == [("2001", 7, True), ("2002", 8, False)]
    assert rows[0]["at"].endswith("+07:00")


def test_qr_svg_is_a_qr_of_the_url() -> None:
    url = "http://10.0.0.5:8000/t/tinh/20260105-2001"
    matrix = qr_matrix(url)
    size = len(matrix)
    # Finder patterns in three corners, inside the 4-module quiet zone.
    for x0, y0 in ((4, 4), (size - 11, 4), (4, size - 11)):
        assert all(matrix[y0][x0 + i] for i in range(7)) and not matrix[y0 + 1][x0 + 1]
    svg = qr_svg(url, title="2001 & <x>")
    assert svg.startswith("<svg") and f'viewBox="0 0 {size} {size}"' in svg and "2001 &amp; &lt;x&gt;" in svg
    with pytest.raises(ValueError):
        qr_matrix("")


@pytest.fixture
def screen() -> Iterator[pygame.Surface]:
    pygame.display.init()
    pygame.font.init()
    yield pygame.display.set_mode((1280, 720))
    pygame.quit()


def gold_share(surface: pygame.Surface, rect: pygame.Rect) -> float:
    pixels = pygame.surfarray.array3d(surface.subsurface(rect)).astype(numpy.int16)
    near = (abs(pixels - numpy.array(GOLD)) < 40).all(axis=2)
    return float(near.mean())


def test_painter_draws_the_board(screen: pygame.Surface) -> None:
    board = HallBoard.from_board(board_body())
    board.apply(called(11, "d-2002", "2002", 8), now=100.0)
    painter = HallPainter(screen.get_size())
    painter.draw(screen, board, now=100.2, wall=0.0)
    SHOTS.mkdir(parents=True, exist_ok=True)
    pygame.image.save(screen, str(SHOTS / "hall-native.png"))
    assert tuple(screen.get_at((5, 5)))[:3] == BLUE  # header bar
    assert tuple(screen.get_at((640, 715)))[:3] == GOLD  # notice band
    newest = pygame.Rect(40, 110, 600, 180)  # the big number's area inside the newest panel
    steady = gold_share(screen, newest)
    assert 0.05 < steady < 0.6, steady  # gold digits on the dark panel
    assert tuple(screen.get_at((30, 300)))[:3] == PANEL
    # In the inverted half of a blink the panel turns gold and the digits dark.
    painter.draw(screen, board, now=100.7, wall=0.0)
    assert gold_share(screen, newest) > 0.4
    # After the blink window it stays steady.
    painter.draw(screen, board, now=100.0 + BLINK_S + 0.7, wall=0.0)
    assert abs(gold_share(screen, newest) - steady) < 0.02


def test_a_long_waiting_list_is_shown_a_page_at_a_time() -> None:
    many = [{"id": f"A{i:02d}", "name": f"Sở {i}", "role": "service", "waiting": i} for i in range(40)]
    board = HallBoard.from_board(board_body(agencies=many))
    shown: list[str] = []
    for turn in range(3):
        lines, page, pages = board.agency_page(16, now=turn * PAGE_S + 1.0)
        assert (page, pages) == (turn + 1, 3) and len(lines) == (16 if turn < 2 else 8)
        shown += [line.id for line in lines]
    assert shown == [a["id"] for a in many]  # every agency, in the site's order, once per round
    assert board.agency_page(16, now=3 * PAGE_S + 1.0)[1] == 1
    assert board.agency_page(50, now=123.0)[1:] == (1, 1)


def test_the_clock_is_the_sites() -> None:
    wall = 1_700_000_000.0  # 2023-11-14 22:13:20 UTC
    assert site_time(wall, "Asia/Ho_Chi_Minh") == "05:13" and site_time(wall, "Asia/Tokyo") == "07:13"
    assert HallBoard.from_board(board_body(timezone="Asia/Tokyo")).timezone == "Asia/Tokyo"
    assert HallBoard.from_board(board_body()).timezone == "Asia/Ho_Chi_Minh"  # an older server sends none
    assert len(site_time(0.0, "Not/AZone")) == 5  # the box's own clock rather than none


def test_painter_turns_the_pages_of_a_long_list(screen: pygame.Surface) -> None:
    many = [{"id": f"A{i:02d}", "name": f"Sở thử {i}", "role": "service", "waiting": i} for i in range(40)]
    board = HallBoard.from_board(board_body(agencies=many))
    painter = HallPainter(screen.get_size())
    area = pygame.Rect(0, 470, 1280, 190)  # the waiting list, above the notice band
    painter.draw(screen, board, now=1.0, wall=0.0)
    first = pygame.surfarray.array3d(screen.subsurface(area)).copy()
    painter.draw(screen, board, now=1.0 + PAGE_S, wall=0.0)
    second = pygame.surfarray.array3d(screen.subsurface(area))
    assert (first != second).any(axis=2).mean() > 0.01  # another page of names and counts


@pytest.mark.integration
def test_native_hall_follows_the_live_stream(screen: pygame.Surface, tmp_path: Path) -> None:
    site = ROOT / "controller" / "sites" / "commune-centre.toml"
    with serve_process(site, tmp_path / "server") as server:
        site_id = httpx.get(f"{server.url}/api/v1/sites", timeout=10).json()[0]["id"]
        catalogue = httpx.get(f"{server.url}/api/v1/sites/{site_id}/catalogue", timeout=10).json()
        counter = catalogue["counters"][0]
        procedure = next(p["id"] for p in catalogue["procedures"] if p["agency"] in counter["serves"] and p["kiosk"])
        feed = BoardFeed(server.url, site_id)
        app = HallApp(screen, feed)
        feed.start()
        try:
            deadline = time.monotonic() + 10
            while not app.online and time.monotonic() < deadline:
                app.step()
                time.sleep(0.02)
            assert app.online and app.board is not None
            issued = httpx.post(f"{server.url}/api/v1/sites/{site_id}/tickets", json={"procedure": procedure},
                                headers=KIOSK, timeout=10).json()
            staff = login(server.url, f"quay{counter['id']}", "1234")
            httpx.post(f"{server.url}/api/v1/sites/{site_id}/counters/{counter['id']}/open", headers=staff, timeout=10)
            httpx.post(f"{server.url}/api/v1/sites/{site_id}/counters/{counter['id']}/call-next", headers=staff,
                       timeout=10)
            board = app.board
            while time.monotonic() < deadline and not (board.calls and board.calls[0].number == issued["number"]):
                app.step()
                time.sleep(0.02)
            assert board.calls[0] == Call(issued["id"], issued["number"], counter["id"])
            app.step()
            pygame.image.save(screen, str(tmp_path / "native.png"))
            assert gold_share(screen, pygame.Rect(40, 110, 600, 180)) > 0.05
        finally:
            feed.stop()
