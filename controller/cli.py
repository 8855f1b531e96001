"""The `motcua` console script: one parser, each subcommand handled by its own package.

Subcommand handlers are imported only when used, so `motcua voice words 21` does not
pay for FastAPI and `motcua serve` does not import pygame.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Callable, Sequence

from firmware_bridge.mqtt_security import add_security_arguments

__all__ = ["build_parser", "main"]

# subcommand -> "module:function" taking the parsed Namespace and returning an exit code
HANDLERS: dict[str, str] = {
    "serve": "controller.serve:run",
    "users": "controller.accounts_cli:run",
    "sim": "sim.cli:run",
    "plan": "sim.plan_cli:run",
    "load": "sim.load:run",
    "bridge": "firmware_bridge.cli:run",
    "voice": "devices.voice.cli:run",
    "printer": "devices.printer.cli:run",
    "hall": "counter_display.hall_native:run",
    "mqtt-config": "controller.mqtt_config:run",
    "config": "controller.config_cli:run",
    "backup": "controller.ops.cli:run_backup",
    "restore": "controller.ops.cli:run_restore",
    "archive": "controller.ops.cli:run_archive",
    "doctor": "controller.ops.doctor:run",
}


def build_parser() -> argparse.ArgumentParser:
    """Build the full argument parser of CONTRACT.md section 1."""
    parser = argparse.ArgumentParser(prog="motcua", description="motcua floor controller")
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="run the floor controller")
    serve.add_argument("--config", default=None,
                       help="configuration file (/etc/motcua/motcua.toml): a key per flag, flags given here win")
    serve.add_argument("--site", default=None, help="site or province TOML file (required, here or in --config)")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--data-dir", default="data")
    serve.add_argument("--store", default="sqlite", help="sqlite | redis://HOST:PORT/DB")
    serve.add_argument("--mqtt", default="none", help="embedded | none | mqtt://HOST:PORT | mqtts://HOST:PORT")
    serve.add_argument("--devices", default="none", choices=["sim", "real", "none"])
    add_security_arguments(serve)
    serve.add_argument(
        "--public-url", default="",
        help="the address citizens' phones reach this controller at, http(s)://HOST[:PORT]: every ticket QR "
             "(on screens and printed) and printed link uses it (default http://HOST:PORT of --host/--port)",
    )
    serve.add_argument("--demo", action="store_true", help="seed demo accounts (README)")
    serve.add_argument(
        "--any-hour",
        action="store_true",
        help="issue tickets outside the site's opening hours (implied by --demo)",
    )
    serve.add_argument("--test-clock", action="store_true", help=argparse.SUPPRESS)
    serve.add_argument(
        "--kiosk-rate", type=float, default=30.0, help="tickets per minute one kiosk may issue (burst: a third of it)"
    )
    serve.add_argument(
        "--sms", default="none",
        help="texts to citizens who leave a phone: none | log (masked, the demo) | webhook:URL of an SMS gateway "
             "(token in MOTCUA_SMS_TOKEN) | zns[:URL], Zalo's notification service (token in MOTCUA_ZNS_TOKEN)",
    )
    serve.add_argument(
        "--sms-fallback", default="none",
        help="where a text --sms could not deliver goes (a phone without Zalo, ZNS down): none | log | webhook:URL",
    )
    serve.add_argument(
        "--zns-templates", default="",
        help="with --sms zns: the id Zalo gave each registered template, e.g. code=ID,called=ID,ahead=ID,come=ID,"
             "come_ahead=ID,answer=ID (README lists the templates)",
    )
    serve.add_argument(
        "--booking-rate", type=float, default=1.0,
        help="appointments one client address may book per minute (burst: 3, or a third of it)",
    )
    serve.add_argument("--log-level", default="info")
    serve.add_argument("--head-timeout", type=float, default=10.0,
                       help="seconds a client has to send a whole request head (also a WebSocket handshake)")
    serve.add_argument("--body-timeout", type=float, default=30.0,
                       help="seconds a client has to send a request body once its head is in")
    serve.add_argument("--max-connections-per-client", type=int, default=64,
                       help="open connections one client address may hold (0: no cap); proxies trusted for "
                            "X-Forwarded-For (FORWARDED_ALLOW_IPS, default 127.0.0.1) are not capped")
    serve.add_argument(
        "--advertise-url", default="", help="with --store redis: the URL other processes forward to (default http://HOST:PORT)"
    )
    serve.add_argument("--lease-ttl", type=float, default=5.0, help="with --store redis: site lease TTL in seconds")
    serve.add_argument(
        "--follow-only", action="store_true",
        help="with --store redis: take no site; serve live streams, monitors and feeds, forward commands",
    )
    serve.add_argument(
        "--accounts-db", default=None,
        help="accounts database (default DATA_DIR/accounts.db); processes sharing Redis share it",
    )

    users = sub.add_parser("users", help="manage accounts in a data dir")
    users.add_argument("--data-dir", default="data")
    users_sub = users.add_subparsers(dest="users_command", required=True)
    add = users_sub.add_parser("add", help="add or replace an account")
    add.add_argument("--user", required=True)
    add.add_argument(
        "--role", required=True, choices=["staff", "manager", "admin", "ops", "kiosk", "apikey"],
        help="kiosk and apikey (operations feed) are machine keys: the secret is the key",
    )
    add.add_argument(
        "--site", default=None,
        help="site id, or * for every site; staff and kiosks need it (they belong to one site), "
             "manager, admin, ops and apikey default to every site",
    )
    add.add_argument("--counter", type=int, default=None, help="staff: the counter number")
    add.add_argument("--secret", default=None, help="password/PIN (asked when omitted)")
    listing = users_sub.add_parser("list", help="list accounts")
    # `users add --data-dir DIR` as README and the refusals word it, and `users --data-dir DIR add` alike
    for command in (add, listing):
        command.add_argument("--data-dir", default=argparse.SUPPRESS, help="the data dir (default data)")

    sim = sub.add_parser("sim", help="fast-forward simulation on a virtual clock")
    sim.add_argument("--scenario", required=True)
    sim.add_argument("--policy", default="deadline")
    sim.add_argument("--days", type=int, default=1)
    sim.add_argument("--seed", type=int, default=None)
    sim.add_argument("--json", action="store_true")
    sim.add_argument("--out", default=None)
    sim.add_argument("--no-standby", action="store_true", help="never open standby counters")
    sim.add_argument("--jobs", type=int, default=os.cpu_count() or 1,
                     help="worker processes for multi-site scenarios (default: one per core); "
                          "the result does not depend on it")

    plan = sub.add_parser("plan", help="propose layout changes (cross-training, breaks, standby shifts) that meet "
                                       "the wait target")
    plan.add_argument("--scenario", required=True, help="the site file (with or without a [scenario] table)")
    plan.add_argument("--out", required=True, help="where to write the site file with the proposed changes")
    plan.add_argument("--weekday", type=int, default=None, help="0 = Monday (default: the scenario's)")
    plan.add_argument("--target", type=float, default=0.95, help="share of transactions within the wait target")
    plan.add_argument("--max-visits-over", type=float, default=0.02,
                      help="the search also goes on while more visits than this share wait over the visit target")
    plan.add_argument("--seeds", type=int, default=4, help="seeds the search simulates each candidate on")
    plan.add_argument("--held-out", type=int, default=8, help="other seeds, on which the figures are measured")
    plan.add_argument("--seed", type=int, default=None, help="first seed (default: the scenario's)")
    plan.add_argument("--max-added-per-counter", type=int, default=1, help="agencies one counter may be trained for")
    plan.add_argument("--max-added", type=int, default=20, help="agencies added to counters in all")
    plan.add_argument("--report", default=None, help="folder for report.md, report.html and plots")
    plan.add_argument("--json", action="store_true")
    plan.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="worker processes (default: one per "
                                                                            "core); the result does not depend on it")

    load = sub.add_parser("load", help="drive a running controller with emulated clients")
    load.add_argument("--url", required=True)
    load.add_argument("--mqtt", default=None, help="mqtt://HOST:PORT: also serve counters with MQTT keypads")
    load.add_argument("--keypad-share", type=float, default=0.5,
                      help="with --mqtt: share of the staffed counters served by keypad (0..1)")
    load.add_argument("--scenario", required=True)
    load.add_argument("--speed", type=float, default=20.0)
    load.add_argument("--duration", type=float, default=60.0)
    load.add_argument("--kiosk-key", default="kiosk-demo",
                      help="the kiosk key of the file's first site; KEY@SITE at the others (the demo's keys)")
    load.add_argument("--max-tickets", type=int, default=100_000, help="stop issuing after this many tickets")
    load.add_argument("--sites", type=int, default=None, help="drive only the first N sites of the file")
    load.add_argument("--start", default=None, help="simulated time of day to start at, HH:MM (default: first arrival)")
    load.add_argument("--no-live", action="store_true", help="no WebSocket subscribers")
    load.add_argument("--access", default=None,
                      help="TOML file of kiosk keys, staff accounts and the live account (a real server); "
                           "default: the demo's")
    load.add_argument("--kiosks", type=int, default=None, help="demo: use only the first N kiosks of each site")
    load.add_argument("--phones", type=float, default=0.0,
                      help="share of citizens who follow their ticket on the ticket page's live stream (0..1)")
    load.add_argument("--soak", action="store_true",
                      help="drive whole simulated days (--days), reported per simulated hour with the server's "
                           "memory, descriptors and event log; --duration is then the days' length")
    load.add_argument("--days", type=int, default=1, help="with --soak: simulated days")
    load.add_argument("--hours", type=float, default=None,
                      help="with --soak: stop after this many simulated hours (default: the whole days)")
    load.add_argument("--server-pid", default=None,
                      help="with --soak: the server process(es) to watch, PID[,PID] (default: found by port)")
    load.add_argument("--roll-days", action="store_true",
                      help="with --soak: each simulated night, move the server's clock to its next day (a server "
                           "started with --demo --test-clock), so every simulated day is a day of its own there")
    load.add_argument("--printer-out", default=None, metavar="HH:MM-HH:MM",
                      help="with --mqtt: play the MQTT printers' gateways, out of paper in this window of day 1")

    bridge = sub.add_parser("bridge", help="serve the serial devices of one bus over MQTT")
    bridge.add_argument("--site-file", required=True)
    bridge.add_argument("--bus", required=True)
    bridge.add_argument("--serial", required=True)
    bridge.add_argument("--baud", type=int, default=9600)
    bridge.add_argument("--mqtt", required=True, help="mqtt://HOST:PORT or mqtts://HOST:PORT")
    bridge.add_argument("--site", default=None, help="site id when the file names several")
    bridge.add_argument("--rs485", action="store_true", help="enable RS-485 mode (real UARTs only, not ptys)")
    add_security_arguments(bridge)

    mqtt_config = sub.add_parser("mqtt-config", help="broker users, ACLs and device secrets from a site file")
    mqtt_config.add_argument("--site", required=True, help="site or province TOML file")
    mqtt_config.add_argument("--out", required=True, help="directory for passwd, acl, mosquitto.conf, secrets")
    mqtt_config.add_argument("--listen", default="0.0.0.0:1883", help="plain listener HOST:PORT, or none")
    mqtt_config.add_argument("--tls-listen", default=None, help="TLS listener HOST:PORT (needs the --tls-* files)")
    mqtt_config.add_argument("--tls-ca", default=None, help="CA certificate file for the TLS listener")
    mqtt_config.add_argument("--tls-cert", default=None, help="broker certificate file")
    mqtt_config.add_argument("--tls-key", default=None, help="broker private key file")
    mqtt_config.add_argument("--rotate", action="store_true", help="new passwords for every user")

    voice = sub.add_parser("voice", help="Vietnamese voice announcements")
    voice_sub = voice.add_subparsers(dest="voice_command", required=True)
    build = voice_sub.add_parser("build", help="render the clip library")
    build.add_argument("--renderer", default=None, choices=["gtts", "espeak", "clips"])
    build.add_argument("--cache-dir", default=None)
    words = voice_sub.add_parser("words", help="print the Vietnamese reading of N")
    words.add_argument("number", type=int)
    words.add_argument("--southern", action="store_true", help="read 0 tens as 'lẻ'")
    say = voice_sub.add_parser("say", help="play, or write a WAV of, one announcement")
    say.add_argument("text")
    say.add_argument("--out", default=None)
    say.add_argument("--cache-dir", default=None)

    printer = sub.add_parser("printer", help="ticket printers")
    printer_sub = printer.add_subparsers(dest="printer_command", required=True)
    ptest = printer_sub.add_parser("test", help="print a sample ticket")
    ptest.add_argument("--printer", required=True, help="tcp://HOST:9100|serial:PORT|file:PATH|dummy")
    ptest.add_argument("--width-mm", type=int, default=80, choices=[58, 80])
    ptest.add_argument("--text-only", action="store_true")

    config = sub.add_parser("config", help="the serve configuration file")
    config_sub = config.add_subparsers(dest="config_command", required=True)
    check = config_sub.add_parser("check", help="validate a configuration file as `serve --config` would, and exit")
    check.add_argument("--config", required=True, help="the configuration file (/etc/motcua/motcua.toml)")

    backup = sub.add_parser("backup", help="consistent copy of the data dir's store while the controller runs")
    backup.add_argument("--data-dir", default=None, help="the data dir (default: the --config file's, else data)")
    backup.add_argument("--config", default=None, help="take the data dir from this serve configuration file")
    where = backup.add_mutually_exclusive_group(required=True)
    where.add_argument("--out", default=None, help="the backup folder to make (missing or empty)")
    where.add_argument("--into", default=None, help="make ROOT/motcua-YYYYMMDDTHHMMSSZ here (a schedule's backups)")
    backup.add_argument("--keep", type=int, default=14, help="with --into: keep the newest N backups (default 14)")

    restore = sub.add_parser("restore", help="restore a backup into an empty data dir")
    restore.add_argument("--from", dest="source", required=True, help="the backup folder")
    restore.add_argument("--data-dir", required=True, help="an empty (or missing) data dir")

    archive = sub.add_parser("archive", help="move old days of the SQLite event log into monthly compressed files")
    archive.add_argument("--data-dir", default=None, help="the data dir (default: the --config file's, else data)")
    archive.add_argument("--config", default=None, help="take the data dir from this serve configuration file")
    archive.add_argument("--keep-days", type=int, default=62, help="days kept in the live log (default 62)")
    archive.add_argument("--before", default=None, help="archive the days before this date YYYY-MM-DD instead")

    doctor = sub.add_parser("doctor", help="on-site diagnosis: OK/WARN/FAIL per check, exit 0/1/2")
    doctor.add_argument("--config", default="/etc/motcua/motcua.toml", help="the serve configuration file")

    hall = sub.add_parser("hall", help="native (pygame) hall display")
    hall.add_argument("--url", required=True)
    hall.add_argument("--site", required=True)
    hall.add_argument("--windowed", action="store_true")
    return parser


def _handler(command: str) -> Callable[[argparse.Namespace], int]:
    module_name, _, func_name = HANDLERS[command].partition(":")
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name != module_name:
            raise

        def unavailable(_: argparse.Namespace) -> int:
            print(f"motcua {command}: not available in this build yet", file=sys.stderr)
            return 2

        return unavailable
    handler: Callable[[argparse.Namespace], int] = getattr(module, func_name)
    return handler


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the console script."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command == "serve" and args.config:
        from controller.config_file import ConfigError, with_config

        try:
            args = with_config(parser, argv, args.config)
        except ConfigError as exc:
            print(f"motcua serve: {exc}", file=sys.stderr)
            return 2
    return _handler(args.command)(args)


if __name__ == "__main__":
    sys.exit(main())
