"""One SQLite file served by one worker thread: what the event log, the appointment book and the contacts share.

SQLite connections belong to one thread, and a commit with fsync must not block
the event loop: every call runs on the file's own worker thread, and SQLite or
file-system errors come back as StoreError naming the file.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TypeVar

from controller.store.base import StoreError

__all__ = ["SqliteFile"]

T = TypeVar("T")

DURABLE_WAL = ("PRAGMA journal_mode=WAL", "PRAGMA synchronous=FULL", "PRAGMA busy_timeout=5000")


class SqliteFile:
    """An SQLite file opened with `pragmas` and `schema` on its own worker thread; `what` names it in errors."""

    def __init__(self, path: str | Path, what: str, schema: str, pragmas: Sequence[str] = DURABLE_WAL) -> None:
        self.path = Path(path)
        self._what = what
        self._schema = schema
        self._pragmas = tuple(pragmas)
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"sqlite-{what.replace(' ', '-')}")
        self._conn: sqlite3.Connection | None = None

    async def _start(self) -> None:
        try:
            await self._run(self._connect)
        except StoreError:
            self._pool.shutdown(wait=True)  # a file that did not open holds no thread
            raise

    def _connect(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        for pragma in self._pragmas:
            conn.execute(pragma)
        conn.executescript(self._schema)
        self._conn = conn

    async def _run(self, fn: Callable[[], T]) -> T:
        try:
            return await asyncio.get_running_loop().run_in_executor(self._pool, fn)
        except (sqlite3.Error, OSError) as exc:  # OSError: the data directory cannot be made
            raise StoreError(f"{self._what} {self.path}: {exc}") from exc

    def _db(self) -> sqlite3.Connection:
        if self._conn is None:
            raise StoreError(f"{self._what} is not open")
        return self._conn

    async def close(self) -> None:
        def shut() -> None:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

        try:
            await self._run(shut)
        finally:
            self._pool.shutdown(wait=True)
