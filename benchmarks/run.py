"""`make bench`: run every benchmarks/bench_*.py and write docs/BENCHMARKS.md.

`python -m benchmarks.run bench_a bench_b` re-runs only those and replaces their
sections in the existing file. Each bench module exposes `run() -> str`, returning one markdown section that
states what it measured, the goal, the figures (medians, p99, ratios measured
side by side in one run) and the command that reproduces it.
"""

from __future__ import annotations

import importlib
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def machine_line() -> str:
    """Describe the machine the figures come from."""
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem_gib = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return (
        f"{cpu}, {os.cpu_count()} cores, {mem_gib:.0f} GiB, "
        f"{platform.system()} {platform.release()}, Python {platform.python_version()}"
    )


def process_cpu_s(pid: int) -> float:
    """CPU seconds (user + system) a running process has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _split(text: str) -> list[str]:
    """The `## ` sections of a BENCHMARKS.md, without its header."""
    parts = ("\n" + text).split("\n## ")[1:]
    return ["## " + part.strip() for part in parts]


def _merge(previous: str, fresh: list[str]) -> list[str]:
    """Previous sections with those of the same heading replaced by the fresh ones."""
    heading = {section.splitlines()[0]: section for section in fresh}
    merged = [heading.pop(old.splitlines()[0], old) for old in _split(previous)]
    return merged + list(heading.values())


def main(argv: list[str]) -> int:
    only = set(argv[1:])
    modules = sorted(p.stem for p in (ROOT / "benchmarks").glob("bench_*.py"))
    sections: list[str] = []
    for name in modules:
        if only and name not in only:
            continue
        print(f"running {name} ...", file=sys.stderr, flush=True)
        started = time.perf_counter()
        try:
            module = importlib.import_module(f"benchmarks.{name}")
            sections.append(module.run().strip())
        except Exception as exc:  # one broken bench must not hide the others' figures
            sections.append(f"## {name}\n\nFAILED in this run: {type(exc).__name__}: {exc}")
        print(f"  {name}: {time.perf_counter() - started:.1f}s", file=sys.stderr)
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=ROOT
    ).stdout.strip()
    header = (
        "# Benchmarks\n\n"
        "Written by `make bench` (`python -m benchmarks.run [bench_name ...]`).\n\n"
        f"- Machine: {machine_line()}\n"
        f"- Commit: {commit or 'uncommitted'}; run at {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}\n"
    )
    out = ROOT / "docs" / "BENCHMARKS.md"
    out.parent.mkdir(exist_ok=True)
    if only and out.exists():
        # Named benches replace their own sections; the other sections keep their figures.
        sections = _merge(out.read_text(encoding="utf-8"), sections)
        header += f"- Re-run on that commit: {', '.join(sorted(only))} (the other sections come from an earlier run)\n"
    out.write_text(header + "\n" + "\n\n".join(sections) + "\n", encoding="utf-8")
    print(f"wrote {out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
