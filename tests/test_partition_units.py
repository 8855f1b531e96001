"""Pure parts of partitioning and of `motcua load`: shares, preference, paths, settings, stream checks."""

from __future__ import annotations

from pathlib import Path

import pytest

from controller.api.forward import site_of_path
from controller.runtime.partition import preference_order
from controller.settings import Settings, SettingsError
from controller.store.members import fair_share
from sim.load import LoadError, parse_urls
from sim.load_stats import LiveCheck, LoadStats


def test_fair_share_covers_every_site() -> None:
    assert [fair_share(30, n) for n in (0, 1, 2, 3, 4)] == [30, 30, 15, 10, 8]
    assert all(fair_share(1000, n) * n >= 1000 for n in range(1, 50))


def test_preference_order_is_stable_and_differs_per_holder() -> None:
    sites = [f"s{i}" for i in range(50)]
    a = preference_order(sites, "http://127.0.0.1:1")
    assert a == preference_order(list(reversed(sites)), "http://127.0.0.1:1")
    assert sorted(a) == sorted(sites)
    assert a != preference_order(sites, "http://127.0.0.1:2")


@pytest.mark.parametrize(("path", "site"), [
    ("/api/v1/sites/xa-1/tickets", "xa-1"),
    ("/api/v1/sites/xa-1", "xa-1"),
    ("/kiosk/hcc", "hcc"),
    ("/t/hcc/T-1", "hcc"),
    ("/monitor/hcc", "hcc"),
    ("/monitor", None),
    ("/api/v1/sites", None),
    ("/api/v1/feed", None),
    ("/api/v1/auth/login", None),
])
def test_site_of_path(path: str, site: str | None) -> None:
    assert site_of_path(path) == site


def test_scale_out_settings(tmp_path: Path) -> None:
    base = {"site_file": tmp_path / "s.toml", "data_dir": tmp_path, "store": "redis://127.0.0.1:6379/0"}
    settings = Settings(**base, port=8123)  # type: ignore[arg-type]
    assert settings.partitioned and settings.advertised_url == "http://127.0.0.1:8123"
    assert settings.accounts_path == tmp_path / "accounts.db"
    assert not Settings(site_file=tmp_path, data_dir=tmp_path).partitioned
    with pytest.raises(SettingsError, match="advertise-url"):
        Settings(**base, host="0.0.0.0")  # type: ignore[arg-type]
    with pytest.raises(SettingsError, match="advertise-url"):
        Settings(**base, advertise_url="ftp://x")  # type: ignore[arg-type]
    with pytest.raises(SettingsError, match="lease-ttl"):
        Settings(**base, lease_ttl_s=0)  # type: ignore[arg-type]
    with pytest.raises(SettingsError, match="devices"):
        Settings(**base, devices="sim", mqtt="embedded")  # type: ignore[arg-type]


def test_load_drives_loopback_only() -> None:
    assert parse_urls("http://127.0.0.1:8000/, http://localhost:8001") == (
        "http://127.0.0.1:8000", "http://localhost:8001")
    for bad in ("http://10.0.0.1:8000", "https://127.0.0.1:8000", "", "http://example.org"):
        with pytest.raises(LoadError):
            parse_urls(bad)


def test_live_check_counts_gaps_and_reordering() -> None:
    check = LiveCheck()
    for seq in (5, 6, 9, 8, 10):
        check.see(seq, "ticket.issued" if seq == 6 else "counter.changed")
    assert (check.received, check.dropped, check.out_of_order, check.issued_seen) == (5, 2, 1, 1)


def test_report_percentiles_and_reuse() -> None:
    stats = LoadStats()
    for ms in range(1, 101):
        stats.ok("issue", ms / 1000)
    stats.error("call_next", "503:site_moving")
    stats.issued_acked["a"] = 3
    stats.numbers["a"] += ["A001", "A002", "A001"]
    check = LiveCheck()
    check.see(1, "ticket.issued")
    report = stats.report(10.0, {"a": check})
    assert report["ops"]["issue"]["count"] == 100
    assert report["ops"]["issue"]["p50_ms"] == pytest.approx(50.5)
    assert report["throughput_per_s"] == 10.0
    assert report["errors"] == {"call_next:503:site_moving": 1}
    assert report["ticket_numbers_reused"] == 1
    assert report["live"]["issued_not_seen"] == 2
