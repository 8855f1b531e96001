"""Users and per-device ACLs in the embedded broker: the same rules mosquitto gets from `motcua mqtt-config`.

amqtt's own plugins do not fit: its password file wants argon2 or bcrypt
hashes (ours are mosquitto's PBKDF2), and its ACL plugin neither checks a
client's last will nor the retained messages it sends on subscribe. These two
plugins ask the registry-derived `MqttUser`s of devices/mqtt_acl.py, the
source of the mosquitto acl file, so both brokers enforce one rule set:

- CONNECT: a known username with its password, and a last will only on a
  topic the user may publish (mosquitto checks the will too); else refused.
- PUBLISH outside the user's write grants: dropped (acknowledged, as MQTT
  3.1.1 has no negative PUBACK), logged.
- SUBSCRIBE: granted only for filters inside the user's read grants
  (return code 0x80 otherwise), so retained messages cannot leak.
- delivery: checked again against the read grants for every message.
"""

from __future__ import annotations

import hmac
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from amqtt.contexts import Action
from amqtt.plugins.base import BaseAuthPlugin, BaseTopicPlugin
from amqtt.session import Session

from devices.mqtt_acl import MqttUser

__all__ = ["BrokerAccess", "MotcuaAuthPlugin", "MotcuaTopicPlugin", "plugin_config"]

log = logging.getLogger(__name__)


class BrokerAccess:
    """Who may connect (username and password) and which topics each one may use."""

    def __init__(self, users: Sequence[MqttUser], passwords: Mapping[str, str]) -> None:
        missing = [u.username for u in users if not passwords.get(u.username)]
        if missing:
            raise ValueError(f"no password for MQTT user(s) {', '.join(missing[:5])}")
        self.users = {u.username: u for u in users}
        self._passwords = {u.username: passwords[u.username].encode("utf-8") for u in users}

    def authenticate(self, username: str | None, password: str | None, will_topic: str | None) -> bool:
        """Whether a CONNECT is accepted: its credentials, and its last will's topic."""
        expected = self._passwords.get(username or "")
        # compare even for an unknown user, so timing does not tell which names exist
        given = (password or "").encode("utf-8")
        matches = hmac.compare_digest(given, expected or b"\x00" * 32) and expected is not None
        if not matches:
            return self._refuse("CONNECT of %r refused: unknown user or wrong password", username)
        user = self.users[username or ""]
        if will_topic is not None and not user.may_publish(will_topic):
            return self._refuse("CONNECT of %r refused: last will on %s is not its topic", username, will_topic)
        return True

    def allows(self, username: str | None, action: Action, topic: str) -> bool:
        """Whether an authenticated user may publish, subscribe to or receive on a topic."""
        user = self.users.get(username or "")
        if user is None:
            return False
        if action == Action.PUBLISH:
            return user.may_publish(topic) or self._refuse("%s may not publish on %s: dropped", username, topic)
        if action == Action.SUBSCRIBE:
            return user.may_subscribe(topic) or self._refuse("%s may not subscribe to %s", username, topic)
        return user.may_receive(topic)

    @staticmethod
    def _refuse(message: str, *args: object) -> bool:
        # a refusal is worth a line in the controller's log: a misconfigured or hostile device
        log.warning("embedded MQTT broker: " + message, *args)
        return False


class MotcuaAuthPlugin(BaseAuthPlugin):  # type: ignore[misc]  # amqtt ships no type hints
    """amqtt authentication by BrokerAccess: the only auth plugin the embedded broker loads."""

    @dataclass
    class Config:
        access: BrokerAccess = field(default_factory=lambda: BrokerAccess([], {}))

    async def authenticate(self, *, session: Session) -> bool | None:
        access: BrokerAccess = self.config.access
        will = session.will_topic if session.will_flag else None
        return access.authenticate(session.username, session.password, will)


class MotcuaTopicPlugin(BaseTopicPlugin):  # type: ignore[misc]  # amqtt ships no type hints
    """amqtt topic filtering by BrokerAccess, for publish, subscribe and every delivery."""

    @dataclass
    class Config:
        access: BrokerAccess = field(default_factory=lambda: BrokerAccess([], {}))

    async def topic_filtering(
        self, *, session: Session | None = None, topic: str | None = None, action: Action | None = None
    ) -> bool | None:
        if session is None or topic is None or action is None:
            return False
        access: BrokerAccess = self.config.access
        return access.allows(session.username, action, topic)


def plugin_config(access: BrokerAccess) -> dict[str, dict[str, BrokerAccess]]:
    """The `plugins` section of an amqtt broker config that enforces access."""
    return {
        f"{__name__}.MotcuaAuthPlugin": {"access": access},
        f"{__name__}.MotcuaTopicPlugin": {"access": access},
    }
