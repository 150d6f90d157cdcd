"""crm.when: days and times as customers write them, and the words it could not read."""

from __future__ import annotations

from datetime import date, time, timedelta

import pytest

from crm.when import When, next_week_if_today, read_month, read_time, read_when, written_date_span

WEDNESDAY = date(2026, 12, 2)


@pytest.mark.parametrize(
    "text, day",
    [
        ("cs nya klo hari minggu bs dihubungi sampe jam brp", date(2026, 12, 6)),
        ("buka ga sabtu di medan", date(2026, 12, 5)),
        ("sabtu depan", date(2026, 12, 5)),
        ("senin besok", date(2026, 12, 7)),
        ("rabu", WEDNESDAY),  # the weekday of today is today
        ("rabu depan", date(2026, 12, 9)),
        ("hari minggu depan", date(2026, 12, 6)),
        ("di pasar minggu hari senin", date(2026, 12, 7)),  # Pasar Minggu is a place in Jakarta
        ("hari rebo depan", date(2026, 12, 9)),  # Betawi / Javanese: rebo = rabu, senen = senin
        ("senen bisa?", date(2026, 12, 7)),
        ("dicuri di pasar rebo hari kemis", date(2026, 12, 3)),  # Pasar Rebo is a place too
        ("minggu depan", date(2026, 12, 9)),  # next week
        ("besok", date(2026, 12, 3)),
        ("bsk pagi", date(2026, 12, 3)),
        ("lusa", date(2026, 12, 4)),
        ("hari ini", WEDNESDAY),
        ("3 hari lagi", date(2026, 12, 5)),
        ("25 des", date(2026, 12, 25)),
        ("tgl 5", date(2026, 12, 5)),
        ("tanggal 1", date(2027, 1, 1)),
        ("3 Des 2026", date(2026, 12, 3)),
        ("pas natal", date(2026, 12, 25)),
        ("2026-12-03", date(2026, 12, 3)),  # a button's payload: never read day-first
        ('/inform{"date":"2027-01-12"}', date(2027, 1, 12)),
        ("kalau lunas akhir bulan ini", date(2026, 12, 31)),
        ("akhir bulan", date(2026, 12, 31)),
        ("awal bulan depan", date(2027, 1, 1)),
        ("awal bulan", date(2027, 1, 1)),  # this month's 1st is past: the next one
        ("pertengahan bulan depan", date(2027, 1, 15)),
        ("tengah bulan", date(2026, 12, 15)),
        ("kalo mau lunasin tgl 15 bulan depan brp", date(2027, 1, 15)),  # not the coming 15th
        ("tanggal 5 bulan depan", date(2027, 1, 5)),
        ("3 bulan lagi", date(2027, 3, 2)),
    ],
)
def test_days_ahead(text, day):
    assert read_when(text, today=WEDNESDAY).day == day


@pytest.mark.parametrize(
    "text, day, at",
    [
        ("semalam jam 11", date(2026, 12, 1), time(23, 0)),
        ("dicuri semalam", date(2026, 12, 1), None),
        ("tadi malam jam 9", date(2026, 12, 1), time(21, 0)),
        ("semalem jam 2an", WEDNESDAY, time(2, 0)),  # the small hours of today
        ("tadi pagi", WEDNESDAY, None),
        ("tgl 20 bulan lalu", date(2026, 11, 20), None),  # not twenty months ago
        ("tanggal 3 bulan kemarin", date(2026, 11, 3), None),
        ("2 bulan lalu", date(2026, 10, 2), None),
        ("tadi jam 7 pagi", WEDNESDAY, time(7, 0)),
        ("kemarin sore", date(2026, 12, 1), None),
        ("kmrn jam 3 sore", date(2026, 12, 1), time(15, 0)),
        ("kemarin jam 2 siang", date(2026, 12, 1), time(14, 0)),
        ("kemarin lusa", date(2026, 11, 30), None),
        ("minggu lalu", date(2026, 11, 25), None),
        ("seminggu yang lalu", date(2026, 11, 25), None),
        ("bulan lalu", date(2026, 11, 2), None),
        ("2 bulan yang lalu", date(2026, 10, 2), None),
        ("3 hari yang lalu", date(2026, 11, 29), None),
        ("jumat kemarin", date(2026, 11, 27), None),
        ("hari senin", date(2026, 11, 30), None),  # an incident on "monday": the last one
        ("pukul 14.30 tgl 28", date(2026, 11, 28), time(14, 30)),
        ("20 november 2026", date(2026, 11, 20), None),
        ("17/11", date(2026, 11, 17), None),
        ("akhir bulan lalu", date(2026, 11, 30), None),
        ("akhir bulan", date(2026, 11, 30), None),  # this month's end is ahead: the last one
        ("awal bulan ini", date(2026, 12, 1), None),
        ("kemarin sore sekitar jam 4", date(2026, 12, 1), time(16, 0)),  # the part of the day said apart
        ("tadi pagi jam 9", date(2026, 12, 2), time(9, 0)),
    ],
)
def test_days_past(text, day, at):
    found = read_when(text, today=WEDNESDAY, prefer="past")
    assert (found.day, found.at, found.unread) == (day, at, "")


@pytest.mark.parametrize(
    "text, approximate",
    [
        ("beliau meninggal bulan lalu", "bulan lalu"),
        ("sekitar 2 minggu yang lalu", "2 minggu yang lalu"),
        ("sebulan lalu", "sebulan lalu"),
        ("tgl 20 bulan lalu", ""),  # the day is said
        ("hari minggu lalu", ""),  # last Sunday
        ("3 hari lalu", ""),
        ("kemarin", ""),
    ],
)
def test_a_day_counted_in_weeks_or_months_is_approximate(text, approximate):
    found = read_when(text, today=WEDNESDAY, prefer="past")
    assert found.day is not None and found.approximate == approximate


@pytest.mark.parametrize(
    "text, at",
    [("jam 11", time(11, 0)), ("jam 3 sore", time(15, 0)), ("jam 8 malam", time(20, 0)), ("pukul 09:15", time(9, 15))],
)
def test_times(text, at):
    assert read_time(text)[0] == at
    assert read_when(text, today=WEDNESDAY) == When(at=at)  # a time alone names no day


@pytest.mark.parametrize(
    "text, unread",
    [
        ("31 februari", "31 februari"),
        ("tgl 31/4", "31/4"),
        ("2026-13-45", "2026-13-45"),
        ("kapan2 aja tgl brp", "tanggal brp"),
        ("sy mau lunasin bulan depan brp", "bulan depan brp"),  # a month is not a day
    ],
)
def test_what_it_cannot_read_it_names(text, unread):
    found = read_when(text, today=WEDNESDAY)
    assert found.day is None and unread in found.unread


@pytest.mark.parametrize(
    "text",
    [
        "jam buka kantor",
        "halo kak",
        "di parkiran mall taman anggrek jakarta",
        "parkiran pasar minggu",
        "",
        # a length of time is no day: not "in two months" (dateparser's reading)
        "saya nunggak 2 bulan, kalau mau bayar semua totalnya berapa?",
        "telat 3 hari dendanya berapa",
    ],
)
def test_no_day_named_is_no_day_and_nothing_unread(text):
    assert read_when(text, today=WEDNESDAY) == When()


def test_every_iso_payload_of_a_year_reads_back_exactly():
    day = date(2026, 1, 1)
    while day.year == 2026:
        for today in (day - timedelta(days=1), day):
            assert read_when(day.isoformat(), today=today).day == day
        day += timedelta(days=1)


@pytest.mark.parametrize(
    "text, month",
    [
        ("kalau bulan depan?", (2027, 1)),
        ("bln depan brp", (2027, 1)),
        ("bulan ini berapa", (2026, 12)),
        ("bulan lalu", (2026, 11)),
        ("2 bulan lagi", (2027, 2)),
        ("kalo januari?", (2027, 1)),
        ("kalau desember", (2026, 12)),
        ("maret 2027", (2027, 3)),
        ("tgl 10 bulan depan", (2027, 1)),
        ("oke makasih", None),
    ],
)
def test_read_month(text, month):
    assert read_month(text, today=date(2026, 12, 5)) == month


@pytest.mark.parametrize(
    "text, tagged, whole",
    [
        ("5 maret 1990", "maret", "5 maret 1990"),
        ("K20123000002 5 maret 1990", "1990", "5 maret 1990"),
        ("lahir 17 agt 1985 ya", "agt", "17 agt 1985"),
        ("besok jam 10", "besok", "besok"),
        ("ganti ke tgl 20", "20", "20"),
    ],
)
def test_written_date_span_widens_a_part_to_the_whole_date(text, tagged, whole):
    start = text.index(tagged)
    low, high = written_date_span(text, start, start + len(tagged), today=date(2026, 12, 5))
    assert text[low:high] == whole


@pytest.mark.parametrize(
    "text, day",
    [
        ("bisa diambil sabtu ga?", date(2026, 12, 12)),  # said on a Saturday: the next one
        ("sabtu ini bisa?", date(2026, 12, 5)),
        ("hari ini bisa?", date(2026, 12, 5)),
        ("senin", date(2026, 12, 7)),
    ],
)
def test_a_booking_on_todays_weekday_is_next_week(text, day):
    saturday = date(2026, 12, 5)
    assert next_week_if_today(text, read_when(text, today=saturday), today=saturday).day == day


def test_today_is_the_customers_date_not_the_machines(monkeypatch):
    """From 17.00 UTC it is already tomorrow in WIB: the seeded data and the assistant must agree
    on that day (the seed took the machine's UTC date, so a payment seeded 'yesterday' was two days
    old to the assistant in the evening)."""
    from datetime import datetime

    from crm import clock

    monkeypatch.setattr(clock, "utc_now", lambda: datetime(2026, 12, 5, 18, 0))
    assert clock.local_today() == date(2026, 12, 6)
    monkeypatch.setattr(clock, "utc_now", lambda: datetime(2026, 12, 5, 16, 59))
    assert clock.local_today() == date(2026, 12, 5)
