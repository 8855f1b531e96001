"""Voice: latency from `announcer.announce()` (on ticket.called) to the start of audio output.

The clip library is warm (espeak-ng clips rendered into a temporary voice
directory first, then loaded); each call waits for the previous one to start,
is cut as soon as it starts, so every call meets an idle zone queue, as a
first call after a quiet moment does. "Start of audio" is the moment
pygame's Channel.play() has returned, taken in the playing thread; SDL's dummy
audio driver runs in real time but writes nowhere.

A second run measures the same through the running controller: from the
moment ticket.called is committed by the site's writer (a commit listener
placed first takes the time) through the controller's voice wiring
(controller/devices/speakers.py: VoiceSay, the site's Announcer, the
staleness check against the floor) to Channel.play().

    python -m benchmarks.run bench_voice
"""

from __future__ import annotations

import asyncio
import os
import random
import statistics
import tempfile
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from devices.voice import ClipLibrary, PygamePlayer

CALLS = 200
GOAL_P95_MS = 300.0


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def run() -> str:
    """Measure announce -> Channel.play latency; return a markdown section."""
    # The benchmark is an edge: it chooses the audio driver before pygame starts.
    os.environ.setdefault("SDL_AUDIODRIVER", "dummy")
    os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")
    from devices.voice import (
        Announcement,
        AnnouncementTemplate,
        Announcer,
        ClipLibrary,
        PygamePlayer,
        mixer_session,
        plan,
        runtime_renderer,
    )
    from devices.voice.compose import compose

    template = AnnouncementTemplate()
    rng = random.Random(7)
    with tempfile.TemporaryDirectory(prefix="motcua-bench-voice-") as tmp:
        root = Path(tmp)
        started = time.perf_counter()
        cold = ClipLibrary(runtime_renderer(root)).warm(template.clip_inventory())
        cold_s = time.perf_counter() - started
        library = ClipLibrary(runtime_renderer(root))
        started = time.perf_counter()
        warm = library.warm(template.clip_inventory())
        warm_s = time.perf_counter() - started

        calls = [Announcement(f"t{i}", str(rng.randint(1001, 20999)), counter=rng.randint(1, 40)) for i in range(CALLS)]
        compose_ms: list[float] = []
        for call in calls[:50]:
            t0 = time.perf_counter()
            compose(plan(call, template), library)
            compose_ms.append((time.perf_counter() - t0) * 1000)

        playing = threading.Event()
        starts: list[float] = []

        def on_start(label: str, at: float) -> None:
            starts.append(at)
            playing.set()

        player = PygamePlayer(on_start=on_start)
        latencies_ms: list[float] = []

        async def scenario() -> None:
            async with Announcer(template, library, lambda zone: player, warm=False) as announcer:
                for call in calls:
                    playing.clear()
                    t0 = time.perf_counter()
                    await announcer.announce(call)
                    if not await asyncio.to_thread(playing.wait, 10.0):
                        raise RuntimeError("playback did not start")
                    latencies_ms.append((starts[-1] - t0) * 1000)
                    player.stop()
                    await announcer.join()

        with mixer_session():
            import pygame

            driver = os.environ.get("SDL_AUDIODRIVER", "default")
            mixer = pygame.mixer.get_init()
            asyncio.run(scenario())

        with mixer_session():
            wired_ms = asyncio.run(_through_controller(library, PygamePlayer))

    p50 = statistics.median(latencies_ms)
    p95 = _percentile(latencies_ms, 0.95)
    verdict = "met" if p95 < GOAL_P95_MS else "MISSED"
    return f"""## Voice: ticket.called to start of audio

What: time from `await announcer.announce(Announcement(...))` to the moment
`pygame.mixer.Channel.play()` has returned in the zone's player thread, over
{CALLS} calls with random ticket numbers (1001..20999) and counters (1..40),
default template (chime, Vietnamese call, said twice), warm clip library,
idle zone queue for each call. Audio driver: SDL `{driver}`, mixer {mixer}
(rate, size, channels), 512-frame buffer (~23 ms more until the device plays
the first sample on real hardware).

Goal: p95 < {GOAL_P95_MS:.0f} ms: **{verdict}**.

| measure | value |
|---|---|
| announce -> Channel.play, p50 | {p50:.2f} ms |
| announce -> Channel.play, p95 | {p95:.2f} ms |
| announce -> Channel.play, max | {max(latencies_ms):.2f} ms |
| of which plan + compose (in-thread), p50 | {statistics.median(compose_ms):.2f} ms |
| ticket.called committed -> Channel.play, through the controller, p50 | {statistics.median(wired_ms):.2f} ms |
| ticket.called committed -> Channel.play, through the controller, p95 | {_percentile(wired_ms, 0.95):.2f} ms |
| library cold build, espeak-ng, {cold.ready} clips | {cold_s:.2f} s |
| library warm load from disk cache, {warm.ready} clips | {warm_s:.2f} s |

Command: `python -m benchmarks.run bench_voice`
"""


async def _through_controller(library: ClipLibrary, player_class: type[PygamePlayer]) -> list[float]:
    """ticket.called committed in a controller (SQLite log) -> start of audio, CALLS times."""
    from controller.core.commands import CallNext, Finish, IssueTicket, OpenCounter, Start
    from controller.devices.speakers import voice_service
    from controller.runtime.controller import Controller
    from controller.runtime.site_runtime import Committed
    from controller.sitefile import load_sites
    from controller.store import open_store

    site_file = Path(__file__).resolve().parent.parent / "controller" / "sites" / "commune-centre.toml"
    playing = threading.Event()
    starts: list[float] = []
    committed_at: list[float] = []

    def on_start(label: str, at: float) -> None:
        starts.append(at)
        playing.set()

    def stamp(site: str, committed: Committed) -> None:
        if any(e.type == "ticket.called" for e in committed.events):
            committed_at.append(time.perf_counter())

    player = player_class(on_start=on_start)
    latencies: list[float] = []
    with tempfile.TemporaryDirectory(prefix="motcua-bench-voice-ctl-") as data:
        store = await open_store("sqlite", data)
        controller = Controller(load_sites(site_file), store, check_hours=False)
        await controller.start(tick=False)
        runtime = controller.runtime("xa")
        runtime.listeners.insert(0, stamp)  # first: the commit itself, before any device work
        await runtime.execute(OpenCounter(1, staff="bench"))
        try:
            async with voice_service(controller, "sim", None, player=player, library=library) as voice:
                assert voice.local is not None
                for _ in range(CALLS):
                    await runtime.execute(IssueTicket("ht-khai-sinh", check_hours=False))
                    playing.clear()
                    await runtime.execute(CallNext(1))
                    if not await asyncio.to_thread(playing.wait, 10.0):
                        raise RuntimeError("playback did not start")
                    latencies.append((starts[-1] - committed_at[-1]) * 1000)
                    player.stop()
                    await voice.local.join()
                    await runtime.execute(Start(1))
                    await runtime.execute(Finish(1))
        finally:
            await controller.stop()
            await store.close()
    return latencies


if __name__ == "__main__":
    print(run())
