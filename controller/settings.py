"""Server settings: built once from the command line, validated, passed down."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from pathlib import Path
from typing import Final
from urllib.parse import urlsplit

from controller.connections import ConnectionLimits
from devices.sms.address import ChannelError, SmsChannels, parse_sms_channels
from firmware_bridge.mqtt_security import MqttSecurity

__all__ = ["EMBEDDED_DEFAULT", "Settings", "SettingsError"]

# `--mqtt embedded` listens here; `--mqtt embedded://HOST:PORT` chooses another address
EMBEDDED_DEFAULT: Final = ("127.0.0.1", 1883)


class SettingsError(ValueError):
    """Settings that must stop start-up: which setting (its flag's name, the configuration file's key) and why,
    Vietnamese first."""

    def __init__(self, key: str, reason_vi: str, reason_en: str) -> None:
        self.key = key
        self.reason_vi = reason_vi
        self.reason_en = reason_en
        super().__init__(f"{reason_vi} / {reason_en}")


def _broker_address(mqtt: str) -> tuple[str, int]:
    if mqtt == "embedded":
        return EMBEDDED_DEFAULT
    parts = urlsplit(mqtt)
    if parts.scheme not in ("mqtt", "mqtts", "embedded") or not parts.hostname:
        raise SettingsError(
            "mqtt", f"--mqtt phải là embedded[://MÁY:CỔNG], none, mqtt://MÁY:CỔNG hoặc mqtts://MÁY:CỔNG, "
            f"không phải {mqtt!r}",
            f"--mqtt must be embedded[://HOST:PORT], none, mqtt://HOST:PORT or mqtts://HOST:PORT, got {mqtt!r}")
    try:
        port = parts.port or (8883 if parts.scheme == "mqtts" else 1883)
    except ValueError as exc:
        raise SettingsError("mqtt", f"--mqtt {mqtt!r}: cổng sai ({exc})", f"--mqtt {mqtt!r}: {exc}") from None
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
    booking_rate_per_minute: float = 1.0  # appointments one client address may book (burst: 3 or a third)
    test_clock: bool = False
    policy: str = "deadline"
    tick: bool = True
    public_url: str = ""  # what citizens' phones reach (--public-url); "" is http://HOST:PORT
    device_hold_s: float = 5.0  # at most one device.changed per device per hold (health.py)
    mqtt_security: MqttSecurity | None = None  # broker username/password and TLS files
    # Scale-out (--store redis://): the URL other processes forward to, the site lease TTL,
    # and the accounts database (the same accounts on every process; tokens live in Redis).
    advertise_url: str = ""
    lease_ttl_s: float = 5.0
    accounts_db: Path | None = None
    sms: str = "none"  # none | log | webhook:URL | zns[:URL] (devices/sms/address.py)
    sms_fallback: str = "none"  # none | log | webhook:URL: what --sms could not deliver
    zns_templates: str = ""  # kind=ID,...: the templates registered with Zalo
    follow_only: bool = False  # --store redis://: write no site, only serve reads and forward commands
    live_recheck_s: float = 30.0  # an authenticated live stream's credential is checked again this often
    # Slow and silent clients (controller/connections.py): a request head and body must arrive in time,
    # and one client address holds at most so many connections (0: no cap); proxies trusted for
    # X-Forwarded-For (uvicorn's FORWARDED_ALLOW_IPS) are not capped.
    head_timeout_s: float = 10.0
    body_timeout_s: float = 30.0
    max_connections_per_client: int = 64
    trusted_proxies: str = "127.0.0.1,::1"

    def __post_init__(self) -> None:
        if not 0 <= self.port <= 65535:
            raise SettingsError("port", f"--port phải từ 0 đến 65535, không phải {self.port}",
                                f"--port must be 0..65535, got {self.port}")
        if not self.live_recheck_s > 0:
            raise SettingsError("live_recheck_s", f"live_recheck_s phải > 0, không phải {self.live_recheck_s}",
                                f"live_recheck_s must be > 0, got {self.live_recheck_s}")
        if self.test_clock and not self.demo:
            raise SettingsError("test_clock", "--test-clock đổi đồng hồ của controller: chỉ được dùng với --demo",
                                "--test-clock moves the controller's clock: it is only allowed with --demo")
        if not self.kiosk_rate_per_minute > 0:
            raise SettingsError(
                "kiosk_rate", f"--kiosk-rate phải > 0 vé mỗi phút, không phải {self.kiosk_rate_per_minute}",
                f"--kiosk-rate must be > 0 tickets per minute, got {self.kiosk_rate_per_minute}")
        if not self.booking_rate_per_minute > 0:
            raise SettingsError(
                "booking_rate", f"--booking-rate phải > 0 lượt hẹn mỗi phút, không phải {self.booking_rate_per_minute}",
                f"--booking-rate must be > 0 bookings per minute, got {self.booking_rate_per_minute}")
        _check_public_url(self.public_url)
        if self.store != "sqlite" and not self.store.startswith("redis://"):
            raise SettingsError("store", f"--store phải là sqlite hoặc redis://MÁY:CỔNG/SỐ, không phải {self.store!r}",
                                f"--store must be sqlite or redis://HOST:PORT/DB, got {self.store!r}")
        if self.mqtt != "none":
            _broker_address(self.mqtt)  # check the url now, not when the broker is first needed
        if self.devices not in ("sim", "real", "none"):
            raise SettingsError("devices", f"--devices phải là sim, real hoặc none, không phải {self.devices!r}",
                                f"--devices must be sim, real or none, got {self.devices!r}")
        if self.mqtt == "none" and self.devices == "real":
            # MQTT devices need a broker, and serial ones are served by `motcua bridge` over one
            raise SettingsError("devices", "--devices real cần một broker: cho --mqtt embedded hoặc --mqtt mqtt://MÁY:CỔNG",
                                "--devices real needs a broker: give --mqtt embedded or --mqtt mqtt://HOST:PORT")
        if self.mqtt != "none" and self.devices == "none":
            # refusing beats connecting to a broker and driving nothing
            raise SettingsError(
                "mqtt", f"--mqtt {self.mqtt} điều khiển thiết bị: thêm --devices real (thiết bị của địa điểm) "
                "hoặc --devices sim (kèm thiết bị giả lập)",
                f"--mqtt {self.mqtt} drives devices: add --devices real (the site's devices) "
                "or --devices sim (also start emulated ones)")
        if self.mqtt_embedded and self.mqtt_security is not None and self.mqtt_security.username is not None:
            # the embedded broker makes its own users: a login given here would be silently unused
            raise SettingsError(
                "mqtt_username", "--mqtt-username/--mqtt-password dành cho broker bên ngoài: broker nhúng tự đăng "
                "nhập cho controller (người dùng của nó ở DATA_DIR/mqtt/secrets.toml)",
                "--mqtt-username/--mqtt-password are for an external broker: the embedded broker "
                "logs the controller in itself (its users are in DATA_DIR/mqtt/secrets.toml)")
        if self.device_hold_s < 0:
            raise SettingsError("device_hold_s", f"device_hold_s phải >= 0, không phải {self.device_hold_s}",
                                f"device_hold_s must be >= 0, got {self.device_hold_s}")
        if not 0.2 <= self.lease_ttl_s <= 120:
            raise SettingsError("lease_ttl", f"--lease-ttl phải từ 0.2 đến 120 giây, không phải {self.lease_ttl_s}",
                                f"--lease-ttl must be 0.2..120 seconds, got {self.lease_ttl_s}")
        try:
            parse_sms_channels(self.sms, self.sms_fallback, self.zns_templates)
        except ChannelError as exc:
            raise SettingsError(exc.key, exc.reason_vi, exc.reason_en) from None
        for key, value in (("head_timeout", self.head_timeout_s), ("body_timeout", self.body_timeout_s)):
            if not value > 0:
                flag = "--" + key.replace("_", "-")
                raise SettingsError(key, f"{flag} phải > 0 giây, không phải {value}",
                                    f"{flag} must be > 0 seconds, got {value}")
        if self.max_connections_per_client < 0:
            raise SettingsError(
                "max_connections_per_client",
                "--max-connections-per-client phải >= 0 (0: không giới hạn), "
                f"không phải {self.max_connections_per_client}",
                f"--max-connections-per-client must be >= 0 (0: no cap), got {self.max_connections_per_client}")
        if self.follow_only and not self.partitioned:
            raise SettingsError("follow_only", "--follow-only theo dõi các địa điểm do tiến trình khác ghi: cần "
                                "--store redis://",
                                "--follow-only follows the sites other processes write: it needs --store redis://")
        if self.partitioned:
            self._check_scale_out()

    def _check_scale_out(self) -> None:
        advertised = urlsplit(self.advertise_url) if self.advertise_url else None
        if advertised is not None and (advertised.scheme not in ("http", "https") or not advertised.hostname
                                       or "|" in self.advertise_url):
            raise SettingsError("advertise_url",
                                f"--advertise-url phải là http(s)://MÁY:CỔNG, không phải {self.advertise_url!r}",
                                f"--advertise-url must be http(s)://HOST:PORT, got {self.advertise_url!r}")
        if advertised is None and self.host in ("0.0.0.0", "::", ""):
            raise SettingsError("advertise_url", "--host nghe trên mọi giao diện mạng: cho --advertise-url, địa chỉ "
                                "các tiến trình khác gọi tới",
                                "--host listens on every interface: give --advertise-url, the URL peers reach")
        if self.devices != "none" and (self.devices != "real" or not self.mqtt.startswith(("mqtt://", "mqtts://"))):
            # each process drives the devices of the sites it writes, through one broker they share;
            # emulated devices or a broker per process would be driven by every process at once
            raise SettingsError(
                "devices", "--store redis:// chia địa điểm cho nhiều tiến trình: thiết bị của chúng cần "
                "--devices real và một broker dùng chung (--mqtt mqtt://MÁY:CỔNG)",
                "--store redis:// partitions sites over processes: their devices need --devices real "
                "and a broker they all share (--mqtt mqtt://HOST:PORT)")
        if self.sms != "none":
            # phone numbers are kept in this process's DATA_DIR/contacts.db, which a site moving
            # to another process would leave behind
            raise SettingsError("sms", "--sms giữ số điện thoại trong DATA_DIR/contacts.db: chạy với --store sqlite",
                                "--sms keeps phone numbers in DATA_DIR/contacts.db: run it with --store sqlite")

    @property
    def sms_channels(self) -> SmsChannels:
        """The text channels (--sms, --sms-fallback, --zns-templates), checked at construction."""
        return parse_sms_channels(self.sms, self.sms_fallback, self.zns_templates)

    @property
    def connection_limits(self) -> ConnectionLimits:
        """The limits on slow and silent clients (controller/connections.py)."""
        return ConnectionLimits(head_timeout_s=self.head_timeout_s, body_timeout_s=self.body_timeout_s,
                                per_client=self.max_connections_per_client, trusted_proxies=self.trusted_proxies)

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
        scheme = "mqtts" if self.mqtt.startswith("mqtts://") else "mqtt"
        return f"{scheme}://{host}:{port}"

    @property
    def check_hours(self) -> bool:
        """Demo mode runs at any hour so it can be shown at any time of day."""
        return not (self.demo or self.any_hour)

    @property
    def partitioned(self) -> bool:
        """Sites are shared out among the processes of one Redis (leases, forwarding)."""
        return self.store.startswith("redis://")

    @property
    def advertised_url(self) -> str:
        """Where other controller processes reach this one (the lease holder's name)."""
        return (self.advertise_url or f"http://{self.host}:{self.port}").rstrip("/")

    @property
    def accounts_path(self) -> Path:
        """The accounts database: --accounts-db, else DATA_DIR/accounts.db."""
        return self.accounts_db or self.data_dir / "accounts.db"

    @property
    def base_url(self) -> str:
        """The public address every ticket QR and printed link names: --public-url, else http://HOST:PORT."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return self.public_url.rstrip("/") or f"http://{host}:{self.port}"

    @property
    def public_url_problem(self) -> str | None:
        """Why a phone could not open the QR codes' address (a loopback or every-interface host), else None."""
        host = urlsplit(self.base_url).hostname or ""
        if not (_is_loopback(host) or host in ("0.0.0.0", "::", "")):
            return None
        return (f"ticket QR codes on screens and printed tickets point at {self.base_url}, which a citizen's "
                "phone cannot open: give --public-url http://ADDRESS:PORT, the address phones reach this "
                "controller at (README)")


def _is_loopback(host: str) -> bool:
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False  # a name: only the network it resolves on knows


def _check_public_url(url: str) -> None:
    if not url:
        return
    parts = urlsplit(url)
    try:
        parts.port  # noqa: B018 (a bad port raises here)
    except ValueError as exc:
        raise SettingsError("public_url", f"--public-url {url!r}: cổng sai ({exc})",
                            f"--public-url {url!r}: {exc}") from None
    # the pages and QR links live at the root: a path prefix would need a proxy rewriting every page's links
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.path not in ("", "/") \
            or parts.query or parts.fragment or parts.username or parts.password:
        raise SettingsError("public_url", f"--public-url phải là http(s)://MÁY[:CỔNG], không phải {url!r}",
                            f"--public-url must be http(s)://HOST[:PORT], got {url!r}")
