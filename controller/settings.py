"""Server settings: built once from the command line, validated, passed down."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Final
from urllib.parse import urlsplit

__all__ = ["EMBEDDED_DEFAULT", "Settings", "SettingsError"]

# `--mqtt embedded` listens here; `--mqtt embedded://HOST:PORT` chooses another address
EMBEDDED_DEFAULT: Final = ("127.0.0.1", 1883)


class SettingsError(ValueError):
    """Settings that must stop start-up."""


def _broker_address(mqtt: str) -> tuple[str, int]:
    if mqtt == "embedded":
        return EMBEDDED_DEFAULT
    parts = urlsplit(mqtt)
    if parts.scheme not in ("mqtt", "embedded") or not parts.hostname:
        raise SettingsError(f"--mqtt must be embedded[://HOST:PORT], none or mqtt://HOST:PORT, got {mqtt!r}")
    try:
        port = parts.port or 1883
    except ValueError as exc:
        raise SettingsError(f"--mqtt {mqtt!r}: {exc}") from None
    return parts.hostname, port


@dataclass(frozen=True)
class Settings:
    """Everything `motcua serve` needs to know."""

    site_file: Path
    data_dir: Path
    host: str = "127.0.0.1"
    port: int = 8000
    store: str = "sqlite"
    mqtt: str = "none"
    devices: str = "none"
    demo: bool = False
    any_hour: bool = False
    kiosk_rate_per_minute: float = 30.0
    test_clock: bool = False
    policy: str = "deadline"
    tick: bool = True
    public_url: str = ""
    device_hold_s: float = 5.0  # at most one device.changed per device per hold (health.py)

    def __post_init__(self) -> None:
        if not 0 <= self.port <= 65535:
            raise SettingsError(f"--port must be 0..65535, got {self.port}")
        if self.test_clock and not self.demo:
            raise SettingsError("--test-clock moves the controller's clock: it is only allowed with --demo")
        if not self.kiosk_rate_per_minute > 0:
            raise SettingsError(f"--kiosk-rate must be > 0 tickets per minute, got {self.kiosk_rate_per_minute}")
        if self.store != "sqlite" and not self.store.startswith("redis://"):
            raise SettingsError(f"--store must be sqlite or redis://HOST:PORT/DB, got {self.store!r}")
        if self.mqtt != "none":
            _broker_address(self.mqtt)  # check the url now, not when the broker is first needed
        if self.devices not in ("sim", "real", "none"):
            raise SettingsError(f"--devices must be sim, real or none, got {self.devices!r}")
        if self.mqtt == "none" and self.devices == "real":
            # MQTT devices need a broker, and serial ones are served by `motcua bridge` over one
            raise SettingsError("--devices real needs a broker: give --mqtt embedded or --mqtt mqtt://HOST:PORT")
        if self.mqtt != "none" and self.devices == "none":
            # refusing beats connecting to a broker and driving nothing
            raise SettingsError(
                f"--mqtt {self.mqtt} drives devices: add --devices real (the site's devices) "
                "or --devices sim (also start emulated ones)"
            )
        if self.device_hold_s < 0:
            raise SettingsError(f"device_hold_s must be >= 0, got {self.device_hold_s}")

    @property
    def mqtt_address(self) -> tuple[str, int]:
        """(host, port) of the broker: the external one, or where the embedded one listens."""
        return _broker_address(self.mqtt)

    @property
    def mqtt_embedded(self) -> bool:
        """Whether the controller runs the broker itself."""
        return self.mqtt == "embedded" or self.mqtt.startswith("embedded://")

    @property
    def mqtt_url(self) -> str | None:
        """mqtt://HOST:PORT of the broker the devices use; None with --mqtt none."""
        if self.mqtt == "none":
            return None
        host, port = self.mqtt_address
        return f"mqtt://{host}:{port}"

    @property
    def check_hours(self) -> bool:
        """Demo mode runs at any hour so it can be shown at any time of day."""
        return not (self.demo or self.any_hour)

    @property
    def base_url(self) -> str:
        return self.public_url or f"http://{self.host}:{self.port}"
