"""Event log backends."""

from controller.store.base import EventStore, StaleWriterError, StoredEvent, StoreError

__all__ = ["EventStore", "StaleWriterError", "StoreError", "StoredEvent", "open_store"]


async def open_store(spec: str, data_dir: str) -> EventStore:
    """Open the store named on the command line: `sqlite` or `redis://host:port/db`."""
    if spec == "sqlite":
        from pathlib import Path

        from controller.store.sqlite import SqliteEventStore

        return await SqliteEventStore(Path(data_dir) / "events.db").open()
    if spec.startswith("redis://"):
        from controller.store.redis import RedisEventStore

        return await RedisEventStore.connect(spec)
    raise StoreError(f"unknown store {spec!r}: use sqlite or redis://HOST:PORT/DB")
