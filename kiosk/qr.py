"""QR codes as SVG for screens: the ticket's status URL, drawn crisp at any size."""

from __future__ import annotations

import qrcode
import qrcode.constants

__all__ = ["qr_matrix", "qr_svg"]

# M recovers from a smudged or partly covered code, the same level the printed ticket uses.
ERROR_CORRECTION = qrcode.constants.ERROR_CORRECT_M
QUIET_ZONE = 4


def qr_matrix(data: str) -> list[list[bool]]:
    """The QR modules for `data` (True = dark), quiet zone included."""
    if not data:
        raise ValueError("QR data must not be empty")
    code = qrcode.QRCode(error_correction=ERROR_CORRECTION, border=QUIET_ZONE)
    code.add_data(data)
    code.make(fit=True)
    return [[bool(cell) for cell in row] for row in code.get_matrix()]


def qr_svg(data: str, title: str = "") -> str:
    """A standalone SVG of the QR code: one path, one module = one user unit, black on white."""
    matrix = qr_matrix(data)
    size = len(matrix)
    runs: list[str] = []
    for y, row in enumerate(matrix):
        x = 0
        while x < size:
            if not row[x]:
                x += 1
                continue
            start = x
            while x < size and row[x]:
                x += 1
            # One horizontal run per rectangle keeps the path short (a few KB for a URL).
            runs.append(f"M{start} {y}h{x - start}v1h-{x - start}z")
    label = _escape(title or data)
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {size} {size}" '
        f'shape-rendering="crispEdges" role="img" aria-label="{label}">'
        f"<title>{label}</title>"
        f'<rect width="{size}" height="{size}" fill="#fff"/>'
        f'<path fill="#000" d="{"".join(runs)}"/></svg>'
    )


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")
