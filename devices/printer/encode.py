"""ESC/POS job bytes for a ticket (pure: python-escpos writing into a Dummy), and raster decoding.

A raster job is ESC @ (initialise), one or more GS v 0 raster blocks, a feed and
a cut (GS V). A text job is ESC @ followed by ASCII text with size and bold
commands, a feed and the cut. Nothing here touches a device.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from escpos.capabilities import Profile, get_profile
from escpos.printer import Dummy
from PIL import Image

from devices.errors import ProtocolError
from devices.printer.layout import render_ticket
from devices.printer.profile import DPI, PrinterProfile
from devices.printer.text import TextLine, text_ticket_lines
from devices.printer.ticket import TicketPrint

__all__ = [
    "CUT_PREFIX",
    "INIT",
    "RASTER_PREFIX",
    "RasterBlock",
    "encode_image_job",
    "encode_text_job",
    "encode_ticket",
    "raster_blocks",
    "raster_image",
]

INIT = b"\x1b@"  # ESC @
RASTER_PREFIX = b"\x1dv0"  # GS v 0
CUT_PREFIX = b"\x1dV"  # GS V


def _escpos_profile(profile: PrinterProfile) -> Any:
    base = get_profile("default")
    # python-escpos only centres and width-checks images against the profile's
    # media width, and only cuts if the profile's features say the printer can.
    escpos_profile = Profile(columns=profile.text_columns, features=dict(base.features))
    escpos_profile.profile_data = {
        **base.profile_data,
        "media": {"dpi": DPI, "width": {"mm": profile.dots / 8, "pixels": profile.dots}},
    }
    return escpos_profile


def _writer(profile: PrinterProfile) -> Any:
    writer = Dummy(profile=_escpos_profile(profile))
    writer.hw("INIT")
    return writer


def encode_image_job(image: Image.Image, profile: PrinterProfile) -> bytes:
    """Encode an image one paper width wide as a GS v 0 raster job ending with a cut."""
    if image.width != profile.dots:
        raise ValueError(f"image is {image.width} dots wide, the paper {profile.dots}")
    writer = _writer(profile)
    rows = profile.raster_fragment_rows
    # Fragment here rather than through escpos's fragment_height: escpos converts
    # the whole image before splitting it and then converts every fragment again.
    for top in range(0, image.height, rows):
        fragment = image.crop((0, top, image.width, min(top + rows, image.height)))
        writer.image(
            fragment,
            impl="bitImageRaster",
            high_density_vertical=True,
            high_density_horizontal=True,
            fragment_height=rows,
            center=False,
        )
    writer.cut(mode=profile.cut)
    output: bytes = writer.output
    return output


def encode_text_job(lines: list[TextLine], profile: PrinterProfile) -> bytes:
    """Encode ASCII ticket lines as a text job: number at 4x size, bold where asked, cut."""
    writer = _writer(profile)
    writer.set(align="center")
    for line in lines:
        if not line.text.isascii():
            raise ValueError(f"text fallback line is not ASCII: {line.text!r}")
        if line.style == "number":
            writer.set(custom_size=True, width=4, height=4, bold=True)
            writer.textln(line.text)
            # GS ! 0 rather than normal_textsize: that sends ESC ! 0, which some
            # printers do not apply to a size set with GS !.
            writer.set(custom_size=True, width=1, height=1, bold=False)
        elif line.style == "bold":
            writer.set(bold=True)
            writer.textln(line.text)
            writer.set(bold=False)
        else:
            writer.textln(line.text)
    writer.cut(mode=profile.cut)
    output: bytes = writer.output
    return output


def encode_ticket(ticket: TicketPrint, profile: PrinterProfile) -> bytes:
    """Encode a ticket as the profile wants it: raster image, or the ASCII text fallback."""
    if profile.raster:
        return encode_image_job(render_ticket(ticket, profile).image, profile)
    return encode_text_job(text_ticket_lines(ticket, profile.text_columns), profile)


@dataclass(frozen=True)
class RasterBlock:
    """One GS v 0 command: mode byte, size header and packed bits (1 = black dot)."""

    offset: int
    mode: int
    width_bytes: int
    height: int
    data: bytes

    def to_image(self) -> Image.Image:
        """Unpack the dots into a mode "1" image, white paper = 255."""
        dots = Image.frombytes("1", (self.width_bytes * 8, self.height), self.data)
        # In ESC/POS a set bit burns a dot; in a Pillow "1" image a set bit is white.
        return dots.point(lambda value: 255 - value)


def raster_blocks(job: bytes) -> list[RasterBlock]:
    """Find the GS v 0 raster blocks of a job, skipping over each block's data."""
    blocks: list[RasterBlock] = []
    position = 0
    while (start := job.find(RASTER_PREFIX, position)) >= 0:
        header = job[start + 3 : start + 8]
        if len(header) < 5:
            raise ProtocolError(f"GS v 0 at byte {start} has a truncated header")
        mode, xl, xh, yl, yh = header
        width_bytes, height = xl + 256 * xh, yl + 256 * yh
        begin = start + 8
        end = begin + width_bytes * height
        if end > len(job):
            raise ProtocolError(f"GS v 0 at byte {start} announces {end - begin} bytes, "
                                f"the job has {len(job) - begin}")
        blocks.append(RasterBlock(start, mode, width_bytes, height, job[begin:end]))
        position = end
    return blocks


def raster_image(job: bytes) -> Image.Image:
    """Decode all raster blocks of a job back into one image, as the printer would print it."""
    blocks = raster_blocks(job)
    if not blocks:
        raise ProtocolError("the job has no GS v 0 raster block")
    width = max(block.width_bytes for block in blocks) * 8
    image = Image.new("1", (width, sum(block.height for block in blocks)), 255)
    top = 0
    for block in blocks:
        image.paste(block.to_image(), (0, top))
        top += block.height
    return image
