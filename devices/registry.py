"""The devices of a site, from its `[[device]]` tables (CONTRACT.md section 4).

A site without `[[device]]` entries gets one MQTT display, keypad and rating
keypad per counter (`display-N`, `keypad-N`, `rating-N`) and one printer
`printer-k1`. A bad entry is refused with its field ("device[3].address") and
the reason; nothing is half-configured.

`transport` says how a device is reached:

    mqtt       it speaks MQTT itself (the default), or a gateway does for it
    serial     displays and keypads: the RS-485 bus of SERIAL.md (`bus`, `address`),
               served by `motcua bridge`; a printer: its own serial line on the
               controller host (`path`, `baud`), ESC/POS as python-escpos' Serial
    modbus     LED displays on a Modbus RTU bus (`bus`, `address`)
    network    a printer on the LAN, raw ESC/POS on `host`:`port` (9100), as escpos' Network
    usb        a printer plugged into the controller host, through the kernel's
               device file (`path`, e.g. /dev/usb/lp0), as escpos' File
    local      a speaker: the controller host's own sound output
    tcp        (older files) a printer at `url` = "tcp://HOST:PORT"

Older files that said "driven from this host" with `url` (a printer's
`url = "tcp://..."|"serial:..."|"file:..."`, a speaker's `url = "local:"`) are
still read the same way; new files use the fields above.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Final, Literal, get_args

__all__ = [
    "BAUD_RATES",
    "DEFAULT_BAUD",
    "DEFAULT_PRINTER_PORT",
    "LOCAL_SPEAKER_URL",
    "DeviceConfigError",
    "DeviceKind",
    "DeviceSpec",
    "Transport",
    "default_devices",
    "parse_devices",
]

DeviceKind = Literal["display", "keypad", "rating", "printer", "speaker"]
Transport = Literal["serial", "modbus", "mqtt", "tcp", "network", "usb", "local"]
KINDS: Final[tuple[DeviceKind, ...]] = get_args(DeviceKind)
TRANSPORTS: Final[tuple[Transport, ...]] = get_args(Transport)
COUNTER_KINDS: Final = frozenset({"display", "keypad", "rating"})
BUS_TRANSPORTS: Final = frozenset({"serial", "modbus"})
# which kinds each bus protocol can drive
BUS_KINDS: Final[dict[str, frozenset[str]]] = {
    "serial": frozenset({"display", "keypad", "rating"}),
    "modbus": frozenset({"display"}),
}
FIELDS: Final = frozenset(
    {"id", "kind", "counter", "transport", "bus", "address", "kiosk", "zone", "url", "model",
     "host", "port", "path", "baud"}
)
DEFAULT_KIOSK: Final = "k1"
DEFAULT_PRINTER_PORT: Final = 9100
DEFAULT_BAUD: Final = 9600
BAUD_RATES: Final = (1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200)
# a speaker wired to the controller host's own sound output, as older files said it
LOCAL_SPEAKER_URL: Final = "local:"
_HOST = re.compile(r"[A-Za-z0-9.\-:\[\]]{1,253}")

_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.\-]{0,63}")


class DeviceConfigError(ValueError):
    """A [[device]] entry is invalid: which field, and why."""

    def __init__(self, field: str, reason: str, source: str | None = None) -> None:
        self.field = field
        self.reason = reason
        self.source = source
        where = f"{source}: " if source else ""
        super().__init__(f"{where}{field}: {reason}")


@dataclass(frozen=True, slots=True)
class DeviceSpec:
    """One device of a site, checked when made."""

    id: str
    kind: DeviceKind
    transport: Transport = "mqtt"
    counter: int | None = None
    bus: str | None = None
    address: int | None = None
    kiosk: str | None = None
    zone: str | None = None
    url: str | None = None
    model: str | None = None
    host: str | None = None
    port: int | None = None
    path: str | None = None
    baud: int | None = None

    def __post_init__(self) -> None:
        for name, reason in _problems(self):
            raise DeviceConfigError(name, reason)

    @property
    def on_a_bus(self) -> bool:
        """Served by the bridge of a serial or Modbus bus (not a printer's own serial line)."""
        return self.transport in BUS_TRANSPORTS and self.kind != "printer"

    @property
    def hall_display(self) -> bool:
        """An MQTT display of no counter: it shows the hall's last calls (hall/state)."""
        return self.kind == "display" and self.counter is None and self.transport == "mqtt"

    @property
    def local_speaker(self) -> bool:
        """A speaker the controller host plays itself."""
        return self.kind == "speaker" and (self.transport == "local" or self.url == LOCAL_SPEAKER_URL)


def _problems(spec: DeviceSpec) -> list[tuple[str, str]]:
    """(field, reason) pairs wrong with spec, first problem first."""
    out: list[tuple[str, str]] = []
    if not isinstance(spec.id, str) or not _ID.fullmatch(spec.id):
        out.append(("id", f"{spec.id!r} must be 1-64 letters, digits, '_', '.' or '-'"))
    if spec.kind not in KINDS:
        out.append(("kind", f"{spec.kind!r} is not one of {', '.join(KINDS)}"))
    if spec.transport not in TRANSPORTS:
        out.append(("transport", f"{spec.transport!r} is not one of {', '.join(TRANSPORTS)}"))
    if spec.kind in COUNTER_KINDS and spec.counter is None and not spec.hall_display:
        hint = " (only an MQTT display goes without: a hall display)" if spec.kind == "display" else ""
        out.append(("counter", f"a {spec.kind} needs the counter it serves{hint}"))
    if spec.counter is not None and (
        isinstance(spec.counter, bool) or not isinstance(spec.counter, int) or spec.counter < 1
    ):
        out.append(("counter", f"{spec.counter!r} is not a counter number"))
    if spec.transport in TRANSPORTS:
        out += _bus_problems(spec) + _direct_problems(spec)
    if spec.transport == "tcp" and not spec.url:
        out.append(("url", "tcp devices need a url"))
    for name in ("kiosk", "zone", "url", "model", "host", "path"):
        value = getattr(spec, name)
        if value is not None and (not isinstance(value, str) or not value):
            out.append((name, f"{value!r} must be a non-empty string"))
    return out


def _bus_problems(spec: DeviceSpec) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    if spec.on_a_bus:
        if spec.kind not in BUS_KINDS[spec.transport]:
            out.append(("transport", f"a {spec.kind} cannot be driven over {spec.transport}"))
        if not isinstance(spec.bus, str) or not _ID.fullmatch(spec.bus):
            out.append(("bus", f"{spec.transport} devices need a bus id, got {spec.bus!r}"))
        if (
            isinstance(spec.address, bool)
            or not isinstance(spec.address, int)
            or not 1 <= spec.address <= 254
        ):
            out.append(("address", f"{spec.address!r} must be a bus address 1..254"))
    else:
        for name in ("bus", "address"):
            if getattr(spec, name) is not None:
                where = "a printer's own serial line" if spec.kind == "printer" else spec.transport
                out.append((name, f"only serial and modbus devices sit on a bus, not {where}"))
    return out


# which of host, port, path and baud each direct transport takes (the others are refused)
_DIRECT_FIELDS: Final[dict[str, frozenset[str]]] = {
    "network": frozenset({"host", "port"}),
    "serial": frozenset({"path", "baud"}),  # a printer's own line
    "usb": frozenset({"path"}),
    "local": frozenset(),
}
_DIRECT_KINDS: Final[dict[str, str]] = {"network": "printer", "usb": "printer", "local": "speaker"}


def _direct_problems(spec: DeviceSpec) -> list[tuple[str, str]]:
    """Devices driven from the controller host: the fields their transport needs, and only those."""
    out: list[tuple[str, str]] = []
    direct = spec.transport if spec.transport in _DIRECT_KINDS or spec.kind == "printer" else None
    wanted = _DIRECT_KINDS.get(spec.transport)
    if wanted is not None and spec.kind != wanted:
        out.append(("transport", f"{spec.transport} is for a {wanted}, not a {spec.kind}"))
    takes = _DIRECT_FIELDS.get(direct or "", frozenset())
    for name in ("host", "port", "path", "baud"):
        if getattr(spec, name) is not None and name not in takes:
            users = [t for t, fields in _DIRECT_FIELDS.items() if name in fields]
            kinds = " or ".join(f'transport = "{t}"' for t in users)
            out.append((name, f"is for a printer with {kinds}, not a {spec.kind} with transport = {spec.transport!r}"))
    if direct in _DIRECT_FIELDS and spec.url is not None:
        out.append(("url", f"with transport = {spec.transport!r} say where it is with "
                           f"{', '.join(sorted(takes)) or 'nothing more'}, not url"))
    if direct == "network":
        if spec.host is None:
            out.append(("host", "a network printer needs its host (name or IP address)"))
        elif isinstance(spec.host, str) and not _HOST.fullmatch(spec.host):
            out.append(("host", f"{spec.host!r} must be a host name or IP address (no scheme, no spaces)"))
        if spec.port is not None and (
            isinstance(spec.port, bool) or not isinstance(spec.port, int) or not 0 < spec.port < 65536
        ):
            out.append(("port", f"{spec.port!r} must be a TCP port 1..65535"))
    if direct in ("serial", "usb"):
        if spec.path is None:
            example = "/dev/ttyUSB0" if direct == "serial" else "/dev/usb/lp0"
            out.append(("path", f"a {direct} printer needs the path of its device file, e.g. {example}"))
        elif isinstance(spec.path, str) and not spec.path.startswith("/"):
            out.append(("path", f"{spec.path!r} must be an absolute path"))
    if spec.baud is not None and (
        isinstance(spec.baud, bool) or not isinstance(spec.baud, int) or spec.baud not in BAUD_RATES
    ):
        out.append(("baud", f"{spec.baud!r} is not one of {', '.join(map(str, BAUD_RATES))}"))
    return out


def default_devices(counters: Sequence[int]) -> tuple[DeviceSpec, ...]:
    """The MQTT devices a site gets when it lists none."""
    specs: list[DeviceSpec] = []
    for counter in sorted(set(counters)):
        kinds: tuple[DeviceKind, ...] = ("display", "keypad", "rating")
        for kind in kinds:
            specs.append(DeviceSpec(id=f"{kind}-{counter}", kind=kind, counter=counter))
    specs.append(DeviceSpec(id=f"printer-{DEFAULT_KIOSK}", kind="printer", kiosk=DEFAULT_KIOSK))
    return tuple(specs)


def _entry(index: int, raw: object, counters: frozenset[int], source: str) -> DeviceSpec:
    where = f"device[{index}]"
    if not isinstance(raw, Mapping):
        raise DeviceConfigError(where, "must be a table", source)
    unknown = sorted(set(raw) - FIELDS)
    if unknown:
        raise DeviceConfigError(
            f"{where}.{unknown[0]}", f"unknown field (known: {', '.join(sorted(FIELDS))})", source
        )
    for name in ("id", "kind"):
        if name not in raw:
            raise DeviceConfigError(f"{where}.{name}", "is required", source)
    values = {name: raw.get(name) for name in FIELDS}
    values["transport"] = raw.get("transport", "mqtt")
    # printers serve kiosk k1 unless told otherwise, as in the defaults
    if values["kind"] == "printer" and values["kiosk"] is None:
        values["kiosk"] = DEFAULT_KIOSK
    try:
        spec = DeviceSpec(**values)  # type: ignore[arg-type]  # checked in __post_init__
    except DeviceConfigError as exc:
        raise DeviceConfigError(f"{where}.{exc.field}", exc.reason, source) from None
    if spec.counter is not None and spec.counter not in counters:
        raise DeviceConfigError(f"{where}.counter", f"site has no counter {spec.counter}", source)
    return spec


def parse_devices(
    raw: list[dict[str, object]] | None, counters: Sequence[int], source: str
) -> tuple[DeviceSpec, ...]:
    """Check the [[device]] tables of a site file; defaults when there are none."""
    if not raw:
        return default_devices(counters)
    if not isinstance(raw, list):
        raise DeviceConfigError("device", "must be an array of tables ([[device]])", source)
    known = frozenset(counters)
    specs: list[DeviceSpec] = []
    ids: dict[str, int] = {}
    addresses: dict[tuple[str, int], int] = {}
    for index, entry in enumerate(raw):
        spec = _entry(index, entry, known, source)
        if spec.id in ids:
            raise DeviceConfigError(
                f"device[{index}].id", f"{spec.id!r} already used by device[{ids[spec.id]}]", source
            )
        ids[spec.id] = index
        if spec.bus is not None and spec.address is not None:
            slot = (spec.bus, spec.address)
            if slot in addresses:
                raise DeviceConfigError(
                    f"device[{index}].address",
                    f"address {spec.address} on bus {spec.bus!r} already used by "
                    f"device[{addresses[slot]}]",
                    source,
                )
            addresses[slot] = index
        specs.append(spec)
    return tuple(specs)
