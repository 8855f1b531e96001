"""The whole app in this process: create_app served by uvicorn on the test's event loop."""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections.abc import AsyncIterator, Iterator

import httpx
import uvicorn
from fastapi import FastAPI

from controller.app import create_app
from controller.settings import Settings
from tests.bridge_support import eventually

__all__ = ["running_app", "serving_in_thread"]


@contextlib.asynccontextmanager
async def running_app(settings: Settings) -> AsyncIterator[tuple[httpx.AsyncClient, FastAPI]]:
    """The app served by uvicorn on this loop, and a client for it."""
    app = create_app(settings)
    server = uvicorn.Server(uvicorn.Config(app, host=settings.host, port=settings.port, log_level="warning"))
    task = asyncio.create_task(server.serve())
    try:
        await eventually(lambda: server.started or task.done(), timeout_s=30)
        assert server.started, "uvicorn did not start"
        async with httpx.AsyncClient(base_url=f"http://{settings.host}:{settings.port}", timeout=10) as client:
            yield client, app
    finally:
        server.should_exit = True
        await task


@contextlib.contextmanager
def serving_in_thread(settings: Settings) -> Iterator[FastAPI]:
    """The app served by uvicorn on a thread of its own (for synchronous callers such as Playwright's)."""
    app = create_app(settings)
    server = uvicorn.Server(uvicorn.Config(app, host=settings.host, port=settings.port, log_level="warning"))
    thread = threading.Thread(target=server.run, name="motcua-test-app", daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 30
        while not server.started:
            assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
            time.sleep(0.02)
        yield app
    finally:
        server.should_exit = True
        thread.join(timeout=30)
