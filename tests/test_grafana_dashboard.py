"""The shipped Grafana dashboard charts only series that /metrics really exports."""

from __future__ import annotations

import asyncio
import json
import re
from pathlib import Path

from controller.api.metrics import render_metrics
from controller.runtime.controller import Controller
from controller.sitefile import load_sites
from controller.store.sqlite import SqliteEventStore

ROOT = Path(__file__).resolve().parent.parent
DASHBOARD = ROOT / "docs" / "grafana" / "motcua-dashboard.json"


def exported_series(tmp_path: Path) -> set[str]:
    async def scrape() -> str:
        async with SqliteEventStore(tmp_path / "events.db") as store:
            controller = Controller(load_sites(ROOT / "controller" / "sites" / "commune-centre.toml"), store)
            await controller.start(tick=False)
            return render_metrics(controller).decode()

    text = asyncio.run(scrape())
    # Families are declared even before they have samples (no ratings yet, say).
    return {m.group(1) for m in re.finditer(r"^# TYPE ([a-z_]+) ", text, re.MULTILINE)}


def test_dashboard_queries_only_exported_series(tmp_path: Path) -> None:
    dashboard = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    exprs = [t["expr"] for p in dashboard["panels"] for t in p["targets"]]
    used = {name for expr in exprs for name in re.findall(r"\b(motcua_[a-z_]+)\b", expr)}
    assert used, "the dashboard charts nothing"
    exported = exported_series(tmp_path)
    assert used <= exported, f"charted but not exported: {sorted(used - exported)}"
    assert all('site=~"$site"' in expr for expr in exprs)
