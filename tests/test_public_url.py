"""--public-url: the address every ticket QR and printed link names, checked at start, and the warning a
production start gives when phones could not open it (a loopback or every-interface address)."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from controller.accounts import AccountStore
from controller.app import create_app, settings_from_args
from controller.cli import build_parser
from controller.settings import Settings, SettingsError

ROOT = Path(__file__).resolve().parent.parent
SITE = ROOT / "controller" / "sites" / "commune-centre.toml"


def settings(tmp_path: Path, *args: str) -> Settings:
    parsed = build_parser().parse_args(["serve", "--site", str(SITE), "--data-dir", str(tmp_path), *args])
    return settings_from_args(parsed)


def test_the_public_url_is_what_qr_codes_name(tmp_path: Path) -> None:
    assert settings(tmp_path, "--public-url", "https://motcua.xa.example.vn/").base_url == "https://motcua.xa.example.vn"
    assert settings(tmp_path, "--public-url", "http://10.0.0.5:8080").base_url == "http://10.0.0.5:8080"
    assert settings(tmp_path, "--port", "9000").base_url == "http://127.0.0.1:9000"  # without it: --host/--port
    assert settings(tmp_path, "--host", "::1").base_url == "http://[::1]:8000"


@pytest.mark.parametrize("url", ["motcua.xa.example.vn", "ftp://motcua.xa.example.vn", "http://motcua.xa/prefix",
                                 "http://motcua.xa/?q=1", "http://motcua.xa/#top", "http://user:pw@motcua.xa",
                                 "http://motcua.xa:99999", "http://"])
def test_a_public_url_that_is_not_an_address_stops_start_up(tmp_path: Path, url: str) -> None:
    with pytest.raises(SettingsError, match="--public-url"):
        settings(tmp_path, "--public-url", url)


@pytest.mark.parametrize(("args", "unreachable"), [
    ((), True),  # the default 127.0.0.1
    (("--host", "0.0.0.0"), True),  # every interface: not an address a phone can use
    (("--host", "::"), True),
    (("--public-url", "http://localhost:8000"), True),
    (("--public-url", "http://[::1]:8000"), True),
    (("--public-url", "http://127.0.1.1"), True),
    (("--public-url", "http://192.168.1.20:8000"), False),
    (("--public-url", "https://motcua.xa.example.vn"), False),
    (("--host", "192.168.1.20"), False),
])
def test_an_address_phones_cannot_open_is_named(tmp_path: Path, args: tuple[str, ...], unreachable: bool) -> None:
    problem = settings(tmp_path, *args).public_url_problem
    assert (problem is not None) == unreachable
    if problem:
        assert "--public-url" in problem and settings(tmp_path, *args).base_url in problem


def test_start_up_outside_demo_mode_warns_about_a_loopback_public_url(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    accounts = AccountStore(tmp_path / "accounts.db")
    accounts.add_account("quanly", "manager", "a long secret", "*")
    accounts.close()
    with caplog.at_level(logging.WARNING, logger="motcua"):
        create_app(settings(tmp_path)).state.accounts.close()
    assert any("--public-url" in r.getMessage() and "http://127.0.0.1:8000" in r.getMessage() for r in caplog.records)
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="motcua"):
        create_app(settings(tmp_path, "--public-url", "http://192.168.1.20:8000")).state.accounts.close()
        create_app(settings(tmp_path / "demo", "--demo")).state.accounts.close()  # a demo on one machine is fine
    assert not any("--public-url" in r.getMessage() for r in caplog.records)
