"""`--mqtt embedded`: an MQTT broker inside the controller process, for `make run` and demos.

amqtt (MQTT 3.1.1, asyncio, retained messages, last wills, QoS 1) runs on the
controller's event loop. It pins websockets==15.0.1, the version the controller
already uses for its live stream, so it costs no second websockets stack; paho
2.x clients (the router, the emulators, bridges) talk to it as to mosquitto.
Production floors use mosquitto (`--mqtt mqtt://HOST:PORT`): it persists
sessions and serves many hundreds of devices without sharing a loop with the
controller.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator

from amqtt.broker import Broker

__all__ = ["embedded_broker"]

log = logging.getLogger(__name__)


@contextlib.asynccontextmanager
async def embedded_broker(host: str, port: int) -> AsyncIterator[str]:
    """Run a broker on host:port for the life of the context; yields its mqtt:// url."""
    # amqtt (and its state machine library) log every connection at INFO: a floor of
    # simulated devices would drown the controller's own log
    for name in ("amqtt", "transitions"):
        logging.getLogger(name).setLevel(logging.WARNING)
    broker = Broker(
        {
            "listeners": {"default": {"type": "tcp", "bind": f"{host}:{port}"}},
            # only anonymous auth: no $SYS plugin and no packet logger on the controller's loop
            "plugins": {"amqtt.plugins.authentication.AnonymousAuthPlugin": {"allow_anonymous": True}},
        }
    )
    await broker.start()
    url = f"mqtt://{host}:{port}"
    log.info("embedded MQTT broker on %s", url)
    try:
        yield url
    finally:
        await broker.shutdown()
