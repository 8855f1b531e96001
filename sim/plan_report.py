"""`motcua plan --report DIR`: report.md and report.html (the same content) with PNG plots.

Vietnamese first, English second. Every figure is from the held-out seeds,
except the dashed search curve, which shows what the search saw on its own
seeds. Plots use matplotlib's Agg backend; the HTML loads nothing from outside.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

from sim.plan import PlanResult

__all__ = ["write_report"]

_WEEKDAYS = ("thứ Hai / Monday", "thứ Ba / Tuesday", "thứ Tư / Wednesday", "thứ Năm / Thursday",
             "thứ Sáu / Friday", "thứ Bảy / Saturday", "Chủ nhật / Sunday")

Block = tuple[str, Any]   # ("h1" | "h2" | "p" | "pre", text), ("table", (header, rows)), ("img", (file, title))


def _pct(x: float | None) -> str:
    return "-" if x is None else f"{100 * x:.1f} %"


def _plot_curve(result: PlanResult, path: Path) -> None:
    fig, ax = plt.subplots(figsize=(8, 4.2))
    steps = list(range(len(result.curve)))
    ax.plot(steps, result.curve, marker="o", label="deadline, seed kiểm tra / held-out seeds")
    ax.plot(steps, result.search_curve, linestyle="--", color="grey", label="deadline, seed tìm kiếm / search seeds")
    fifo = [sum(o.share for o in result.before["fifo"]) / len(result.before["fifo"]),
            sum(o.share for o in result.after["fifo"]) / len(result.after["fifo"])]
    ax.plot([0, steps[-1]], fifo, marker="s", linestyle=":", label="fifo, trước và sau / before and after")
    ax.axhline(result.limits.target, color="red", linewidth=0.8, label="mục tiêu / target")
    ax.set_xlabel("số thay đổi / number of changes")
    ax.set_ylabel(f"trong {result.site.targets.transaction_wait_s / 60:g} phút / within target")
    ax.set_title("Tỷ lệ đúng hạn theo số thay đổi / Share within target against changes")
    ax.set_ylim(min([*result.curve, *fifo, result.limits.target]) - 0.03, 1.0)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def _plot_agencies(figures: dict[str, Any], path: Path) -> None:
    before, after = figures["before"]["agencies"], figures["after"]["agencies"]
    agencies = sorted(before, key=lambda a: -float(before[a]["transactions"] or 0))
    fig, ax = plt.subplots(figsize=(max(8.0, 0.5 * len(agencies)), 4.5))
    width = 0.2
    series = [("deadline", before, "deadline trước / before"), ("deadline", after, "deadline sau / after"),
              ("fifo", before, "fifo trước / before"), ("fifo", after, "fifo sau / after")]
    for i, (policy, rows, label) in enumerate(series):
        values = [rows[a].get(policy) or 0.0 for a in agencies]
        ax.bar([j + i * width for j in range(len(agencies))], values, width=width, label=label)
    ax.set_xticks([j + 1.5 * width for j in range(len(agencies))], agencies, rotation=60, fontsize=8)
    ax.set_ylim(0, 1.18)
    ax.set_yticks([0, 0.2, 0.4, 0.6, 0.8, 1.0])
    ax.set_ylabel("trong mục tiêu / within target")
    ax.set_title("Theo cơ quan / Per agency")
    ax.legend(fontsize=7, ncol=4, loc="upper center")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def _blocks(result: PlanResult, body: dict[str, Any], scenario: str, diff: str) -> list[Block]:
    target_min = body["target_min"]
    held, search = body["seeds"]["held_out"], body["seeds"]["search"]
    verdict = ("Đạt mục tiêu / target met" if body["target_reached"]
               else "Không đạt mục tiêu: không ghi tệp mới / target not met: no site file written")
    blocks: list[Block] = [
        ("h1", f"Đề xuất bố trí quầy / Layout proposal: {body['site']}"),
        ("p", f"Tệp / file {scenario}; {_WEEKDAYS[body['weekday']]}; mục tiêu / target {_pct(body['target'])} "
              f"trong / within {target_min:g} phút / min. {verdict}. Số liệu đo trên các seed kiểm tra {held}, "
              f"khác các seed tìm kiếm {search} / figures measured on held-out seeds {held}, not the search seeds "
              f"{search}. {body['search']['site_days']} ngày mô phỏng / site-days simulated, "
              f"{body['search']['wall_s']} s."),
        ("h2", "Trước và sau / Before and after"),
    ]
    rows = []
    for when in ("before", "after"):
        figures = body[when]
        for policy in ("fifo", "deadline"):
            f = figures[policy]
            rows.append([("trước / before" if when == "before" else "sau / after"), policy,
                         _pct(f["within_transaction_target"]["mean"]), _pct(f["within_transaction_target"]["worst"]),
                         _pct(f["visits_over_visit_target"]["mean"]), _pct(f["visits_over_visit_target"]["worst"]),
                         _pct(f["utilisation"]), _pct(figures["pooled_bound"])])
    blocks.append(("table", ([
        "", "policy", f"trong / within {target_min:g} min (mean)", "worst seed",
        f"lượt chờ quá / visits over {body['visit_target_min']:g} min (mean)", "worst seed",
        "bận / utilisation", "pooled Erlang C bound"], rows)))
    blocks.append(("h2", "Thay đổi đề xuất / Proposed changes"))
    if body["changes"]:
        blocks.append(("p", "Theo thứ tự được chọn; mức tăng là tỷ lệ đúng hạn (deadline) sau thay đổi trừ trước nó / "
                            "in the order chosen; the gain is the deadline share within target after the change minus "
                            "before it."))
        curve = [point["within_transaction_target"] for point in body["curve"]]
        blocks.append(("table", (["#", "thay đổi / change", "tăng / gain", "sau / after"], [
            [str(i + 1), c["text"], f"{100 * c['gain']:+.1f} pt", _pct(curve[i + 1])]
            for i, c in enumerate(body["changes"])])))
    else:
        blocks.append(("p", "Không cần thay đổi: bố trí hiện tại đã đạt mục tiêu / no change needed: the layout "
                            "already meets the target."))
    blocks.append(("img", ("curve.png", "Tỷ lệ đúng hạn theo số thay đổi / Share within target against changes")))
    blocks.append(("h2", "Theo cơ quan / Per agency"))
    before, after = body["before"]["agencies"], body["after"]["agencies"]
    blocks.append(("table", (["cơ quan / agency", "giao dịch/ngày / transactions a day", "fifo trước / before",
                              "fifo sau / after", "deadline trước / before", "deadline sau / after"], [
        [a, f"{before[a]['transactions']:g}", _pct(before[a].get("fifo")), _pct(after[a].get("fifo")),
         _pct(before[a].get("deadline")), _pct(after[a].get("deadline"))]
        for a in sorted(before, key=lambda a: -float(before[a]["transactions"] or 0))])))
    blocks.append(("img", ("agencies.png", "Theo cơ quan / Per agency")))
    blocks.append(("h2", "Không sửa được bằng bố trí / What no allowed layout fixes"))
    if body["cannot_fix"]:
        blocks.append(("p", "Nửa giờ mà cơ quan cần nhiều quầy hơn số quầy được phép phục vụ nó (M/M/c, 95 % trong "
                            "mục tiêu) / half hours in which the agency needs more counters than may serve it (M/M/c, "
                            "95 % within target): more counters or staff, not routing or training, fix these."))
        rows = [[entry["agency"], entry["why"], f"{h['from']}-{h['to']}", f"{h['transactions']:g}", f"{h['late']:g}",
                 str(h["counters_needed"]), f"{h['counters_serving']:g}"]
                for entry in body["cannot_fix"] for h in entry["half_hours"]]
        blocks.append(("table", (["cơ quan / agency", "vì sao / why", "giờ / time", "giao dịch / transactions",
                                  "trễ / late", "cần / needed", "có / serving"], rows)))
    else:
        blocks.append(("p", "Không có / none."))
    if diff:
        blocks.append(("h2", "Thay đổi trong tệp / Changes to the site file"))
        blocks.append(("pre", diff))
    return blocks


def _md_cell(text: str) -> str:
    return text.replace("|", "\\|")


def _markdown(blocks: Sequence[Block]) -> str:
    lines: list[str] = []
    for kind, value in blocks:
        if kind == "h1":
            lines += [f"# {value}", ""]
        elif kind == "h2":
            lines += [f"## {value}", ""]
        elif kind == "p":
            lines += [str(value), ""]
        elif kind == "pre":
            lines += ["```diff", str(value).rstrip("\n"), "```", ""]
        elif kind == "img":
            file, title = value
            lines += [f"![{title}]({file})", ""]
        else:
            header, rows = value
            lines.append("| " + " | ".join(_md_cell(h) for h in header) + " |")
            lines.append("|" + "---|" * len(header))
            lines += ["| " + " | ".join(_md_cell(c) for c in row) + " |" for row in rows]
            lines.append("")
    return "\n".join(lines)


def _html(blocks: Sequence[Block], title: str) -> str:
    parts = [
        "<!doctype html>", '<html lang="vi"><head><meta charset="utf-8">', f"<title>{html.escape(title)}</title>",
        "<style>body{font-family:sans-serif;max-width:1100px;margin:2em auto;padding:0 1em}"
        "table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #bbb;padding:.25em .5em;"
        "text-align:left}th{background:#eee}img{max-width:100%}pre{background:#f6f6f6;padding:1em;"
        "overflow:auto}</style></head><body>",
    ]
    for kind, value in blocks:
        if kind in ("h1", "h2", "p"):
            parts.append(f"<{kind}>{html.escape(str(value))}</{kind}>")
        elif kind == "pre":
            parts.append(f"<pre>{html.escape(str(value))}</pre>")
        elif kind == "img":
            file, alt = value
            parts.append(f'<p><img src="{html.escape(file)}" alt="{html.escape(alt)}"></p>')
        else:
            header, rows = value
            parts.append("<table><tr>" + "".join(f"<th>{html.escape(h)}</th>" for h in header) + "</tr>")
            parts += ["<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in row) + "</tr>" for row in rows]
            parts.append("</table>")
    parts.append("</body></html>")
    return "\n".join(parts)


def write_report(out: Path, scenario: str, result: PlanResult, diff: str) -> Path:
    """Write report.md, report.html and their plots into `out`; return the markdown report's path."""
    out.mkdir(parents=True, exist_ok=True)
    body = result.to_json()
    _plot_curve(result, out / "curve.png")
    _plot_agencies(body, out / "agencies.png")
    blocks = _blocks(result, body, scenario, diff)
    (out / "report.html").write_text(_html(blocks, str(blocks[0][1])), encoding="utf-8")
    path = out / "report.md"
    path.write_text(_markdown(blocks), encoding="utf-8")
    return path
