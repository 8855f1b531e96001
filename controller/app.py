"""The FastAPI application factory: settings in, a running floor controller out.

Lifetimes (event log, accounts, the tick loop) are owned by the lifespan, so
nothing is built at import time and tests can start many apps side by side.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from argon2 import PasswordHasher
from fastapi import FastAPI, Request
from fastapi.responses import PlainTextResponse, Response

from controller.accounts import AccountStore
from controller.api import (
    appointments,
    board,
    evaluation,
    feed,
    feedback,
    kiosk_desk,
    live,
    lockouts,
    pages,
    reasons,
    remote,
    reports,
    routes,
    testing,
)
from controller.api.away import RemoteDesk
from controller.api.bodies import JsonBodyMiddleware
from controller.api.errors import install_error_handlers
from controller.api.forward import ForwardMiddleware
from controller.api.headers import SecurityHeadersMiddleware
from controller.api.login_guard import LoginGuard, LoginStats
from controller.api.metrics import render_metrics
from controller.api.openapi import install_openapi
from controller.api.ratelimit import RateLimiter, RateLimits
from controller.api.scale_out import scale_out
from controller.connections import ConnectionTable
from controller.core.site import Site
from controller.demo import seed_demo
from controller.devices.service import device_service
from controller.notify.service import notify_service
from controller.redis_tokens import RedisTokens
from controller.remote.book import RemoteBook
from controller.remote.later import held_numbers
from controller.runtime.clock import AdjustableClock
from controller.runtime.controller import Controller
from controller.settings import Settings, SettingsError
from controller.sitefile import load_sites
from controller.store import open_store
from controller.store.books import open_book, open_feedback
from controller.store.feedback import FeedbackBook
from firmware_bridge.mqtt_security import MqttSecurity, MqttSecurityError, security_from_args

__all__ = ["create_app"]

log = logging.getLogger("motcua")


def _accounts(settings: Settings, sites: list[Site]) -> tuple[AccountStore, list[str]]:
    # with sites partitioned over processes, tokens live in the Redis they share (redis_tokens.py)
    tokens = RedisTokens.connect(settings.store) if settings.partitioned else None
    if settings.demo:
        # Demo PINs are verified at every login; light argon2 parameters keep the demo snappy.
        store = AccountStore(settings.accounts_path, PasswordHasher(time_cost=1, memory_cost=8192), tokens)
        lines = seed_demo(store, sites)
        return store, lines
    store = AccountStore(settings.accounts_path, tokens=tokens)
    if store.count() == 0:
        store.close()
        raise SettingsError(
            "accounts_db" if settings.accounts_db else "data_dir",
            f"chưa có tài khoản nào trong {settings.accounts_path}: thêm bằng "
            "`motcua users add --data-dir DIR --user TÊN --role manager|staff|admin|ops|kiosk`, "
            "hoặc chạy với --demo để có tài khoản demo",
            f"no accounts are configured in {settings.accounts_path}: add them with "
            "`motcua users add --data-dir DIR --user NAME --role manager|staff|admin|ops|kiosk`, "
            "or run with --demo for the demo accounts")
    return store, []


@asynccontextmanager
async def feedback_book(settings: Settings) -> AsyncIterator[FeedbackBook]:
    """Citizens' feedback beside the event log: DATA_DIR/feedback.db, or the Redis every process shares."""
    book = await open_feedback(settings.store, settings.data_dir)
    try:
        yield book
    finally:
        await book.close()


@asynccontextmanager
async def remote_book(settings: Settings) -> AsyncIterator[RemoteBook | None]:
    """DATA_DIR/remote.db with the SQLite store; none with Redis (sites move between processes, the book would not)."""
    if settings.store != "sqlite":
        yield None
        return
    async with RemoteBook(settings.data_dir / "remote.db") as book:
        yield book


def create_app(settings: Settings, clock: Callable[[], float] = time.time) -> FastAPI:
    """Build the app; sites are validated now, so a bad file stops start-up before serving."""
    sites = load_sites(settings.site_file)
    if settings.test_clock and not isinstance(clock, AdjustableClock):
        clock = AdjustableClock()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    accounts, demo_lines = _accounts(settings, sites)
    if not settings.demo and settings.public_url_problem:
        log.warning("%s", settings.public_url_problem)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        store = await open_store(settings.store, str(settings.data_dir))
        try:
            app.state.appointments = await open_book(settings.store, str(settings.data_dir))
        except BaseException:
            await store.close()
            raise
        controller = Controller(
            sites, store, settings.policy, clock, settings.check_hours, serve_all=not settings.partitioned
        )
        app.state.controller = controller
        await controller.start(tick=settings.tick)
        try:
            # devices stop before the writers they feed; with Redis, sites are shared out (scale_out.py)
            async with (
                remote_book(settings) as away_book,
                scale_out(app, settings, controller, store),
                device_service(settings, controller, store,
                               check_code=None if away_book is None else away_book.check_code) as devices,
                notify_service(settings.sms_channels, controller, settings.data_dir) as notifier,
                feedback_book(settings) as feedback_items,
            ):
                app.state.feedback = feedback_items
                app.state.devices = devices
                app.state.notifier = notifier
                # places held away (numbers from a phone, which also need texts; numbers that return later; the
                # ID card's limits and links): the book beside the event log
                desk = None if away_book is None else RemoteDesk(away_book)
                app.state.remote = desk
                # numbers held for a later day's opening are issued then (they need the texts for their phones)
                async with held_numbers(controller, None if desk is None else desk.book, notifier,
                                        None if desk is None else desk.locks) as held:
                    if desk is not None:
                        desk.held = held
                    for line in demo_lines:
                        log.warning("demo account: %s", line)
                    yield
        finally:
            await controller.stop()
            await app.state.appointments.close()
            await store.close()
            accounts.close()

    app = FastAPI(
        title="motcua",
        summary="Floor controller for one-stop public service centres",
        version="1.0",
        lifespan=lifespan,
        docs_url=None,  # /docs is pages.py's: FastAPI's loads Swagger UI from a CDN with an inline script
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.accounts = accounts
    app.state.sites = {s.id: s for s in sites}
    booking_rate = settings.booking_rate_per_minute
    app.state.rate_limits = RateLimits(
        kiosk_per_minute=settings.kiosk_rate_per_minute, kiosk_burst=max(10, int(settings.kiosk_rate_per_minute / 3)),
        booking_per_minute=booking_rate, booking_burst=max(3, int(booking_rate / 3)),
        lookup_per_minute=10 * booking_rate, lookup_burst=max(10, int(10 * booking_rate / 3)),
    )
    app.state.rate_limiter = RateLimiter()
    app.state.login_guard = LoginGuard()
    app.state.connections = ConnectionTable(settings.connection_limits)  # serve.py's protocols keep it
    app.state.feedback = None  # the lifespan opens the feedback book (feedback.py)
    app.state.notifier = None  # the lifespan sets the SMS notifier when --sms asks for one
    app.state.remote = None  # ... and the desk of places held away (api/away.py)
    if settings.test_clock:
        app.state.test_clock = clock
        app.include_router(testing.router)
    install_error_handlers(app)
    install_openapi(app)
    if settings.partitioned:
        app.add_middleware(ForwardMiddleware)  # requests for other processes' sites go to them
    app.add_middleware(JsonBodyMiddleware)  # a body refused here is never forwarded or read whole
    app.add_middleware(SecurityHeadersMiddleware)  # outermost: every answer carries them, refusals too
    app.include_router(routes.router)
    app.include_router(lockouts.router)
    app.include_router(appointments.router)
    app.include_router(reasons.router)
    app.include_router(feedback.router)
    app.include_router(remote.router)
    app.include_router(kiosk_desk.router)
    app.include_router(live.router)
    app.include_router(pages.router)
    app.include_router(board.router)
    app.include_router(reports.router)
    app.include_router(evaluation.router)
    app.include_router(feed.router)

    @app.get("/healthz")
    async def healthz(request: Request) -> dict[str, Any]:
        controller: Controller = request.app.state.controller
        return {
            "status": "ok",
            "sites": len(controller.runtimes),
            "store": settings.store,
            "role": "follower" if settings.follow_only else "writer",
            "uptime_s": round(controller.clock() - controller.started_at, 1),
        }

    @app.get("/metrics", response_class=PlainTextResponse)
    async def metrics(request: Request) -> Response:
        notifier = request.app.state.notifier
        state = request.app.state
        extra = [state.devices.stats, LoginStats(state.login_guard), state.connections]
        extra += [notifier.stats] if notifier is not None else []
        body = render_metrics(request.app.state.controller, *extra)
        return Response(body, media_type="text/plain; version=0.0.4; charset=utf-8")

    return app


def settings_from_args(args: Any) -> Settings:
    """Settings from the parsed `motcua serve` arguments."""
    return Settings(
        site_file=Path(args.site),
        data_dir=Path(args.data_dir),
        host=args.host,
        port=args.port,
        store=args.store,
        mqtt=args.mqtt,
        devices=args.devices,
        demo=args.demo,
        any_hour=args.any_hour,
        kiosk_rate_per_minute=args.kiosk_rate,
        booking_rate_per_minute=getattr(args, "booking_rate", 1.0),
        test_clock=getattr(args, "test_clock", False),
        public_url=getattr(args, "public_url", ""),
        advertise_url=getattr(args, "advertise_url", ""),
        lease_ttl_s=getattr(args, "lease_ttl", 5.0),
        accounts_db=Path(args.accounts_db) if getattr(args, "accounts_db", None) else None,
        mqtt_security=_mqtt_security(args),
        sms=getattr(args, "sms", "none"),
        sms_fallback=getattr(args, "sms_fallback", "none"),
        zns_templates=getattr(args, "zns_templates", ""),
        follow_only=getattr(args, "follow_only", False),
        head_timeout_s=getattr(args, "head_timeout", 10.0),
        body_timeout_s=getattr(args, "body_timeout", 30.0),
        max_connections_per_client=getattr(args, "max_connections_per_client", 64),
        trusted_proxies=os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1,::1"),  # what uvicorn trusts
    )


def _mqtt_security(args: Any) -> MqttSecurity | None:
    try:
        return security_from_args(args)
    except MqttSecurityError as exc:
        raise SettingsError(exc.flag.removeprefix("--").replace("-", "_"), exc.reason_vi, exc.reason_en) from None
