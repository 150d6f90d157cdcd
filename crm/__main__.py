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
    report = seed.seed(engine, customers, seed_value=args.seed, progress=seed.print_progress)
    print(
        f"seeded {report.customers} customers, {report.contracts} contracts, "
        f"{report.instalments} instalments, {report.branches} branches, "
        f"{report.holiday_overrides} holiday overrides in {report.seconds:.1f} s"
    )
    return 0


def _cmd_serve(settings: Settings, _args) -> int:
    from crm.supervisor import serve

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
    staff.add_argument("--role", choices=["agent", "supervisor"], default="agent")
    staff.add_argument("--name", default=None, help="full name shown to customers (first word)")
    return parser


COMMANDS = {
    "check": _cmd_check,
    "migrate": _cmd_migrate,
    "seed": _cmd_seed,
    "serve": _cmd_serve,
    "chat": _cmd_chat,
    "staff": _cmd_staff,
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
