"""The demo accounts of `serve --demo` (README, CONTRACT.md section 1): staff and kiosks of one site each.

Staff and kiosks belong to one site, in the demo as in production: a staff member who
could log in at any site could open a counter of another centre and collect its ratings.
The file's first site (the centre of a province file, or the only site) gets the names
the contract gives, `quay{n}` and the kiosk key `kiosk-demo`; every other site S gets
`quay{n}@S` and `kiosk-demo@S`. The manager, admin and operations centre accounts and the
operations feed key are the province's: they cover every site.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from controller.accounts import AccountStore
from controller.core.site import Site

__all__ = ["DEMO_KIOSK_KEY", "DEMO_PIN", "DemoNames", "seed_demo"]

DEMO_PIN = "1234"
DEMO_KIOSK_KEY = "kiosk-demo"
DEMO_KIOSK = "k1"


@dataclass(frozen=True)
class DemoNames:
    """The demo's staff users and kiosk keys per site, given the file's first site."""

    first_site: str
    kiosk_key_base: str = DEMO_KIOSK_KEY

    def staff(self, site: str, counter: int) -> str:
        """The staff user of counter `counter` at `site`."""
        return f"quay{counter}" if site == self.first_site else f"quay{counter}@{site}"

    def kiosk_key(self, site: str) -> str:
        """The X-Kiosk-Key of the kiosks of `site`."""
        return self.kiosk_key_base if site == self.first_site else f"{self.kiosk_key_base}@{site}"


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
    for site in sites:
        store.add_key(names.kiosk_key(site.id), DEMO_KIOSK, "kiosk", site.id)
    store.add_key("ops-demo-key", "province-ops", "ops", "*")
    first = sites[0]
    lines = [
        "manager: quanly / demo    admin: admin / demo    ops: ops / demo    (every site)",
        f"staff of {first.id}: quay{{n}} / PIN {DEMO_PIN} for counter n (n = {min(first.counters)}.."
        f"{max(first.counters)}); kiosk key: {DEMO_KIOSK_KEY} (header X-Kiosk-Key)",
    ]
    if len(sites) > 1:
        lines.append(f"every other site S ({sites[1].id} ...): staff quay{{n}}@S / PIN {DEMO_PIN}, "
                     f"kiosk key {DEMO_KIOSK_KEY}@S")
    lines.append("operations feed key: ops-demo-key (header X-Api-Key)")
    return lines
