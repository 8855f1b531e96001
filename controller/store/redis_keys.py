"""Where a site's data lives in Redis: one place for key names shared by the store and the leases.

Every key of a site carries the site id as a hash tag (`{site}`), so all keys one
append script touches hash to the same slot and the layout works on Redis Cluster.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["DEFAULT_PREFIX", "SiteKeys"]

DEFAULT_PREFIX = "motcua"


@dataclass(frozen=True, slots=True)
class SiteKeys:
    """The Redis keys of one site."""

    site: str
    prefix: str = DEFAULT_PREFIX

    def __post_init__(self) -> None:
        # A brace would break the hash tag and put a site's keys in different slots.
        if not self.site or "{" in self.site or "}" in self.site:
            raise ValueError(f"site id {self.site!r} cannot name Redis keys")

    def _key(self, name: str) -> str:
        return f"{self.prefix}:{{{self.site}}}:{name}"

    @property
    def log(self) -> str:
        """Stream of events; entry id `SEQ-0`, fields d (day), a (append id), b (JSON body)."""
        return self._key("log")

    @property
    def days(self) -> str:
        """Hash day -> seq ranges of that day, "first-last[,first-last...]"."""
        return self._key("days")

    @property
    def fence(self) -> str:
        """Counter: the fencing token of the newest lease acquisition."""
        return self._key("fence")

    @property
    def lease(self) -> str:
        """String "TOKEN|HOLDER" with a TTL while a process holds the site."""
        return self._key("lease")

    def booking(self, code: str) -> str:
        """String: the JSON of one appointment booking (controller/store/appointments_redis.py)."""
        return self._key(f"appt:code:{code}")

    def slot(self, agency: str, slot_at: float) -> str:
        """Set of the codes of an agency's live bookings in one slot (its size is the count)."""
        return self._key(f"appt:slot:{agency}:{int(slot_at)}")

    def booking_request(self, idempotency_key: str) -> str:
        """String: the code a booking request with this Idempotency-Key made."""
        return self._key(f"appt:idem:{idempotency_key}")

    def feedback(self, code: str) -> str:
        """String: the JSON of one feedback item (controller/store/feedback_redis.py)."""
        return self._key(f"fb:code:{code}")

    def feedback_phone(self, code: str) -> str:
        """String: the phone number an item's answer is to be texted to, deleted once it is not needed."""
        return self._key(f"fb:phone:{code}")

    def feedback_request(self, idempotency_key: str) -> str:
        """String: "CODE DIGEST", the item a feedback request with this Idempotency-Key added, and its body's digest."""
        return self._key(f"fb:idem:{idempotency_key}")

    @property
    def feedback_times(self) -> str:
        """Sorted set: the codes of the site's feedback items, scored by when each was received."""
        return self._key("fb:received")

    @property
    def presses(self) -> str:
        """List of device presses waiting for the site's writer (LPUSH by any process, BRPOP by the writer)."""
        return self._key("presses")

    @property
    def press_seqs(self) -> str:
        """Hash: press topic -> the seq of the last press relayed from it (a repeat is a redelivery)."""
        return self._key("press-seqs")
