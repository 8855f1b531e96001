"""Server settings: built once from the command line, validated, passed down."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

__all__ = ["Settings", "SettingsError"]


class SettingsError(ValueError):
    """Settings that must stop start-up."""


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
    policy: str = "deadline"
    tick: bool = True
    public_url: str = ""

    def __post_init__(self) -> None:
        if not 0 <= self.port <= 65535:
            raise SettingsError(f"--port must be 0..65535, got {self.port}")
        if not self.kiosk_rate_per_minute > 0:
            raise SettingsError(f"--kiosk-rate must be > 0 tickets per minute, got {self.kiosk_rate_per_minute}")
        if self.store != "sqlite" and not self.store.startswith("redis://"):
            raise SettingsError(f"--store must be sqlite or redis://HOST:PORT/DB, got {self.store!r}")
        if self.mqtt not in ("embedded", "none") and not self.mqtt.startswith("mqtt://"):
            raise SettingsError(f"--mqtt must be embedded, none or mqtt://HOST:PORT, got {self.mqtt!r}")
        if self.devices not in ("sim", "real", "none"):
            raise SettingsError(f"--devices must be sim, real or none, got {self.devices!r}")
        if self.mqtt != "none" or self.devices != "none":
            # The controller side of the device router is not in this build; refusing beats
            # accepting an option that would silently do nothing.
            raise SettingsError(
                "--mqtt and --devices are not available in this build yet: run with --mqtt none --devices none "
                "(the firmware bridge, `motcua bridge`, already serves serial devices over an MQTT broker)"
            )

    @property
    def check_hours(self) -> bool:
        """Demo mode runs at any hour so it can be shown at any time of day."""
        return not (self.demo or self.any_hour)

    @property
    def base_url(self) -> str:
        return self.public_url or f"http://{self.host}:{self.port}"
