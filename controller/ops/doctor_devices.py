"""`motcua doctor`, devices: one line per device of each site, read from the running controller's /metrics.

The controller publishes each device's availability, when it last reported,
what an online printer says is wrong (motcua_device_status,
motcua_device_last_seen_timestamp_seconds, motcua_device_problem) and each
serial device's line counters (motcua_bus_*_total); the site file says where
the device is. A device over MQTT is alive while its broker connection is (the
broker's keepalive is its heartbeat, its last will says when it is gone); a
serial device is polled by its bridge all the time, so one unheard for
BUS_SILENT_S is not answering even while its bridge is up. Pure: text in, lines out.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Final

from prometheus_client.parser import text_string_to_metric_families

from controller.core.site import Site
from controller.devices.printing import PROBLEM_WORDS
from controller.ops.checks import FAIL, OK, WARN, Check
from devices.registry import DeviceSpec

__all__ = ["BUS_ERROR_SHARE", "BUS_SILENT_S", "device_checks"]

BUS_SILENT_S: Final = 120.0
# timeouts and bad CRCs over this share of a device's frames (once it has BUS_MIN_FRAMES) point at the wiring
BUS_ERROR_SHARE: Final = 0.05
BUS_MIN_FRAMES: Final = 20
# what a printer says that still lets it print: a warning, not a failure
PRINTER_WARNINGS: Final = frozenset({"paper_low"})
PRINTER_FIXES: Final = {
    "paper_out": ("lắp cuộn giấy mới", "load a new paper roll"),
    "paper_low": ("chuẩn bị sẵn cuộn giấy mới", "have a new paper roll ready"),
    "cover_open": ("đóng nắp máy in", "close the printer's cover"),
}
PRINTER_FIX_OTHER: Final = ("tắt rồi bật lại máy in, xem đèn báo lỗi",
                             "power the printer off and on, see its error light")


@dataclass
class _Seen:
    kind: str
    status: str = "unknown"
    last_seen: float | None = None
    problems: list[str] = field(default_factory=list)
    bus: dict[str, float] = field(default_factory=dict)


def _read(metrics: str) -> dict[tuple[str, str], _Seen]:
    seen: dict[tuple[str, str], _Seen] = {}
    for family in text_string_to_metric_families(metrics):
        for sample in family.samples:
            labels = sample.labels
            if "site" not in labels or "device" not in labels:
                continue
            entry = seen.setdefault((labels["site"], labels["device"]), _Seen(""))
            entry.kind = labels.get("kind", entry.kind)
            if sample.name == "motcua_device_status":
                entry.status = labels["status"]
            elif sample.name == "motcua_device_last_seen_timestamp_seconds":
                entry.last_seen = sample.value
            elif sample.name == "motcua_device_problem":
                entry.problems.append(labels["problem"])
            elif sample.name.startswith("motcua_bus_") and sample.name.endswith("_total"):
                entry.bus[sample.name.removeprefix("motcua_bus_").removesuffix("_total")] = sample.value
    return seen


def _where(spec: DeviceSpec | None, device: str, kind: str) -> tuple[str, str]:
    if kind == "bridge":
        bus = device.removeprefix("bridge-")
        return f"cầu nối bus {bus}", f"bus {bus}'s bridge"
    if spec is None:
        return device, device
    n = spec.counter
    vi, en = {
        "display": (f"màn hình quầy {n}", f"counter {n}'s display") if n is not None else ("màn hình sảnh",
                                                                                           "hall display"),
        "keypad": (f"bàn phím gọi số quầy {n}", f"counter {n}'s call keypad"),
        "rating": (f"bàn phím đánh giá quầy {n}", f"counter {n}'s rating keypad"),
        "printer": (f"máy in ki-ốt {spec.kiosk}", f"kiosk {spec.kiosk}'s printer"),
        "speaker": (f"loa khu {spec.zone}", f"zone {spec.zone}'s speaker") if spec.zone else ("loa", "speaker"),
    }.get(kind, (device, device))
    if spec.bus is not None:
        vi, en = f"{vi} (bus {spec.bus}, địa chỉ {spec.address})", f"{en} (bus {spec.bus}, address {spec.address})"
    return vi, en


def _ago(now: float, at: float | None) -> tuple[str, str]:
    if at is None:
        return "", ""
    s = max(0, round(now - at))
    amount = f"{s} s" if s < 120 else f"{s // 60} phút" if s < 7200 else f"{s // 3600} giờ"
    amount_en = f"{s} s" if s < 120 else f"{s // 60} min" if s < 7200 else f"{s // 3600} h"
    return f", nghe thấy lần cuối {amount} trước", f", last heard {amount_en} ago"


def _reach_fix(spec: DeviceSpec | None, kind: str, device: str) -> tuple[str, str]:
    """What to check when a device cannot be reached."""
    if kind == "bridge":
        bus = device.removeprefix("bridge-")
        return (f"`systemctl status motcua-bridge@{bus}`, kiểm tra cáp USB-RS485",
                f"`systemctl status motcua-bridge@{bus}`, check the USB-RS485 adapter")
    if spec is not None and spec.bus is not None:
        return (f"kiểm tra nguồn, dây bus {spec.bus} và địa chỉ {spec.address} đặt trên thiết bị",
                f"check its power, the bus {spec.bus} wiring and the address {spec.address} set on the device")
    if kind == "printer":
        return "bật máy in, kiểm tra cáp và mạng của nó", "switch the printer on, check its cable and network"
    return ("kiểm tra nguồn và mạng của thiết bị, và đăng nhập MQTT của nó (`motcua mqtt-config`)",
            "check the device's power and network, and its MQTT login (`motcua mqtt-config`)")


def _line(site: str, device: str, spec: DeviceSpec | None, seen: _Seen, now: float) -> Check:
    what = f"{site} {device}"
    where_vi, where_en = _where(spec, device, seen.kind)
    ago_vi, ago_en = _ago(now, seen.last_seen)
    if seen.status == "offline":
        return Check(FAIL, what, f"{where_vi}: mất kết nối{ago_vi}", f"{where_en}: offline{ago_en}",
                     *_reach_fix(spec, seen.kind, device))
    if seen.status != "online":
        fix_vi, fix_en = _reach_fix(spec, seen.kind, device)
        return Check(WARN, what, f"{where_vi}: chưa từng thấy", f"{where_en}: never heard from",
                     f"thiết bị đã lắp chưa? {fix_vi}", f"is it installed? {fix_en}")
    if seen.problems:
        words_vi = ", ".join(PROBLEM_WORDS.get(p, (p, p))[0] for p in seen.problems)
        words_en = ", ".join(PROBLEM_WORDS.get(p, (p, p))[1] for p in seen.problems)
        fixes = [PRINTER_FIXES.get(p, PRINTER_FIX_OTHER) for p in seen.problems]
        status = WARN if set(seen.problems) <= PRINTER_WARNINGS else FAIL
        return Check(status, what, f"{where_vi}: {words_vi}", f"{where_en}: {words_en}",
                     ", ".join(dict.fromkeys(f[0] for f in fixes)), ", ".join(dict.fromkeys(f[1] for f in fixes)))
    on_bus = spec is not None and spec.bus is not None
    if on_bus and seen.last_seen is not None and now - seen.last_seen > BUS_SILENT_S:
        return Check(WARN, what, f"{where_vi}: không trả lời trên bus{ago_vi}", f"{where_en}: not answering on its "
                     f"bus{ago_en}", *_reach_fix(spec, seen.kind, device))
    frames = seen.bus.get("frames", 0.0)
    errors = seen.bus.get("timeouts", 0.0) + seen.bus.get("bad_crc", 0.0)
    if frames >= BUS_MIN_FRAMES and errors / frames > BUS_ERROR_SHARE:
        counts = (f"{int(seen.bus.get('timeouts', 0))} timeouts, {int(seen.bus.get('bad_crc', 0))} bad CRC "
                  f"/ {int(frames)} frames")
        return Check(WARN, what, f"{where_vi}: lỗi đường truyền ({counts})", f"{where_en}: line errors ({counts})",
                     "kiểm tra dây bus: điện trở đầu cuối 120 Ω ở hai đầu, dây nối đất chung, tránh dây điện lực",
                     "check the bus wiring: 120 Ω termination at both ends, a common ground, away from mains cables")
    return Check(OK, what, f"{where_vi}: trực tuyến{ago_vi}", f"{where_en}: online{ago_en}")


def device_checks(sites: Sequence[Site], metrics: str, now: float) -> list[Check]:
    """One line per device the controller reports, site by site (sites it does not serve are left out)."""
    seen = _read(metrics)
    checks = []
    for site in sites:
        specs = {s.id: s for s in site.devices if isinstance(s, DeviceSpec)}
        mine = [(device, info) for (where, device), info in seen.items() if where == site.id and info.kind]
        order = list(specs)
        for device, info in sorted(mine, key=lambda d: (order.index(d[0]) if d[0] in specs else len(order), d[0])):
            checks.append(_line(site.id, device, specs.get(device), info, now))
    return checks
