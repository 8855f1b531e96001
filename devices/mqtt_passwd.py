"""mosquitto password files, written without mosquitto_passwd.

mosquitto 2.0 reads `user:$7$ITERATIONS$SALT$HASH` lines: PBKDF2-HMAC-SHA512,
base64 salt (12 bytes) and hash (64 bytes), the format `mosquitto_passwd -H
sha512-pbkdf2` writes. The iteration count is stored per line; we keep
mosquitto's 101 because our secrets are random 24-byte tokens, not words a
person chose: stretching adds nothing against guessing them, and a broker
restart re-checks every device's password at once.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from collections.abc import Mapping
from typing import Final

__all__ = ["ITERATIONS", "hash_password", "new_secret", "render_passwd", "verify_password"]

ITERATIONS: Final = 101
SALT_BYTES: Final = 12


def new_secret() -> str:
    """A fresh device password: 24 random bytes, URL-safe text (32 characters).

    Never with a leading "-": a technician passes it on a command line
    (`--mqtt-password SECRET`), where a leading dash reads as an option.
    """
    while True:
        secret = secrets.token_urlsafe(24)
        if not secret.startswith("-"):
            return secret


def hash_password(password: str, salt: bytes | None = None, iterations: int = ITERATIONS) -> str:
    """The `$7$...` hash mosquitto 2.0 checks a CONNECT password against."""
    if iterations < 1:
        raise ValueError(f"iterations must be >= 1, got {iterations}")
    salt = secrets.token_bytes(SALT_BYTES) if salt is None else salt
    digest = hashlib.pbkdf2_hmac("sha512", password.encode("utf-8"), salt, iterations)
    return f"$7${iterations}${base64.b64encode(salt).decode()}${base64.b64encode(digest).decode()}"


def verify_password(password: str, hashed: str) -> bool:
    """Whether password matches a `$7$` hash (as mosquitto would decide)."""
    parts = hashed.split("$")
    if len(parts) != 5 or parts[:2] != ["", "7"] or not parts[2].isdigit():
        return False
    try:
        salt, expected = base64.b64decode(parts[3], validate=True), base64.b64decode(parts[4], validate=True)
    except ValueError:
        return False
    digest = hashlib.pbkdf2_hmac("sha512", password.encode("utf-8"), salt, int(parts[2]))
    return hmac.compare_digest(digest, expected)


def render_passwd(passwords: Mapping[str, str]) -> str:
    """A password_file from username -> clear password, one hashed line per user, sorted."""
    lines = []
    for username, password in sorted(passwords.items()):
        if ":" in username or not username or any(c.isspace() for c in username):
            raise ValueError(f"username {username!r} cannot go in a mosquitto password file")
        lines.append(f"{username}:{hash_password(password)}")
    return "\n".join(lines) + "\n"
