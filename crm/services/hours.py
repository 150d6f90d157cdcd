"""Opening hours of branch offices, service lounges and customer care on a given date.

A holiday override for the branch wins over one for all branches, which wins over the
regular weekly hours (no weekly row: closed that weekday).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Dict, List, Optional

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from crm.formatting import long_date_time
from crm.models import Branch, BranchHours, HolidayOverride, Service
from crm.responses import render
from crm.services.accounts import BranchInfo, branch_info


@dataclass(frozen=True)
class Hours:
    service: Service
    opens: Optional[time]
    closes: Optional[time]
    holiday: Optional[str]  # the reason when special hours apply

    @property
    def open(self) -> bool:
        return self.opens is not None


def hours_on(session: Session, branch_id: int, day: date) -> Dict[Service, Hours]:
    overrides = (
        session.execute(
            select(HolidayOverride).where(
                HolidayOverride.day == day,
                or_(HolidayOverride.branch_id == branch_id, HolidayOverride.branch_id.is_(None)),
            )
        )
        .scalars()
        .all()
    )
    weekly = {
        row.service: row
        for row in session.execute(
            select(BranchHours).where(BranchHours.branch_id == branch_id, BranchHours.weekday == day.weekday())
        ).scalars()
    }
    result = {}
    for service in Service:
        specific = [o for o in overrides if o.service is service]
        specific.sort(key=lambda o: o.branch_id is None)  # branch-specific first
        if specific:
            o = specific[0]
            result[service] = Hours(service, o.opens, o.closes, o.name)
        elif service in weekly:
            result[service] = Hours(service, weekly[service].opens, weekly[service].closes, None)
        else:
            result[service] = Hours(service, None, None, None)
    return result


def find_branches(session: Session, text: str) -> List[BranchInfo]:
    """Branches whose city or name appears in `text` ('jam buka cabang surabaya'): "jakarta
    selatan" or "jakarta sunter" names one branch, "jakarta" alone all of the city's."""
    text = " ".join(re.findall(r"\w+", (text or "").lower()))
    words = set(text.split())
    named, in_city = [], []
    for branch in session.execute(select(Branch).order_by(Branch.code)).scalars():
        city = branch.city.lower()
        name = branch.name.lower().removeprefix("cabang ")
        if city in text or name in text or any(w in words for w in name.split()[1:]):  # "fatmawati"
            named.append(branch_info(branch))
        elif city.split()[0] in words:
            in_city.append(branch_info(branch))
    return named or in_city


def all_branches(session: Session) -> List[BranchInfo]:
    return [branch_info(b) for b in session.execute(select(Branch).order_by(Branch.code)).scalars()]


def open_days(
    session: Session,
    branch_id: int,
    start: date,
    count: int,
    *,
    horizon_days: int = 30,
    service: Service = Service.BRANCH_OFFICE,
) -> List[date]:
    """The first `count` days from `start` on which `service` at the branch is open."""
    days: List[date] = []
    day = start
    while len(days) < count and day <= start + timedelta(days=horizon_days):
        if hours_on(session, branch_id, day)[service].open:
            days.append(day)
        day += timedelta(days=1)
    return days


HEAD_OFFICE_BRANCH_ID = 1  # customer care (phone/WhatsApp) works from the head office


@dataclass(frozen=True)
class CareAvailability:
    open_now: bool
    next_open: Optional[datetime]  # local WIB wall-clock time; None when open now
    closes: Optional[datetime] = None  # when open now: today's closing time (WIB)


def customer_care_availability(session: Session, now_local: datetime, *, horizon_days: int = 14) -> CareAvailability:
    """Is customer care staffed at `now_local` (WIB)? If not, when does it next open?"""
    for offset in range(horizon_days + 1):
        day = now_local.date() + timedelta(days=offset)
        hours = hours_on(session, HEAD_OFFICE_BRANCH_ID, day)[Service.CUSTOMER_CARE]
        if not hours.open or hours.opens is None or hours.closes is None:
            continue
        opens, closes = datetime.combine(day, hours.opens), datetime.combine(day, hours.closes)
        if offset == 0 and opens <= now_local < closes:
            return CareAvailability(True, None, closes)
        if now_local < opens:
            return CareAvailability(False, opens)
    return CareAvailability(False, None)


def expected_answer(availability: CareAvailability) -> str:
    """When staff will answer, in the customer's words: before today's closing time, the next
    opening, or the next working day (texts in domain.yml)."""
    if availability.open_now and availability.closes is not None:
        return render("utter_line_answer_today", closes=f"{availability.closes:%H.%M}")
    if availability.next_open is not None:
        return long_date_time(availability.next_open)
    return render("utter_line_next_working_day")  # no customer-care hours in the horizon
