"""The words on a ticket, Vietnamese first and short English second, shared by every layout."""

from __future__ import annotations

from dataclasses import dataclass

from devices.printer.ticket import PRIORITY_LABELS, TicketPrint

__all__ = [
    "Bilingual",
    "TicketWording",
    "format_counters",
    "format_wait",
    "ticket_wording",
]


@dataclass(frozen=True)
class Bilingual:
    """One piece of ticket text: Vietnamese line, optional English line below it."""

    vi: str
    en: str | None = None


@dataclass(frozen=True)
class TicketWording:
    """All text of one ticket, in print order."""

    site: str
    number_caption: Bilingual
    number: str
    agency: str
    procedure: str
    counters: Bilingual
    priority: Bilingual | None
    people_ahead: Bilingual
    wait: Bilingual
    qr_hint: Bilingual
    status_url: str
    issued: Bilingual
    come_back: Bilingual | None = None  # a number that returns later: when, and how to check in
    check_in: Bilingual | None = None
    dossier: Bilingual | None = None    # a result to collect: the file the counter fetches


def format_counters(counters: tuple[int, ...]) -> str:
    """Write counter numbers compactly: (3, 4, 5, 7) -> '3-5, 7'."""
    runs: list[tuple[int, int]] = []
    for counter in sorted(counters):
        if runs and counter == runs[-1][1] + 1:
            runs[-1] = (runs[-1][0], counter)
        else:
            runs.append((counter, counter))
    # Two neighbours read better as "3, 4" than as a range "3-4".
    parts: list[str] = []
    for first, last in runs:
        if last - first >= 2:
            parts.append(f"{first}-{last}")
        else:
            parts.extend(str(n) for n in range(first, last + 1))
    return ", ".join(parts)


def format_wait(seconds: int) -> Bilingual:
    """Say an estimated wait the way a citizen reads it, rounded up to the minute."""
    if seconds < 60:
        return Bilingual("dưới 1 phút", "under 1 min")
    minutes = -(-seconds // 60)
    if minutes < 60:
        return Bilingual(f"khoảng {minutes} phút", f"about {minutes} min")
    hours, rest = divmod(minutes, 60)
    if rest == 0:
        return Bilingual(f"khoảng {hours} giờ", f"about {hours} h")
    return Bilingual(f"khoảng {hours} giờ {rest} phút", f"about {hours} h {rest} min")


def ticket_wording(ticket: TicketPrint) -> TicketWording:
    """Turn a ticket into the bilingual lines every layout prints."""
    if ticket.counters:
        listed = format_counters(ticket.counters)
        counters = Bilingual(f"Quầy phục vụ: {listed}", f"Counter: {listed}")
    else:
        # No counter open yet: the hall display will say where to go.
        counters = Bilingual("Quầy phục vụ: xem màn hình gọi số", "Counter: see the hall display")
    priority = None
    if ticket.priority is not None:
        vi, en = PRIORITY_LABELS[ticket.priority]
        priority = Bilingual(f"Ưu tiên: {vi}", f"Priority: {en}")
    wait = format_wait(ticket.estimated_wait_s)
    when = ticket.issued_at
    come_back = check_in = qr_hint = None
    if ticket.return_at is not None and ticket.check_in is not None:
        back = f"{ticket.return_at:%H:%M}"
        come_back = Bilingual(f"Mời quay lại lúc {back}", f"Please come back at {back}")
        check_in = Bilingual(f"Khi quay lại, quét mã QR ở ki-ốt (mã {ticket.check_in}) để vào hàng",
                             f"When back, scan the QR at the kiosk (code {ticket.check_in}) to join the line")
        qr_hint = Bilingual("Mã QR: theo dõi lượt trên điện thoại, xác nhận ở ki-ốt",
                            "QR: follow your turn on a phone, check in at the kiosk")
    dossier = None
    if ticket.dossier is not None:
        early = (" (trước ngày hẹn trả)", " (before the return date)") if ticket.dossier_early else ("", "")
        dossier = Bilingual(f"Hồ sơ: {ticket.dossier}{early[0]}", f"File: {ticket.dossier}{early[1]}")
    return TicketWording(
        site=ticket.site_name,
        number_caption=Bilingual("SỐ THỨ TỰ CỦA BẠN", "Your number"),
        number=ticket.number,
        agency=ticket.agency_name,
        procedure=ticket.procedure_name,
        counters=counters,
        priority=priority,
        people_ahead=Bilingual(
            f"Số người chờ trước bạn: {ticket.people_ahead}",
            f"People ahead of you: {ticket.people_ahead}",
        ),
        wait=Bilingual(f"Thời gian chờ dự kiến: {wait.vi}", f"Estimated wait: {wait.en}"),
        qr_hint=qr_hint or Bilingual("Quét mã QR để theo dõi lượt của bạn", "Scan to follow your turn"),
        status_url=ticket.qr_text,
        issued=Bilingual(
            f"Giờ lấy số: {when:%H:%M} ngày {when:%d/%m/%Y}",
            f"Issued: {when:%H:%M %d/%m/%Y}",
        ),
        come_back=come_back,
        check_in=check_in,
        dossier=dossier,
    )
