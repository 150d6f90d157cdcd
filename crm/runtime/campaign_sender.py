"""The campaign sender: the process that sends approved WhatsApp campaigns (`make run` starts it
when WhatsApp is configured; `python -m crm campaigns send` runs one pass for a scheduler).

Per message: claim one pending recipient (a conditional UPDATE, committed), call the Graph API,
record the answer. A sender killed in between leaves that one row `sending`: never sent again,
settled by its status webhook. Paced at CAMPAIGN_SEND_RATE messages/s, held at the rolling
24-hour unique-recipient limit, waiting out throttling (130429, 131056) and a Graph API that is
down; a template Meta paused pauses its campaigns. Templates' approval state is refreshed every
TEMPLATE_SYNC_MINUTES. Several senders may run: none sends a row another claimed.
"""

from __future__ import annotations

import argparse
import logging
import signal
import threading
import time
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Callable, Optional

from sqlalchemy.orm import sessionmaker

from channels.whatsapp.cloud import CloudApi, CloudError
from crm.clock import utc_now
from crm.db import create_db_engine, make_session_factory, session_scope
from crm.models import CampaignStatus, MessageTemplate, TemplateStatus
from crm.services import campaigns, templates
from crm.settings import Settings, load_settings

log = logging.getLogger("crm.campaign_sender")
MAX_BACKOFF_S = 300.0
LIMIT_RECOUNT_S = 60.0
IDLE_POLL_S = 2.0


def cloud_api(settings: Settings) -> CloudApi:
    if not (settings.whatsapp_access_token and settings.whatsapp_phone_number_id):
        raise SystemExit("WHATSAPP_ACCESS_TOKEN and WHATSAPP_PHONE_NUMBER_ID are needed to send campaigns.")
    return CloudApi(
        settings.whatsapp_api_url,
        settings.whatsapp_access_token,
        settings.whatsapp_phone_number_id,
        settings.whatsapp_business_account_id,
    )


def sync_templates(factory: sessionmaker, api: CloudApi, now: datetime) -> int:
    """The file's templates into the table, then Meta's approval state; returns rows changed."""
    specs = templates.read_file()
    with session_scope(factory) as db:
        templates.load(db, specs)
    listed = list(api.templates())
    with session_scope(factory) as db:
        return templates.apply_meta(db, listed, now)


def submit_templates(factory: sessionmaker, api: CloudApi, now: datetime) -> int:
    """Send new and edited templates to Meta for review; returns how many were submitted."""
    specs = {(s.name, s.language): s for s in templates.read_file()}
    with session_scope(factory) as db:
        templates.load(db, specs.values())
        waiting = [
            (row.id, row.name, row.language)
            for row in templates.all_templates(db)
            if row.status is TemplateStatus.NOT_SUBMITTED
        ]
    for row_id, name, language in waiting:
        with session_scope(factory) as db:
            row = db.get(MessageTemplate, row_id)
            answer = api.submit_template(templates.submission(row, specs[(name, language)]), row.meta_id)
            templates.submitted(row, answer, now)
    return len(waiting)


class Sender:
    def __init__(
        self,
        settings: Settings,
        factory: sessionmaker,
        api: CloudApi,
        clock: Callable[[], datetime] = utc_now,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.settings, self.factory, self.api, self.clock, self.sleep = settings, factory, api, clock, sleep
        self.interval = 1.0 / settings.campaign_send_rate if settings.campaign_send_rate else 0.0
        self.backoff = 0.0
        self.last_send = 0.0
        self.last_sync: Optional[float] = None
        self.stopping = threading.Event()
        self.sent = 0
        self.reached = 0  # unique numbers reached in the last 24 hours (see _limit_reached)
        self.reached_at: Optional[float] = None

    # -- one pass ------------------------------------------------------------------------------

    def run_once(self) -> int:
        """Work through every campaign that is due until none has a pending recipient (or the
        daily limit, throttling or a stop holds it); returns messages sent."""
        before = self.sent
        self._maybe_sync()
        with session_scope(self.factory) as db:
            due = campaigns.due(db, self.clock())
        for campaign_id in due:
            if self.stopping.is_set():
                break
            with session_scope(self.factory) as db:
                campaign = campaigns.start(
                    db,
                    campaign_id,
                    self.settings.current_date(),
                    self.settings.brand_name,
                    self.settings.notices_to_opted_out,
                    self.clock(),
                )
                template_id = campaign.template_id if campaign else None
            if template_id is not None:
                self.send_campaign(campaign_id, template_id)
        return self.sent - before

    def _maybe_sync(self) -> None:
        if not self.settings.whatsapp_business_account_id:
            return
        now = time.monotonic()
        if self.last_sync is not None and now - self.last_sync < self.settings.template_sync_minutes * 60:
            return
        self.last_sync = now
        try:
            changed = sync_templates(self.factory, self.api, self.clock())
            if changed:
                log.info("template states refreshed from Meta: %d changed", changed)
        except (CloudError, templates.TemplateFileError) as error:
            log.error("template refresh failed: %s", error)

    def _limit_reached(self, recipient_id: int, phone: str) -> bool:
        """Whether sending to `phone` would pass the rolling 24-hour unique-recipient limit. The
        count is read from the database once a minute (other senders add to it) and kept up to
        date in between, so the check costs one indexed lookup per message."""
        since = self.clock() - timedelta(hours=24)
        with session_scope(self.factory) as db:
            if campaigns.recently_reached(db, phone, since):
                return False
            if self.reached_at is None or time.monotonic() - self.reached_at > LIMIT_RECOUNT_S:
                self.reached = campaigns.recipients_since(db, since, besides=recipient_id)
                self.reached_at = time.monotonic()
        return self.reached >= self.settings.whatsapp_daily_recipient_limit

    def _pace(self) -> None:
        wait = self.last_send + self.interval - time.monotonic()
        if wait > 0:
            self.sleep(wait)
        self.last_send = time.monotonic()

    def send_campaign(self, campaign_id: int, template_id: int, until: Optional[float] = None) -> None:
        """Send one campaign's pending recipients (until `until`, a time.monotonic(), if given)."""
        while not self.stopping.is_set() and (until is None or time.monotonic() < until):
            with session_scope(self.factory) as db:
                campaign = campaigns.get(db, campaign_id)
                if campaign.status is not CampaignStatus.SENDING:
                    return
                template = db.get(MessageTemplate, template_id)
                if template.status is not TemplateStatus.APPROVED:
                    campaigns.pause_for(
                        campaign, f"template {template.name} berstatus {template.status.value} di Meta", self.clock()
                    )
                    return
                claimed = campaigns.claim(db, campaign_id, self.clock(), 1)
                if not claimed:
                    campaigns.finish_if_done(db, campaign_id, self.clock())
                    return
                recipient = claimed[0]
                message = campaigns.template_message(recipient, template)
                recipient_id, phone, values = recipient.id, recipient.phone, list(recipient.parameters)
            if any(len(v) > campaigns.MAX_PARAMETER or not v.strip() for v in values):
                with session_scope(self.factory) as db:
                    campaigns.failed(
                        db, recipient_id, None, "parameter kosong atau terlalu panjang (tidak dikirim)", self.clock()
                    )
                continue
            if self._limit_reached(recipient_id, phone):
                with session_scope(self.factory) as db:
                    campaigns.release(db, recipient_id)
                    campaign = campaigns.get(db, campaign_id)
                    campaign.note = "batas harian penerima WhatsApp tercapai; dilanjutkan otomatis"
                limit = self.settings.whatsapp_daily_recipient_limit
                log.warning("daily unique-recipient limit (%d) reached; waiting", limit)
                self.reached_at = None  # count again after the wait: the window slides
                self._wait(60.0)
                return
            self._pace()
            try:
                message_id = self.api.send(message)
            except CloudError as error:
                if self._on_error(campaign_id, recipient_id, template_id, error):
                    return
                continue
            with session_scope(self.factory) as db:
                campaigns.sent(db, recipient_id, message_id, self.clock())
                if self.backoff:
                    campaigns.get(db, campaign_id).note = None
            self.backoff = 0.0
            self.sent += 1
            self.reached += 1

    def _on_error(self, campaign_id: int, recipient_id: int, template_id: int, error: CloudError) -> bool:
        """Record a refused send; True when this campaign must stop for now."""
        now = self.clock()
        if error.transient:
            self.backoff = min(max(self.backoff * 2, 1.0), MAX_BACKOFF_S)
            why = (
                "throttling dari WhatsApp"
                if error.code in campaigns.THROTTLED or error.status == 429
                else "Graph API tidak dapat dihubungi"
            )
            with session_scope(self.factory) as db:
                campaigns.release(db, recipient_id)
                campaigns.get(db, campaign_id).note = f"{why}; dicoba lagi dalam {self.backoff:.0f} detik"
            log.warning("campaign %d: %s; waiting %.0f s", campaign_id, error, self.backoff)
            self._wait(self.backoff)
            return True
        if error.code in campaigns.TEMPLATE_UNUSABLE:
            with session_scope(self.factory) as db:
                campaigns.release(db, recipient_id)
                template = db.get(MessageTemplate, template_id)
                template.status, template.reason = (
                    TemplateStatus.PAUSED,
                    f"Meta menolak pengiriman: {error.code} {error.title}",
                )
                campaigns.pause_for(
                    campaigns.get(db, campaign_id),
                    f"template ditolak Meta saat dikirim ({error.code} {error.title})",
                    now,
                )
            log.error("campaign %d paused: template refused (%s)", campaign_id, error)
            return True
        with session_scope(self.factory) as db:
            campaigns.failed(db, recipient_id, error.code, error.title or str(error), now)
        log.info("campaign %d: not sent to one recipient: %s", campaign_id, error)
        return False

    def _wait(self, seconds: float) -> None:
        if self.sleep is time.sleep:
            self.stopping.wait(seconds)  # a stop signal ends the wait
        else:
            self.sleep(seconds)

    # -- the process ---------------------------------------------------------------------------

    def run_forever(self) -> None:
        while not self.stopping.is_set():
            try:
                if not self.run_once():
                    self.stopping.wait(IDLE_POLL_S)
            except Exception:  # the database away for a moment: log, wait, go on
                log.exception("campaign sender pass failed; trying again")
                self.stopping.wait(10.0)


def _health_server(host: str, port: int) -> ThreadingHTTPServer:
    class Health(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - http.server's naming
            body = b'{"status": "ok"}'
            self.send_response(200 if self.path == "/health" else 404)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args) -> None:
            pass

    server = ThreadingHTTPServer((host, port), Health)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def main(argv: Optional[list] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--once", action="store_true", help="one pass, then exit (for a scheduler)")
    args = parser.parse_args(argv)
    settings = load_settings()
    logging.basicConfig(level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    factory = make_session_factory(create_db_engine(settings.database_url))
    sender = Sender(settings, factory, cloud_api(settings))
    if args.once:
        count = sender.run_once()
        print(f"sent {count} campaign message(s)")
        return 0
    server = _health_server(settings.host, settings.campaign_sender_port)
    signal.signal(signal.SIGTERM, lambda *_: sender.stopping.set())
    signal.signal(signal.SIGINT, lambda *_: sender.stopping.set())
    log.info(
        "campaign sender up: %.1f messages/s, %d unique recipients per 24 h",
        settings.campaign_send_rate,
        settings.whatsapp_daily_recipient_limit,
    )
    try:
        sender.run_forever()
    finally:
        server.shutdown()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
