"""Local-time arithmetic for a site, from epoch seconds and the site's UTC offset.

The runtime owns the real clock and the simulator a virtual one; the core only
ever receives `now` as a number.
"""

from __future__ import annotations

import datetime as dt

__all__ = ["hhmm", "iso", "local_day", "local_half_hour", "local_hour", "local_seconds", "weekday"]


def _local(now: float, utc_offset_s: int) -> dt.datetime:
    return dt.datetime.fromtimestamp(now + utc_offset_s, tz=dt.UTC)


def local_day(now: float, utc_offset_s: int) -> str:
    """The site's calendar day as YYYY-MM-DD."""
    return _local(now, utc_offset_s).strftime("%Y-%m-%d")


def local_seconds(now: float, utc_offset_s: int) -> float:
    """Seconds since the site's local midnight."""
    return (now + utc_offset_s) % 86400.0


def local_hour(now: float, utc_offset_s: int) -> int:
    """The site's local hour of day, 0..23."""
    return int(local_seconds(now, utc_offset_s) // 3600)


def local_half_hour(now: float, utc_offset_s: int) -> int:
    """The site's local half hour of the day, 0 (00:00-00:30) .. 47."""
    return int(local_seconds(now, utc_offset_s) // 1800)


def hhmm(minutes: int) -> str:
    """Minutes since local midnight as HH:MM."""
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def weekday(now: float, utc_offset_s: int) -> int:
    """0 = Monday ... 6 = Sunday, in the site's local time."""
    return _local(now, utc_offset_s).weekday()


def iso(now: float, utc_offset_s: int = 0) -> str:
    """ISO-8601 with the site's offset, to the millisecond."""
    tz = dt.timezone(dt.timedelta(seconds=utc_offset_s))
    return dt.datetime.fromtimestamp(now, tz=tz).isoformat(timespec="milliseconds")
