"""`motcua users add|list`: configure accounts so a server can start without --demo."""

from __future__ import annotations

import argparse
import getpass
import sys
from pathlib import Path

from controller.accounts import AccountStore

__all__ = ["run"]


def run(args: argparse.Namespace) -> int:
    """Handle `motcua users ...`."""
    store = AccountStore(Path(args.data_dir) / "accounts.db")
    try:
        if args.users_command == "list":
            for name, role, site, counter in store.list_accounts():
                print(f"{name}\t{role}\t{site}\t{'' if counter is None else counter}")
            return 0
        secret = args.secret or getpass.getpass(f"secret for {args.user}: ")
        try:
            if args.role in ("kiosk", "apikey"):
                store.add_key(secret, args.user, "kiosk" if args.role == "kiosk" else "ops", args.site)
            else:
                store.add_account(args.user, args.role, secret, args.site, args.counter)
        except ValueError as exc:
            print(f"motcua users: {exc}", file=sys.stderr)
            return 2
        print(f"saved {args.role} {args.user}")
        return 0
    finally:
        store.close()
