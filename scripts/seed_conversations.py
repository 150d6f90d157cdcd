"""A history of customer conversations for the dashboard and the review: drives the running bot
over REST with varied scripts (questions with and without verification, wrong birth dates,
complaints, requests for a person, nonsense, customers who stop halfway), each conversation
from a loopback address of its own, as customers have. With --days D, each conversation is then
moved back to a random day of the last D days and a daytime hour (its tracker events, queue items
and cases together), and the stored outcomes are refreshed.

    make run                           # in one terminal
    make seed-conversations N=5000     # in another (DAYS=14 by default)

Conversations are real: the same NLU, policies, actions and database as customers get; when the
bot asks for a rating, six in ten customers tap one (mostly good, some a low one with a comment).
Only their dates are moved, so a week of history does not take a week.
"""

from __future__ import annotations

import argparse
import hashlib
import http.client
import json
import random
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Callable, Dict, List, Optional, Sequence, Tuple
from urllib.parse import urlparse

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import create_engine, select, text  # noqa: E402

from crm import db  # noqa: E402
from crm.clock import local_today, to_utc, utc_now  # noqa: E402
from crm.models import (  # noqa: E402
    Case,
    Contract,
    ContractStatus,
    Customer,
    Escalation,
    EscalationEvent,
    SatisfactionSurvey,
)
from crm.services import session_outcomes  # noqa: E402
from crm.settings import load_settings  # noqa: E402


@dataclass(frozen=True)
class Who:
    contract: str
    birth: str  # as customers type it


Script = Callable[[random.Random, Who], List[str]]


def _pick(r: random.Random, *options: str) -> str:
    return r.choice(options)


def _verify(r: random.Random, who: Who) -> List[str]:
    return [who.contract if r.random() < 0.8 else who.contract.lower(), who.birth]


def account_question(r: random.Random, who: Who) -> List[str]:
    ask = _pick(
        r,
        "min cicilan sy bln ini brp?",
        "angsuran saya bulan ini berapa ya",
        "sisa cicilan saya berapa",
        "bpkb saya udah bisa diambil belum?",
        "kapan bpkb sy bisa diambil",
        "denda telat bayar saya brp",
        "kalau mau pelunasan dipercepat berapa totalnya?",
        "autodebet saya tanggal berapa ya",
        "no VA saya berapa",
    )
    end = _pick(r, "ok makasih", "terima kasih min", "siap", "makasih banyak")
    return [ask, *_verify(r, who), end]


def wrong_date_then_right(r: random.Random, who: Who) -> List[str]:
    return ["cicilan saya berapa", who.contract, "01-01-1970", who.birth, "makasih"]


def office_hours(r: random.Random, who: Who) -> List[str]:
    city = _pick(r, "surabaya", "bekasi", "jakarta sunter", "bandung", "medan", "makassar")
    return [_pick(r, "halo", "pagi min", "permisi"), f"jam buka cabang {city}?", _pick(r, "oke makasih", "sip")]


def payment_methods(r: random.Random, who: Who) -> List[str]:
    return [
        _pick(r, "cara bayar angsuran gimana", "bisa bayar lewat apa aja?"),
        _pick(r, "lewat atm", "indomaret", "va"),
    ]


def ask_person(r: random.Random, who: Who) -> List[str]:
    return [
        _pick(r, "halo", "min"),
        _pick(r, "saya mau bicara dengan petugas", "sambungkan ke cs dong", "mau ngobrol sama orang"),
    ]


def complaint(r: random.Random, who: Who) -> List[str]:
    said = _pick(
        r,
        "saya mau komplain, debt collector nya kasar banget",
        "saya komplain dendanya kok besar sekali",
        "komplain, sudah bayar tapi belum masuk",
        "saya kecewa pelayanan cabang lambat sekali",
        "mau komplain aplikasinya error terus",
    )
    return [said]


def stops_during_verification(r: random.Random, who: Who) -> List[str]:
    return [_pick(r, "cek sisa hutang", "cicilan saya brp"), *([who.contract] if r.random() < 0.5 else [])]


def not_understood(r: random.Random, who: Who) -> List[str]:
    return [
        _pick(r, "asdfgh", "bisa pesan tiket pesawat?", "harga emas hari ini berapa"),
        _pick(r, "hmm", "resep rendang dong"),
    ]


def small_talk(r: random.Random, who: Who) -> List[str]:
    return [_pick(r, "halo", "selamat siang"), _pick(r, "makasih", "oke")]


SCRIPTS: Sequence[Tuple[Script, int]] = (
    (account_question, 34),
    (wrong_date_then_right, 4),
    (office_hours, 14),
    (payment_methods, 10),
    (ask_person, 8),
    (complaint, 6),
    (stops_during_verification, 10),
    (not_understood, 7),
    (small_talk, 7),
)


LOW_RATING_COMMENTS = (
    "jawabannya kurang jelas",
    "saya maunya ngobrol langsung sama orang aja",
    "infonya beda sama yang di kantor cabang",
)


def _rating_buttons(replies: list) -> Dict[int, str]:
    """The satisfaction buttons among the bot's replies, by score ({} when it did not ask)."""
    found: Dict[int, str] = {}
    for reply in replies:
        for button in reply.get("buttons") or []:
            payload = str(button.get("payload") or "")
            if "csat_score" in payload:
                found[int(payload.split('"csat_score":"')[1].split('"')[0])] = payload
    return found


class Bot:
    def __init__(self, rasa_url: str):
        parsed = urlparse(rasa_url)
        self.host, self.port = parsed.hostname or "127.0.0.1", parsed.port or 80

    def say(self, sender: str, message: str) -> list:
        digest = hashlib.sha256(sender.encode()).digest()
        source = f"127.{digest[0]}.{digest[1]}.{digest[2] % 254 + 1}"  # an address per customer
        connection = http.client.HTTPConnection(self.host, self.port, timeout=120, source_address=(source, 0))
        try:
            connection.request(
                "POST",
                "/webhooks/rest/webhook",
                json.dumps({"sender": sender, "message": message}),
                {"Content-Type": "application/json"},
            )
            answer = connection.getresponse()
            body = answer.read()
            if answer.status != 200:
                raise RuntimeError(f"{answer.status}: {body[:200]!r}")
            return json.loads(body)
        finally:
            connection.close()


def customers(database_url: str, limit: int = 2000) -> List[Who]:
    engine = db.create_db_engine(database_url)
    try:
        with db.session_scope(db.make_session_factory(engine)) as session:
            rows = session.execute(
                select(Contract.number, Customer.date_of_birth)
                .join(Customer, Contract.customer_id == Customer.id)
                .where(Contract.status == ContractStatus.ACTIVE)
                .order_by(Contract.id)
                .limit(limit)
            ).all()
    finally:
        engine.dispose()
    return [Who(number, birth.strftime("%d-%m-%Y")) for number, birth in rows]


def drive(bot: Bot, count: int, run: str, people: List[Who], seed: int, workers: int) -> List[str]:
    """`count` conversations; the senders that finished."""
    chooser = random.Random(seed)
    scripts, weights = zip(*SCRIPTS, strict=True)
    plans = []
    for n in range(count):
        script = chooser.choices(scripts, weights)[0]
        plans.append((f"seed-{run}-{n}", script(random.Random(seed * 100_003 + n), chooser.choice(people))))

    def talk(plan: Tuple[str, List[str]]) -> Optional[str]:
        sender, lines = plan
        rater = random.Random(f"{seed}-{sender}")
        try:
            for line in lines:
                rating = _rating_buttons(bot.say(sender, line))
                if rating and rater.random() < 0.6:  # most customers ignore the question
                    score = rater.choices(list(rating), [60, 25, 15])[0]
                    bot.say(sender, rating[score])
                    if score == 1 and rater.random() < 0.5:
                        bot.say(sender, rater.choice(LOW_RATING_COMMENTS))
            return sender
        except (OSError, RuntimeError) as error:
            print(f"  {sender}: {error}", file=sys.stderr)
            return None

    done: List[str] = []
    started = time.monotonic()
    with ThreadPoolExecutor(workers) as pool:
        for n, sender in enumerate(pool.map(talk, plans), 1):
            if sender:
                done.append(sender)
            if n % 250 == 0:
                print(f"  {n}/{count} conversations ({n / (time.monotonic() - started):.1f}/s)")
    return done


def spread(tracker_url: str, database_url: str, senders: List[str], days: int, seed: int) -> None:
    """Move each conversation to a random day of the last `days` and a daytime hour (WIB): its
    tracker events, queue items, cases and satisfaction questions by the same amount."""
    chooser = random.Random(seed)
    hours = list(range(24))
    weights = [1, 1, 1, 1, 1, 2, 4, 8, 12, 14, 14, 13, 11, 12, 13, 12, 11, 10, 9, 10, 10, 8, 5, 2]
    today = local_today()
    tracker = create_engine(tracker_url)
    crm_engine = db.create_db_engine(database_url)
    shifts: Dict[str, float] = {}
    try:
        with tracker.begin() as connection:
            for sender in senders:
                conversation = f"rest:{sender}"
                rows = connection.execute(
                    text("SELECT id, timestamp, data FROM events WHERE sender_id = :s ORDER BY id"), {"s": conversation}
                ).fetchall()
                if not rows:
                    continue
                day = today - timedelta(days=chooser.randrange(days))
                local = datetime.combine(day, datetime.min.time()) + timedelta(
                    hours=chooser.choices(hours, weights)[0], minutes=chooser.randrange(60)
                )
                target = (to_utc(local) - datetime(1970, 1, 1)).total_seconds()
                shift = float(rows[0][1]) - target
                shifts[conversation] = shift
                for event_id, stamp, data in rows:
                    event = json.loads(data)
                    if isinstance(event.get("timestamp"), (int, float)):
                        event["timestamp"] -= shift
                    connection.execute(
                        text("UPDATE events SET timestamp = :t, data = :d WHERE id = :i"),
                        {"t": float(stamp) - shift, "d": json.dumps(event), "i": event_id},
                    )
        with db.session_scope(db.make_session_factory(crm_engine)) as session:
            for conversation, shift in shifts.items():
                moved = timedelta(seconds=round(shift))
                for item in session.execute(
                    select(Escalation).where(Escalation.conversation_id == conversation)
                ).scalars():
                    for field in ("created_at", "claimed_at", "resolved_at", "due_at", "customer_notified_at"):
                        if getattr(item, field) is not None:
                            setattr(item, field, getattr(item, field) - moved)
                    for step in session.execute(
                        select(EscalationEvent).where(EscalationEvent.escalation_id == item.id)
                    ).scalars():
                        step.at -= moved
                for case in session.execute(select(Case).where(Case.conversation_id == conversation)).scalars():
                    case.created_at -= moved
                for survey in session.execute(
                    select(SatisfactionSurvey).where(SatisfactionSurvey.conversation_id == conversation)
                ).scalars():
                    survey.asked_at -= moved
                    if survey.answered_at is not None:
                        survey.answered_at -= moved
    finally:
        tracker.dispose()
        crm_engine.dispose()


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", "--conversations", type=int, default=500)
    parser.add_argument("--days", type=int, default=14, help="spread over the last DAYS days (0: leave them today)")
    parser.add_argument("--workers", type=int, default=8)
    parser.add_argument("--seed", type=int, default=int(time.time()))
    parser.add_argument("--rasa-url", default=None, help="default: RASA_URL / RASA_PORT of the settings")
    args = parser.parse_args(argv)
    settings = load_settings()
    bot = Bot(args.rasa_url or settings.rasa_url)
    try:
        probe = http.client.HTTPConnection(bot.host, bot.port, timeout=10)
        probe.request("GET", "/")
        probe.getresponse().read()
        probe.close()
    except OSError:
        print(
            f"the bot does not answer at {args.rasa_url or settings.rasa_url}: start it with `make run` first",
            file=sys.stderr,
        )
        return 2
    people = customers(settings.database_url)
    if not people:
        print("no active contracts in the database: `make run` seeds it", file=sys.stderr)
        return 2
    run = f"{args.seed % 100_000}"
    print(f"driving {args.conversations} conversations through {bot.host}:{bot.port} ({args.workers} at a time)")
    started = time.monotonic()
    senders = drive(bot, args.conversations, run, people, args.seed, args.workers)
    print(f"{len(senders)} conversations in {time.monotonic() - started:.0f} s")
    if args.days > 0:
        spread(settings.tracker_db_url, settings.database_url, senders, args.days, args.seed)
        print(f"moved over the last {args.days} days")
    engine = db.create_db_engine(settings.database_url)
    try:
        with db.session_scope(db.make_session_factory(engine)) as session:
            done = session_outcomes.refresh(session, settings.tracker_db_url, utc_now(), trigger="command")
    finally:
        engine.dispose()
    print(f"outcomes refreshed: {done.sessions} session(s); open the console's Dasbor")
    return 0 if len(senders) == args.conversations else 1


if __name__ == "__main__":
    raise SystemExit(main())
