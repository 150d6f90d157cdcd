"""How values are shown to customers (Indonesian) and written to logs (masked)."""

from __future__ import annotations

import re
from datetime import date, datetime, time

MONTHS = (
    "Januari",
    "Februari",
    "Maret",
    "April",
    "Mei",
    "Juni",
    "Juli",
    "Agustus",
    "September",
    "Oktober",
    "November",
    "Desember",
)
MONTHS_SHORT = ("Jan", "Feb", "Mar", "Apr", "Mei", "Jun", "Jul", "Agu", "Sep", "Okt", "Nov", "Des")
WEEKDAYS = ("Senin", "Selasa", "Rabu", "Kamis", "Jumat", "Sabtu", "Minggu")


def rupiah(amount: int) -> str:
    """5120000 -> 'Rp5.120.000'."""
    return "Rp" + f"{int(amount):,}".replace(",", ".")


def percent(rate: float) -> str:
    """0.002 -> "0,2%", 0.03 -> "3%" (Indonesian decimal comma)."""
    return f"{rate * 100:.1f}".removesuffix(".0").replace(".", ",") + "%"


def long_date(day: date) -> str:
    """'Senin, 25 Desember 2026'."""
    return f"{WEEKDAYS[day.weekday()]}, {day.day} {MONTHS[day.month - 1]} {day.year}"


def month_name(year: int, month: int) -> str:
    """'Januari 2027'."""
    return f"{MONTHS[month - 1]} {year}"


def long_date_time(moment: datetime) -> str:
    """'Senin, 23 November 2026 pukul 08.00 WIB' (a WIB wall-clock time)."""
    return f"{long_date(moment.date())} pukul {moment:%H.%M} WIB"


def short_date(day: date) -> str:
    """'25 Des 2026'."""
    return f"{day.day} {MONTHS_SHORT[day.month - 1]} {day.year}"


def hours(opens: time, closes: time) -> str:
    """'08.00–16.00'."""
    return f"{opens:%H.%M}–{closes:%H.%M}"


def mask_nik(nik: str) -> str:
    """Only the region code and the last 4 digits: '3171********0001'."""
    digits = re.sub(r"\D", "", nik or "")
    if len(digits) < 8:
        return "*" * len(digits)
    return digits[:4] + "*" * (len(digits) - 8) + digits[-4:]


def mask_phone(phone: str) -> str:
    """'+6281210000001' -> '+62812*****001'."""
    phone = phone or ""
    if len(phone) < 8:
        return "*" * len(phone)
    return phone[:6] + "*" * (len(phone) - 9) + phone[-3:]


def mask_contract(number: str) -> str:
    return number[:4] + "****" + number[-4:] if number and len(number) > 8 else "****"
