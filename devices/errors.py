"""The one small exception tree of every device driver.

    DeviceError                  anything a device or its transport did wrong
     ├── DeviceUnavailable       not reachable now (offline, port closed, broker down)
     ├── DeviceTimeout           reachable but did not answer in time
     └── ProtocolError           answered with bytes or JSON we cannot accept

Drivers raise these and nothing else; coordinators catch DeviceError, mark the
device unavailable and let the floor go on.
"""

from __future__ import annotations

__all__ = ["DeviceError", "DeviceTimeout", "DeviceUnavailable", "ProtocolError"]


class DeviceError(Exception):
    """A device or its transport failed."""


class DeviceUnavailable(DeviceError):
    """The device cannot be reached now."""


class DeviceTimeout(DeviceError):
    """The device did not answer in time."""


class ProtocolError(DeviceError):
    """The device answered with something we cannot accept."""
