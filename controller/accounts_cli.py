"""`motcua users add|list`: configure accounts so a server can start without --demo."""

from __future__ import annotations

import argparse
import getpass
import sys
from pathlib import Path

from controller.accounts import AccountStore

__all__ = ["run"]

# Staff and kiosks act for one site unless told otherwise: a staff account of every site could
# open a counter of another centre and collect its ratings.
ONE_SITE = ("staff", "kiosk")


def run(args: argparse.Namespace) -> int:
    """Handle `motcua users ...`."""
    store = AccountStore(Path(args.data_dir) / "accounts.db")
    try:
        if args.users_command == "list":
            for name, role, site, counter in store.list_accounts():
                print(f"{name}\t{role}\t{site}\t{'' if counter is None else counter}")
            return 0
        site = args.site
        if site is None:
            if args.role in ONE_SITE:
                print(f"motcua users: a {args.role} belongs to one site: give --site ID "
                      "(--site '*' lets it act at every site)", file=sys.stderr)
                return 2
            site = "*"  # managers, admins and the operations centre may be the province's
        secret = args.secret or getpass.getpass(f"secret for {args.user}: ")
        try:
            if args.role in ("kiosk", "apikey"):
                store.add_key(secret, args.user, "kiosk" if args.role == "kiosk" else "ops", site)
            else:
                store.add_account(args.user, args.role, secret, site, args.counter)
        except ValueError as exc:
            print(f"motcua users: {exc}", file=sys.stderr)
            return 2
        print(f"saved {args.role} {args.user}")
        return 0
    finally:
        store.close()
