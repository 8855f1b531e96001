"""Ticket printers: Vietnamese ticket layout, ESC/POS raster and text jobs, transports, queue.

The controller builds a TicketPrint, opens a TicketPrinter with open_printer()
(or uses FakePrinter in the simulator and tests) and hands tickets to a
PrintQueue, whose outcomes tell the kiosk when to show the ticket on screen.

    layout.py   Pillow drawing of the ticket      encode.py  ESC/POS job bytes
    text.py     ASCII fallback lines               status.py  DLE EOT parsing, health
    driver.py   ticket printer over an escpos link address.py URLs -> printers
    fake.py     recording, fault-injecting fake    queue.py   async queue, retries
"""

from devices.printer.address import PrinterAddress, open_printer, parse_printer_url
from devices.printer.contract import TicketPrinter
from devices.printer.driver import EscposTicketPrinter
from devices.printer.encode import encode_ticket, raster_image
from devices.printer.fake import FakePrinter
from devices.printer.layout import RenderedTicket, render_ticket
from devices.printer.profile import PrinterProfile
from devices.printer.queue import PrintOutcome, PrintQueue, PrintStatus, RetryPolicy
from devices.printer.status import PaperLevel, PrinterHealth
from devices.printer.text import strip_diacritics, text_ticket_lines
from devices.printer.ticket import PRIORITY_LABELS, TicketPrint, sample_ticket, ticket_status_url

__all__ = [
    "PRIORITY_LABELS",
    "EscposTicketPrinter",
    "FakePrinter",
    "PaperLevel",
    "PrintOutcome",
    "PrintQueue",
    "PrintStatus",
    "PrinterAddress",
    "PrinterHealth",
    "PrinterProfile",
    "RenderedTicket",
    "RetryPolicy",
    "TicketPrint",
    "TicketPrinter",
    "encode_ticket",
    "open_printer",
    "parse_printer_url",
    "raster_image",
    "render_ticket",
    "sample_ticket",
    "strip_diacritics",
    "text_ticket_lines",
    "ticket_status_url",
]
