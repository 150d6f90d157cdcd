"""When something happens, read from what customers write: the one date-and-time reader of the bot.

It reads ISO dates from button payloads exactly ("2026-12-03" is 3 December, never 12 March),
relative days and parts of the day ("besok", "lusa", "semalam", "tadi pagi", "kemarin sore",
"3 hari lalu", "minggu lalu"), weekday names ("hari minggu", "sabtu depan", "senin besok",
"kamis kemarin"), times ("jam 11", "jam 3 sore", "pukul 14.30"), holiday names ("lebaran",
"natal") and written dates ("25 des", "tgl 5", "17/8/2026") through `dateparser`.

It never falls back to today on its own: when a message names a day it cannot read, the
result carries the words it did not understand (`When.unread`) so the bot can say which part.
"""

from __future__ import annotations

import calendar
import re
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Optional, Tuple

import dateparser
from dateparser.search import search_dates

from crm.workdays import public_holidays

# Longest text the readers look at: a date answer is tens of characters. dateparser's search
# over a 2,000-character message took the action server about 30 s.
MAX_DATE_TEXT = 200
MAX_BIRTH_DATE_TEXT = 100

# chat spellings dateparser does not know -> words it does
_WORDS = {
    "agus": "agustus",
    "agst": "agustus",
    "ags": "agustus",
    "agu": "agustus",
    "agt": "agustus",
    "sept": "september",
    "sep": "september",
    "okt": "oktober",
    "des": "desember",
    "nop": "november",
    "nov": "november",
    "peb": "februari",
    "feb": "februari",
    "jan": "januari",
    "mar": "maret",
    "apr": "april",
    "jun": "juni",
    "jul": "juli",
    "bsk": "besok",
    "besuk": "besok",
    "kemaren": "kemarin",
    "kmrn": "kemarin",
    "kmren": "kemarin",
    "kmarin": "kemarin",
    "semalem": "semalam",
    "malem": "malam",
    "tgl": "tanggal",
    "bln": "bulan",
    "bl": "bulan",
    "tg": "tanggal",
    "jum'at": "jumat",
    "jumaat": "jumat",
    "ahad": "minggu",
    "senen": "senin",  # Betawi / Javanese weekday names
    "rebo": "rabu",
    "kemis": "kamis",
    "mgg": "minggu",
    "mg": "minggu",
    "pkl": "pukul",
    "jm": "jam",
    "skrg": "sekarang",
    "skrng": "sekarang",
    "td": "tadi",
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
WEEKDAYS = {"senin": 0, "selasa": 1, "rabu": 2, "kamis": 3, "jumat": 4, "sabtu": 5, "minggu": 6}
_INDONESIAN_MONTHS = "januari februari maret april mei juni juli agustus september oktober november desember".split()
_ENGLISH_MONTHS = "january february march april may june july august september october november december".split()
# month name -> number, Indonesian and English
_MONTH_NUMBERS = {
    name: number for names in (_INDONESIAN_MONTHS, _ENGLISH_MONTHS) for number, name in enumerate(names, 1)
}
_MONTHS = "|".join(_MONTH_NUMBERS)
_ISO = re.compile(r"\b(\d{4})-(\d{1,2})-(\d{1,2})(?:[ T](\d{2}):(\d{2}))?\b")
# "17-08-1985", "17/8/85", "17.08.1985": day, month, year in digits (the Indonesian order)
_DMY = re.compile(r"(?<![\d/.-])(\d{1,2})([-/.])(\d{1,2})\2(\d{4}|\d{2})(?![\d/.-])")
_DMY_DIGITS = re.compile(r"(?<![\d/.-])(\d{2})()(\d{2})(19\d\d|20\d\d)(?![\d/.-])")  # "17081985"
_DMY_SHORT = re.compile(r"^\s*(\d{2})()(\d{2})(\d{2})\s*$")  # "170885", alone: a birth date's six digits
# "tgl 17 bln 8 thn 1985": each part named
_DMY_NAMED = re.compile(
    r"\b(?:tgl|tanggal)\s*(\d{1,2})()[\s,]*(?:bln|bulan)\s*(\d{1,2})[\s,]*(?:thn|th|tahun)\s*(\d{4}|\d{2})\b"
)
_PART_OF_DAY = r"pagi|subuh|siang|sore|petang|malam"
_TIME = re.compile(
    rf"\b(?:jam|pukul)\s*(\d{{1,2}})(?:[.:](\d{{2}}))?(?:\s*(?:an|wib))?(?:\s+({_PART_OF_DAY}))?\b"
    rf"|\b(\d{{1,2}})[:](\d{{2}})(?:\s+({_PART_OF_DAY}))?\b"
)
_LENGTHS = r"hari|minggu|pekan|bulan|tahun"  # "3 hari", "2 minggu": lengths of time
_N_AGO = re.compile(  # not "tgl 20 bulan lalu" (the 20th of last month)
    rf"(?<!tanggal )(?<!tgl )\b(\d{{1,2}}|se)\s*({_LENGTHS})\s+(?:yang\s+|yg\s+)?(?:lalu|kemarin|sebelumnya)\b"
)
_N_AHEAD = re.compile(r"\b(\d{1,2}|se)\s*(hari|minggu|pekan)\s+(?:lagi|ke\s*depan|mendatang)\b")
# "pasar minggu", "pasar rebo", "pasar jumat": places (Jakarta, Tangerang), not days
_WEEKDAY = re.compile(
    r"(?<!pasar )\b(hari\s+)?(senin|selasa|rabu|kamis|jumat|sabtu|minggu)\b"
    r"(?:\s+(depan|besok|nanti|ini|lalu|kemarin|kemaren|yang\s+lalu|yg\s+lalu))?"
)
# "akhir bulan", "awal bulan depan", "pertengahan bulan ini": a day of a month named by its part
_PART_OF_MONTH = re.compile(
    r"\b(awal|pertengahan|tengah|akhir|ujung)\s+bulan(?:\s+(ini|depan|lalu|kemarin|kemaren))?\b"
)
_DAY_OF_MONTH = re.compile(rf"\btanggal\s*(\d{{1,2}})\b(?!\s*(?:[/.-]\s*\d|{_MONTHS}))")
# what looks like a day or a time: if none of it is read, the caller hears which words
_LOOKS_LIKE_A_DAY = re.compile(
    rf"\b\d|\b(?:{_MONTHS}|senin|selasa|rabu|kamis|jumat|sabtu|tanggal|besok|lusa|kemarin|"
    rf"semalam|hari ini|tadi|bulan depan)\b"
)


@dataclass(frozen=True)
class When:
    """What a message says about when: a day, a time of day, and the words not understood."""

    day: Optional[date] = None
    at: Optional[time] = None
    unread: str = ""
    # the words of a day counted in weeks, months or years ("bulan lalu", "2 minggu lalu"): the day
    # is only as near as they are, which whoever reads a report should know
    approximate: str = ""

    @property
    def understood(self) -> bool:
        return self.day is not None


def _prepare(text: str) -> str:
    text = unicodedata.normalize("NFKC", text or "").lower()
    text = text.replace("jum'at", "jumat")
    text = re.sub(r"\b(tadi|td) (malam|malem)\b|\b(malam|malem) tadi\b", "semalam", text)
    text = re.sub(r"[^\w\s/.,:-]", " ", text)
    words = [_WORDS.get(word, word) for word in re.split(r"\s+", text.strip())]
    return " ".join(words)


def _hour(hour: int, minute: int, part: Optional[str], night: bool) -> Optional[time]:
    if hour > 24 or minute > 59:
        return None
    hour %= 24
    if part in ("siang",) and hour < 11:
        hour += 12
    elif part in ("sore", "petang") and hour < 12:
        hour += 12
    elif (part == "malam" or (part is None and night)) and 6 <= hour < 12:
        hour += 12
    elif part == "malam" and hour == 12:
        hour = 0
    elif part in ("pagi", "subuh") and hour == 12:
        hour = 0
    return time(hour, minute)


def read_time(text: str) -> Tuple[Optional[time], str]:
    """The time of day a message names ("jam 3 sore" -> 15:00), and the text without it."""
    prepared = _prepare(text)
    match = _TIME.search(prepared)
    if not match:
        return None, prepared
    if match.group(1):
        hour, minute, part = int(match.group(1)), int(match.group(2) or 0), match.group(3)
    else:
        hour, minute, part = int(match.group(4)), int(match.group(5)), match.group(6)
    night = bool(re.search(r"\b(semalam|tadi malam|malam tadi|malam ini|nanti malam)\b", prepared))
    rest = (prepared[: match.start()] + " " + prepared[match.end() :]).strip()
    if part is None:  # "kemarin sore sekitar jam 4": the part of the day said apart from the hour
        apart = re.search(rf"\b({_PART_OF_DAY})\b", rest)
        part = apart.group(1) if apart else None
    return _hour(hour, minute, part, night), rest


def next_week_if_today(text: str, when: When, *, today: date) -> When:
    """For a booking: a weekday named on that same weekday ("sabtu" said on a Saturday) is next
    week's; "sabtu ini" and "hari ini" stay today."""
    prepared = _prepare(text)
    if when.day != today or not _WEEKDAY.search(prepared) or re.search(r"\b(ini|sekarang)\b", prepared):
        return when
    return When(day=today + timedelta(days=7), at=when.at)


def _weekday(text: str, today: date, prefer: str) -> Optional[date]:
    for match in _WEEKDAY.finditer(text):
        said_hari, name, qualifier = match.group(1), match.group(2), (match.group(3) or "").replace("yg", "yang")
        if name == "minggu" and not said_hari:  # also "week": "minggu depan", "2 minggu lalu"
            week_words = ("depan", "lalu", "yang lalu", "ini", "kemarin")
            if qualifier in week_words or re.search(r"\d\s*$", text[: match.start()]):
                continue
        target = WEEKDAYS[name]
        ahead = (target - today.weekday()) % 7
        if qualifier in ("depan", "besok", "nanti"):
            return today + timedelta(days=ahead or 7)
        if qualifier in ("lalu", "kemarin", "yang lalu"):
            return today - timedelta(days=(today.weekday() - target) % 7 or 7)
        if prefer == "past":
            return today - timedelta(days=(today.weekday() - target) % 7)
        return today + timedelta(days=ahead)
    return None


def _part_of_month(text: str, today: date, prefer: str) -> Optional[date]:
    """ "akhir bulan" is the month's last day, "awal" its 1st, "pertengahan"/"tengah" its 15th; of
    this month unless "depan" or "lalu" says otherwise, or, said alone, of the next (or, for the
    past, the last) month when this month's day is on the wrong side of today."""
    match = _PART_OF_MONTH.search(text)
    if not match:
        return None
    which = match.group(2)
    offset = {None: 0, "ini": 0, "depan": 1}.get(which, -1)

    def day_of(offset: int) -> date:
        year, month = _shifted_month(today, offset)
        last = calendar.monthrange(year, month)[1]
        return date(year, month, {"awal": 1, "akhir": last, "ujung": last}.get(match.group(1), 15))

    day = day_of(offset)
    if which is None and prefer == "future" and day < today:
        day = day_of(1)
    elif which is None and prefer == "past" and day > today:
        day = day_of(-1)
    return day


def _shifted_month(today: date, months: int) -> Tuple[int, int]:
    """The (year, month) `months` after today's month; before it when negative."""
    year, month = divmod(today.year * 12 + today.month - 1 + months, 12)
    return year, month + 1


def _months_before(today: date, months: int) -> date:
    """The same day `months` earlier (the month's last day when that month is shorter)."""
    year, month = _shifted_month(today, -months)
    return date(year, month, min(today.day, calendar.monthrange(year, month)[1]))


# a day counted in weeks, months or years: "bulan lalu", "2 minggu yang lalu", "sebulan lalu"
_ROUGHLY = re.compile(
    r"(?<!hari )\b(?:(?:\d{1,2}|se)\s*)?(?:minggu|pekan|bulan|tahun)\s+"
    r"(?:yang\s+|yg\s+)?(?:lalu|kemarin|kemaren|sebelumnya)\b"
)


def _relative(text: str, today: date, at: Optional[time]) -> Optional[date]:
    match = _N_AGO.search(text)
    if match:
        count = 1 if match.group(1) == "se" else int(match.group(1))
        if match.group(2) in ("bulan", "tahun"):
            return _months_before(today, count * (12 if match.group(2) == "tahun" else 1))
        return today - timedelta(days=count * (1 if match.group(2) == "hari" else 7))
    if re.search(r"\b(bulan|tahun) (lalu|kemarin|yang lalu)\b", text) and not _DAY_OF_MONTH.search(text):
        return _months_before(today, 12 if "tahun" in text else 1)
    match = _N_AHEAD.search(text)
    if match:
        count = 1 if match.group(1) == "se" else int(match.group(1))
        return today + timedelta(days=count * (1 if match.group(2) == "hari" else 7))
    if re.search(r"(?<!hari )\b(minggu|pekan) (lalu|kemarin|yang lalu)\b", text):
        return today - timedelta(days=7)
    if re.search(r"(?<!hari )\b(minggu|pekan) depan\b", text):
        return today + timedelta(days=7)
    if re.search(r"\bkemarin (lusa|dulu)\b", text):
        return today - timedelta(days=2)
    if re.search(r"\blusa\b", text):
        return today + timedelta(days=2)
    if re.search(r"\bbesok\b", text) and not _WEEKDAY.search(text):
        return today + timedelta(days=1)
    if re.search(r"\bsemalam\b", text):
        # last night; "semalam jam 2" is the small hours of today
        return today if at is not None and at.hour < 5 else today - timedelta(days=1)
    if re.search(r"\bkemarin\b", text) and not _WEEKDAY.search(text) and not re.search(r"\bbulan kemarin\b", text):
        return today - timedelta(days=1)
    if re.search(r"\b(hari ini|sekarang|tadi|barusan|malam ini|nanti malam|nanti sore|siang ini|sore ini)\b", text):
        return today
    return None


def _holiday(text: str, today: date, prefer: str) -> Optional[date]:
    for word, fragment in sorted(_HOLIDAY_WORDS.items(), key=lambda kv: -len(kv[0])):
        if re.search(rf"\b{word}\b", text):
            days = sorted(public_holidays(range(today.year - 1, today.year + 2)).items())
            if prefer == "past":
                days = [(d, n) for d, n in reversed(days) if d <= today]
            else:
                days = [(d, n) for d, n in days if d >= today]
            for day, name in days:
                if fragment in name.lower():
                    return day
    return None


def _day_of_month(text: str, today: date, prefer: str) -> Optional[date]:
    match = _DAY_OF_MONTH.search(text)
    if not match:
        return None
    wanted = int(match.group(1))
    if not 1 <= wanted <= 31:
        return None
    named = re.search(r"\bbulan\s+(depan|lalu|kemarin)\b", text)
    if named:  # "tgl 10 bulan depan": that day of next month, not the next 10th
        year, month = _shifted_month(today, 1 if named.group(1) == "depan" else -1)
        try:
            return date(year, month, wanted)
        except ValueError:
            return None
    step = -1 if prefer == "past" else 1
    year, month = today.year, today.month
    for _ in range(13):
        try:
            candidate = date(year, month, wanted)
        except ValueError:
            candidate = None
        if candidate and (candidate >= today if step > 0 else candidate <= today):
            return candidate
        month += step
        if month == 13:
            year, month = year + 1, 1
        elif month == 0:
            year, month = year - 1, 12
    return None


def _settings(today: date, prefer: str) -> dict:
    return {
        "DATE_ORDER": "DMY",
        "PREFER_DATES_FROM": prefer,
        "RELATIVE_BASE": datetime.combine(today, datetime.min.time()),
        "PREFER_DAY_OF_MONTH": "first",
    }


_DAY_AND_MONTH = re.compile(
    rf"\b(\d{{1,2}})\s*(?:[/.-]\s*)?({'|'.join(_INDONESIAN_MONTHS)}|\d{{1,2}})\b(?:\s*[/.-]?\s*(\d{{4}}))?"
)


def _impossible(text: str) -> bool:
    """ "31 februari", "31/4": a day the month does not have (dateparser would move it)."""
    for match in _DAY_AND_MONTH.finditer(text):
        day, month_word, year = int(match.group(1)), match.group(2), match.group(3)
        month = _MONTH_NUMBERS.get(month_word) or int(month_word)
        if not 1 <= month <= 12:
            continue
        try:
            date(int(year) if year else 2024, month, day)  # 2024: 29 February exists
        except ValueError:
            return True
    return False


# "nunggak 2 bulan", "telat 3 hari": a length of time, no day (dateparser reads it as that far
# ahead); "3 bulan lagi" is one
_LENGTH_ONLY = re.compile(rf"\b\d{{1,3}}\s*(?:{_LENGTHS})\b(?!\s+(?:lagi|ke\s*depan|mendatang|dari\s+sekarang))")


def _written(text: str, today: date, prefer: str) -> Optional[date]:
    """A written date ("25 des", "17/8/2026", "1 juni 2027") through dateparser."""
    text = _LENGTH_ONLY.sub(" ", text)
    if not re.search(rf"\d|\b(?:{_MONTHS})\b", text):
        return None  # dateparser reads plain words ("jam") as now
    if _impossible(text):
        return None
    settings = _settings(today, prefer)
    text = re.sub(r"\btanggal\b", " ", text).strip()
    parsed = dateparser.parse(text, languages=["id", "en"], settings=settings)
    if parsed is None:
        parsed = dateparser.parse(text, date_formats=["%d%m%Y", "%Y/%m/%d"], languages=["id", "en"], settings=settings)
    if parsed is None:
        found = search_dates(text, languages=["id", "en"], settings=settings) or []
        found = [value for fragment, value in found if re.search(rf"\d|\b(?:{_MONTHS})\b", fragment)]
        parsed = found[0] if found else None
    return parsed.date() if parsed else None


def _unread(text: str) -> str:
    """The words around what looked like a day, for "which part did I not understand"."""
    match = _LOOKS_LIKE_A_DAY.search(text)
    if not match:
        return ""
    words = text[match.start() :].split()
    if len(words) > 1 and words[0] == "tanggal" and words[1][:1].isdigit():
        words = words[1:]  # "tanggal 31 februari": the date is the part to name
    return " ".join(words[:3])[:60]


def read_when(text: str, *, today: date, prefer: str = "future") -> When:
    """What `text` says about when, counted from `today`.

    `prefer` is "future" (appointments, office hours: "senin" = the coming Monday) or "past"
    (incidents: "senin" = the last Monday, "semalam jam 11" = yesterday 23:00).
    """
    if len(text or "") > MAX_DATE_TEXT:
        return When(unread=(text or "")[:60])
    iso = _ISO.search(text or "")
    if iso:
        try:
            day = date(int(iso.group(1)), int(iso.group(2)), int(iso.group(3)))
            at = time(int(iso.group(4)), int(iso.group(5))) if iso.group(4) else None
        except ValueError:
            return When(unread=iso.group(0))
        return When(day=day, at=at)
    at, prepared = read_time(text)
    if not prepared and at is None:
        return When()
    for reader in (
        lambda: _part_of_month(prepared, today, prefer),
        lambda: _relative(prepared, today, at),
        lambda: _weekday(prepared, today, prefer),
        lambda: _holiday(prepared, today, prefer),
        lambda: _day_of_month(prepared, today, prefer),
        lambda: _written(prepared, today, prefer),
    ):
        found = reader()
        if found is not None:
            rough = None if _DAY_OF_MONTH.search(prepared) else _ROUGHLY.search(prepared)
            return When(day=found, at=at, approximate=rough.group(0) if rough else "")
    if at is not None and not _LOOKS_LIKE_A_DAY.search(prepared):
        return When(at=at)  # a time alone: the day is for the caller to decide
    return When(at=at, unread=_unread(_LENGTH_ONLY.sub(" ", prepared)))  # "nunggak 2 bulan" names no day


_MONTH_NAMED = re.compile(rf"\b(?:bulan\s+)?({_MONTHS})(?:\s+(\d{{4}}))?\b")
_MONTH_SHIFTED = re.compile(r"\bbulan\s+(depan|ini|lalu|kemarin|kemaren|sekarang)\b|\b(\d{1,2}|se)\s*bulan\s+lagi\b")


def read_month(text: str, *, today: date) -> Optional[Tuple[int, int]]:
    """The (year, month) `text` names as a month: "bulan depan", "bulan ini", "2 bulan lagi",
    "januari" (the coming one; this month's name is this month), "maret 2027"; or the month of a
    day it names ("tgl 10 bulan depan"). None when it names no month."""
    prepared = _prepare(text or "")
    shifted = _MONTH_SHIFTED.search(prepared)
    if shifted and not _DAY_OF_MONTH.search(prepared):
        word, count = shifted.group(1), shifted.group(2)
        offset = {"depan": 1, "lalu": -1, "kemarin": -1, "kemaren": -1}.get(word or "", 0)
        if count:
            offset = 1 if count == "se" else int(count)
        return _shifted_month(today, offset)
    named = _MONTH_NAMED.search(prepared)
    if named and not re.search(r"\d\s+" + named.group(1), prepared):  # not "17 agustus": a day
        month = _MONTH_NUMBERS[named.group(1)]
        year = int(named.group(2)) if named.group(2) else today.year + (month < today.month)
        return year, month
    day = read_when(text, today=today).day
    return (day.year, day.month) if day else None


_MONTH_WORDS = frozenset(_MONTH_NUMBERS) | {chat for chat, word in _WORDS.items() if word in _MONTH_NUMBERS}
_DATE_DIGITS = re.compile(r"\d{1,4}(?:[-/.]\d{1,4}){0,2}")


def written_date_span(text: str, start: int, end: int, *, today: date) -> Tuple[int, int]:
    """The span of the whole date written around text[start:end]: "5 [maret] 1990" is "5 maret
    1990". Neighbouring numbers and month names join it when together they read as a day; the
    span as given otherwise."""
    words = [(m.start(), m.end()) for m in re.finditer(r"[^\s,;!?]+", text or "")]
    inside = [i for i, (low, high) in enumerate(words) if low < end and high > start]
    if not inside:
        return start, end

    def part(i: int) -> bool:
        word = text[words[i][0] : words[i][1]].lower().rstrip(".")
        return word in _MONTH_WORDS or bool(_DATE_DIGITS.fullmatch(word))

    first, last = inside[0], inside[-1]
    while first > 0 and part(first - 1):
        first -= 1
    while last < len(words) - 1 and part(last + 1):
        last += 1
    low, high = words[first][0], words[last][1]
    if (low, high) == (start, end):
        return start, end
    written = text[low:high]
    if read_when(written, today=today).understood or parse_date_of_birth(written, today=today):
        return low, high
    return start, end


def parse_date(text: str, *, today: date, prefer: str = "future") -> Optional[date]:
    """The day `text` names, or None (see `read_when` for why)."""
    return read_when(text, today=today, prefer=prefer).day


def parse_date_of_birth(text: str, *, today: date) -> Optional[date]:
    """A date of birth: a full date (day, month and year) in the past; relative words are none."""
    if len(text or "") > MAX_BIRTH_DATE_TEXT:
        return None
    prepared = _prepare(text)
    if not re.search(r"\d", prepared):
        return None
    iso = _ISO.search(prepared)
    if iso:
        try:
            born = date(int(iso.group(1)), int(iso.group(2)), int(iso.group(3)))
        except ValueError:
            return None
        return born if born < today else None
    dmy = (
        _DMY.search(prepared)
        or _DMY_DIGITS.search(prepared)
        or _DMY_NAMED.search(prepared)
        or _DMY_SHORT.search(prepared)
    )
    if dmy:  # read on its own: dateparser reads "17-08-1985 jam buka cabang" as 13 September 1926
        day, month, year = int(dmy.group(1)), int(dmy.group(3)), int(dmy.group(4))
        if len(dmy.group(4)) == 2:  # "17/8/85": the latest century in which that year has come
            year += 2000 if 2000 + year <= today.year else 1900
        try:
            born = date(year, month, day)
        except ValueError:
            return None
    else:
        settings = {**_settings(today, "past"), "REQUIRE_PARTS": ["day", "month", "year"]}
        del settings["PREFER_DAY_OF_MONTH"]
        parsed = dateparser.parse(prepared, languages=["id", "en"], settings=settings)
        if parsed is None:
            parsed = dateparser.parse(prepared, date_formats=["%d%m%Y", "%Y/%m/%d"], settings=settings)
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


_DAY_NUMBER = re.compile(r"\b(\d{1,2})\b")
# "mundur 2 minggu", "5 hari lagi", "3x": a length of time or a count, not a day of the month
_DURATION_AFTER = re.compile(rf"\s*(?:{_LENGTHS}|jam|menit|x|kali)\b")
_DAY_BEFORE = re.compile(r"\b(?:tanggal|ke)\s*$")


def _is_duration(match: re.Match[str]) -> bool:
    """The number is followed by a unit of time and not introduced as a date ("tanggal 5 bulan
    depan" is a day; "mundur 2 minggu" is not)."""
    text = match.string
    return bool(_DURATION_AFTER.match(text, match.end())) and not _DAY_BEFORE.search(text, 0, match.start())


def parse_day_of_month(text: str) -> Optional[int]:
    """The day of month a customer names ("tgl 25", "tanggal 5", "ke 31", "25"), unvalidated.

    Returns the number as written (0 and 31 included) so the caller can explain what is
    allowed; None when the text names no day.
    """
    prepared = _prepare(text)
    numbers = {int(match.group(1)) for match in _DAY_NUMBER.finditer(prepared) if not _is_duration(match)}
    if len(numbers) != 1:  # none, or two different days ("tgl 5 atau 6"); "tgl 8 ... tgl 8" is one
        return None
    return numbers.pop()
