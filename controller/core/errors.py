"""Errors the core raises. The API turns them into 4xx JSON with their code."""

from __future__ import annotations

__all__ = ["DomainError", "SiteError"]


class DomainError(Exception):
    """A command that cannot be carried out in the current state; nothing changes.

    `code` is snake_case and stable (clients branch on it); `status` is the HTTP
    status the API should answer with.
    """

    def __init__(self, code: str, message: str, status: int = 409) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status


class SiteError(ValueError):
    """A site file that cannot be accepted: names the file, the field and the reason."""

    def __init__(self, source: str, field: str, reason: str) -> None:
        super().__init__(f"{source}: {field}: {reason}")
        self.source = source
        self.field = field
        self.reason = reason
