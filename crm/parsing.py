"""Reading what customers type: contract numbers, dates, days of month, plate numbers.

Dates go through `dateparser` (Indonesian and English, day-month-year order). What it does
not know is normalised into words it does know first: chat abbreviations of month names
("agus", "agst"), "lusa" (the day after tomorrow) and holiday names ("lebaran", "natal"),
which are looked up in the `holidays` package.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date, datetime
from typing import Optional

import dateparser
from dateparser.search import search_dates

from crm.workdays import public_holidays

CONTRACT_NUMBER = re.compile(r"\bK[\s.-]*(\d[\s.-]*){11}\b", re.IGNORECASE)
# region codes of Indonesian plates, then 1-4 digits, then 1-3 letters: "B 1234 XYZ"
PLATE_REGIONS = (
    "A|B|D|E|F|G|H|K|L|M|N|P|R|S|T|W|Z|AA|AB|AD|AE|AG|BA|BB|BD|BE|BG|BH|BK|BL|BM|BN|BP|DA|DB|DD|DE|"
    "DG|DH|DK|DL|DM|DN|DR|DT|EA|EB|ED|KB|KH|KT|KU|PA|PB"
)
PLATE_NUMBER = re.compile(rf"\b({PLATE_REGIONS})\s*(\d{{1,4}})\s*([A-Z]{{1,3}})\b", re.IGNORECASE)

# chat spellings dateparser does not know -> words it does
_WORDS = {
    "agus": "agustus",
    "agst": "agustus",
    "ags": "agustus",
    "agu": "agustus",
    "sept": "september",
    "sep": "september",
    "okt": "oktober",
    "des": "desember",
    "nop": "november",
    "nov": "november",
    "peb": "februari",
    "feb": "februari",
    "januari": "januari",
    "jan": "januari",
    "mar": "maret",
    "apr": "april",
    "jun": "juni",
    "jul": "juli",
    "lusa": "dalam 2 hari",
    "bsk": "besok",
    "besuk": "besok",
}
# holiday words customers use -> a fragment of the `holidays` package's Indonesian name
_HOLIDAY_WORDS = {
    "lebaran haji": "idul adha",
    "idul adha": "idul adha",
    "iduladha": "idul adha",
    "lebaran": "idul fitri",
    "idul fitri": "idul fitri",
    "idulfitri": "idul fitri",
    "natal": "natal",
    "tahun baru imlek": "imlek",
    "imlek": "imlek",
    "nyepi": "nyepi",
    "tahun baru": "tahun baru masehi",
    "kemerdekaan": "kemerdekaan",
    "17an": "kemerdekaan",
    "waisak": "waisak",
    "pancasila": "pancasila",
    "hari buruh": "buruh",
    "maulid": "maulid",
    "isra": "isra",
    "jumat agung": "jumat agung",
    "kenaikan": "kenaikan",
}
# search_dates also reads ordinary words as dates ("jam" = now): keep only matches that
# contain a digit or one of these words
_DATE_WORDS = re.compile(
    r"\d|besok|hari ini|kemarin|dalam \d+ hari|senin|selasa|rabu|kamis|jumat|sabtu|minggu|"
    r"januari|februari|maret|april|mei|juni|juli|agustus|september|oktober|november|desember",
)
_FORMATS = ["%d%m%Y", "%Y-%m-%d", "%Y/%m/%d"]
# Longest text the date readers look at: a date answer is tens of characters. dateparser's
# search over a 2,000-character message took the action server about 30 s (issue 14).
MAX_DATE_TEXT = 200
MAX_BIRTH_DATE_TEXT = 100


def normalise_contract_number(text: str) -> Optional[str]:
    """'k-101-24-000001' -> 'K10124000001'; None when no contract number is in `text`."""
    match = CONTRACT_NUMBER.search(text or "")
    if not match:
        return None
    return "K" + re.sub(r"\D", "", match.group(0))


def normalise_plate(text: str) -> Optional[str]:
    match = PLATE_NUMBER.search(text or "")
    if not match:
        return None
    return " ".join(part.upper() for part in match.groups())


def _prepare(text: str) -> str:
    text = unicodedata.normalize("NFKC", text or "").lower()
    text = re.sub(r"[^\w\s/.,-]", " ", text)
    words = [_WORDS.get(word, word) for word in re.split(r"\s+", text.strip())]
    return " ".join(words)


def _holiday(text: str, today: date) -> Optional[date]:
    for word, fragment in sorted(_HOLIDAY_WORDS.items(), key=lambda kv: -len(kv[0])):
        if word in text:
            for day, name in sorted(public_holidays(range(today.year, today.year + 2)).items()):
                if fragment in name.lower() and day >= today:
                    return day
    return None


def parse_date(text: str, *, today: Optional[date] = None, prefer: str = "future") -> Optional[date]:
    """A calendar date from free text, or None.

    `prefer` is "future" (appointments, office hours: "1 juni" = the next 1 June) or "past"
    (dates of birth, incidents). Relative words count from `today`.
    """
    today = today or date.today()
    if len(text or "") > MAX_DATE_TEXT:
        return None
    prepared = _prepare(text)
    if not prepared:
        return None
    settings = {
        "DATE_ORDER": "DMY",
        "PREFER_DATES_FROM": prefer,
        "RELATIVE_BASE": datetime.combine(today, datetime.min.time()),
        "PREFER_DAY_OF_MONTH": "first",
    }
    parsed = dateparser.parse(prepared, languages=["id", "en"], settings=settings)
    if parsed is None:
        parsed = dateparser.parse(prepared, date_formats=_FORMATS, languages=["id", "en"], settings=settings)
    if parsed is None:
        found = search_dates(prepared, languages=["id", "en"], settings=settings) or []
        found = [value for fragment, value in found if _DATE_WORDS.search(fragment)]
        parsed = found[0] if found else None
    if parsed is None and prefer == "future":
        holiday = _holiday(prepared, today)
        if holiday:
            return holiday
    return parsed.date() if parsed else None


def parse_date_of_birth(text: str, *, today: Optional[date] = None) -> Optional[date]:
    """A date of birth: a full date (day, month and year) in the past."""
    today = today or date.today()
    if len(text or "") > MAX_BIRTH_DATE_TEXT:
        return None
    prepared = _prepare(text)
    if not re.search(r"\d", prepared):  # "besok", "kemarin": relative words are no birth date
        return None
    settings = {
        "DATE_ORDER": "DMY",
        "PREFER_DATES_FROM": "past",
        "RELATIVE_BASE": datetime.combine(today, datetime.min.time()),
        "REQUIRE_PARTS": ["day", "month", "year"],
    }
    parsed = dateparser.parse(prepared, languages=["id", "en"], settings=settings)
    if parsed is None:
        parsed = dateparser.parse(prepared, date_formats=_FORMATS, settings=settings)
    if parsed is None:
        found = search_dates(prepared, languages=["id", "en"], settings=settings) or []
        found = [value for fragment, value in found if re.search(r"\d", fragment)]
        parsed = found[0] if found else None
    if parsed is None:
        return None
    born = parsed.date()
    if born >= today:
        return None
    if born.year > today.year - 17:  # "17/8/25" is 1925 for a borrower, not 2025
        born = born.replace(year=born.year - 100)
    return born


def parse_day_of_month(text: str) -> Optional[int]:
    """The day of month a customer names ("tgl 25", "tanggal 5", "ke 31", "25"), unvalidated.

    Returns the number as written (0 and 31 included) so the caller can explain what is
    allowed; None when the text names no day.
    """
    prepared = _prepare(text)
    numbers = re.findall(r"\b\d{1,2}\b", prepared)
    if len(numbers) != 1:
        return None
    return int(numbers[0])
