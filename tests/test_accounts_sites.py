"""Staff and kiosks belong to one site: `motcua users add` and the demo accounts."""

from __future__ import annotations

from pathlib import Path

import pytest

from controller.accounts import AccountStore
from controller.cli import main
from controller.demo import DemoNames, seed_demo
from controller.sitefile import load_sites

SITES = Path(__file__).resolve().parent.parent / "controller" / "sites"


def users(data: Path, *args: str) -> int:
    return main(["users", "--data-dir", str(data), "add", *args])


def accounts_in(data: Path) -> dict[str, tuple[str, str, int | None]]:
    store = AccountStore(data / "accounts.db")
    try:
        return {name: (role, site, counter) for name, role, site, counter in store.list_accounts()}
    finally:
        store.close()


@pytest.mark.parametrize("role", ["staff", "kiosk"])
def test_a_staff_account_or_kiosk_key_needs_its_site(tmp_path: Path, role: str,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    counter = ["--counter", "7"] if role == "staff" else []
    assert users(tmp_path, "--user", "quay7", "--role", role, *counter, "--secret", "12345678") == 2
    assert "--site" in capsys.readouterr().err
    assert accounts_in(tmp_path) == {}
    store = AccountStore(tmp_path / "accounts.db")
    try:
        assert store.key("12345678", "kiosk") is None  # nothing was saved
    finally:
        store.close()


def test_users_add_keeps_the_site_it_is_given(tmp_path: Path) -> None:
    assert users(tmp_path, "--user", "quay7", "--role", "staff", "--counter", "7", "--site", "xa",
                 "--secret", "1234") == 0
    assert users(tmp_path, "--user", "roaming", "--role", "staff", "--counter", "1", "--site", "*",
                 "--secret", "1234") == 0  # every site, when said so
    assert users(tmp_path, "--user", "k-xa", "--role", "kiosk", "--site", "xa", "--secret", "kiosk-key-xa") == 0
    assert users(tmp_path, "--user", "truongtt", "--role", "manager", "--secret", "secret") == 0  # the province's
    assert accounts_in(tmp_path) == {"quay7": ("staff", "xa", 7), "roaming": ("staff", "*", 1),
                                     "truongtt": ("manager", "*", None)}
    store = AccountStore(tmp_path / "accounts.db")
    try:
        kiosk = store.key("kiosk-key-xa", "kiosk")
        assert kiosk is not None and kiosk.site == "xa" and not kiosk.covers_site("tinh")
    finally:
        store.close()


def test_the_demo_ties_each_site_s_staff_and_kiosks_to_that_site(tmp_path: Path) -> None:
    sites = load_sites(SITES / "province.toml")
    store = AccountStore(tmp_path / "accounts.db")
    try:
        seed_demo(store, sites)
        names = DemoNames(sites[0].id)
        centre, commune = sites[0], sites[7]
        assert (centre.id, names.staff(centre.id, 1), names.staff(commune.id, 1)) == ("tinh", "quay1", "quay1@xa-007")
        accounts = {name: (role, site, counter) for name, role, site, counter in store.list_accounts()}
        assert accounts["quay1"] == ("staff", "tinh", 1)
        assert accounts["quay1@xa-007"] == ("staff", "xa-007", 1)
        assert accounts["quanly"] == ("manager", "*", None)
        staff = [a for a in accounts.values() if a[0] == "staff"]
        assert len(staff) == sum(len(s.counters) for s in sites) and all(site != "*" for _, site, _ in staff)
        login = store.login("quay1@xa-007", "1234")
        assert login is not None and login[1].covers_site("xa-007") and not login[1].covers_site("tinh")
        centre_kiosk, commune_kiosk = store.key("kiosk-demo", "kiosk"), store.key("kiosk-demo@xa-007", "kiosk")
        assert centre_kiosk is not None and centre_kiosk.site == "tinh"
        assert commune_kiosk is not None and commune_kiosk.site == "xa-007"
        ops = store.key("ops-demo-key", "ops")
        assert ops is not None and ops.site == "*"
    finally:
        store.close()


def test_the_data_dir_may_follow_add_as_the_refusals_word_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # the default data dir, "data", would be here
    assert main(["users", "add", "--data-dir", str(tmp_path / "centre"), "--user", "quanly", "--role", "manager",
                 "--secret", "secret"]) == 0
    assert accounts_in(tmp_path / "centre") == {"quanly": ("manager", "*", None)}
    assert not (tmp_path / "data").exists()
