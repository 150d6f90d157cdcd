"""Indonesian public holidays and working days (from the `holidays` package)."""

from __future__ import annotations

from datetime import date, timedelta
from functools import lru_cache
from typing import Dict, Iterable, Optional, Tuple


@lru_cache(maxsize=32)
def _holidays_for(years: Tuple[int, ...]) -> Dict[date, str]:
    import holidays

    return dict(holidays.country_holidays("ID", years=list(years), language="id"))


def public_holidays(years: Iterable[int]) -> Dict[date, str]:
    """Indonesian public holidays (Indonesian names) in `years`."""
    return dict(_holidays_for(tuple(sorted(set(years)))))


def holiday_name(day: date) -> str | None:
    return _holidays_for((day.year,)).get(day)


def is_working_day(day: date) -> bool:
    return day.weekday() < 5 and holiday_name(day) is None


def previous_working_day(day: date) -> date:
    """`day` itself when it is a working day, else the closest working day before it."""
    while not is_working_day(day):
        day -= timedelta(days=1)
    return day


def add_months(day: date, months: int, day_of_month: Optional[int] = None) -> date:
    """`day` moved by `months` calendar months, on `day_of_month` (1-28) or the same day."""
    month_index = day.year * 12 + (day.month - 1) + months
    year, month = divmod(month_index, 12)
    return date(year, month + 1, day_of_month or min(day.day, 28))


def add_working_days(day: date, count: int) -> date:
    """The `count`-th working day after `day` (weekends and public holidays skipped)."""
    while count > 0:
        day += timedelta(days=1)
        if is_working_day(day):
            count -= 1
    return day
