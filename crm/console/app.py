"""The console web app (Sanic): login, the queue, an item's transcript, claim / reply / resolve.

Security: server-side sessions in an HttpOnly, SameSite=Strict cookie; every state-changing
request carries the session's CSRF token (form field or X-CSRF-Token header); the login form
uses a double-submit CSRF cookie; failed logins are rate limited (crm.services.staff); pages
are rendered by Jinja2 with autoescaping, the browser code writes text with textContent, and
a Content-Security-Policy allows scripts from this origin only, so a customer writing
<script> cannot run script in the console. Every login, claim, reply and resolve is audited.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import secrets
import time
from datetime import timedelta
from pathlib import Path
from typing import Any, Dict, Optional

from jinja2 import Environment, FileSystemLoader, select_autoescape
from sanic import Sanic, response
from sanic.exceptions import SanicException
from sanic.request import Request
from sqlalchemy.orm import sessionmaker

from crm import responses as messages
from crm.clock import to_local, utc_now
from crm.console.rasa_api import RasaClient, RasaUnavailable, bot_event, transcript, whatsapp_window_open
from crm.db import create_db_engine, make_session_factory, session_scope
from crm.formatting import long_date_time
from crm.models import Escalation, Staff
from crm.parsing import normalise_contract_number
from crm.privacy import mask_text
from crm.services import escalations as queue_actions
from crm.services import nlu_inbox
from crm.services import staff as staff_service
from crm.services import verification as verification_service
from crm.services.hours import customer_care_availability
from crm.services.queue import REASON_NAMES, FilterError, describe, list_items, may_see_contact
from crm.settings import PROJECT_ROOT, Settings

log = logging.getLogger("crm.console")

HERE = Path(__file__).resolve().parent
SESSION_COOKIE = "crm_session"
LOGIN_CSRF_COOKIE = "crm_login_csrf"
MAX_REPLY = 4000
WINDOW_CLOSED = ("Pesan terakhir pelanggan di WhatsApp lebih dari 24 jam lalu. WhatsApp hanya mengizinkan "
                 "pesan bebas dalam 24 jam sejak pesan terakhir pelanggan; hubungi pelanggan lewat telepon "
                 "atau template pesan yang disetujui.")
NOTIFIER_INTERVAL_S = 5
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
                               "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}


MAX_ID = 2**31 - 1


def valid_id(item_id: int) -> bool:
    """Ids the database can hold: a larger one is a 404, not an overflow (500)."""
    return 0 < item_id <= MAX_ID


def create_app(settings: Settings, *, rasa: Optional[RasaClient] = None,
               factory: Optional[sessionmaker] = None, name: str = "crm_console") -> Sanic:
    app = Sanic(name)
    app.config.REQUEST_MAX_SIZE = 256 * 1024
    app.ctx.settings = settings
    app.ctx.sessions = factory or make_session_factory(create_db_engine(settings.database_url))
    app.ctx.rasa = rasa or RasaClient(settings.rasa_url, settings.rasa_api_token)
    templates = Environment(loader=FileSystemLoader(str(HERE / "templates")),
                            autoescape=select_autoescape(["html"]))
    app.static("/static", str(HERE / "static"), name="static")

    def page(template: str, status: int = 200, **context: Any) -> response.HTTPResponse:
        return response.html(templates.get_template(template).render(**context), status=status)

    def set_cookie(resp: response.HTTPResponse, name: str, value: str, max_age: int) -> None:
        resp.cookies[name] = value
        cookie = resp.cookies[name]
        cookie["httponly"] = True
        cookie["samesite"] = "Strict"
        cookie["path"] = "/"
        cookie["max-age"] = max_age
        if settings.console_secure_cookies:
            cookie["secure"] = True

    def current(request: Request) -> Optional[Dict[str, Any]]:
        """The logged-in staff member and the session's CSRF token, or None."""
        with session_scope(app.ctx.sessions) as db:
            row = staff_service.find_session(db, request.cookies.get(SESSION_COOKIE))
            if row is None:
                return None
            staff = row.staff
            return {"id": staff.id, "username": staff.username, "name": staff.full_name or staff.username,
                    "role": staff.role.value, "csrf": row.csrf_token, "notice": row.notice}

    def csrf_ok(request: Request, expected: str) -> bool:
        given = request.headers.get("x-csrf-token") or (request.form.get("csrf_token") if request.form else None)
        return bool(given) and hmac.compare_digest(str(given), expected)

    def json_error(message: str, status: int) -> response.HTTPResponse:
        return response.json({"error": message}, status=status)

    def body(request: Request) -> Dict[str, Any]:
        if request.content_type.startswith("application/json"):
            try:
                data = request.json
            except SanicException:
                raise ValueError("malformed JSON")
            if not isinstance(data, dict):
                raise ValueError("JSON body must be an object")
            return data
        return {k: request.form.get(k) for k in (request.form or {})}

    @app.middleware("response")
    async def security_headers(request: Request, resp: response.HTTPResponse) -> None:
        for key, value in SECURITY_HEADERS.items():
            resp.headers.setdefault(key, value)

    @app.exception(Exception)
    async def on_error(request: Request, error: Exception):
        status = getattr(error, "status_code", 500)
        if status >= 500:
            log.exception("console error on %s %s", request.method, request.path)
        text = "Terjadi kesalahan di server." if status >= 500 else str(error)
        if request.path.startswith("/api/") or request.method != "GET":
            return json_error(text, status)
        return response.text(text, status=status)

    # --- login ----------------------------------------------------------------------------------

    @app.get("/health")
    async def health(request: Request):
        return response.json({"status": "ok"})

    @app.get("/login")
    async def login_form(request: Request):
        token = secrets.token_urlsafe(24)
        resp = page("login.html", csrf=token, error=None)
        set_cookie(resp, LOGIN_CSRF_COOKIE, token, 3600)
        return resp

    @app.post("/login")
    async def login(request: Request):
        cookie_token = request.cookies.get(LOGIN_CSRF_COOKIE) or ""
        form_token = (request.form.get("csrf_token") if request.form else "") or ""
        if not cookie_token or not hmac.compare_digest(cookie_token, form_token):
            return response.text("Formulir kedaluwarsa; muat ulang halaman login.", status=403)
        username = (request.form.get("username") or "")[:60]
        password = (request.form.get("password") or "")[:200]
        client = request.ip
        fresh = secrets.token_urlsafe(24)
        with session_scope(app.ctx.sessions) as db:  # each failure of this pair waits longer
            delay = staff_service.login_delay(db, username, client)
        await asyncio.sleep(delay)
        try:
            with session_scope(app.ctx.sessions) as db:
                staff = staff_service.authenticate(db, username, password, client=client)
                new = staff_service.start_session(db, staff) if staff else None
        except staff_service.LoginThrottled:
            resp = page("login.html", status=429, csrf=fresh,
                        error="Terlalu banyak percobaan gagal dari perangkat ini. Coba lagi dalam 15 menit.")
            set_cookie(resp, LOGIN_CSRF_COOKIE, fresh, 3600)
            return resp
        if new is None:
            resp = page("login.html", status=401, csrf=fresh, error="Username atau password salah.")
            set_cookie(resp, LOGIN_CSRF_COOKIE, fresh, 3600)
            return resp
        resp = response.redirect("/", status=303)
        set_cookie(resp, SESSION_COOKIE, new.token, 3600 * 10)
        del resp.cookies[LOGIN_CSRF_COOKIE]
        return resp

    @app.post("/logout")
    async def logout(request: Request):
        me = current(request)
        if me is None or not csrf_ok(request, me["csrf"]):
            return response.redirect("/login", status=303)
        with session_scope(app.ctx.sessions) as db:
            staff_service.end_session(db, request.cookies.get(SESSION_COOKIE))
            staff_service.audit(db, "logout", staff=db.get(Staff, me["id"]), client=request.ip)
        resp = response.redirect("/login", status=303)
        del resp.cookies[SESSION_COOKIE]
        return resp

    # --- pages --------------------------------------------------------------------------------

    @app.get("/")
    async def queue_page(request: Request):
        me = current(request)
        if me is None:
            return response.redirect("/login", status=303)
        if me["notice"]:  # shown once
            with session_scope(app.ctx.sessions) as db:
                row = staff_service.find_session(db, request.cookies.get(SESSION_COOKIE))
                if row is not None:
                    row.notice = None
        return page("queue.html", me=me, reasons=[(r.value, n) for r, n in REASON_NAMES.items()])

    @app.get("/items/<item_id:int>")
    async def item_page(request: Request, item_id: int):
        me = current(request)
        if me is None:
            return response.redirect("/login", status=303)
        if not valid_id(item_id):
            return response.text("Item tidak ditemukan.", status=404)
        with session_scope(app.ctx.sessions) as db:
            escalation = db.get(Escalation, item_id)
            if escalation is None:
                return response.text("Item tidak ditemukan.", status=404)
            item = describe(escalation, mask_free_text=me["role"] != "supervisor")
        return page("item.html", me=me, item=item)

    # --- JSON API used by the pages ----------------------------------------------------------------

    @app.get("/api/queue")
    async def api_queue(request: Request):
        me = current(request)
        if me is None:
            return json_error("Silakan login.", 401)
        args = {k: (request.args.get(k) or "")[:40]
                for k in ("status", "reason", "channel", "max_age_hours", "sort", "page", "per_page")}
        args["status"] = args["status"] if "status" in request.args else "open"
        try:
            with session_scope(app.ctx.sessions) as db:
                supervisor = me["role"] == "supervisor"
                listing = list_items(db, **args, reveal_contact=supervisor, mask_free_text=not supervisor)
        except FilterError as error:
            return json_error(str(error), 400)
        return response.json({**listing, "me": {"id": me["id"], "role": me["role"]}})

    # --- verification locks (any staff member may release one; audited) -------------------------

    @app.get("/api/verification-locks")
    async def api_locks(request: Request):
        me = current(request)
        if me is None:
            return json_error("Silakan login.", 401)
        with session_scope(app.ctx.sessions) as db:
            locks = [{"contract": lock.contract_number, "locked_at": long_date_time(to_local(lock.locked_at)),
                      "until": long_date_time(to_local(lock.until)), "failures": lock.failures,
                      "item": lock.escalation_id}
                     for lock in verification_service.active_locks(db)]
        return response.json({"locks": locks})

    @app.post("/api/verification-locks/<contract>/release")
    async def api_release_lock(request: Request, contract: str):
        me, data, error = await act(request, 0, "release")
        if error:
            return error
        number = normalise_contract_number(contract[:40])
        if number is None:
            return json_error("Nomor kontrak tidak valid.", 400)
        with session_scope(app.ctx.sessions) as db:
            staff = db.get(Staff, me["id"])
            if not verification_service.release_lock(db, number, staff):
                return json_error("Kontrak ini tidak sedang terkunci.", 404)
            staff_service.audit(db, "verification_unlock", staff=staff, client=request.ip, detail=number)
        return response.json({"ok": True})

    @app.get("/api/items/<item_id:int>")
    async def api_item(request: Request, item_id: int):
        me = current(request)
        if me is None:
            return json_error("Silakan login.", 401)
        if not valid_id(item_id):
            return json_error("Item tidak ditemukan.", 404)
        with session_scope(app.ctx.sessions) as db:
            escalation = db.get(Escalation, item_id)
            if escalation is None:
                return json_error("Item tidak ditemukan.", 404)
            reveal = may_see_contact(me["role"], me["id"], escalation)
            item = describe(escalation, reveal_contact=reveal, mask_free_text=me["role"] != "supervisor")
            conversation_id = escalation.conversation_id
        try:
            lines = transcript(await app.ctx.rasa.tracker(conversation_id))
            available = True
        except RasaUnavailable as error:
            log.warning("transcript of item %s: %s", item_id, error)
            lines, available = [], False
        if me["role"] != "supervisor":
            # NIK, dates of birth and phone numbers typed in the chat: supervisors only
            for line in lines:
                line["text"] = mask_text(line["text"])
        return response.json({"item": item, "transcript": lines, "transcript_available": available})

    async def act(request: Request, item_id: int, action: str):
        me = current(request)
        if me is None:
            return None, None, json_error("Silakan login.", 401)
        if item_id and not valid_id(item_id):
            return None, None, json_error("Item tidak ditemukan.", 404)
        if not csrf_ok(request, me["csrf"]):
            return None, None, json_error("Token CSRF tidak valid; muat ulang halaman.", 403)
        try:
            data = body(request)
        except ValueError as error:
            return None, None, json_error(str(error), 400)
        return me, data, None

    async def can_message(conversation_id: str, channel: str) -> bool:
        """False when the channel forbids free text now (WhatsApp outside its 24-hour window)."""
        if channel != "whatsapp":
            return True
        return whatsapp_window_open(await app.ctx.rasa.tracker(conversation_id), time.time())

    @app.post("/api/items/<item_id:int>/claim")
    async def api_claim(request: Request, item_id: int):
        me, data, error = await act(request, item_id, "claim")
        if error:
            return error
        try:
            with session_scope(app.ctx.sessions) as db:
                staff = db.get(Staff, me["id"])
                escalation = queue_actions.claim(db, item_id, staff)
                conversation_id, channel = escalation.conversation_id, escalation.channel
                staff_service.audit(db, "claim", staff=staff, escalation_id=item_id, client=request.ip)
        except queue_actions.QueueError as refusal:
            return json_error(str(refusal), 409)
        greeting = messages.render("utter_takeover_started", agent_name=(me["name"].split() or [me["username"]])[0],
                                   brand_name=settings.brand_name)
        try:
            window_open = await can_message(conversation_id, channel)
            events = [{"event": "pause"}]
            if window_open:
                events.append(bot_event(greeting, agent=me["username"], agent_name=me["name"]))
            await app.ctx.rasa.append(conversation_id, events)
        except RasaUnavailable as failure:
            with session_scope(app.ctx.sessions) as db:
                staff = db.get(Staff, me["id"])
                queue_actions.unclaim(db, item_id, staff, str(failure))
                staff_service.audit(db, "claim_undone", staff=staff, escalation_id=item_id, detail=str(failure))
            return json_error("Bot tidak dapat dijeda (Rasa tidak menjawab); item dikembalikan ke antrean.", 503)
        return response.json({"ok": True, "warning": None if window_open else WINDOW_CLOSED})

    @app.post("/api/items/<item_id:int>/reply")
    async def api_reply(request: Request, item_id: int):
        me, data, error = await act(request, item_id, "reply")
        if error:
            return error
        text = str(data.get("text") or "").strip()
        if not text:
            return json_error("Balasan kosong.", 400)
        if len(text) > MAX_REPLY:
            return json_error(f"Balasan terlalu panjang (maksimal {MAX_REPLY} karakter).", 400)
        try:
            with session_scope(app.ctx.sessions) as db:
                staff = db.get(Staff, me["id"])
                escalation = db.get(Escalation, item_id)
                if escalation is None:
                    return json_error("Item tidak ditemukan.", 404)
                queue_actions.check_holder(escalation, staff)
                conversation_id, channel = escalation.conversation_id, escalation.channel
        except queue_actions.QueueError as refusal:
            return json_error(str(refusal), 409)
        try:
            if not await can_message(conversation_id, channel):
                return json_error(WINDOW_CLOSED, 409)
            await app.ctx.rasa.append(conversation_id, [bot_event(text, agent=me["username"], agent_name=me["name"])])
        except RasaUnavailable as failure:
            return json_error(f"Balasan belum terkirim: {failure}. Coba lagi.", 503)
        with session_scope(app.ctx.sessions) as db:
            staff_service.audit(db, "reply", staff=db.get(Staff, me["id"]), escalation_id=item_id,
                                client=request.ip, detail=f"{len(text)} characters")
        return response.json({"ok": True})

    @app.post("/api/items/<item_id:int>/resolve")
    async def api_resolve(request: Request, item_id: int):
        me, data, error = await act(request, item_id, "resolve")
        if error:
            return error
        note = str(data.get("note") or "")
        try:
            with session_scope(app.ctx.sessions) as db:
                staff = db.get(Staff, me["id"])
                escalation = queue_actions.resolve(db, item_id, staff, note)
                conversation_id, channel = escalation.conversation_id, escalation.channel
                staff_service.audit(db, "resolve", staff=staff, escalation_id=item_id, client=request.ip,
                                    detail=note[:500])
        except queue_actions.QueueError as refusal:
            return json_error(str(refusal), 409)
        farewell = messages.render("utter_takeover_resolved", brand_name=settings.brand_name)
        try:
            events = [{"event": "resume"}]
            if await can_message(conversation_id, channel):
                events.insert(0, bot_event(farewell, agent=me["username"], agent_name=me["name"]))
            await app.ctx.rasa.append(conversation_id, events)
        except RasaUnavailable as failure:
            log.error("item %s resolved but the bot was not resumed: %s", item_id, failure)
            return json_error("Item selesai, tetapi bot belum aktif kembali (Rasa tidak menjawab).", 503)
        return response.json({"ok": True})

    # --- NLU inbox (trainers: supervisors label; every staff member may flag) -----------------------

    def domain_intents() -> list:
        import yaml

        domain = yaml.safe_load((PROJECT_ROOT / "domain.yml").read_text()) or {}
        return sorted(i if isinstance(i, str) else next(iter(i)) for i in domain.get("intents", []))

    @app.get("/nlu-inbox")
    async def inbox_page(request: Request):
        me = current(request)
        if me is None:
            return response.redirect("/login", status=303)
        if me["role"] != "supervisor":
            return response.text("Hanya supervisor (trainer) yang dapat membuka NLU inbox.", status=403)
        return page("inbox.html", me=me, intents=domain_intents())

    @app.get("/api/nlu-inbox")
    async def api_inbox(request: Request):
        me = current(request)
        if me is None:
            return json_error("Silakan login.", 401)
        if me["role"] != "supervisor":
            return json_error("Hanya supervisor (trainer).", 403)
        with session_scope(app.ctx.sessions) as db:
            entries = nlu_inbox.inbox(db, settings.tracker_db_url)
        return response.json({"entries": entries})

    async def inbox_action(request: Request, supervisor_only: bool):
        me, data, error = await act(request, 0, "inbox")
        if error:
            return None, None, error
        if supervisor_only and me["role"] != "supervisor":
            return None, None, json_error("Hanya supervisor (trainer).", 403)
        return me, data, None

    @app.post("/api/nlu-inbox/label")
    async def api_label(request: Request):
        me, data, error = await inbox_action(request, True)
        if error:
            return error
        try:
            with session_scope(app.ctx.sessions) as db:
                staff = db.get(Staff, me["id"])
                path = nlu_inbox.label(db, str(data.get("text") or ""), str(data.get("intent") or ""), staff,
                                       settings.training_data_path)
                staff_service.audit(db, "nlu_label", staff=staff, client=request.ip,
                                    detail=f"{data.get('intent')}: {nlu_inbox.mask_pii(str(data.get('text') or ''))}")
        except nlu_inbox.InboxError as refusal:
            return json_error(str(refusal), 400)
        shown = path.relative_to(PROJECT_ROOT) if path.is_relative_to(PROJECT_ROOT) else path
        return response.json({"ok": True, "file": str(shown)})

    @app.post("/api/nlu-inbox/dismiss")
    async def api_dismiss(request: Request):
        me, data, error = await inbox_action(request, True)
        if error:
            return error
        key = str(data.get("key") or "").strip()
        if not key:
            return json_error("Pesan kosong.", 400)
        with session_scope(app.ctx.sessions) as db:
            staff = db.get(Staff, me["id"])
            nlu_inbox.dismiss(db, key, staff)
            staff_service.audit(db, "nlu_dismiss", staff=staff, client=request.ip, detail=key[:500])
        return response.json({"ok": True})

    @app.post("/api/nlu-flags")
    async def api_flag(request: Request):
        me, data, error = await inbox_action(request, False)
        if error:
            return error
        try:
            with session_scope(app.ctx.sessions) as db:
                staff = db.get(Staff, me["id"])
                nlu_inbox.flag(db, str(data.get("text") or ""), staff, predicted=data.get("intent"),
                               conversation_id=data.get("conversation_id"))
                staff_service.audit(db, "nlu_flag", staff=staff, client=request.ip,
                                    detail=nlu_inbox.mask_pii(str(data.get("text") or ""))[:500])
        except nlu_inbox.InboxError as refusal:
            return json_error(str(refusal), 400)
        return response.json({"ok": True})

    # --- customers waiting too long -------------------------------------------------------------

    async def notify_waiting_customers() -> int:
        """Tell customers whose item nobody claimed in time when to expect an answer."""
        wait = timedelta(minutes=settings.handover_wait_minutes)
        sent = 0
        with session_scope(app.ctx.sessions) as db:
            waiting = [(e.id, e.conversation_id) for e in queue_actions.waiting_too_long(db, wait)]
            availability = customer_care_availability(db, settings.current_time())
        if availability.open_now:
            expected = f"hari ini sebelum pukul {availability.closes:%H.%M} WIB"
        elif availability.next_open:
            expected = long_date_time(availability.next_open)
        else:  # pragma: no cover
            expected = "hari kerja berikutnya"
        text = messages.render("utter_handover_still_waiting", expected=expected)
        for item_id, conversation_id in waiting:
            try:
                await app.ctx.rasa.append(conversation_id, [bot_event(text, system="waiting_notice")])
            except RasaUnavailable as failure:
                log.warning("could not tell conversation of item %s it is waiting: %s", item_id, failure)
                continue
            with session_scope(app.ctx.sessions) as db:
                escalation = db.get(Escalation, item_id)
                escalation.customer_notified_at = utc_now()
                staff_service.audit(db, "waiting_notice", escalation_id=item_id, detail=expected)
            sent += 1
        return sent

    app.ctx.notify_waiting_customers = notify_waiting_customers

    async def notifier_loop() -> None:
        while True:
            try:
                await notify_waiting_customers()
            except Exception:  # keep the loop alive; the next round retries
                log.exception("waiting-customer notifier failed")
            await asyncio.sleep(NOTIFIER_INTERVAL_S)

    @app.listener("after_server_start")
    async def start_notifier(app_: Sanic, loop) -> None:
        app_.ctx.notifier = loop.create_task(notifier_loop())

    @app.listener("before_server_stop")
    async def stop_notifier(app_: Sanic, loop) -> None:
        task = getattr(app_.ctx, "notifier", None)
        if task:
            task.cancel()

    return app

