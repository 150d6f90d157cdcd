"""Command line of the CRM assistant: `python -m crm {check,migrate,seed,serve,chat,staff}`.

Every known problem (bad DATABASE_URL, unreachable database, missing model, port in use)
ends with one sentence naming the problem and the fix, and exit code 2.
"""

from __future__ import annotations

import argparse
import json
import sys
import urllib.error
import urllib.request
import uuid
from pathlib import Path
from typing import List, Optional

from crm.settings import ConfigError, Settings, load_settings


def _cmd_check(settings: Settings, _args) -> int:
    from crm import db

    engine = db.create_db_engine(settings.database_url)
    db.check_database(engine)
    print(f"database reachable: {db.redact_url(settings.database_url)}")
    return 0


def _cmd_migrate(settings: Settings, _args) -> int:
    from crm import db

    engine = db.create_db_engine(settings.database_url)
    db.migrate(engine)
    print(f"schema at revision {db.current_revision(engine)}: {db.redact_url(settings.database_url)}")
    return 0


def _cmd_seed(settings: Settings, args) -> int:
    from crm import db, seed

    engine = db.create_db_engine(settings.database_url)
    db.migrate(engine)
    if db.is_seeded(engine):
        if args.if_empty:
            print("database already holds customers; not seeding")
            return 0
        if not args.reset:
            raise ConfigError(
                "The database already holds customers; run with --reset (make seed does) to "
                "replace everything, or point DATABASE_URL at an empty database."
            )
        seed.clear(engine)
    customers = settings.seed_customers if args.customers is None else args.customers
    if customers < 0:
        raise ConfigError(f"--customers {customers} is negative; give 0 or more.")
    report = seed.seed(
        engine, customers, seed_value=args.seed, today=settings.current_date(), progress=seed.print_progress
    )
    print(
        f"seeded {report.customers} customers, {report.contracts} contracts, "
        f"{report.instalments} instalments, {report.branches} branches, "
        f"{report.holiday_overrides} holiday overrides in {report.seconds:.1f} s"
    )
    return 0


def _cmd_serve(settings: Settings, _args) -> int:
    from crm.runtime.supervisor import serve

    return serve(settings)


def _cmd_chat(settings: Settings, args) -> int:
    """A minimal terminal chat with the running Rasa server over the REST channel."""
    url = f"{settings.rasa_url}/webhooks/rest/webhook"
    sender = args.sender or f"terminal-{uuid.uuid4().hex[:8]}"
    print(f"Chatting with {url} as {sender!r}; an empty line or Ctrl-D ends.")
    while True:
        try:
            text = input("Anda: ").strip()
        except EOFError:
            return 0
        if not text:
            return 0
        body = json.dumps({"sender": sender, "message": text}).encode()
        request = urllib.request.Request(url, body, {"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                replies = json.load(response)
        except (urllib.error.URLError, OSError) as exc:
            raise ConfigError(
                f"The Rasa server at {settings.rasa_url} does not answer ({exc}); start it with `make run`."
            )
        for reply in replies:
            if reply.get("text"):
                print(f"Bot: {reply['text']}")
            for button in reply.get("buttons", []):
                print(f"     [{button.get('title')}] -> {button.get('payload')}")


def _cmd_staff(settings: Settings, args) -> int:
    """Create a console account. The password is asked for (never echoed), or read from
    CRM_STAFF_PASSWORD for scripts; it is never a default."""
    import getpass
    import os

    from crm import db
    from crm.services.staff import StaffError, create_staff

    password = os.environ.get("CRM_STAFF_PASSWORD")
    if not password:
        if not sys.stdin.isatty():
            raise ConfigError("no terminal to ask for a password; set CRM_STAFF_PASSWORD for this command.")
        password = getpass.getpass(f"password for {args.username}: ")
        if password != getpass.getpass("again: "):
            raise ConfigError("the two passwords differ; run the command again.")
    engine = db.create_db_engine(settings.database_url)
    db.migrate(engine)
    try:
        with db.session_scope(db.make_session_factory(engine)) as session:
            staff = create_staff(session, args.username, args.name or args.username, password, args.role)
            print(f"created {staff.role.value} {staff.username!r}; log in at {settings.console_url}")
    except StaffError as error:
        raise ConfigError(str(error))
    finally:
        engine.dispose()
    return 0


def _cmd_purge(settings: Settings, args) -> int:
    """Delete what is past its retention (CONVERSATION_RETENTION_DAYS, WHATSAPP_INBOX_RETENTION_DAYS)."""
    from crm import db
    from crm.models import AuditEntry
    from crm.services.data_protection import purge

    engine = db.create_db_engine(settings.database_url)
    try:
        with db.session_scope(db.make_session_factory(engine)) as session:
            report = purge(
                session,
                settings.tracker_db_url,
                settings.conversation_retention_days,
                settings.whatsapp_inbox_retention_days,
                dry_run=args.dry_run,
            )
            if not args.dry_run:
                session.add(AuditEntry(action="retention_purge", detail="; ".join(report.lines())))
    finally:
        engine.dispose()
    print(
        ("dry run, nothing deleted: " if args.dry_run else "")
        + f"retention {settings.conversation_retention_days} days for conversations, "
        f"{settings.whatsapp_inbox_retention_days} days for WhatsApp webhook rows"
    )
    for line in report.lines():
        print("  " + line)
    return 0


def _cmd_customer(settings: Settings, args) -> int:
    """A customer's data request under UU 27/2022: export everything, or erase it."""
    from crm import db
    from crm.models import AuditEntry
    from crm.services import data_protection

    engine = db.create_db_engine(settings.database_url)
    try:
        with db.session_scope(db.make_session_factory(engine)) as session:
            try:
                customer = data_protection.find_customer(session, args.contract, args.customer_id)
            except data_protection.NotFound as error:
                raise ConfigError(f"{error}; give the contract number (--contract) or customer id (--customer-id).")
            if args.action == "export":
                data = data_protection.export_customer(session, customer, settings.tracker_db_url)
                text = json.dumps(data, ensure_ascii=False, indent=2)
                if args.out:
                    with open(args.out, "w", encoding="utf-8") as file:
                        file.write(text + "\n")
                    print(
                        f"customer {customer.id}: {len(data['conversations'])} conversation(s) exported to {args.out}"
                    )
                else:
                    print(text)
                session.add(AuditEntry(action="customer_export", detail=f"customer {customer.id}"))
                return 0
            if not args.yes:
                raise ConfigError("erasing cannot be undone; add --yes (export first if the customer wants a copy).")
            try:
                report = data_protection.erase_customer(session, customer, settings.tracker_db_url)
            except ValueError as error:
                raise ConfigError(str(error))
            session.add(
                AuditEntry(
                    action="customer_erase", detail=f"customer {customer.id}: {len(report.conversations)} conversations"
                )
            )
            for line in report.lines():
                print(line)
            return 0
    finally:
        engine.dispose()


def _cmd_config(settings: Settings, args) -> int:
    """Write the files `make run` writes for its children, for deployments that start each
    process on its own (one container each, docs/OPERATIONS.md)."""
    from crm.runtime import nginx
    from crm.runtime.configuration import write_credentials, write_endpoints

    out = Path(args.out)
    written = [write_endpoints(settings, out), write_credentials(settings, out)]
    if settings.behind_proxy:
        written.append(nginx.write_config(settings, out, Path(settings.log_dir)))
    for path in written:
        print(path)
    return 0


def _cmd_templates(settings: Settings, args) -> int:
    """WhatsApp templates: `check` the file, `sync` Meta's approval state, `submit` new or edited ones."""
    from crm import db
    from crm.clock import utc_now
    from crm.runtime import campaign_sender
    from crm.services import templates

    try:
        specs = templates.read_file()
    except templates.TemplateFileError as error:
        raise ConfigError(f"{templates.TEMPLATES_FILE.name}: {error}")
    if args.action == "check":
        print(f"{len(specs)} template(s) in {templates.TEMPLATES_FILE.name} are well formed")
        return 0
    engine = db.create_db_engine(settings.database_url)
    db.migrate(engine)
    factory = db.make_session_factory(engine)
    api = campaign_sender.cloud_api(settings)
    try:
        if args.action == "submit":
            print(f"submitted {campaign_sender.submit_templates(factory, api, utc_now())} template(s) to Meta")
        changed = campaign_sender.sync_templates(factory, api, utc_now())
        with db.session_scope(factory) as session:
            for row in templates.all_templates(session):
                reason = f"  {row.reason}" if row.reason else ""
                print(f"{row.name:28} {row.language:4} {row.category.value:10} {row.status.value}{reason}")
        print(f"{changed} changed since the last sync")
    except campaign_sender.CloudError as error:
        raise ConfigError(f"the Graph API refused: {error}")
    finally:
        engine.dispose()
    return 0


def _cmd_campaigns(settings: Settings, args) -> int:
    """`send`: one pass of the campaign sender (for a scheduler in the production profile)."""
    from crm.runtime import campaign_sender

    return campaign_sender.main(["--once"])


def _cmd_outcomes(settings: Settings, args) -> int:
    """`refresh`: bring the stored session outcomes up to date (a nightly cron, or by hand);
    `summary`: refresh, then print the figures of the last `--days` days as JSON."""
    import json
    from datetime import timedelta

    from crm import db
    from crm.clock import local_today, utc_now
    from crm.services import monitoring, session_outcomes

    engine = db.create_db_engine(settings.database_url)
    db.migrate(engine)
    try:
        factory = db.make_session_factory(engine)
        with db.session_scope(factory) as session:
            done = session_outcomes.refresh(session, settings.tracker_db_url, utc_now(), trigger="command")
        if args.action == "refresh":
            print(
                f"{done.sessions} session(s) of {done.conversations} conversation(s) refreshed from tracker "
                f"events {done.from_event_id + 1}..{done.to_event_id} in {done.seconds:.1f} s"
            )
            return 0
        today = local_today()
        period = monitoring.Period(today - timedelta(days=args.days - 1), today, args.channel or None)
        with db.session_scope(factory) as session:
            print(json.dumps(monitoring.figures(session, period, utc_now()), indent=2, ensure_ascii=False, default=str))
    finally:
        engine.dispose()
    return 0


def _cmd_report(settings: Settings, args) -> int:
    """The weekly HTML report (crm/console/report.py), after refreshing the outcomes."""
    from pathlib import Path

    from jinja2 import Environment, FileSystemLoader, select_autoescape

    from crm import db
    from crm.clock import to_local, utc_now
    from crm.console import report
    from crm.console.web import HERE
    from crm.services import session_outcomes

    try:
        monday = report.week_of(args.week)
    except ValueError as error:
        raise ConfigError(str(error))
    out = Path(args.out or f"var/reports/laporan-{monday.isoformat()}.html")
    engine = db.create_db_engine(settings.database_url)
    db.migrate(engine)
    try:
        factory = db.make_session_factory(engine)
        with db.session_scope(factory) as session:
            session_outcomes.refresh(session, settings.tracker_db_url, utc_now(), trigger="command")
        with db.session_scope(factory) as session:
            found = report.build(session, monday, utc_now(), args.channel or "")
        templates = Environment(
            loader=FileSystemLoader(str(HERE / "templates")), autoescape=select_autoescape(["html"])
        )
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(report.render(templates, found, to_local(utc_now())), encoding="utf-8")
    finally:
        engine.dispose()
    print(f"wrote {out}: week {monday.isoformat()}, {found['this']['sessions']} session(s)")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m crm", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("check", help="check that DATABASE_URL is valid and reachable")
    sub.add_parser("migrate", help="create or upgrade the schema (Alembic)")
    seed = sub.add_parser("seed", help="fill the database with synthetic customers")
    seed.add_argument("--customers", "-n", type=int, default=None, help="how many (default SEED_CUSTOMERS)")
    seed.add_argument("--reset", action="store_true", help="delete existing data first")
    seed.add_argument("--if-empty", action="store_true", help="do nothing when already seeded")
    seed.add_argument("--seed", type=int, default=20261122, help="random seed (same seed, same data)")
    sub.add_parser("serve", help="start the action and Rasa servers (what `make run` does)")
    chat = sub.add_parser("chat", help="chat with the running bot in this terminal")
    chat.add_argument("--sender", default=None)
    staff = sub.add_parser("staff", help="create a CRM console account")
    staff.add_argument("username")
    staff.add_argument(
        "--role", choices=["agent", "supervisor", "analyst", "department_head", "corporate_secretary"], default="agent"
    )
    staff.add_argument("--name", default=None, help="full name shown to customers (first word)")
    purge = sub.add_parser("purge", help="delete conversations and records past their retention period")
    purge.add_argument("--dry-run", action="store_true", help="only count what would be deleted")
    customer = sub.add_parser("customer", help="export or erase one customer's data (UU 27/2022)")
    customer.add_argument("action", choices=["export", "erase"])
    who = customer.add_mutually_exclusive_group(required=True)
    who.add_argument("--contract", help="one of the customer's contract numbers")
    who.add_argument("--customer-id", type=int)
    customer.add_argument("--out", help="export: write the JSON here instead of printing it")
    customer.add_argument("--yes", action="store_true", help="erase: confirm")
    templates = sub.add_parser("templates", help="WhatsApp message templates (business/whatsapp_templates.yml)")
    templates.add_argument("action", choices=["check", "sync", "submit"])
    campaigns = sub.add_parser("campaigns", help="send due WhatsApp campaigns once (a scheduler's job)")
    campaigns.add_argument("action", choices=["send"])
    outcomes = sub.add_parser("outcomes", help="refresh the stored session outcomes, or print the last days' figures")
    outcomes.add_argument("action", nargs="?", choices=["refresh", "summary"], default="summary")
    outcomes.add_argument("--days", type=int, default=7)
    outcomes.add_argument("--channel", default="", help="only this channel (rest, socketio, whatsapp)")
    report = sub.add_parser("report", help="write the weekly HTML report for the CRM manager")
    report.add_argument("--week", required=True, help="ISO week (2026-W48) or a day in it (2026-11-25)")
    report.add_argument("--channel", default="")
    report.add_argument("--out", default=None, help="file to write (default var/reports/laporan-<monday>.html)")
    config = sub.add_parser("config", help="write endpoints.yml, credentials.yml (and nginx.conf) from the settings")
    config.add_argument("--out", required=True, help="folder to write them to")
    return parser


COMMANDS = {
    "check": _cmd_check,
    "migrate": _cmd_migrate,
    "seed": _cmd_seed,
    "serve": _cmd_serve,
    "chat": _cmd_chat,
    "staff": _cmd_staff,
    "purge": _cmd_purge,
    "customer": _cmd_customer,
    "config": _cmd_config,
    "templates": _cmd_templates,
    "campaigns": _cmd_campaigns,
    "outcomes": _cmd_outcomes,
    "report": _cmd_report,
}


def main(argv: Optional[List[str]] = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings = load_settings()
        return COMMANDS[args.command](settings, args)
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
