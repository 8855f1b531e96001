"""What a bridge needs from a site file: the site id and the devices of one bus."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path

from devices.registry import DeviceSpec, parse_devices
from firmware_bridge.bus import Dialect

__all__ = ["BusConfig", "SiteFileError", "load_bus"]


class SiteFileError(ValueError):
    """The site file cannot drive a bridge: file, field and reason."""


@dataclass(frozen=True, slots=True)
class BusConfig:
    """The serial or Modbus devices of one bus of one site."""

    site: str
    bus: str
    dialect: Dialect
    devices: tuple[DeviceSpec, ...]


def _counters(raw: dict[str, object], source: str) -> list[int]:
    groups = raw.get("counter", [])
    if not isinstance(groups, list):
        raise SiteFileError(f"{source}: counter: must be an array of tables ([[counter]])")
    counters: list[int] = []
    for index, group in enumerate(groups):
        ids = group.get("ids") if isinstance(group, dict) else None
        if not isinstance(ids, list) or not all(
            isinstance(i, int) and not isinstance(i, bool) for i in ids
        ):
            raise SiteFileError(f"{source}: counter[{index}].ids: must be a list of integers")
        counters += ids
    return counters


def load_bus(path: str | Path, bus: str, site: str | None = None) -> BusConfig:
    """Read a single-site file and select the serial/modbus devices on bus."""
    source = str(path)
    try:
        with open(path, "rb") as handle:
            raw = tomllib.load(handle)
    except OSError as exc:
        raise SiteFileError(f"{source}: cannot read: {exc.strerror}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise SiteFileError(f"{source}: not valid TOML: {exc}") from exc
    if "province" in raw:
        raise SiteFileError(
            f"{source}: a province file names several sites; "
            "give the bridge the site file of the centre whose bus it serves"
        )
    table = raw.get("site")
    site_id = table.get("id") if isinstance(table, dict) else None
    if not isinstance(site_id, str) or not site_id:
        raise SiteFileError(f"{source}: site.id: missing; a site file needs [site] id = \"...\"")
    if site is not None and site != site_id:
        raise SiteFileError(f"{source}: site.id: file is for site {site_id!r}, not {site!r}")
    devices = parse_devices(raw.get("device"), _counters(raw, source), source)
    on_bus = tuple(d for d in devices if d.on_a_bus and d.bus == bus)
    if not on_bus:
        buses = sorted({d.bus for d in devices if d.bus is not None})
        known = f"buses in the file: {', '.join(buses)}" if buses else "the file lists none"
        raise SiteFileError(f"{source}: device: no serial or modbus device on bus {bus!r} ({known})")
    transports = {d.transport for d in on_bus}
    if len(transports) > 1:
        # one line speaks one protocol: Modbus slaves would misread our frames and vice versa
        raise SiteFileError(
            f"{source}: device: bus {bus!r} mixes serial and modbus devices; "
            "give each protocol its own bus"
        )
    dialect: Dialect = "modbus" if transports == {"modbus"} else "framed"
    return BusConfig(site=site_id, bus=bus, dialect=dialect, devices=on_bus)
