"""The devices of a site, from its `[[device]]` tables (CONTRACT.md section 4).

A site without `[[device]]` entries gets one MQTT display, keypad and rating
keypad per counter (`display-N`, `keypad-N`, `rating-N`) and one printer
`printer-k1`. A bad entry is refused with its field ("device[3].address") and
the reason; nothing is half-configured.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Final, Literal, get_args

__all__ = [
    "DeviceConfigError",
    "DeviceKind",
    "DeviceSpec",
    "Transport",
    "default_devices",
    "parse_devices",
]

DeviceKind = Literal["display", "keypad", "rating", "printer", "speaker"]
Transport = Literal["serial", "modbus", "mqtt", "tcp"]
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
    {"id", "kind", "counter", "transport", "bus", "address", "kiosk", "zone", "url", "model"}
)
DEFAULT_KIOSK: Final = "k1"

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

    def __post_init__(self) -> None:
        for name, reason in _problems(self):
            raise DeviceConfigError(name, reason)


def _problems(spec: DeviceSpec) -> list[tuple[str, str]]:
    """(field, reason) pairs wrong with spec, first problem first."""
    out: list[tuple[str, str]] = []
    if not isinstance(spec.id, str) or not _ID.fullmatch(spec.id):
        out.append(("id", f"{spec.id!r} must be 1-64 letters, digits, '_', '.' or '-'"))
    if spec.kind not in KINDS:
        out.append(("kind", f"{spec.kind!r} is not one of {', '.join(KINDS)}"))
    if spec.transport not in TRANSPORTS:
        out.append(("transport", f"{spec.transport!r} is not one of {', '.join(TRANSPORTS)}"))
    if spec.kind in COUNTER_KINDS and spec.counter is None:
        out.append(("counter", f"a {spec.kind} needs the counter it serves"))
    if spec.counter is not None and (
        isinstance(spec.counter, bool) or not isinstance(spec.counter, int) or spec.counter < 1
    ):
        out.append(("counter", f"{spec.counter!r} is not a counter number"))
    if spec.transport in BUS_TRANSPORTS:
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
                reason = f"only serial and modbus devices sit on a bus, not {spec.transport}"
                out.append((name, reason))
    if spec.transport == "tcp" and not spec.url:
        out.append(("url", "tcp devices need a url"))
    for name in ("kiosk", "zone", "url", "model"):
        value = getattr(spec, name)
        if value is not None and (not isinstance(value, str) or not value):
            out.append((name, f"{value!r} must be a non-empty string"))
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
