"""The clear MQTT passwords of a floor: secrets.toml, kept across runs, mode 0600.

One file format for both brokers: `motcua mqtt-config` writes it beside the
mosquitto files, and the embedded broker keeps one in DATA_DIR/mqtt/. A user
already in the file keeps its password (a provisioned device goes on working);
a new user gets a fresh random one; `rotate` renews them all.

    [users."keypad-3@xa"]
    password = "..."
    devices = ["keypad-3"]
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping, Sequence
from pathlib import Path

from devices.mqtt_acl import MqttUser
from devices.mqtt_passwd import new_secret

__all__ = ["ensure_passwords", "read_passwords", "render_secrets", "write_file"]


def read_passwords(path: Path) -> dict[str, str]:
    """username -> clear password of a secrets.toml; empty when there is no file yet."""
    if not path.exists():
        return {}
    with path.open("rb") as handle:
        users = tomllib.load(handle).get("users", {})
    return {
        name: str(entry["password"])
        for name, entry in users.items()
        if isinstance(entry, dict) and isinstance(entry.get("password"), str)
    }


def render_secrets(users: Sequence[MqttUser], passwords: Mapping[str, str]) -> str:
    """secrets.toml text: each user's clear password and the devices it speaks for."""
    lines = [
        "# motcua MQTT credentials: the clear passwords of passwd. Keep this file secret;",
        "# give each device or bridge only its own entry.",
    ]
    for user in users:
        lines += ["", f'[users."{user.username}"]', f'password = "{passwords[user.username]}"']
        if user.devices:
            lines.append("devices = [" + ", ".join(f'"{d}"' for d in user.devices) + "]")
    return "\n".join(lines) + "\n"


def write_file(path: Path, text: str, mode: int) -> None:
    """Write atomically with mode set before any byte lands (no moment of wider access)."""
    tmp = path.with_name(f".{path.name}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    try:
        os.fchmod(fd, mode)
        os.write(fd, text.encode("utf-8"))
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, path)


def ensure_passwords(path: Path, users: Sequence[MqttUser], rotate: bool = False) -> dict[str, str]:
    """Every user's password: kept from path unless rotate, new ones drawn; path rewritten (0600)."""
    kept = {} if rotate else read_passwords(path)
    passwords = {u.username: kept.get(u.username) or new_secret() for u in users}
    if passwords != kept or not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        write_file(path, render_secrets(users, passwords), 0o600)
    return passwords
