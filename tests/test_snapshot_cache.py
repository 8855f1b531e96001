"""The monitor snapshot is computed once per floor change and shared by every reader for up to a second."""

from __future__ import annotations

import asyncio
from pathlib import Path

from controller.core.commands import IssueTicket
from controller.runtime.hub import Hub
from controller.runtime.site_runtime import SNAPSHOT_MAX_AGE_S, SiteRuntime
from controller.sitefile import load_sites
from controller.store.sqlite import SqliteEventStore

SITES = Path(__file__).resolve().parent.parent / "controller" / "sites"
NOW = 1_795_300_000.0


def test_readers_share_one_snapshot_until_the_floor_changes_or_a_second_passes(tmp_path: Path) -> None:
    async def scenario() -> None:
        site = load_sites(SITES / "commune-centre.toml")[0]
        clock = [NOW]
        async with SqliteEventStore(tmp_path / "events.db") as store:
            runtime = SiteRuntime(site, store, Hub(), clock=lambda: clock[0], check_hours=False)
            await runtime.recover()
            procedure = site.kiosk_procedures()[0]
            first = runtime.monitor_snapshot()
            clock[0] += 0.5
            assert runtime.monitor_snapshot() is first  # nothing changed, half a second on: shared
            await runtime.execute(IssueTicket(procedure=procedure.id, check_hours=False))
            changed = runtime.monitor_snapshot()
            assert changed is not first
            waiting = {a["id"]: a["waiting"] for a in changed["agencies"]}
            assert waiting[procedure.agency] == 1  # the change is seen at once
            clock[0] += SNAPSHOT_MAX_AGE_S
            later = runtime.monitor_snapshot()
            assert later is not changed  # waits moved with the clock: computed again
            longest = {a["id"]: a["longest_wait_s"] for a in later["agencies"]}
            assert longest[procedure.agency] >= SNAPSHOT_MAX_AGE_S

    asyncio.run(scenario())
