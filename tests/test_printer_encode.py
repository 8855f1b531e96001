"""ESC/POS job bytes: init, GS v 0 raster headers, cut, round trip to the image; text jobs."""

from __future__ import annotations

import struct

import pytest
from PIL import Image

from devices.errors import ProtocolError
from devices.printer import PrinterProfile, encode_ticket, raster_image, render_ticket, sample_ticket
from devices.printer.encode import encode_image_job, encode_text_job, raster_blocks
from devices.printer.text import TextLine

INIT = b"\x1b@"
FEED_AND_PART_CUT = b"\x1bd\x06\x1dV\x01"


@pytest.mark.parametrize(("width_mm", "width_bytes"), [(58, 48), (80, 72)])
def test_raster_job_is_init_raster_blocks_and_a_cut(width_mm: int, width_bytes: int) -> None:
    profile = PrinterProfile(width_mm=width_mm)  # type: ignore[arg-type]
    ticket = sample_ticket()
    image = render_ticket(ticket, profile).image
    job = encode_ticket(ticket, profile)

    assert job.startswith(INIT + b"\x1dv0\x00")
    assert job.endswith(FEED_AND_PART_CUT)
    # The header of the first block, read straight from the bytes: m=0, xL xH, yL yH.
    mode, x_bytes, rows = struct.unpack_from("<BHH", job, len(INIT) + 3)
    assert (mode, x_bytes) == (0, width_bytes)
    assert rows == min(image.height, profile.raster_fragment_rows)
    blocks = raster_blocks(job)
    assert sum(block.height for block in blocks) == image.height
    assert all(block.width_bytes == width_bytes for block in blocks)
    last = blocks[-1]
    assert job[last.offset + 8 + len(last.data):] == FEED_AND_PART_CUT


def test_raster_decodes_back_to_the_rendered_image_pixel_for_pixel() -> None:
    profile = PrinterProfile()
    rendered = render_ticket(sample_ticket(), profile).image
    decoded = raster_image(encode_image_job(rendered, profile))
    assert decoded.size == rendered.size
    assert decoded.tobytes() == rendered.tobytes()


def test_tall_images_are_split_into_fragments_that_stack_back() -> None:
    profile = PrinterProfile(width_mm=58, raster_fragment_rows=256)
    rendered = render_ticket(sample_ticket(), profile).image
    job = encode_image_job(rendered, profile)
    blocks = raster_blocks(job)
    assert len(blocks) == -(-rendered.height // 256)
    assert all(block.height <= 256 for block in blocks)
    assert raster_image(job).tobytes() == rendered.tobytes()


def test_raster_bits_are_set_for_black_dots() -> None:
    profile = PrinterProfile(width_mm=58)
    image = Image.new("1", (384, 2), 255)
    image.putpixel((0, 0), 0)  # one black dot, top left
    image.putpixel((383, 1), 0)  # one black dot, bottom right
    (block,) = raster_blocks(encode_image_job(image, profile))
    assert block.data[0] == 0x80 and block.data[47] == 0
    assert block.data[48] == 0 and block.data[95] == 0x01
    assert sum(block.data) == 0x81


def test_image_must_be_exactly_paper_wide() -> None:
    with pytest.raises(ValueError, match="384"):
        encode_image_job(Image.new("1", (200, 10), 255), PrinterProfile(width_mm=58))


def test_truncated_raster_is_a_protocol_error() -> None:
    job = encode_ticket(sample_ticket(), PrinterProfile())
    with pytest.raises(ProtocolError, match="announces"):
        raster_blocks(job[:5000])
    with pytest.raises(ProtocolError, match="no GS v 0"):
        raster_image(INIT + FEED_AND_PART_CUT)


def test_text_job_is_ascii_with_a_big_number_and_a_cut() -> None:
    job = encode_ticket(sample_ticket(), PrinterProfile(width_mm=58, raster=False))
    assert job.startswith(INIT) and job.endswith(FEED_AND_PART_CUT)
    assert job.isascii() and b"\x1dv0" not in job
    # GS ! 0x33 (4x4), bold on, the number, then back to 1x1.
    assert b"\x1d!\x33\x1bE\x012015\n\x1d!\x00" in job
    assert b"Uu tien: nguoi cao tuoi" in job


def test_text_job_refuses_non_ascii_lines() -> None:
    with pytest.raises(ValueError, match="ASCII"):
        encode_text_job([TextLine("Số 2015")], PrinterProfile(raster=False))
