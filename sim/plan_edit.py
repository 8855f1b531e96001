"""The site file with the planner's changes made: the input's text, edited, never re-serialised.

A director reads the diff between their file and the proposal, so everything
the planner does not change stays as it was, comments and layout included
(tomlkit edits the parsed text in place). A change to one counter of a
`[[counter]]` table that lists several `ids` splits the table: the changed
counters leave its `ids` and get a table of their own right after it (one per
set of counters changed alike), a copy of the original with their changes; the
comments that followed the original (a heading for the next table) move below
the new tables, where they belong.

The edited text is checked before it is returned: it must load as a valid site
whose counters are exactly the proposal's.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

import tomlkit
from tomlkit.items import AoT, Array, InlineTable, Item, Table

from controller.core.errors import SiteError
from controller.core.site import Counter, PlannedShift, Site
from controller.sitefile import site_from_dict
from sim.plan_layout import Change, PlanError, apply_changes, hhmm, minutes

__all__ = ["check_editable", "edit_site_text"]


def edit_site_text(text: str, site: Site, changes: Sequence[Change], source: str) -> str:
    """The site file `text` (which describes `site`) with `changes` made; PlanError when it cannot be edited."""
    after = apply_changes(site, changes)
    changed = {cid for cid in after.counters if after.counters[cid] != site.counters[cid]}
    if not changed:
        return text
    doc = tomlkit.parse(text)
    tables = _counter_tables(doc, source)
    position = 0
    while position < len(tables):
        table = tables[position]
        ids = _ids(table)
        mine = [cid for cid in ids if cid in changed]
        if not mine:
            position += 1
            continue
        inserted = _edit_group(tables, position, table, ids, mine, site, after)
        position += 1 + inserted
    out = tomlkit.dumps(doc)
    _check(out, after, source)
    return out


def check_editable(text: str, source: str) -> None:
    """PlanError unless the file's counters are [[counter]] tables (what the editor changes), before a search."""
    _counter_tables(tomlkit.parse(text), source)


def _counter_tables(doc: tomlkit.TOMLDocument, source: str) -> AoT:
    tables = doc.get("counter")
    if not isinstance(tables, AoT):
        raise PlanError("unsupported_layout", f"{source}: các quầy không viết dưới dạng bảng [[counter]] / the "
                        "counters are not written as [[counter]] tables, which the planner edits")
    return tables


def _ids(table: Table) -> list[int]:
    if "ids" in table:
        return [int(x) for x in table["ids"]]
    return [int(table["id"])]


def _edit_group(tables: AoT, position: int, table: Table, ids: list[int], mine: list[int], site: Site,
                after: Site) -> int:
    """Edit one [[counter]] table for its changed counters; return how many tables were inserted after it."""
    # Counters changed alike share a table: keyed by what they become.
    alike: dict[Counter, list[int]] = defaultdict(list)
    for cid in mine:
        alike[_shape(after.counters[cid])].append(cid)
    classes = sorted(alike.values(), key=lambda group: group[0])
    old = site.counters[ids[0]]
    stays = [cid for cid in ids if cid not in mine]
    trailing = _detach_trailing(table)
    template = table.as_string()
    if not stays:
        # Every counter of the table changes: the table itself takes the first set.
        first = classes.pop(0)
        _set_ids(table, first, ids)
        _make(table, old, after.counters[first[0]])
    else:
        _set_ids(table, stays, ids)
    last = table
    for index, group in enumerate(classes):
        last.add(tomlkit.nl())
        last = _copy(template, group)
        _make(last, old, after.counters[group[0]])
        tables.insert(position + 1 + index, last)
    for item in trailing:
        last.value.append(None, item)
    return len(classes)


def _shape(counter: Counter) -> Counter:
    """A counter without its number: what two counters changed alike have in common."""
    return Counter(id=0, serves=counter.serves, priority=counter.priority, standby=counter.standby,
                   fixed=counter.fixed, breaks=counter.breaks, standby_plan=counter.standby_plan)


def _set_ids(table: Table, keep: list[int], ids: list[int]) -> None:
    if "ids" not in table:
        return  # `id = N`: a table of one counter, never split
    array = table["ids"]
    assert isinstance(array, Array)
    for index in reversed(range(len(ids))):
        if ids[index] not in keep:
            del array[index]


def _detach_trailing(table: Table) -> list[Item]:
    """Take the blank lines and comments after the table's last key: they introduce what follows it."""
    body = table.value.body
    trailing: list[Item] = []
    while body and body[-1][0] is None:
        trailing.insert(0, body.pop()[1])
    return trailing


def _copy(body: str, ids: list[int]) -> Table:
    """A fresh [[counter]] table with the same keys, layout and key comments as `body`, for `ids`."""
    copy = tomlkit.parse("[[counter]]\n" + body.rstrip("\n") + "\n")["counter"][0]
    assert isinstance(copy, Table)
    if "ids" in copy:
        copy["ids"] = ids
    else:
        copy["id"] = ids[0]
    return copy


def _make(table: Table, old: Counter, new: Counter) -> None:
    """Edit the table's keys from what `old` has to what `new` has (serves, standby_plan, breaks)."""
    if new.serves != old.serves:
        serves = table["serves"]
        assert isinstance(serves, Array)
        for agency in new.serves[len(old.serves):]:
            serves.append(agency)
    if new.standby_plan != old.standby_plan:
        added = [s for s in new.standby_plan if s not in old.standby_plan]
        if "standby_plan" in table:
            plan = table["standby_plan"]
            assert isinstance(plan, Array)
            for shift in added:
                plan.append(_shift(shift))
        else:
            plan = tomlkit.array()
            for shift in added:
                plan.append(_shift(shift))
            _insert_key(table, "standby_plan", plan)
    if new.breaks != old.breaks:
        breaks = table["breaks"]
        assert isinstance(breaks, Array)
        olds = set(old.breaks or ()) - set(new.breaks or ())
        news = sorted(set(new.breaks or ()) - set(old.breaks or ()))
        for index, pair in enumerate(list(breaks)):
            span = (minutes(str(pair[0])), minutes(str(pair[1])))
            if span in olds and news:
                start, end = news.pop(0)
                breaks[index] = [hhmm(start), hhmm(end)]


def _shift(shift: PlannedShift) -> InlineTable:
    entry = tomlkit.inline_table()
    entry.update({"from": hhmm(shift.start_min), "to": hhmm(shift.end_min), "serves": list(shift.serves)})
    return entry


def _insert_key(table: Table, key: str, value: Any) -> None:
    """Add a key after the table's last key (before the comments that follow the table)."""
    body = table.value.body
    last = max((i for i, (k, _v) in enumerate(body) if k is not None), default=-1)
    if last + 1 >= len(body):
        table.append(key, value)
    else:
        table.value._insert_at(last + 1, key, value)


def _check(text: str, after: Site, source: str) -> None:
    """The edited file loads, and its counters are the proposal's (nothing else changed in them)."""
    try:
        edited = site_from_dict(tomlkit.parse(text).unwrap(), source)
    except SiteError as exc:
        raise PlanError("edit_failed", f"tệp đã sửa không hợp lệ / the edited file does not load: {exc}") from None
    if dict(edited.counters) != dict(after.counters):
        raise PlanError("edit_failed", "tệp đã sửa không khớp với đề xuất / the edited file's counters differ "
                        "from the proposal (an unusual layout of [[counter]] tables?)")
