"""Counter display driver for LED-485 Modbus RTU displays, over the bus master."""

from __future__ import annotations

from counter_display.modbus import WriteSingle
from devices.errors import ProtocolError
from devices.payloads import DisplayState
from firmware_bridge.bus import BusMaster

__all__ = ["ModbusDisplay"]


class ModbusDisplay:
    """CounterDisplay writing the number to one holding register (function 06).

    These displays show digits only and cannot blink on command; `blank_value`
    is what clear() writes (0 on the usual firmware with leading zeros blanked).
    """

    def __init__(
        self, bus: BusMaster, address: int, *, register: int = 0x0000, blank_value: int = 0
    ) -> None:
        WriteSingle(address, register, blank_value)  # check the values now
        self.bus = bus
        self.address = address
        self.register = register
        self.blank_value = blank_value
        bus.attach(address, "modbus")

    async def show(self, state: DisplayState) -> None:
        """Write the number; ProtocolError when it is not 0..65535."""
        if state.number is None:
            await self.clear()
            return
        if not state.number.isdigit() or int(state.number) > 0xFFFF:
            raise ProtocolError(f"a Modbus LED display cannot show {state.number!r}")
        await self.bus.apply(self.address, [WriteSingle(self.address, self.register, int(state.number))])

    async def clear(self) -> None:
        """Write the blank value."""
        await self.bus.apply(self.address, [WriteSingle(self.address, self.register, self.blank_value)])
