"""`--mqtt embedded`: an MQTT broker inside the controller process, for `make run` and demos.

amqtt (MQTT 3.1.1, asyncio, retained messages, last wills, QoS 1) runs on the
controller's event loop. It pins websockets==15.0.1, the version the controller
already uses for its live stream, so it costs no second websockets stack; paho
2.x clients (the router, the emulators, bridges) talk to it as to mosquitto.
Production floors use mosquitto (`--mqtt mqtt://HOST:PORT`): it persists
sessions and serves many hundreds of devices without sharing a loop with the
controller.

Like the mosquitto of `motcua mqtt-config`, it has one user per device, bridge
and the controller, each allowed only its own topics (broker_auth.py). Their
passwords are kept in DATA_DIR/mqtt/secrets.toml (mode 0600, the format
mqtt-config writes), drawn at the first start and kept after: the emulated
devices of `--devices sim` read theirs from it, a real device or bridge is
given its entry.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from amqtt.adapters import ReaderAdapter, WriterAdapter
from amqtt.broker import Broker
from amqtt.errors import MQTTError
from amqtt.mqtt.connack import NOT_AUTHORIZED, ConnackPacket
from amqtt.mqtt.protocol.broker_handler import BrokerProtocolHandler
from amqtt.session import Session
from amqtt.utils import gen_client_id

from controller.devices.broker_auth import BrokerAccess, plugin_config
from devices.mqtt_acl import CONTROLLER_USER, MqttUser, floor_users
from devices.mqtt_secrets import ensure_passwords
from devices.registry import DeviceSpec
from firmware_bridge.mqtt_security import MqttSecurity

__all__ = ["SECRETS_FILE", "BrokerCredentials", "broker_credentials", "embedded_broker"]

log = logging.getLogger(__name__)

SECRETS_FILE: Final = Path("mqtt") / "secrets.toml"


@dataclass(frozen=True)
class BrokerCredentials:
    """The users of the embedded broker and their clear passwords."""

    users: tuple[MqttUser, ...]
    passwords: Mapping[str, str]

    def security(self, username: str) -> MqttSecurity:
        """What a client of this broker logs in with."""
        return MqttSecurity(username=username, password=self.passwords[username])

    @property
    def controller(self) -> MqttSecurity:
        """The controller's own login."""
        return self.security(CONTROLLER_USER)


async def broker_credentials(data_dir: Path, devices: Sequence[tuple[str, DeviceSpec]]) -> BrokerCredentials:
    """Users from the registry, passwords kept in DATA_DIR/mqtt/secrets.toml (new users get new ones)."""
    by_site: dict[str, list[DeviceSpec]] = {}
    for site, spec in devices:
        by_site.setdefault(site, []).append(spec)
    users = tuple(floor_users(by_site))
    passwords = await asyncio.to_thread(ensure_passwords, data_dir / SECRETS_FILE, users)
    return BrokerCredentials(users, passwords)


class _Broker(Broker):  # type: ignore[misc]  # amqtt ships no type hints
    """amqtt's broker without its retained-message leak, and logging in before any take-over.

    amqtt 0.12 sends a client, when it connects, the retained messages matching every
    subscription of every client (it means "this session's own", for a resumed
    session): a display would get the keypads' statuses, past any ACL. Here a filter
    the session does not hold sends nothing. tests/test_mqtt_embedded.py shows it.

    amqtt 0.12 also acts on a CONNECT's client id before it checks the password: a
    clean-session CONNECT deletes the session of a logged-in client with that id
    (disconnecting it), a resuming one overwrites its credentials and last will,
    and the take-over happens before the refusal is sent. Anyone reaching the port
    could knock a display off by its id. Here a CONNECT is authenticated first, and
    refused without touching any session; a session is resumed only by its own user
    (another user, even a valid one, starts a clean one). tests/test_mqtt_broker_login.py.
    """

    async def _initialize_client_session(
        self, reader: ReaderAdapter, writer: WriterAdapter, remote_address: str, remote_port: int
    ) -> tuple[BrokerProtocolHandler, Session]:
        # amqtt's own method with the log-in moved to the front (it reads the same CONNECT and raises the
        # same errors, which the caller logs); amqtt is pinned in pyproject.toml for these internals
        try:
            handler, session = await BrokerProtocolHandler.init_from_connect(reader, writer, self.plugins_manager)
        except MQTTError:
            await writer.close()
            raise
        if not await self._authenticate(session, None):
            await ConnackPacket.build(0, NOT_AUTHORIZED).to_stream(writer)
            await writer.close()
            raise MQTTError(f"login refused for user {session.username!r} (client id {session.client_id!r})")
        held = self._sessions.get(session.client_id) if session.client_id else None
        if held is not None and not session.clean_session and held[0].username != session.username:
            session.clean_session = True  # never hand one user's session (subscriptions, queue) to another
        if session.clean_session:
            if session.client_id:
                await self._delete_session(session.client_id)
            else:
                session.client_id = gen_client_id()
            session.parent = 0
        elif held is not None:
            resumed: Session = held[0]
            for name in ("will_flag", "will_message", "will_topic", "will_qos", "keep_alive", "username", "password"):
                setattr(resumed, name, getattr(session, name))
            session = resumed
            session.parent = 1
        else:
            session.parent = 0
        delay = self.config.get("timeout-disconnect-delay", 0)
        if session.keep_alive > 0 and isinstance(delay, int):
            session.keep_alive += delay
        return handler, session

    async def _publish_retained_messages_for_subscription(self, subscription: tuple[str, int],
                                                          session: Session) -> None:
        holders = self._subscriptions.get(subscription[0], ())
        if any(held.client_id == session.client_id for held, _ in holders):
            await super()._publish_retained_messages_for_subscription(subscription, session)


@contextlib.asynccontextmanager
async def embedded_broker(host: str, port: int, credentials: BrokerCredentials) -> AsyncIterator[str]:
    """Run a broker on host:port for the life of the context; yields its mqtt:// url."""
    # amqtt (and its state machine library) log every connection at INFO: a floor of
    # simulated devices would drown the controller's own log
    for name in ("amqtt", "transitions"):
        logging.getLogger(name).setLevel(logging.WARNING)
    access = BrokerAccess(credentials.users, credentials.passwords)
    broker = _Broker(
        {
            "listeners": {"default": {"type": "tcp", "bind": f"{host}:{port}"}},
            # our users and ACLs only: no anonymous access, no $SYS plugin, no packet logger
            "plugins": plugin_config(access),
        }
    )
    await broker.start()
    url = f"mqtt://{host}:{port}"
    log.info("embedded MQTT broker on %s: %d users", url, len(credentials.users))
    try:
        yield url
    finally:
        await broker.shutdown()
