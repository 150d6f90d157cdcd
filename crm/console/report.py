"""The weekly report for the CRM manager's meeting: one self-contained HTML page (no script,
charts drawn as inline SVG, so it opens from a mail or prints to PDF) with the week's figures
next to the week before. `python -m crm report --week 2026-W48` writes it."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any, Dict, List, Sequence, Tuple

from markupsafe import Markup, escape

from crm.services import complaints, monitoring

WIDTH = 640


def week_of(text: str) -> date:
    """The Monday of an ISO week ("2026-W48") or of the week holding a date ("2026-11-25")."""
    try:
        if "W" in text.upper():
            year, week = text.upper().split("-W")
            return date.fromisocalendar(int(year), int(week), 1)
        day = date.fromisoformat(text)
    except ValueError:
        raise ValueError(f"--week must look like 2026-W48 or 2026-11-25, not {text!r}")
    return day - timedelta(days=day.weekday())


def hbars(rows: Sequence[Tuple[str, float]], unit: str = "") -> Markup:
    """Horizontal bars, one per (label, value)."""
    if not rows:
        return Markup('<p class="muted">Belum ada data.</p>')
    top = max(v for _, v in rows) or 1
    height = 22 * len(rows) + 4
    parts = [f'<svg width="{WIDTH}" height="{height}" role="img" xmlns="http://www.w3.org/2000/svg">']
    for i, (label, value) in enumerate(rows):
        y = 4 + i * 22
        w = int((WIDTH - 280) * value / top)
        parts.append(
            f'<text x="0" y="{y + 14}" font-size="12">{escape(label)[:38]}</text>'
            f'<rect x="230" y="{y}" width="{max(w, 1)}" height="16" fill="#c8102e"></rect>'
            f'<text x="{236 + w}" y="{y + 13}" font-size="12">{escape(_number(value))}{escape(unit)}</text>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))


def vbars(rows: Sequence[Tuple[str, float]]) -> Markup:
    """Vertical bars (days, hours) with the label under each."""
    if not rows or not any(v for _, v in rows):
        return Markup('<p class="muted">Belum ada data.</p>')
    top = max(v for _, v in rows) or 1
    step = WIDTH / len(rows)
    parts = [f'<svg width="{WIDTH}" height="170" role="img" xmlns="http://www.w3.org/2000/svg">']
    for i, (label, value) in enumerate(rows):
        h = int(130 * value / top)
        x = int(i * step)
        parts.append(
            f'<rect x="{x + 2}" y="{140 - h}" width="{max(int(step) - 4, 1)}" height="{h}" fill="#0b5cad"></rect>'
            f'<text x="{x + 2}" y="156" font-size="10">{escape(label)}</text>'
            f'<text x="{x + 2}" y="{max(138 - h, 10)}" font-size="10">{escape(_number(value))}</text>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))


def _number(value: float) -> str:
    return f"{value:.1f}" if isinstance(value, float) and not value.is_integer() else f"{int(value)}"


def _pct(share: Any) -> str:
    return "-" if share is None else f"{share * 100:.1f}%"


def build(db, monday: date, now: datetime, channel: str = "") -> Dict[str, Any]:
    """The figures of the week starting `monday` and of the week before."""
    this = monitoring.Period(monday, monday + timedelta(days=6), channel or None)
    before = monitoring.Period(monday - timedelta(days=7), monday - timedelta(days=1), channel or None)
    return {
        "this": monitoring.figures(db, this, now),
        "before": monitoring.figures(db, before, now),
        "complaints": complaints.analysis(db, this, now),
        "period": this,
    }


def render(templates, report: Dict[str, Any], generated: datetime) -> str:
    f, b = report["this"], report["before"]
    rows: List[Tuple[str, str, str]] = [
        ("Sesi", str(f["sessions"]), str(b["sessions"])),
        ("Permintaan nyata (bukan sapaan saja)", str(f["real_requests"]), str(b["real_requests"])),
        ("Terlayani bot (containment)", _pct(f["containment"]), _pct(b["containment"])),
        ("Dieskalasi", _pct(f["escalation_rate"]), _pct(b["escalation_rate"])),
        ("Pesan tidak dimengerti (fallback)", _pct(f["fallback_rate"]), _pct(b["fallback_rate"])),
        ("Berhenti di tengah", str(f["outcomes"]["abandoned"]), str(b["outcomes"]["abandoned"])),
        (
            "Median menit sampai balasan petugas",
            str(f["agents"]["median_first_reply_minutes"] or "-"),
            str(b["agents"]["median_first_reply_minutes"] or "-"),
        ),
        (
            "Median menit sampai selesai",
            str(f["agents"]["median_resolution_minutes"] or "-"),
            str(b["agents"]["median_resolution_minutes"] or "-"),
        ),
        ("Pengaduan", str(f["complaints"]["total"]), str(b["complaints"]["total"])),
        (
            "Pengaduan selesai tepat waktu (OJK)",
            _pct(f["complaints"]["on_time_share"]),
            _pct(b["complaints"]["on_time_share"]),
        ),
        ("Pengaduan terbuka lewat batas", str(f["complaints"]["open_past_due"]), str(b["complaints"]["open_past_due"])),
        ("Puas dengan jawaban bot (CSAT)", _pct(f["csat"]["bot"]["csat"]), _pct(b["csat"]["bot"]["csat"])),
        ("Puas dengan petugas (CSAT)", _pct(f["csat"]["agent"]["csat"]), _pct(b["csat"]["agent"]["csat"])),
        ("Sesi ditinjau", str(f["review"]["reviewed"]), str(b["review"]["reviewed"])),
        ("Dijawab benar (tinjauan)", _pct(f["review"]["answered_correctly"]), _pct(b["review"]["answered_correctly"])),
    ]
    charts = {
        "days": vbars([(d["day"][5:], d["sessions"]) for d in f["by_day"]]),
        "containment": vbars([(d["day"][5:], round((d["containment"] or 0) * 100, 1)) for d in f["by_day"]]),
        "reasons": hbars([(r["reason"], round((r["rate"] or 0) * 100, 1)) for r in f["escalation_by_reason"]], "%"),
        "intents": hbars([(r["intent"], r["sessions"]) for r in f["top_intents"]]),
        "abandoned": hbars([(r["step"], r["sessions"]) for r in f["abandoned_at"][:8]]),
        "hours": vbars([(f"{h['hour']:02d}", h["messages"]) for h in f["messages_by_hour"]]),
        "complaints": hbars([(t["title"], t["complaints"]) for t in report["complaints"]["topics"]]),
    }
    return templates.get_template("report.html").render(
        period=report["period"],
        rows=rows,
        charts=charts,
        complaints=report["complaints"],
        generated=generated,
        pct=_pct,
    )
