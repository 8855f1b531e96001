"""Shared fixtures: real local services on free loopback ports."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.services import (
    Mosquitto,
    PtyPair,
    RedisServer,
    mosquitto_server,
    redis_server,
    socat_pty_pair,
)

ROOT = Path(__file__).resolve().parent.parent
SITES = ROOT / "controller" / "sites"

os.environ.setdefault("SDL_AUDIODRIVER", "dummy")
os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")
os.environ["NO_PROXY"] = "127.0.0.1,localhost"


@pytest.fixture
def province_centre_file() -> Path:
    return SITES / "province-centre.toml"


@pytest.fixture
def commune_centre_file() -> Path:
    return SITES / "commune-centre.toml"


@pytest.fixture
def mosquitto(tmp_path: Path) -> Iterator[Mosquitto]:
    with mosquitto_server(tmp_path) as broker:
        yield broker


@pytest.fixture
def redis(tmp_path: Path) -> Iterator[RedisServer]:
    with redis_server(tmp_path) as server:
        yield server


@pytest.fixture
def pty_pair(tmp_path: Path) -> Iterator[PtyPair]:
    with socat_pty_pair(tmp_path) as pair:
        yield pair
