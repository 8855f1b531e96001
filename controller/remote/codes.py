"""One-time codes that prove a citizen holds the phone they give: texted, checked, then spent.

A code is 6 digits, good for the site's `code_ttl` (5 minutes), spent by its first right
use. Wrong codes count per phone: after `code_attempts` (5) the phone is locked for
`code_lock` (15 minutes), whatever code it asks for meanwhile. Phones are held as the
rate limiter holds them, by a keyed hash (the caller's `person`), never as numbers.
Everything is in memory: a restart forgets codes and locks (a citizen asks for a new code).
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass

from controller.core.errors import DomainError
from controller.core.site import RemoteRules

__all__ = ["CODE_DIGITS", "CodeBook", "PhoneLocked"]

CODE_DIGITS = 6
# Memory is bounded: a flood of phones forgets the oldest codes (those citizens ask again).
MAX_PHONES = 50_000


@dataclass(slots=True)
class _Entry:
    code: str | None = None
    expires_at: float = 0.0
    wrong: int = 0
    locked_until: float = 0.0


class PhoneLocked(DomainError):
    """Too many wrong codes: the phone waits `retry_after_s` (429 with Retry-After)."""

    def __init__(self, until: float, now: float) -> None:
        minutes = max(1, round((until - now) / 60))
        super().__init__("phone_locked", f"Nhập sai mã quá nhiều lần; số điện thoại này bị khóa {minutes} phút / "
                                         f"too many wrong codes: this phone is locked for {minutes} min", 429)
        self.retry_after_s = max(1, round(until - now))


def _locked(until: float, now: float) -> PhoneLocked:
    return PhoneLocked(until, now)


class CodeBook:
    """Codes by person (a keyed hash of the phone)."""

    def __init__(self) -> None:
        self._entries: dict[str, _Entry] = {}

    def issue(self, person: str, rules: RemoteRules, now: float) -> str:
        """A fresh code for this phone (the last one stops working); DomainError 429 while locked."""
        entry = self._entries.get(person)
        if entry is not None and entry.locked_until > now:
            raise _locked(entry.locked_until, now)
        if entry is None:
            if len(self._entries) >= MAX_PHONES:
                self._forget_some(now)
            entry = self._entries[person] = _Entry()
        entry.code = f"{secrets.randbelow(10 ** CODE_DIGITS):0{CODE_DIGITS}d}"
        entry.expires_at = now + rules.code_ttl_s
        return entry.code

    def check(self, person: str, code: str, rules: RemoteRules, now: float) -> None:
        """Spend a right code; DomainError (nothing spent) when it is wrong, expired, or the phone is locked."""
        entry = self._entries.get(person)
        if entry is not None and entry.locked_until > now:
            raise _locked(entry.locked_until, now)
        if entry is None or entry.code is None or entry.expires_at <= now:
            raise DomainError("code_expired", "Mã đã hết hạn hoặc chưa được gửi; hãy xin mã mới / "
                                              "the code has expired or was never sent: ask for a new one", 422)
        if not hmac.compare_digest(entry.code, code):
            entry.wrong += 1
            if entry.wrong >= rules.code_attempts:
                entry.wrong = 0
                entry.code = None
                entry.locked_until = now + rules.code_lock_s
                raise _locked(entry.locked_until, now)
            left = rules.code_attempts - entry.wrong
            raise DomainError("wrong_code", f"Mã không đúng; còn {left} lần thử / wrong code: {left} tries left", 422)
        entry.code = None
        entry.wrong = 0

    def _forget_some(self, now: float) -> None:
        keep = {p: e for p, e in self._entries.items() if e.locked_until > now or e.expires_at > now}
        self._entries = keep if len(keep) < MAX_PHONES else {}
