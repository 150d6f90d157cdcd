"""`make demo-whatsapp`: the whole product with WhatsApp pointed at a local fake Graph API, so a
supervisor can draft the autodebit-on-holiday campaign, approve it with a second account and
watch it "send", delivery statuses included.

It starts the fake Graph API (tests/fake_graph.py: approves submitted templates, reports sent /
delivered / read to the webhook, signed), creates three demo console accounts (analyst,
department head, corporate secretary) with passwords printed once, submits the templates, and
then runs what `make run` runs. Never for production: the secrets are made up for this run.
"""

from __future__ import annotations

import dataclasses
import secrets
import subprocess
import sys
import time
import urllib.request

from crm import db
from crm.clock import utc_now
from crm.settings import PROJECT_ROOT, Settings, load_settings

FAKE_PORT = 5040
ACCOUNTS = (
    ("analis", "Ayu Analis", "analyst"),
    ("kepala", "Hendra Kepala Departemen", "department_head"),
    ("sekper", "Sari Sekretaris Perusahaan", "corporate_secretary"),
)


def demo_settings(settings: Settings) -> Settings:
    return dataclasses.replace(
        settings,
        whatsapp_app_secret=secrets.token_hex(16),
        whatsapp_verify_token=secrets.token_hex(8),
        whatsapp_access_token=secrets.token_hex(16),
        whatsapp_phone_number_id="100000000000001",
        whatsapp_business_account_id="200000000000001",
        whatsapp_api_url=f"http://{settings.host}:{FAKE_PORT}",
        template_sync_minutes=1,
    )


def accounts(settings: Settings) -> list:
    """The demo accounts, created when missing; returns (username, password or None) pairs."""
    from crm.services.staff import StaffError, create_staff

    engine = db.create_db_engine(settings.database_url)
    db.migrate(engine)
    made: list = []
    try:
        for username, name, role in ACCOUNTS:
            password = secrets.token_urlsafe(9)
            try:
                with db.session_scope(db.make_session_factory(engine)) as session:
                    create_staff(session, username, name, password, role)
                made.append((username, role, password))
            except StaffError:
                made.append((username, role, None))  # kept from an earlier demo
    finally:
        engine.dispose()
    return made


def main() -> int:
    from crm.runtime import campaign_sender, supervisor

    settings = demo_settings(load_settings())
    webhook = f"{settings.rasa_url}/webhooks/whatsapp/webhook"
    fake = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tests.fake_graph",
            "--port",
            str(FAKE_PORT),
            "--webhook",
            webhook,
            "--app-secret",
            str(settings.whatsapp_app_secret),
            "--access-token",
            str(settings.whatsapp_access_token),
        ],
        cwd=PROJECT_ROOT,
    )
    try:
        for _ in range(50):
            try:
                urllib.request.urlopen(f"{settings.whatsapp_api_url}/x", timeout=1)
            except urllib.error.HTTPError:
                break  # it answers (401 without a token)
            except OSError:
                time.sleep(0.2)
        for username, role, password in accounts(settings):
            shown = password or "(already existed; password unchanged)"
            print(f"  console account {username:8} ({role}): {shown}")
        engine = db.create_db_engine(settings.database_url)
        try:
            factory = db.make_session_factory(engine)
            api = campaign_sender.cloud_api(settings)
            campaign_sender.submit_templates(factory, api, utc_now())
            campaign_sender.sync_templates(factory, api, utc_now())
        finally:
            engine.dispose()
        print(f"  fake Graph API on {settings.whatsapp_api_url}; templates submitted and approved")
        print(
            "  in the console: Kampanye WhatsApp → Susun kampanye → autodebit_hari_libur"
            " + Autodebit jatuh di hari libur"
        )
        return supervisor.serve(settings)
    finally:
        fake.terminate()
        fake.wait(10)


if __name__ == "__main__":
    raise SystemExit(main())
