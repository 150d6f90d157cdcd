"""`make bench-outbound`: how fast the campaign sender sends against a fake Graph API on loopback
(at the default CAMPAIGN_SEND_RATE and unpaced), and the memory it needs for a 100,000-recipient
campaign (the audience is streamed and written in chunks, never held whole). Prints a Markdown
table for docs/BENCHMARKS.md."""

from __future__ import annotations

import argparse
import dataclasses
import resource
import sys
import tempfile
import time
from datetime import date, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import insert  # noqa: E402

from channels.whatsapp.cloud import CloudApi  # noqa: E402
from crm import db, seed  # noqa: E402
from crm.models import (  # noqa: E402
    Branch,
    Campaign,
    CampaignStatus,
    Staff,
    StaffRole,
    TemplateStatus,
)
from crm.runtime.campaign_sender import Sender  # noqa: E402
from crm.services import campaigns, templates  # noqa: E402
from crm.settings import load_settings  # noqa: E402
from tests.fake_graph import ACCESS_TOKEN, FakeGraph  # noqa: E402

NOW = datetime.utcnow().replace(microsecond=0)


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def database(folder: Path, customers: int):
    engine = db.create_db_engine(f"sqlite:///{folder / 'bench.db'}")
    db.migrate(engine)
    with engine.begin() as connection:
        connection.execute(
            insert(Branch.__table__),
            [dict(id=1, code="101", name="Cabang Uji", city="Jakarta", address="-", phone="-")],
        )
        connection.execute(
            insert(Staff.__table__),
            [
                dict(
                    id=1,
                    username="analis",
                    full_name="Analis",
                    password_hash="-",
                    role=StaffRole.ANALYST.value,
                    active=True,
                    created_at=NOW,
                )
            ],
        )
        seed.insert_bulk_customers(
            connection, 1, customers, branch_id=1, now=NOW, phone_prefix="+62877", phone_digits=8
        )
    factory = db.make_session_factory(engine)
    with db.session_scope(factory) as session:
        templates.load(session, templates.read_file())
        for row in templates.all_templates(session):
            row.status = TemplateStatus.APPROVED
    return engine, factory


def campaign(factory, name: str) -> int:
    with db.session_scope(factory) as session:
        template = next(t for t in templates.all_templates(session) if t.name == "ucapan_hari_raya")
        row = Campaign(
            name=name,
            template_id=template.id,
            parameters=["{customer_name}", name, "{brand_name}"],
            audience="all_active",
            audience_options={},
            send_at=NOW,
            status=CampaignStatus.APPROVED,
            version=1,
            created_by_id=1,
            created_at=NOW,
            updated_at=NOW,
            excluded={},
        )
        session.add(row)
        session.flush()
        return row.id


def send_for(sender: Sender, factory, campaign_id: int, seconds: float) -> float:
    """Messages per second while sending `campaign_id` for about `seconds` (or until it is done)."""
    with db.session_scope(factory) as session:
        campaigns.start(session, campaign_id, date.today(), "Uji", False, NOW)
    with db.session_scope(factory) as session:
        template_id = campaigns.get(session, campaign_id).template_id
    before, started = sender.sent, time.monotonic()
    sender.send_campaign(campaign_id, template_id, until=started + seconds)
    return (sender.sent - before) / (time.monotonic() - started)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recipients", type=int, default=100_000)
    parser.add_argument("--seconds", type=float, default=20.0)
    args = parser.parse_args()
    graph = FakeGraph()
    with tempfile.TemporaryDirectory() as folder:
        started = time.monotonic()
        engine, factory = database(Path(folder), args.recipients)
        built = time.monotonic() - started
        base = peak_mb()
        settings = load_settings({}, env_file=Path(folder) / "none")
        api = CloudApi(graph.url, ACCESS_TOKEN, "123")
        rows = []
        first = campaign(factory, "Selamat Natal")
        started = time.monotonic()
        with db.session_scope(factory) as session:
            written = campaigns.materialize(session, campaigns.get(session, first), date.today(), "Uji", False, NOW)
        materialize_s = time.monotonic() - started
        rows.append(("recipients written (one transaction)", f"{written:,}", f"{materialize_s:.1f} s"))
        rows.append(("sender process peak memory", f"{peak_mb():.0f} MB", f"{peak_mb() - base:+.0f} MB for the list"))
        for label, rate in (("default rate", settings.campaign_send_rate), ("unpaced", 0.0)):
            sender = Sender(
                dataclasses.replace(settings, campaign_send_rate=rate, whatsapp_daily_recipient_limit=10**7),
                factory,
                api,
            )
            measured = send_for(sender, factory, first, args.seconds)
            rows.append(
                (f"sent per second, {label} ({rate or 'no'} limit)", f"{measured:.1f} msg/s", f"{args.seconds:.0f} s")
            )
        rows.append(("peak memory after sending", f"{peak_mb():.0f} MB", ""))
        engine.dispose()
    graph.close()
    when = f"{datetime.now():%Y-%m-%d %H:%M}"
    print(f"\n## Outbound campaigns (`make bench-outbound`, {when}, SQLite, fake Graph API on loopback)\n")
    print(f"Database of {args.recipients:,} customers built in {built:.0f} s.\n")
    print("| measure | value | note |\n|---|---|---|")
    for row in rows:
        print(f"| {row[0]} | {row[1]} | {row[2]} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
