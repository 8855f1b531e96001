"""`motcua serve`: validate settings and sites, then run uvicorn."""

from __future__ import annotations

import argparse
import logging
import sys

import uvicorn

from controller.app import create_app, settings_from_args
from controller.config_file import ConfigError
from controller.core.errors import SiteError
from controller.protocols import guarded_protocols
from controller.settings import SettingsError

__all__ = ["run"]


def run(args: argparse.Namespace) -> int:
    """Start the controller; exit 2 with a clear message when it must not start."""
    # force: a library (python-escpos) calls basicConfig() at import, which would keep INFO quiet
    logging.basicConfig(
        level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s", force=True
    )
    if not args.site:
        print("motcua serve: thiếu tệp địa điểm: cho --site FILE.toml hoặc khóa site trong --config / "
              "no site file: give --site FILE.toml or the key site in --config", file=sys.stderr)
        return 2
    try:
        settings = settings_from_args(args)
        app = create_app(settings)
    except SiteError as exc:
        print(f"motcua serve: tệp địa điểm sai / bad site file: {exc.source}: field {exc.field}: {exc.reason}",
              file=sys.stderr)
        return 2
    except SettingsError as exc:
        # with --config the refusal names the file and its key; a flag given wins over the file, so say both
        refusal = str(ConfigError(args.config, exc.key, exc.reason_vi, exc.reason_en)) if args.config else str(exc)
        print(f"motcua serve: {refusal}", file=sys.stderr)
        return 2
    if settings.demo:
        print(f"motcua demo on http://{settings.host}:{settings.port}  (accounts: see README; kiosk key kiosk-demo; "
              f"ticket QR codes point at {settings.base_url})", flush=True)
    # The live stream's cost is a send per client per event (docs/BENCHMARKS.md, live monitor): uvicorn's
    # sans-I/O websockets protocol writes a frame with fewer layers than the legacy one (and is the one
    # uvicorn keeps), and no permessage-deflate: live messages are a few hundred bytes, and compressing
    # each one for each client was half the server's CPU at 1,000 monitor clients. Both protocols carry
    # the limits on slow and silent clients (controller/protocols.py); uvicorn and the connection cap
    # trust the same proxies.
    http, ws = guarded_protocols(app.state.connections)
    uvicorn.run(app, host=settings.host, port=settings.port, log_level=args.log_level, http=http, ws=ws,
                ws_per_message_deflate=False, forwarded_allow_ips=settings.trusted_proxies)
    return 0
