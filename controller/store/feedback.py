"""The feedback book contract: citizens' feedback and its answers, kept apart from the event log.

Why not events: an item lives for days (answered within the site's response deadline)
while the log is replayed one day at a time, and its text and the phone number for the
answer must not be published on the live stream. Two backends fulfil it, SQLite
(feedback_sqlite.py, DATA_DIR/feedback.db) and Redis (feedback_redis.py, shared by the
processes of a scale-out set-up); books.py opens the one the command line names.

Personal data, alike in both: a phone number is kept apart from its item and deleted
once `save` stores the item without `has_phone` (the answer handed to the gateway, or
the item closed); nothing else holds it.

Errors (StoreError from base.py is the root):

    StoreError      the book could not be read or written; nothing was acknowledged
    └── CodeInUse   another item of the site has this code (draw another)
"""

from __future__ import annotations

import json
from typing import Protocol

from controller.core.feedback import Feedback
from controller.store.base import StoreError

__all__ = ["CodeInUse", "FeedbackBook", "decode_item", "encode_item"]


def encode_item(item: Feedback) -> str:
    """An item as both backends store it: JSON, the text in its own letters."""
    return json.dumps(item.to_dict(), ensure_ascii=False, separators=(",", ":"))


def decode_item(text: str | bytes) -> Feedback:
    """A stored item."""
    return Feedback.from_dict(json.loads(text))


class CodeInUse(StoreError):
    """Another item of the site has this code (draw another)."""


class FeedbackBook(Protocol):
    """Feedback items per site, durable before a call returns."""

    async def add(self, item: Feedback, phone: str | None,
                  request: tuple[str, str] | None = None) -> tuple[str, str] | None:
        """Store a new item, and its phone number when one was given, together; CodeInUse when the code is taken.

        With `request` (its Idempotency-Key, its body's digest, controller/core/requests.py): None when the item
        was added with them, or (code, digest) of the item that key added before, and nothing is stored.
        """
        ...

    async def get(self, site: str, code: str) -> Feedback | None:
        """The item with this code, whatever its status."""
        ...

    async def since(self, site: str, start: float, end: float | None = None) -> list[Feedback]:
        """The site's items received in [start, end), oldest first."""
        ...

    async def save(self, item: Feedback) -> None:
        """Store a changed item (assigned, answered, closed); without a phone waiting, its number is deleted.

        An item that was never added stays unknown.
        """
        ...

    async def phone(self, site: str, code: str) -> str | None:
        """The number the answer is to be texted to (None: none was given, or it is deleted)."""
        ...

    async def close(self) -> None:
        """Release files or connections."""
        ...
