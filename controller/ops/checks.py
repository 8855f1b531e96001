"""One line of `motcua doctor`: OK/WARN/FAIL, the finding and what to do, Vietnamese first; and a port probe."""

from __future__ import annotations

import socket
from dataclasses import dataclass
from typing import Final

__all__ = ["FAIL", "OK", "WARN", "Check", "exit_status", "reachable"]

OK: Final = "OK"
WARN: Final = "WARN"
FAIL: Final = "FAIL"


@dataclass(frozen=True, slots=True)
class Check:
    """One line of the diagnosis: what was looked at, the finding, and what to do about it."""

    status: str
    what: str
    vi: str
    en: str
    fix_vi: str = ""
    fix_en: str = ""

    def line(self) -> str:
        fix = f" → {self.fix_vi} / {self.fix_en}" if self.fix_vi else ""
        return f"[{self.status:4}] {self.what}: {self.vi} / {self.en}{fix}"


def exit_status(checks: list[Check]) -> int:
    """0 when all are OK, 1 with a warning, 2 with a failure."""
    statuses = {c.status for c in checks}
    return 2 if FAIL in statuses else 1 if WARN in statuses else 0


def reachable(host: str, port: int) -> str | None:
    """None when a TCP connection to host:port opens within 3 s, else why not."""
    try:
        with socket.create_connection((host, port), timeout=3):
            return None
    except OSError as exc:
        return exc.strerror or str(exc)
