"""Who may use which MQTT topic: one broker user per device, bridge and controller.

Pure: from a site's device registry to users and their grants, and mosquitto's
acl_file text. Each device may touch only its own topics (CONTRACT.md section 4):

    keypad     write  keypad/{counter}/press          display   read  display/{counter}/state
    rating     write  rating/{counter}/press          printer   read  printer/{kiosk}/job
    speaker    read   voice/{zone}/say                hall display (a display of no counter)
    every one  write  device/{id}/status                        read  hall/state

Serial and Modbus devices do not speak MQTT: the bridge of their bus does, with
the union of their grants plus its own status topic. TCP devices are driven by
the controller directly and get no user. The controller reads and writes
everything under motcua/{site}/# of each site it serves.

Usernames are `{device}@{site}` (device ids are unique within a site, not across
a province), `bridge-{bus}@{site}` and `motcua-controller`.

The same users decide for both brokers: `render_acl` writes them for mosquitto,
and the embedded broker (controller/devices/broker_auth.py) asks `may_publish`,
`may_receive` and `may_subscribe` of them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Final, Literal

from devices.registry import DeviceSpec
from devices.topics import SiteTopics

__all__ = [
    "CONTROLLER_USER",
    "Grant",
    "MqttUser",
    "bridge_username",
    "controller_user",
    "device_username",
    "floor_users",
    "render_acl",
    "site_users",
    "topic_matches",
]

Access = Literal["read", "write", "readwrite"]
CONTROLLER_USER: Final = "motcua-controller"
DEFAULT_ZONE: Final = "hall"

# mosquitto's passwd and acl files are line based: no ':' (passwd separator), no spaces or
# control characters, no '#'/'+' that the acl parser could take for something else
_USERNAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.@\-]{0,127}")


@dataclass(frozen=True, slots=True)
class Grant:
    """One acl line: read (subscribe and receive), write (publish) or both on a topic filter."""

    access: Access
    topic: str

    def __post_init__(self) -> None:
        if self.access not in ("read", "write", "readwrite"):
            raise ValueError(f"access {self.access!r} must be read, write or readwrite")
        if not self.topic or any(c.isspace() for c in self.topic) or "\x00" in self.topic:
            raise ValueError(f"topic {self.topic!r} must be non-empty, without spaces")


@dataclass(frozen=True, slots=True)
class MqttUser:
    """A broker user: its name, what it may do, and the devices it speaks for."""

    username: str
    grants: tuple[Grant, ...]
    devices: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not _USERNAME.fullmatch(self.username):
            raise ValueError(f"username {self.username!r} must be letters, digits, '_', '.', '@' or '-'")

    def may_publish(self, topic: str) -> bool:
        """Whether a write grant matches this topic name (as mosquitto's acl check decides)."""
        return any(g.access != "read" and topic_matches(g.topic, topic) for g in self.grants)

    def may_receive(self, topic: str) -> bool:
        """Whether a read grant matches a message's topic name."""
        return any(g.access != "write" and topic_matches(g.topic, topic) for g in self.grants)

    def may_subscribe(self, topic_filter: str) -> bool:
        """Whether every topic the filter could match is readable.

        Stricter than mosquitto, which grants any subscription and filters each delivery:
        a broker that sends retained messages on subscribe without a per-message check
        (amqtt) is safe only if the subscription itself stays inside the grants.
        """
        return any(g.access != "write" and _covers(g.topic, topic_filter) for g in self.grants)


def topic_matches(topic_filter: str, topic: str) -> bool:
    """MQTT matching of a topic name against a filter with '+' and a final '#'."""
    wanted, given = topic_filter.split("/"), topic.split("/")
    for index, level in enumerate(wanted):
        if level == "#":
            return True  # also matches the parent level itself ("a/#" matches "a")
        if index >= len(given) or (level != "+" and level != given[index]):
            return False
    return len(wanted) == len(given)


def _covers(grant: str, topic_filter: str) -> bool:
    # every topic matched by topic_filter is matched by grant: level by level the grant is
    # at least as wide ('#' covers the rest, '+' covers one level but not a '#')
    wide, narrow = grant.split("/"), topic_filter.split("/")
    for index, level in enumerate(wide):
        if level == "#":
            return True
        if index >= len(narrow) or narrow[index] == "#":
            return False
        if level != "+" and level != narrow[index]:
            return False
    return len(wide) == len(narrow)


def device_username(site: str, device_id: str) -> str:
    """Broker username of a device that connects itself."""
    return f"{device_id}@{site}"


def bridge_username(site: str, bus: str) -> str:
    """Broker username of the bridge serving one bus."""
    return f"bridge-{bus}@{site}"


def _device_grants(topics: SiteTopics, spec: DeviceSpec) -> list[Grant]:
    grants: list[Grant] = []
    if spec.kind == "keypad" and spec.counter is not None:
        grants.append(Grant("write", topics.keypad_press(spec.counter)))
    elif spec.kind == "rating" and spec.counter is not None:
        grants.append(Grant("write", topics.rating_press(spec.counter)))
        grants.append(Grant("read", topics.rating_ask(spec.counter)))  # only a keypad with a display reads it
    elif spec.kind == "display" and spec.counter is not None:
        grants.append(Grant("read", topics.display_state(spec.counter)))
    elif spec.hall_display:
        grants.append(Grant("read", topics.hall_state()))
    elif spec.kind == "printer":
        grants.append(Grant("read", topics.printer_job(spec.kiosk or "k1")))
    elif spec.kind == "speaker":
        grants.append(Grant("read", topics.voice_say(spec.zone or DEFAULT_ZONE)))
    # its own retained status and last will
    grants.append(Grant("write", topics.device_status(spec.id)))
    return grants


def _unique(grants: Iterable[Grant]) -> tuple[Grant, ...]:
    return tuple(dict.fromkeys(grants))


def site_users(site: str, devices: Sequence[DeviceSpec]) -> list[MqttUser]:
    """The users of one site's devices: one per MQTT device, one per bus bridge."""
    topics = SiteTopics(site)
    users: list[MqttUser] = []
    buses: dict[str, list[DeviceSpec]] = {}
    for spec in devices:
        if spec.transport == "mqtt":
            users.append(
                MqttUser(device_username(site, spec.id), _unique(_device_grants(topics, spec)), (spec.id,))
            )
        elif spec.on_a_bus and spec.bus is not None:
            buses.setdefault(spec.bus, []).append(spec)
    for bus, specs in sorted(buses.items()):
        grants = [g for spec in specs for g in _device_grants(topics, spec)]
        grants.append(Grant("write", topics.device_status(f"bridge-{bus}")))
        users.append(MqttUser(bridge_username(site, bus), _unique(grants), tuple(s.id for s in specs)))
    return users


def controller_user(sites: Sequence[str], username: str = CONTROLLER_USER) -> MqttUser:
    """The controller: everything under motcua/{site}/# of the sites it serves."""
    return MqttUser(username, tuple(Grant("readwrite", f"{SiteTopics(s).prefix}/#") for s in sites))


def floor_users(devices_by_site: Mapping[str, Sequence[DeviceSpec]]) -> list[MqttUser]:
    """Every user of a floor: the controller of all its sites first, then each site's devices."""
    users = [controller_user(list(devices_by_site))]
    for site, devices in devices_by_site.items():
        users += site_users(site, devices)
    return users


def render_acl(users: Sequence[MqttUser]) -> str:
    """mosquitto acl_file text: no pattern lines, so a user has exactly its grants."""
    seen: set[str] = set()
    lines = ["# generated by `motcua mqtt-config`: one user per device, bridge and controller", ""]
    for user in users:
        if user.username in seen:
            raise ValueError(f"username {user.username!r} appears twice")
        seen.add(user.username)
        if user.devices:
            lines.append(f"# {', '.join(user.devices)}")
        lines.append(f"user {user.username}")
        lines += [f"topic {g.access} {g.topic}" for g in user.grants]
        lines.append("")
    return "\n".join(lines)
