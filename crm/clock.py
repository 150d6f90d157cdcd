"""Time in the company's zone. Indonesia's western zone (WIB) is UTC+7 all year (no daylight
saving), so a fixed offset is exact. Timestamps in the database are naive UTC."""

from __future__ import annotations

from datetime import date as date_type
from datetime import datetime, time, timedelta, timezone

WIB_OFFSET = timedelta(hours=7)
WIB = timezone(WIB_OFFSET, "WIB")


def utc_now() -> datetime:
    return datetime.utcnow().replace(microsecond=0)


def utc_now_exact() -> datetime:
    """Now with microseconds, for what is ordered or waited on within a second (the WhatsApp
    inbox); everything shown or compared by people uses whole seconds (`utc_now`)."""
    return datetime.utcnow()


def to_local(utc_naive: datetime) -> datetime:
    """Naive UTC -> naive WIB wall-clock time."""
    return utc_naive + WIB_OFFSET


def to_utc(local_naive: datetime) -> datetime:
    """Naive WIB wall-clock time -> naive UTC."""
    return local_naive - WIB_OFFSET


def local_today() -> date_type:
    """Today in WIB: the customers' date, which is not the machine's (UTC) from 17.00 UTC on."""
    return to_local(utc_now()).date()


def end_of_local_day(day: date_type) -> datetime:
    """The last second of `day` in WIB, as naive UTC."""
    return to_utc(datetime.combine(day, time(23, 59, 59)))
