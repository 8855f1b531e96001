"""Who `motcua load` acts as: the kiosk keys, staff accounts and live-stream account of each site.

Against a demo server (`serve --demo`) the driver uses the demo's accounts
(controller/demo.py): every site's kiosks k1..k4 with their own keys, each
counter's staff `quay{n}` (`quay{n}@S`), the manager `quanly` for the full live
stream. Against a real server it takes them from a file (`--access FILE.toml`):

    [live]                       # an account that may read the full live stream (a manager)
    user = "quanly"
    secret = "..."

    [[site]]
    id = "tinh"
    kiosk_keys = ["key-of-k1", "key-of-k2", "key-of-k3"]
    staff = [{counter = 1, user = "quay1", secret = "..."}, {counter = 2, user = "quay2", secret = "..."}]

A site of the scenario that the file does not list is not driven; a counter
without staff there is not opened. Every key and secret is the server's own
(`motcua users add`): the driver never changes them.
"""

from __future__ import annotations

import tomllib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from controller.core.site import Site
from controller.demo import DEMO_PIN, DemoNames, demo_kiosks

__all__ = ["Access", "AccessError", "demo_access", "read_access"]


class AccessError(ValueError):
    """An access file the driver refuses."""


@dataclass(frozen=True)
class Access:
    """Credentials per site: kiosk keys, staff (user, secret) per counter; the live stream's account."""

    kiosk_keys: dict[str, tuple[str, ...]]
    staff: dict[tuple[str, int], tuple[str, str]]
    live_user: str
    live_secret: str

    def staffed(self, site: Site) -> list[int]:
        """The counters of `site` the driver opens: not standby, and with staff to log in."""
        return sorted(n for n, c in site.counters.items() if not c.standby and (site.id, n) in self.staff)


def demo_access(sites: Sequence[Site], kiosk_key: str = "kiosk-demo", kiosks: int | None = None) -> Access:
    """The demo's accounts (README): every kiosk key the demo seeds (or the first `kiosks` of them)."""
    names = DemoNames(sites[0].id, kiosk_key)
    keys = {}
    for site in sites:
        named = demo_kiosks(site)[: kiosks if kiosks is not None else None]
        keys[site.id] = tuple(names.kiosk_key(site.id, k) for k in named)
    staff = {(s.id, n): (names.staff(s.id, n), DEMO_PIN) for s in sites for n in s.counters}
    return Access(keys, staff, "quanly", "demo")


def _text(value: Any, where: str) -> str:
    if not isinstance(value, str) or not value:
        raise AccessError(f"{where} must be a non-empty string")
    return value


def read_access(path: Path, sites: Sequence[Site]) -> tuple[Access, list[Site]]:
    """The access file and the scenario's sites it covers (in the scenario's order)."""
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise AccessError(f"{path}: {exc}") from None
    live = raw.get("live")
    if not isinstance(live, dict):
        raise AccessError(f"{path}: a [live] table with user and secret is needed")
    known = {s.id: s for s in sites}
    keys: dict[str, tuple[str, ...]] = {}
    staff: dict[tuple[str, int], tuple[str, str]] = {}
    for i, entry in enumerate(raw.get("site") or ()):
        where = f"{path}: site[{i}]"
        site = _text(entry.get("id"), f"{where}.id")
        if site not in known:
            raise AccessError(f"{where}.id: the scenario has no site {site!r}")
        kiosk_keys = entry.get("kiosk_keys")
        if not isinstance(kiosk_keys, list) or not kiosk_keys:
            raise AccessError(f"{where}.kiosk_keys must list at least one key")
        keys[site] = tuple(_text(k, f"{where}.kiosk_keys") for k in kiosk_keys)
        for j, person in enumerate(entry.get("staff") or ()):
            counter = person.get("counter") if isinstance(person, dict) else None
            if not isinstance(counter, int) or counter not in known[site].counters:
                raise AccessError(f"{where}.staff[{j}].counter: not a counter of {site}")
            staff[(site, counter)] = (_text(person.get("user"), f"{where}.staff[{j}].user"),
                                      _text(person.get("secret"), f"{where}.staff[{j}].secret"))
    if not keys:
        raise AccessError(f"{path}: no [[site]] listed")
    access = Access(keys, staff, _text(live.get("user"), f"{path}: live.user"),
                    _text(live.get("secret"), f"{path}: live.secret"))
    return access, [s for s in sites if s.id in keys]
