"""Open the books kept beside the event log, on the backend the command line names (--store).

    sqlite               appointments.db and feedback.db in the data dir
    redis://HOST:PORT/DB the same Redis as the event log, shared by every process

Each book's contract is a Protocol of its own module (appointments.py, feedback.py);
its backends import that module, and only this one imports the backends.
"""

from __future__ import annotations

from pathlib import Path

from controller.store.appointments import AppointmentBook
from controller.store.appointments_redis import RedisAppointmentBook
from controller.store.appointments_sqlite import SqliteAppointmentBook
from controller.store.base import StoreError
from controller.store.feedback import FeedbackBook
from controller.store.feedback_redis import RedisFeedbackBook
from controller.store.feedback_sqlite import SqliteFeedbackBook

__all__ = ["open_book", "open_feedback"]


def _unknown(spec: str) -> StoreError:
    return StoreError(f"unknown store {spec!r}: use sqlite or redis://HOST:PORT/DB")


async def open_book(spec: str, data_dir: str | Path) -> AppointmentBook:
    """The appointment book: bookings for future days."""
    if spec == "sqlite":
        return await SqliteAppointmentBook(Path(data_dir) / "appointments.db").open()
    if spec.startswith("redis://"):
        return await RedisAppointmentBook.connect(spec)
    raise _unknown(spec)


async def open_feedback(spec: str, data_dir: str | Path) -> FeedbackBook:
    """The feedback book: citizens' feedback and its answers."""
    if spec == "sqlite":
        return await SqliteFeedbackBook(Path(data_dir) / "feedback.db").open()
    if spec.startswith("redis://"):
        return await RedisFeedbackBook.connect(spec)
    raise _unknown(spec)
