"""`motcua bridge --site-file F --bus ID --serial PORT [--baud 9600] --mqtt mqtt://HOST:PORT`."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal
import sys

from devices.errors import DeviceUnavailable
from firmware_bridge.bridge import Bridge, BridgeSettings
from firmware_bridge.mqtt_link import parse_mqtt_url
from firmware_bridge.mqtt_security import security_from_args
from firmware_bridge.site import BusConfig, load_bus

__all__ = ["run"]

log = logging.getLogger("firmware_bridge")


RETRY_LINE_S = 1.0


async def _serve_once(config: BusConfig, settings: BridgeSettings, stop: asyncio.Event, started: list[bool]) -> None:
    async with Bridge(config, settings) as bridge:
        started.append(True)
        log.info(
            "serving %d devices of bus %s (site %s) on %s",
            len(config.devices), config.bus, config.site, settings.serial_port,
        )
        serving = asyncio.create_task(bridge.serve())
        stopping = asyncio.create_task(stop.wait())
        done, _ = await asyncio.wait({serving, stopping}, return_when=asyncio.FIRST_COMPLETED)
        for task in (serving, stopping):
            task.cancel()
        if serving in done and not serving.cancelled():
            error = serving.exception()
            if error is not None:
                raise error


async def _serve(config: BusConfig, settings: BridgeSettings) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    logged = 0  # how many starts the last "lost" message was about: one message per loss
    started: list[bool] = []  # a port that never opened is a mistake to report, not to wait out
    while not stop.is_set():
        try:
            await _serve_once(config, settings, stop, started)
            return
        except DeviceUnavailable as exc:
            # the line was unplugged: the bridge has published its devices "offline";
            # it keeps trying the same path until a line is back there
            if not started:
                raise
            if logged != len(started):
                log.error("serial line lost: %s; devices marked offline, retrying every %.0f s", exc, RETRY_LINE_S)
                logged = len(started)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), RETRY_LINE_S)


def run(args: argparse.Namespace) -> int:
    """Serve the serial devices of one bus until SIGINT/SIGTERM; 2 on a bad site file."""
    logging.basicConfig(
        level=getattr(logging, str(getattr(args, "log_level", "info")).upper(), logging.INFO),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    try:
        config = load_bus(args.site_file, args.bus, args.site)
        parse_mqtt_url(args.mqtt)
        security = security_from_args(args)
    except ValueError as exc:  # SiteFileError, DeviceConfigError, bad url
        print(f"motcua bridge: {exc}", file=sys.stderr)
        return 2
    settings = BridgeSettings(
        mqtt_url=args.mqtt,
        serial_port=args.serial,
        baud=args.baud,
        # RS-485 direction control only on a real UART (the CLI has no flag for it yet)
        rs485=bool(getattr(args, "rs485", False)),
        mqtt_security=security,
    )
    try:
        asyncio.run(_serve(config, settings))
    except DeviceUnavailable as exc:
        print(f"motcua bridge: {exc}", file=sys.stderr)
        return 1
    return 0
