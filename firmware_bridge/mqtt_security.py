"""How a client proves who it is to the broker: username/password and TLS.

`motcua serve` and `motcua bridge` take the same flags; the password may come
from the environment instead (MOTCUA_MQTT_PASSWORD), so it never shows in `ps`.

    --mqtt mqtts://HOST:8883 --mqtt-ca ca.pem [--mqtt-cert c.pem --mqtt-key c.key]
    --mqtt-username bridge-bus1@xa   (or MOTCUA_MQTT_USERNAME)
    --mqtt-password ...              (or MOTCUA_MQTT_PASSWORD)
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Final
from urllib.parse import urlsplit

if TYPE_CHECKING:  # paho is imported by the link that uses this, not by the CLI parser
    import paho.mqtt.client as mqtt

__all__ = [
    "ENV_PASSWORD", "ENV_USERNAME", "MqttSecurity", "MqttSecurityError", "add_security_arguments", "security_from_args",
]

ENV_USERNAME: Final = "MOTCUA_MQTT_USERNAME"
ENV_PASSWORD: Final = "MOTCUA_MQTT_PASSWORD"


class MqttSecurityError(ValueError):
    """Credentials or TLS files refused: the flag, and why (Vietnamese, then English)."""

    def __init__(self, flag: str, reason_vi: str, reason_en: str) -> None:
        self.flag = flag
        self.reason_vi = reason_vi
        self.reason_en = reason_en
        super().__init__(f"{reason_vi} / {reason_en}")


@dataclass(frozen=True, slots=True)
class MqttSecurity:
    """Credentials and TLS files of one client, checked when made."""

    username: str | None = None
    password: str | None = None
    tls: bool = False
    ca_file: str | None = None
    cert_file: str | None = None
    key_file: str | None = None

    def __post_init__(self) -> None:
        if self.password is not None and not self.username:
            raise MqttSecurityError(
                "--mqtt-password", "mật khẩu MQTT cần tên đăng nhập (--mqtt-username hoặc MOTCUA_MQTT_USERNAME)",
                "an MQTT password needs a username (--mqtt-username or MOTCUA_MQTT_USERNAME)")
        if self.username is not None and (not self.username or ":" in self.username):
            raise MqttSecurityError(
                "--mqtt-username", f"tên đăng nhập MQTT {self.username!r} phải khác rỗng và không có dấu ':'",
                f"MQTT username {self.username!r} must be non-empty, without ':'")
        files = {"--mqtt-ca": self.ca_file, "--mqtt-cert": self.cert_file, "--mqtt-key": self.key_file}
        for flag, path in files.items():
            if path is None:
                continue
            if not self.tls:
                raise MqttSecurityError(flag, f"{flag} chỉ dùng với TLS: cho địa chỉ broker mqtts://",
                                        f"{flag} is for TLS: use an mqtts:// broker url")
            if not Path(path).is_file():
                raise MqttSecurityError(flag, f"{flag} {path}: không có tệp này", f"{flag} {path}: no such file")
        if self.key_file is not None and self.cert_file is None:
            raise MqttSecurityError("--mqtt-key", "--mqtt-key cần --mqtt-cert (chứng chỉ máy khách đi kèm khóa)",
                                    "--mqtt-key needs --mqtt-cert (the client certificate it belongs to)")

    def apply(self, client: mqtt.Client) -> None:
        """Set credentials and TLS on a paho client before it connects."""
        if self.username is not None:
            client.username_pw_set(self.username, self.password)
        if self.tls:
            # the system's CAs when no CA file is given; the broker's name is always checked
            client.tls_set(ca_certs=self.ca_file, certfile=self.cert_file, keyfile=self.key_file)


def add_security_arguments(parser: argparse.ArgumentParser) -> None:
    """The --mqtt-* flags shared by `serve` and `bridge`."""
    parser.add_argument("--mqtt-username", default=None, help=f"broker username (or ${ENV_USERNAME})")
    parser.add_argument(
        "--mqtt-password", default=None, help=f"broker password (prefer ${ENV_PASSWORD}: flags show in ps)"
    )
    parser.add_argument("--mqtt-ca", default=None, help="mqtts: CA certificate file the broker's is checked against")
    parser.add_argument("--mqtt-cert", default=None, help="mqtts: client certificate file")
    parser.add_argument("--mqtt-key", default=None, help="mqtts: client private key file")


def security_from_args(args: argparse.Namespace, environ: Mapping[str, str] | None = None) -> MqttSecurity:
    """MqttSecurity from the parsed flags and the environment; ValueError with the reason."""
    env = os.environ if environ is None else environ
    url = str(getattr(args, "mqtt", None) or "")
    username = getattr(args, "mqtt_username", None) or env.get(ENV_USERNAME) or None
    password = getattr(args, "mqtt_password", None) or env.get(ENV_PASSWORD) or None
    return MqttSecurity(
        username=username,
        password=password,
        tls=urlsplit(url).scheme == "mqtts",
        ca_file=getattr(args, "mqtt_ca", None),
        cert_file=getattr(args, "mqtt_cert", None),
        key_file=getattr(args, "mqtt_key", None),
    )
