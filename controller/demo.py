"""The demo accounts of `serve --demo` (README, CONTRACT.md section 1): staff and kiosks of one site each.

Staff and kiosks belong to one site, in the demo as in production: a staff member who
could log in at any site could open a counter of another centre and collect its ratings.
The file's first site (the centre of a province file, or the only site) gets the names
the contract gives, `quay{n}` and the kiosk key `kiosk-demo`; every other site S gets
`quay{n}@S` and `kiosk-demo@S`. The manager, admin and operations centre accounts and the
operations feed key are the province's: they cover every site.

A hall has several kiosks, and each has its own key and its own rate limit (a
kiosk may issue 30 tickets a minute): the demo gives every site the kiosks its
devices name (a printer's `kiosk`) and at least k1..k4. Kiosk k1's key is
`kiosk-demo` (`kiosk-demo@S`); kiosk kN's is `kiosk-demo-kN` (`kiosk-demo-kN@S`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from controller.accounts import AccountStore
from controller.core.site import Site

__all__ = ["DEMO_KIOSKS", "DEMO_KIOSK_KEY", "DEMO_PIN", "DemoNames", "demo_kiosks", "seed_demo"]

DEMO_PIN = "1234"
DEMO_KIOSK_KEY = "kiosk-demo"
DEMO_KIOSK = "k1"
DEMO_KIOSKS = 4  # kiosks k1..k4 at every site, besides any other its devices name


@dataclass(frozen=True)
class DemoNames:
    """The demo's staff users and kiosk keys per site, given the file's first site."""

    first_site: str
    kiosk_key_base: str = DEMO_KIOSK_KEY

    def staff(self, site: str, counter: int) -> str:
        """The staff user of counter `counter` at `site`."""
        return f"quay{counter}" if site == self.first_site else f"quay{counter}@{site}"

    def kiosk_key(self, site: str, kiosk: str = DEMO_KIOSK) -> str:
        """The X-Kiosk-Key of kiosk `kiosk` (k1 by default) of `site`."""
        base = self.kiosk_key_base if kiosk == DEMO_KIOSK else f"{self.kiosk_key_base}-{kiosk}"
        return base if site == self.first_site else f"{base}@{site}"


def demo_kiosks(site: Site) -> list[str]:
    """The kiosks the demo gives a key: k1..k{DEMO_KIOSKS} and any other the site's devices name."""
    named = {str(getattr(d, "kiosk", None)) for d in site.devices if getattr(d, "kiosk", None)}
    standard = [f"k{i}" for i in range(1, DEMO_KIOSKS + 1)]
    return standard + sorted(named - set(standard))


def seed_demo(store: AccountStore, sites: Sequence[Site]) -> list[str]:
    """Seed the demo accounts; the lines printed at start-up."""
    names = DemoNames(sites[0].id)
    store.add_account("quanly", "manager", "demo", "*")
    store.add_account("admin", "admin", "demo", "*")
    store.add_account("ops", "ops", "demo", "*")
    # every demo staff member has the same published PIN: one hash and one transaction for them all
    # (a province file has hundreds of counters)
    store.add_staff_sharing_secret(
        [(names.staff(site.id, n), site.id, n) for site in sites for n in sorted(site.counters)], DEMO_PIN
    )
    store.add_keys((names.kiosk_key(site.id, kiosk), kiosk, "kiosk", site.id)
                   for site in sites for kiosk in demo_kiosks(site))
    store.add_key("ops-demo-key", "province-ops", "ops", "*")
    first = sites[0]
    lines = [
        "manager: quanly / demo    admin: admin / demo    ops: ops / demo    (every site)",
        f"staff of {first.id}: quay{{n}} / PIN {DEMO_PIN} for counter n (n = {min(first.counters)}.."
        f"{max(first.counters)}); kiosk keys: {DEMO_KIOSK_KEY} (kiosk k1), {DEMO_KIOSK_KEY}-k2 .. "
        f"{DEMO_KIOSK_KEY}-k{DEMO_KIOSKS} (header X-Kiosk-Key)",
    ]
    if len(sites) > 1:
        lines.append(f"every other site S ({sites[1].id} ...): staff quay{{n}}@S / PIN {DEMO_PIN}, "
                     f"kiosk keys {DEMO_KIOSK_KEY}@S, {DEMO_KIOSK_KEY}-k2@S ..")
    lines.append("operations feed key: ops-demo-key (header X-Api-Key)")
    return lines
