"""axe-core in the browser tests: the accessibility rules of WCAG 2.1 A/AA and best practice, run in the page.

axe-core is vendored from npm with its licence (tests/vendor/axe-core/, see SOURCE there). The controller
never serves it: the test answers a request for AXE_PATH on the page's own origin with the file, so the
pages keep their strict Content-Security-Policy (scripts of this origin only) while axe runs.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from playwright.sync_api import BrowserContext, Page, Route

__all__ = ["AXE_PATH", "SEVERE", "allow_axe", "severe_violations"]

AXE_FILE = Path(__file__).resolve().parent / "vendor" / "axe-core" / "axe.min.js"
AXE_PATH = "/__test__/axe.min.js"
SEVERE = ("serious", "critical")

RUN = """async (exclude) => {
  const context = exclude.length ? { exclude: exclude.map((s) => [s]) } : document;
  const result = await axe.run(context, { resultTypes: ["violations"] });
  return result.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.map((n) => n.target.join(" ") + ": " + (n.failureSummary || "").replace(/\\s+/g, " ")) }));
}"""


def allow_axe(context: BrowserContext) -> None:
    """Serve axe-core at AXE_PATH on every origin the context's pages load."""
    source = AXE_FILE.read_bytes()

    def fulfil(route: Route) -> None:
        route.fulfill(status=200, body=source, content_type="text/javascript; charset=utf-8")

    context.route(f"**{AXE_PATH}", fulfil)


def severe_violations(page: Page, where: str, exclude: tuple[str, ...] = ()) -> list[str]:
    """The serious and critical violations axe finds in the page as it is now, one line each
    (`exclude`: CSS selectors of parts left out, each said where it is used)."""
    if not page.evaluate("() => typeof axe !== 'undefined'"):
        page.add_script_tag(url=AXE_PATH)
    found: list[dict[str, Any]] = page.evaluate(RUN, list(exclude))
    return [f"{where}: {v['impact']} {v['id']} ({v['help']}): {'; '.join(v['nodes'][:5])}"
            for v in found if v["impact"] in SEVERE]
