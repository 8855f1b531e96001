"""Reading site, province and scenario files from disk (the edge around core/site.py).

A site file describes one centre. A province file names a centre file and a
commune template, and expands into the centre plus N communes. Either may
carry a [scenario] table for the simulator. Relative paths are resolved
against the file's folder.
"""

from __future__ import annotations

import datetime as dt
import tomllib
import zoneinfo
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

from controller.core.errors import SiteError
from controller.core.site import Site, parse_site
from devices.registry import DeviceConfigError, DeviceSpec, parse_devices
from devices.voice.template import AnnouncementTemplate

__all__ = ["load_document", "load_sites", "read_toml", "site_from_dict"]


def read_toml(path: Path) -> dict[str, Any]:
    """Read a TOML file; SiteError naming the file when it cannot be read or parsed."""
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except FileNotFoundError:
        raise SiteError(str(path), "-", "file not found") from None
    except tomllib.TOMLDecodeError as exc:
        raise SiteError(str(path), "-", f"not valid TOML: {exc}") from None
    except OSError as exc:
        raise SiteError(str(path), "-", f"cannot be read: {exc.strerror}") from None


def _utc_offset(timezone: str, source: str) -> int:
    try:
        zone = zoneinfo.ZoneInfo(timezone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise SiteError(source, "site.timezone", f"unknown time zone {timezone!r}") from None
    offset = dt.datetime.now(zone).utcoffset()
    return int(offset.total_seconds()) if offset is not None else 0


def site_from_dict(data: Mapping[str, Any], source: str) -> Site:
    """Validate one site dict (with its [[device]] list) into a Site."""
    site_t = data.get("site")
    timezone = site_t.get("timezone", "Asia/Ho_Chi_Minh") if isinstance(site_t, Mapping) else "Asia/Ho_Chi_Minh"
    site = parse_site(data, source, utc_offset_s=_utc_offset(str(timezone), source))
    _check_voice(data, source)
    return replace(site, devices=_devices(data, site, source))


def _check_voice(data: Mapping[str, Any], source: str) -> None:
    """The [voice] table (announcement wording), refused at load rather than at the first call."""
    table = data.get("voice")
    if table is None:
        return
    if not isinstance(table, Mapping):
        raise SiteError(source, "voice", "must be a table")
    try:
        AnnouncementTemplate.from_mapping(table)
    except ValueError as exc:
        field, _, reason = str(exc).partition(": ")
        raise SiteError(source, field, reason or str(exc)) from None


def _devices(data: Mapping[str, Any], site: Site, source: str) -> tuple[DeviceSpec, ...]:
    try:
        return parse_devices(data.get("device"), tuple(site.counters), source)
    except DeviceConfigError as exc:
        raise SiteError(source, exc.field, exc.reason) from None


def load_document(path: str | Path) -> tuple[list[Site], dict[str, Any]]:
    """Load a site or province file: its sites and its [scenario] table (empty when absent)."""
    path = Path(path)
    data = read_toml(path)
    scenario = data.get("scenario", {})
    if not isinstance(scenario, Mapping):
        raise SiteError(str(path), "scenario", "must be a table")
    scenario = dict(scenario)
    if "site" in scenario and "site" not in data and "province" not in data:
        # A scenario file may point at a site file instead of copying it.
        target = path.parent / str(scenario.pop("site"))
        sites, _ = load_document(target)
        return sites, scenario
    if "province" in data:
        return _province(path, data), scenario
    return [site_from_dict(data, str(path))], scenario


def load_sites(path: str | Path) -> list[Site]:
    """The sites a file describes (one for a site file, many for a province file)."""
    return load_document(path)[0]


def _province(path: Path, data: Mapping[str, Any]) -> list[Site]:
    table = data["province"]
    source = str(path)
    if not isinstance(table, Mapping):
        raise SiteError(source, "province", "must be a table")
    centre_name = table.get("centre")
    template_name = table.get("commune_template")
    communes = table.get("communes", 0)
    scales = table.get("commune_scale", [1.0])
    if not isinstance(communes, int) or isinstance(communes, bool) or not 0 <= communes <= 9999:
        raise SiteError(source, "province.communes", "must be an integer 0..9999")
    if not isinstance(scales, list) or not scales or not all(
        isinstance(s, int | float) and not isinstance(s, bool) and s > 0 for s in scales
    ):
        raise SiteError(source, "province.commune_scale", "must be a non-empty array of numbers > 0")
    sites: list[Site] = []
    if centre_name is not None:
        if not isinstance(centre_name, str):
            raise SiteError(source, "province.centre", "must be a file name")
        sites.append(site_from_dict(read_toml(path.parent / centre_name), str(path.parent / centre_name)))
    if communes:
        if not isinstance(template_name, str):
            raise SiteError(source, "province.commune_template", "must be a file name")
        template_path = path.parent / template_name
        template = read_toml(template_path)
        for i in range(1, communes + 1):
            sites.append(_commune(template, str(template_path), i, float(scales[(i - 1) % len(scales)])))
    ids = [s.id for s in sites]
    if len(set(ids)) != len(ids):
        raise SiteError(source, "province", "two sites share an id")
    return sites


def commune_dict(template: Mapping[str, Any], index: int, scale: float) -> dict[str, Any]:
    """The site dict of commune number `index` made from the template, volume scaled."""
    site_t = dict(template["site"])
    site_t["id"] = f"{site_t['id']}-{index:03d}"
    site_t["name"] = f"{site_t['name']} số {index}"
    if isinstance(site_t.get("name_en"), str) and site_t["name_en"].strip():
        site_t["name_en"] = f"{site_t['name_en']} no. {index}"
    site_t["expected_daily_visits"] = round(float(site_t.get("expected_daily_visits", 100)) * scale, 1)
    return {**template, "site": site_t}


def _commune(template: Mapping[str, Any], source: str, index: int, scale: float) -> Site:
    if not isinstance(template.get("site"), Mapping):
        raise SiteError(source, "site", "missing table")
    return site_from_dict(commune_dict(template, index, scale), f"{source} (commune {index})")
