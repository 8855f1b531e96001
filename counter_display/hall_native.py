"""`motcua hall --url http://HOST:PORT --site ID`: the hall board, fullscreen, with pygame.

For mini-PCs behind a TV that have no browser. A background thread reads the
public board over HTTP and the live stream over WebSocket (resuming with
?after=SEQ after any drop) and hands them to the drawing loop through a queue;
the loop folds them into a HallBoard and paints it at 30 frames a second.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import queue
import threading
import time
from typing import Any
from urllib.parse import quote, urlsplit

import httpx
import pygame
from websockets.asyncio.client import connect
from websockets.exceptions import WebSocketException

from counter_display.hall_board import HallBoard
from counter_display.hall_draw import BG, GOLD, HallPainter

__all__ = ["BoardFeed", "HallApp", "run"]

ROWS = 8
COUNTS_EVERY_S = 1.0   # re-read waiting counts at most this often while events flow
RETRY_MAX_S = 5.0
FPS = 30


class BoardFeed:
    """Board reads and live messages from a controller, on a thread of their own."""

    def __init__(self, url: str, site: str, rows: int = ROWS) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError(f"--url must be http(s)://HOST:PORT, not {url!r}")
        self.url = url.rstrip("/")
        self.site = site
        self.rows = rows
        self.items: queue.Queue[tuple[str, dict[str, Any]]] = queue.Queue()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="motcua-hall-feed", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def drain(self) -> list[tuple[str, dict[str, Any]]]:
        """Everything received since the last drain, in order."""
        out: list[tuple[str, dict[str, Any]]] = []
        with contextlib.suppress(queue.Empty):
            while True:
                out.append(self.items.get_nowait())
        return out

    def _run(self) -> None:
        asyncio.run(self._main())

    async def _main(self) -> None:
        after: int | None = None
        delay = 0.25
        site = quote(self.site, safe="")
        ws_base = "ws" + self.url[len("http"):]
        # The controller is on the local network: never route it through a proxy from the environment.
        async with httpx.AsyncClient(base_url=self.url, timeout=5.0, trust_env=False) as http:
            while not self._stop.is_set():
                try:
                    board = await self._board(http, site)
                    if after is None:
                        after = int(board["seq"])
                    self.items.put(("board", board))
                    async with connect(f"{ws_base}/api/v1/sites/{site}/live?snapshots=false&after={after}",
                                       proxy=None, open_timeout=5) as socket:
                        self.items.put(("online", {}))
                        delay = 0.25
                        after = await self._stream(http, site, socket, after)
                except (httpx.HTTPError, OSError, WebSocketException, ValueError, KeyError, TimeoutError):
                    pass
                self.items.put(("offline", {}))
                await asyncio.sleep(delay)
                delay = min(delay * 2, RETRY_MAX_S)

    async def _board(self, http: httpx.AsyncClient, site: str) -> dict[str, Any]:
        response = await http.get(f"/api/v1/sites/{site}/hall", params={"limit": self.rows})
        response.raise_for_status()
        body: dict[str, Any] = response.json()
        return body

    async def _stream(self, http: httpx.AsyncClient, site: str, socket: Any, after: int) -> int:
        dirty = False
        last_counts = time.monotonic()
        while not self._stop.is_set():
            try:
                raw = await asyncio.wait_for(socket.recv(), timeout=0.5)
            except TimeoutError:
                raw = None
            if raw is not None:
                message = json.loads(raw)
                if isinstance(message.get("seq"), int) and message.get("type") != "monitor.snapshot":
                    after = max(after, message["seq"])
                self.items.put(("event", message))
                kind = str(message.get("type", ""))
                dirty = dirty or kind.startswith("ticket.") or kind == "counter.changed"
            if dirty and time.monotonic() - last_counts >= COUNTS_EVERY_S:
                self.items.put(("counts", await self._board(http, site)))
                dirty, last_counts = False, time.monotonic()
        return after


class HallApp:
    """The drawing loop's state: the board, the painter and whether the stream is up."""

    def __init__(self, screen: pygame.Surface, feed: BoardFeed) -> None:
        self.screen = screen
        self.feed = feed
        self.painter = HallPainter(screen.get_size())
        self.board: HallBoard | None = None
        self.online = False

    def step(self, now: float | None = None) -> None:
        """Fold what arrived and paint one frame."""
        now = time.monotonic() if now is None else now
        for kind, body in self.feed.drain():
            if kind == "board":
                if self.board is None:
                    self.board = HallBoard.from_board(body, self.feed.rows)
                else:
                    self.board.set_counts(body)
            elif kind == "counts" and self.board is not None:
                self.board.set_counts(body)
            elif kind == "event" and self.board is not None:
                self.board.apply(body, now)
            elif kind in ("online", "offline"):
                self.online = kind == "online"
        if self.board is None:
            self.screen.fill(BG)
            height = self.screen.get_height()
            self.painter.text(self.screen, f"Đang kết nối tới {self.feed.url} …", round(height * 0.04), GOLD,
                              self.screen.get_rect().center, anchor="center")
            return
        self.painter.draw(self.screen, self.board, now)
        if not self.online:
            # A red dot in the header: the board may be stale until the stream is back.
            radius = max(4, self.screen.get_height() // 80)
            pygame.draw.circle(self.screen, (255, 80, 80), (self.screen.get_width() // 2, radius * 2), radius)


def run(args: argparse.Namespace) -> int:
    """Entry point of `motcua hall`; returns the exit code."""
    try:
        feed = BoardFeed(args.url, args.site)
    except ValueError as exc:
        print(f"motcua hall: {exc}")
        return 2
    pygame.display.init()
    pygame.font.init()
    windowed = bool(getattr(args, "windowed", False))
    screen = pygame.display.set_mode((1280, 720) if windowed else (0, 0), 0 if windowed else pygame.FULLSCREEN)
    pygame.display.set_caption(f"motcua hall · {args.site}")
    pygame.mouse.set_visible(windowed)
    app = HallApp(screen, feed)
    clock = pygame.time.Clock()
    feed.start()
    try:
        while True:
            for event in pygame.event.get():
                if event.type == pygame.QUIT or (event.type == pygame.KEYDOWN and event.key in (pygame.K_ESCAPE,
                                                                                              pygame.K_q)):
                    return 0
            app.step()
            pygame.display.flip()
            clock.tick(FPS)
    finally:
        feed.stop()
        pygame.quit()
