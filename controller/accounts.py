"""Accounts, keys and bearer tokens, kept in SQLite beside the event log.

Secrets (passwords, PINs) are hashed with argon2 (argon2-cffi). Tokens are
random; only their SHA-256 is stored, so a stolen database does not yield
live tokens, and a token can be revoked. Tokens live in a TokenBook: this
file's own (SqliteTokens), or Redis when sites are partitioned over processes
(controller/redis_tokens.py), so that a token one process issued is accepted,
and a revocation seen, by all of them. Keys are long-lived machine
credentials with one role: a kiosk's X-Kiosk-Key, or the operations centre's
X-Api-Key for the province feed. They are looked up by their SHA-256 too.
"""

from __future__ import annotations

import hashlib
import secrets
import sqlite3
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

__all__ = [
    "ROLES",
    "TOKEN_TTL_S",
    "AccountStore",
    "Principal",
    "SqliteTokens",
    "TokenBook",
    "token_hash",
]

ROLES = ("staff", "manager", "admin", "ops", "kiosk")
KEY_ROLES = ("kiosk", "ops")
TOKEN_TTL_S = 12 * 3600.0

_SCHEMA = """
CREATE TABLE IF NOT EXISTS accounts (
    name TEXT PRIMARY KEY, role TEXT NOT NULL, site TEXT NOT NULL, counter INTEGER,
    secret_hash TEXT NOT NULL, created_at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS keys (
    key_hash TEXT PRIMARY KEY, name TEXT NOT NULL, role TEXT NOT NULL, site TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS tokens (
    token_hash TEXT PRIMARY KEY, name TEXT NOT NULL, role TEXT NOT NULL, site TEXT NOT NULL,
    counter INTEGER, expires_at REAL NOT NULL, revoked INTEGER NOT NULL DEFAULT 0);
"""


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def token_hash(token: str) -> str:
    """What a token book keeps of a token: its SHA-256 (hex)."""
    return _sha(token)


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling: a user with a role, scoped to a site ("*" = all) and maybe a counter."""

    name: str
    role: str
    site: str
    counter: int | None = None
    expires_at: float | None = None

    def covers_site(self, site: str) -> bool:
        return self.site in ("*", site)


class TokenBook(Protocol):
    """Where bearer tokens are kept: issued at login, looked up on every request, revoked."""

    def issue(self, token: str, principal: Principal) -> None:
        """Keep a new token standing for principal until principal.expires_at."""

    def principal(self, token: str, now: float) -> Principal | None:
        """The principal of a live token; None when unknown, expired or revoked."""

    def revoke(self, token: str) -> bool:
        """Revoke one token; whether it was live."""

    def revoke_user(self, name: str) -> int:
        """Revoke every token of a user; how many."""

    def close(self) -> None:
        """Release what the book holds."""


class SqliteTokens:
    """Tokens in the accounts file: enough for processes that share that file."""

    def __init__(self, conn: sqlite3.Connection, lock: threading.Lock) -> None:
        self._conn = conn
        self._lock = lock

    def issue(self, token: str, principal: Principal) -> None:
        with self._lock:
            self._conn.execute(
                "INSERT INTO tokens VALUES (?,?,?,?,?,?,0)",
                (_sha(token), principal.name, principal.role, principal.site, principal.counter,
                 principal.expires_at),
            )

    def principal(self, token: str, now: float) -> Principal | None:
        with self._lock:
            row = self._conn.execute(
                "SELECT name, role, site, counter, expires_at, revoked FROM tokens WHERE token_hash = ?",
                (_sha(token),),
            ).fetchone()
        if row is None or row[5] or float(row[4]) <= now:
            return None
        return Principal(str(row[0]), str(row[1]), str(row[2]), row[3], float(row[4]))

    def revoke(self, token: str) -> bool:
        with self._lock:
            cur = self._conn.execute(
                "UPDATE tokens SET revoked = 1 WHERE token_hash = ? AND revoked = 0", (_sha(token),)
            )
        return cur.rowcount > 0

    def revoke_user(self, name: str) -> int:
        with self._lock:
            cur = self._conn.execute("UPDATE tokens SET revoked = 1 WHERE name = ? AND revoked = 0", (name,))
        return cur.rowcount

    def close(self) -> None:
        """The connection is the account store's."""


def _check_account(name: str, role: str, secret: str, site: str, counter: int | None) -> None:
    if role not in ROLES or role == "kiosk":
        raise ValueError(f"role must be one of staff, manager, admin, ops, got {role!r}")
    if not name or len(secret) < 4:
        raise ValueError("a user name and a secret of at least 4 characters are needed")
    if not site:
        raise ValueError("an account belongs to a site (or * for every site)")
    if role == "staff" and counter is None:
        raise ValueError("a staff account needs its counter")


class AccountStore:
    """Accounts and kiosk keys in one SQLite file (thread-safe, small); tokens in its TokenBook.

    tokens: where tokens live; by default the same file (SqliteTokens).
    """

    def __init__(
        self, path: str | Path, hasher: PasswordHasher | None = None, tokens: TokenBook | None = None
    ) -> None:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        self._conn = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.executescript(_SCHEMA)
        self._lock = threading.Lock()
        self._hasher = hasher or PasswordHasher()
        self.tokens: TokenBook = tokens or SqliteTokens(self._conn, self._lock)

    def close(self) -> None:
        self.tokens.close()
        self._conn.close()

    def count(self) -> int:
        with self._lock:
            row = self._conn.execute("SELECT (SELECT COUNT(*) FROM accounts) + (SELECT COUNT(*) FROM keys)")
            return int(row.fetchone()[0])

    def add_account(self, name: str, role: str, secret: str, site: str, counter: int | None = None) -> None:
        """Create or replace an account of a site ("*" = every site); the secret is kept only as an argon2 hash."""
        _check_account(name, role, secret, site, counter)
        digest = self._hasher.hash(secret)
        with self._lock:
            self._conn.execute(
                "INSERT OR REPLACE INTO accounts VALUES (?,?,?,?,?,?)",
                (name, role, site, counter, digest, time.time()),
            )

    def add_staff_sharing_secret(self, staff: Iterable[tuple[str, str, int]], secret: str) -> None:
        """Create or replace staff accounts (name, site, counter) that share one secret, as the demo's do.

        One hash and one transaction for them all: a province has hundreds of counters. Only for a
        secret that is no secret (the published demo PIN): one salt serves every account.
        """
        rows = list(staff)
        for name, site, counter in rows:
            _check_account(name, "staff", secret, site, counter)
        digest = self._hasher.hash(secret)
        now = time.time()
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                self._conn.executemany(
                    "INSERT OR REPLACE INTO accounts VALUES (?,?,?,?,?,?)",
                    [(name, "staff", site, counter, digest, now) for name, site, counter in rows],
                )
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")

    def add_key(self, key: str, name: str, role: str, site: str) -> None:
        """Register a machine key of a site ("*" = every site): a kiosk (X-Kiosk-Key) or the operations feed."""
        self.add_keys([(key, name, role, site)])

    def add_keys(self, keys: Iterable[tuple[str, str, str, str]]) -> None:
        """Register machine keys (key, name, role, site) in one transaction: a province's demo has hundreds."""
        rows = list(keys)
        for key, _, role, site in rows:
            if role not in KEY_ROLES:
                raise ValueError(f"a key's role is one of {', '.join(KEY_ROLES)}, got {role!r}")
            if len(key) < 8:
                raise ValueError("a key needs at least 8 characters")
            if not site:
                raise ValueError("a key belongs to a site (or * for every site)")
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                self._conn.executemany(
                    "INSERT OR REPLACE INTO keys VALUES (?,?,?,?)",
                    [(_sha(key), name, role, site) for key, name, role, site in rows],
                )
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")

    def key(self, key: str, role: str) -> Principal | None:
        """Who a key of the given role belongs to, or None."""
        with self._lock:
            row = self._conn.execute(
                "SELECT name, site FROM keys WHERE key_hash = ? AND role = ?", (_sha(key), role)
            ).fetchone()
        return None if row is None else Principal(name=str(row[0]), role=role, site=str(row[1]))

    def login(self, name: str, secret: str, now: float | None = None) -> tuple[str, Principal] | None:
        """Check a secret; on success a new token and the principal it stands for."""
        with self._lock:
            row = self._conn.execute(
                "SELECT role, site, counter, secret_hash FROM accounts WHERE name = ?", (name,)
            ).fetchone()
        if row is None:
            # Spend the same time as a real check so names cannot be probed by timing.
            self._hasher.hash(secret)
            return None
        try:
            self._hasher.verify(str(row[3]), secret)
        except (VerificationError, InvalidHashError):
            return None
        issued = time.time() if now is None else now
        principal = Principal(name, str(row[0]), str(row[1]), row[2], issued + TOKEN_TTL_S)
        token = secrets.token_urlsafe(32)
        self.tokens.issue(token, principal)
        return token, principal

    def principal(self, token: str, now: float | None = None) -> Principal | None:
        """The principal of a live token; None when unknown, expired or revoked."""
        return self.tokens.principal(token, time.time() if now is None else now)

    def revoke(self, token: str) -> bool:
        """Revoke one token (logout, or a lost device)."""
        return self.tokens.revoke(token)

    def revoke_user(self, name: str) -> int:
        """Revoke every token of a user."""
        return self.tokens.revoke_user(name)

    def account(self, name: str) -> Principal | None:
        """Who an account is (role, site, counter), without its secret; None when there is none."""
        with self._lock:
            row = self._conn.execute("SELECT role, site, counter FROM accounts WHERE name = ?", (name,)).fetchone()
        return None if row is None else Principal(name, str(row[0]), str(row[1]), row[2])

    def list_accounts(self) -> list[tuple[str, str, str, int | None]]:
        with self._lock:
            return [
                (str(r[0]), str(r[1]), str(r[2]), r[3])
                for r in self._conn.execute("SELECT name, role, site, counter FROM accounts ORDER BY name")
            ]
