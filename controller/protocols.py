"""uvicorn's h11 and sans-I/O WebSocket protocols with the limits of controller/connections.py.

The HTTP protocol admits a connection to the table (or answers 429 and closes it), and
times the request being sent: its head, then its body. A WebSocket upgrade hands the
connection to the WebSocket protocol (its handshake is a request head, timed like any),
which gives the connection's place back when it ends; uvicorn pings it meanwhile.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any, ClassVar

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol
from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol

from controller.connections import REFUSED_LINGER_S, ConnectionTable, refusal

__all__ = ["guarded_protocols"]

log = logging.getLogger("motcua")


class _GuardedH11(H11Protocol):
    """uvicorn's h11 protocol with the table's cap and the head and body deadlines."""

    table: ClassVar[ConnectionTable]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._refused = False
        self._phase: str | None = None
        self._deadline: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        if not self.table.admit(transport):
            self._refuse(transport)
            return
        super().connection_made(transport)
        self._watch()

    def _refuse(self, transport: asyncio.Transport) -> None:
        # Answer first, then close: closing a socket with the client's request unread would reset the
        # connection before the client could read why. The client gets REFUSED_LINGER_S to read it.
        self._refused = True
        self.transport = transport
        transport.write(refusal(retry_after_s=5))
        if transport.can_write_eof():
            transport.write_eof()
        self.loop.call_later(REFUSED_LINGER_S, transport.close)

    def data_received(self, data: bytes) -> None:
        if self._refused:
            return  # the request is read only so that closing does not reset the connection
        super().data_received(data)
        self._watch()

    def eof_received(self) -> None:
        if self._refused:
            self.transport.close()  # the client read its answer and left

    def on_response_complete(self) -> None:
        super().on_response_complete()
        self._watch()

    def connection_lost(self, exc: Exception | None) -> None:
        self._stop_deadline()
        if self._refused:
            return
        self.table.release(self.transport)
        super().connection_lost(exc)

    def _stop_deadline(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _watch(self) -> None:
        """Arm the deadline of the phase the connection is in: a request head or body being sent."""
        if self.transport.is_closing() or self.transport.get_protocol() is not self:
            self._stop_deadline()  # closing, or a WebSocket now: its protocol and uvicorn's pings take over
            return
        state = self.conn.their_state
        phase = "head" if state is h11.IDLE else "body" if state is h11.SEND_BODY else None
        if phase == self._phase:
            return
        self._stop_deadline()
        self._phase = phase
        if phase is not None:
            limits = self.table.limits
            timeout = limits.head_timeout_s if phase == "head" else limits.body_timeout_s
            self._deadline = self.loop.call_later(timeout, self._expired, phase)

    def _expired(self, phase: str) -> None:
        self._deadline = None
        if self.transport.is_closing() or self.transport.get_protocol() is not self:
            return
        self.table.timed_out_total[phase] += 1
        log.debug("connections: closed %s: request %s not complete in time", self.client, phase)
        self.transport.close()


class _GuardedWebSocket(WebSocketsSansIOProtocol):
    """uvicorn's WebSocket protocol, giving the connection's place in the table back when it ends."""

    table: ClassVar[ConnectionTable]

    def connection_lost(self, exc: Exception | None) -> None:
        self.table.release(self.transport)
        super().connection_lost(exc)


def guarded_protocols(table: ConnectionTable) -> tuple[type[asyncio.Protocol], type[asyncio.Protocol]]:
    """The HTTP and WebSocket protocol classes to give uvicorn (http=..., ws=...), bound to the table."""
    http = type("GuardedH11Protocol", (_GuardedH11,), {"table": table})
    ws = type("GuardedWebSocketProtocol", (_GuardedWebSocket,), {"table": table})
    return http, ws
