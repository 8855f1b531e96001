"""Waiting tickets of one agency, ordered two ways: by wait start and by deadline.

Heaps with lazy deletion: removing a ticket only forgets its membership, and
stale heap entries are dropped when they reach the top. Priority tickets live
in their own pair of heaps so policies can serve legal priority first without
scanning.
"""

from __future__ import annotations

import heapq
import operator
from collections.abc import Iterator
from typing import TypeVar

__all__ = ["AgencyQueue", "LineEntry", "OrderedIndex"]

# heap entry: (key, order, ticket_id, version); the start heap also carries the deadline, so
# "is the longest waiting ticket overdue?" needs no second lookup.
_Entry = tuple[float, int, str, int]
_StartEntry = tuple[float, int, str, int, float]
_E = TypeVar("_E", _Entry, _StartEntry)


class OrderedIndex:
    """A set of ticket ids with two orders (start, deadline) and O(log n) heads."""

    __slots__ = ("_by_deadline", "_by_start", "_changes", "_members", "_version")

    def __init__(self) -> None:
        self._members: dict[str, tuple[float, float, int, int]] = {}
        self._by_start: list[_StartEntry] = []
        self._by_deadline: list[_Entry] = []
        self._version = 0
        self._changes = 0  # bumped by every add and discard; readers cache on it

    @property
    def changes(self) -> int:
        """A counter that moves whenever membership or keys change."""
        return self._changes

    def __len__(self) -> int:
        return len(self._members)

    def __contains__(self, ticket_id: object) -> bool:
        return ticket_id in self._members

    def add(self, ticket_id: str, start: float, deadline: float, order: int) -> None:
        """Insert (or re-key) a ticket."""
        self._version += 1
        self._changes += 1
        version = self._version
        self._members[ticket_id] = (start, deadline, order, version)
        heapq.heappush(self._by_start, (start, order, ticket_id, version, deadline))
        heapq.heappush(self._by_deadline, (deadline, order, ticket_id, version))
        # Lazy deletion leaves garbage behind; rebuild when it dominates.
        if len(self._by_start) > 64 and len(self._by_start) > 4 * len(self._members):
            self._compact()

    def discard(self, ticket_id: str) -> None:
        """Forget a ticket (it was called, transferred, abandoned...)."""
        if self._members.pop(ticket_id, None) is not None:
            self._changes += 1

    def _valid(self, entry: _Entry) -> bool:
        member = self._members.get(entry[2])
        return member is not None and member[3] == entry[3]

    def _head(self, heap: list[_E]) -> _E | None:
        members = self._members
        while heap:
            entry = heap[0]
            member = members.get(entry[2])
            if member is not None and member[3] == entry[3]:
                return entry
            heapq.heappop(heap)
        return None

    def first_by_start(self) -> _StartEntry | None:
        """(start, order, id, version, deadline) of the ticket waiting longest; None when empty."""
        return self._head(self._by_start) if self._members else None

    def first_by_deadline(self) -> _Entry | None:
        """(deadline, order, id, version) of the ticket with the earliest deadline; None when empty."""
        return self._head(self._by_deadline) if self._members else None

    def head_by_start(self) -> tuple[str, float] | None:
        """The ticket waiting longest, with its wait start."""
        entry = self.first_by_start()
        return None if entry is None else (entry[2], entry[0])

    def head_by_deadline(self) -> tuple[str, float] | None:
        """The ticket with the earliest deadline, with that deadline."""
        entry = self.first_by_deadline()
        return None if entry is None else (entry[2], entry[0])

    def due_by(self, limit: float) -> Iterator[tuple[str, float, float, int]]:
        """Every member whose deadline is <= limit: (id, start, deadline, order).

        Walks the heap as a tree and prunes subtrees past the limit, so it costs
        O(k) for k results, not O(n).
        """
        heap = self._by_deadline
        stack = [0] if heap else []
        while stack:
            i = stack.pop()
            entry = heap[i]
            if entry[0] > limit:
                continue
            if self._valid(entry):
                start, deadline, order, _ = self._members[entry[2]]
                yield entry[2], start, deadline, order
            for child in (2 * i + 1, 2 * i + 2):
                if child < len(heap):
                    stack.append(child)

    def ordered_by_start(self) -> list[str]:
        """Members from longest waiting to newest."""
        return [tid for tid, _ in sorted(self._members.items(), key=lambda kv: (kv[1][0], kv[1][2]))]

    def ordered_by_deadline(self) -> list[str]:
        """Members from earliest deadline to latest."""
        return [tid for tid, _ in sorted(self._members.items(), key=lambda kv: (kv[1][1], kv[1][2]))]

    def members(self) -> dict[str, tuple[float, float, int, int]]:
        """Read-only view: ticket id -> (start, deadline, order, version)."""
        return self._members

    def keys(self, ticket_id: str) -> tuple[float, float, int]:
        start, deadline, order, _ = self._members[ticket_id]
        return start, deadline, order

    def _compact(self) -> None:
        self._by_start = [(s, o, t, v, d) for t, (s, d, o, v) in self._members.items()]
        self._by_deadline = [(d, o, t, v) for t, (_s, d, o, v) in self._members.items()]
        heapq.heapify(self._by_start)
        heapq.heapify(self._by_deadline)


# A line entry: (0 legal priority / 1 other, deadline, wait start, ticket id, issue order).
LineEntry = tuple[int, float, float, str, int]
# Priority first, then the order's key; the issue order (unique) breaks ties, as in the indexes.
_BY_DEADLINE = operator.itemgetter(0, 1, 4)
_BY_START = operator.itemgetter(0, 2, 4)


class AgencyQueue:
    """The waiting line of one agency: legal priority and the rest."""

    __slots__ = ("_changes", "_entries", "_lines", "normal", "priority")

    def __init__(self) -> None:
        self.priority = OrderedIndex()
        self.normal = OrderedIndex()
        # Every member as its line entry, built once when it joins: a changed line is sorted in C.
        self._entries: dict[str, LineEntry] = {}
        self._changes = 0
        self._lines: dict[bool, tuple[int, tuple[LineEntry, ...]]] = {}

    def line(self, by_deadline: bool) -> tuple[LineEntry, ...]:
        """The whole line in the policy's order, legal priority first; sorted again only after a change.

        The estimator reads every line at every forecast, and most lines have not
        changed since the last one.
        """
        cached = self._lines.get(by_deadline)
        if cached is not None and cached[0] == self._changes:
            return cached[1]
        line = tuple(sorted(self._entries.values(), key=_BY_DEADLINE if by_deadline else _BY_START))
        self._lines[by_deadline] = (self._changes, line)
        return line

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, ticket_id: object) -> bool:
        return ticket_id in self._entries

    def add(self, ticket_id: str, priority: bool, start: float, deadline: float, order: int) -> bool:
        """Put a ticket in line (or re-key it); True when it was not in line before."""
        (self.priority if priority else self.normal).add(ticket_id, start, deadline, order)
        joined = ticket_id not in self._entries
        self._entries[ticket_id] = (0 if priority else 1, deadline, start, ticket_id, order)
        self._changes += 1
        return joined

    def discard(self, ticket_id: str) -> bool:
        """Take a ticket out of line; True when it was in line."""
        if self._entries.pop(ticket_id, None) is None:
            return False
        self.priority.discard(ticket_id)
        self.normal.discard(ticket_id)
        self._changes += 1
        return True

    def ordered(self, by_deadline: bool = False) -> list[str]:
        """Priority first, then the rest, each in the given order."""
        return [entry[3] for entry in self.line(by_deadline)]
