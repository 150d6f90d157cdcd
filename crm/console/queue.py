"""The queue and its items: the queue page, an item's transcript, claim / reply / resolve (the
takeover through Rasa's API), and the verification locks staff may release."""

from __future__ import annotations

import asyncio
import logging
import time

from sanic import Blueprint, response
from sanic.request import Request

from channels.whatsapp.cloud import CloudApi, CloudError
from crm import conversations
from crm import responses as messages
from crm.clock import to_local, utc_now
from crm.console.rasa_api import RasaUnavailable, bot_event, transcript, whatsapp_window_open
from crm.console.web import SESSION_COOKIE, Me, body, json_error, page, require_staff, valid_id
from crm.db import session_scope
from crm.formatting import long_date_time
from crm.parsing import normalise_contract_number
from crm.privacy import mask_text
from crm.services import escalations as queue_actions
from crm.services import satisfaction, templates
from crm.services import staff as staff_service
from crm.services import verification as verification_service
from crm.services.queue import REASON_NAMES, FilterError, describe, list_items, may_see_contact

log = logging.getLogger("crm.console")
queue = Blueprint("console_queue")

MAX_REPLY = 4000
MAX_TEMPLATE_TEXT = 700  # the agent's words inside the template (its body stays under 1024)
WINDOW_CLOSED = (
    "Pesan terakhir pelanggan di WhatsApp lebih dari 24 jam lalu. WhatsApp hanya mengizinkan "
    "pesan bebas dalam 24 jam sejak pesan terakhir pelanggan; hubungi pelanggan lewat telepon "
    "atau template pesan yang disetujui."
)
QUEUE_ARGS = ("status", "reason", "channel", "max_age_hours", "sort", "page", "per_page")


# --- pages ------------------------------------------------------------------------------------


@queue.get("/")
async def queue_page(request: Request):
    me = require_staff(request, page_request=True)
    if not isinstance(me, Me):
        return me
    if me.notice:  # failed logins since the last one: shown once
        with session_scope(request.app.ctx.sessions) as db:
            row = staff_service.find_session(db, request.cookies.get(SESSION_COOKIE))
            if row is not None:
                row.notice = None
    return page(request, "queue.html", me=me, reasons=[(r.value, n) for r, n in REASON_NAMES.items()])


@queue.get("/items/<item_id:int>")
async def item_page(request: Request, item_id: int):
    me = require_staff(request, page_request=True)
    if not isinstance(me, Me):
        return me
    with session_scope(request.app.ctx.sessions) as db:
        escalation = queue_actions.get(db, item_id) if valid_id(item_id) else None
        if escalation is None:
            return response.text("Item tidak ditemukan.", status=404)
        item = describe(escalation, mask_free_text=not me.sees_typed_personal_data)
    return page(request, "item.html", me=me, item=item)


@queue.get("/items/<item_id:int>/attachments/<attachment_id:int>")
async def item_attachment(request: Request, item_id: int, attachment_id: int):
    """A file the customer sent for the item's case (a payment proof), for staff only."""
    me = require_staff(request, page_request=True)
    if not isinstance(me, Me):
        return me
    with session_scope(request.app.ctx.sessions) as db:
        escalation = queue_actions.get(db, item_id) if valid_id(item_id) else None
        found = None
        if escalation is not None and escalation.case is not None and valid_id(attachment_id):
            found = next((a for a in escalation.case.attachments if a.id == attachment_id), None)
        if found is None:
            return response.text("Lampiran tidak ditemukan.", status=404)
        data, content_type, filename = bytes(found.data), found.content_type, found.filename
    log.info("%s opened attachment %s of item %s", me.username, attachment_id, item_id)
    safe_name = "".join(c if c.isalnum() or c in "._-" else "_" for c in filename)
    return response.raw(
        data,
        content_type=content_type,
        headers={
            "Content-Disposition": f'inline; filename="{safe_name}"',
            "Cache-Control": "private, no-store",
            "X-Content-Type-Options": "nosniff",
            "Content-Security-Policy": "sandbox; default-src 'none'; img-src 'self'",
        },
    )


# --- the queue and one item ---------------------------------------------------------------------


@queue.get("/api/queue")
async def api_queue(request: Request):
    me = require_staff(request)
    if not isinstance(me, Me):
        return me
    args = {k: (request.args.get(k) or "")[:40] for k in QUEUE_ARGS}
    args["status"] = args["status"] if "status" in request.args else "open"
    try:
        with session_scope(request.app.ctx.sessions) as db:
            listing = list_items(
                db,
                status=args["status"],
                reason=args["reason"],
                channel=args["channel"],
                max_age_hours=args["max_age_hours"],
                sort=args["sort"],
                page=args["page"],
                per_page=args["per_page"],
                reveal_contact=me.supervisor,
                mask_free_text=not me.sees_typed_personal_data,
            )
    except FilterError as error:
        return json_error(str(error), 400)
    return response.json({**listing, "me": {"id": me.id, "role": me.role}})


@queue.get("/api/items/<item_id:int>")
async def api_item(request: Request, item_id: int):
    me = require_staff(request)
    if not isinstance(me, Me):
        return me
    with session_scope(request.app.ctx.sessions) as db:
        escalation = queue_actions.get(db, item_id) if valid_id(item_id) else None
        if escalation is None:
            return json_error("Item tidak ditemukan.", 404)
        reveal = may_see_contact(me.role, me.id, escalation)
        item = describe(escalation, reveal_contact=reveal, mask_free_text=not me.sees_typed_personal_data)
        conversation_id = escalation.conversation_id
    try:
        lines = transcript(await request.app.ctx.rasa.tracker(conversation_id))
        available = True
    except RasaUnavailable as error:
        log.warning("transcript of item %s: %s", item_id, error)
        lines, available = [], False
    if not me.sees_typed_personal_data:
        for line in lines:
            line["text"] = mask_text(line["text"])
    return response.json({"item": item, "transcript": lines, "transcript_available": available})


# --- the takeover -------------------------------------------------------------------------------


def _acting(request: Request, item_id: int):
    """(staff member, request body, None) for a state change on an item, or (None, None, refusal)."""
    me = require_staff(request, csrf=True)
    if not isinstance(me, Me):
        return None, None, me
    if item_id and not valid_id(item_id):
        return None, None, json_error("Item tidak ditemukan.", 404)
    try:
        return me, body(request), None
    except ValueError as error:
        return None, None, json_error(str(error), 400)


async def _can_message(request: Request, conversation_id: str, channel: str) -> bool:
    """False when the channel forbids free text now (WhatsApp outside its 24-hour window)."""
    if channel != "whatsapp":
        return True
    return whatsapp_window_open(await request.app.ctx.rasa.tracker(conversation_id), time.time())


@queue.post("/api/items/<item_id:int>/claim")
async def api_claim(request: Request, item_id: int):
    me, data, refusal = _acting(request, item_id)
    if refusal:
        return refusal
    sessions, rasa = request.app.ctx.sessions, request.app.ctx.rasa
    try:
        with session_scope(sessions) as db:
            staff = staff_service.by_id(db, me.id)
            escalation = queue_actions.claim(db, item_id, staff)
            conversation_id, channel = escalation.conversation_id, escalation.channel
            staff_service.audit(db, "claim", staff=staff, escalation_id=item_id, client=request.ip)
    except queue_actions.QueueError as refusal_:
        return json_error(str(refusal_), 409)
    greeting = messages.render(
        "utter_takeover_started", agent_name=me.first_name, brand_name=request.app.ctx.settings.brand_name
    )
    try:
        window_open = await _can_message(request, conversation_id, channel)
        events = [{"event": "pause"}]
        if window_open:
            events.append(bot_event(greeting, agent=me.username, agent_name=me.name))
        await rasa.append(conversation_id, events)
    except RasaUnavailable as failure:
        with session_scope(sessions) as db:
            staff = staff_service.by_id(db, me.id)
            queue_actions.unclaim(db, item_id, staff, str(failure))
            staff_service.audit(db, "claim_undone", staff=staff, escalation_id=item_id, detail=str(failure))
        return json_error("Bot tidak dapat dijeda (Rasa tidak menjawab); item dikembalikan ke antrean.", 503)
    return response.json({"ok": True, "warning": None if window_open else WINDOW_CLOSED})


@queue.post("/api/items/<item_id:int>/template")
async def api_template_reply(request: Request, item_id: int):
    """WhatsApp after the 24-hour window: the agent's text goes out inside the approved agents'
    template (business/whatsapp_templates.yml, use: agents) and is recorded in the transcript."""
    me, data, refusal = _acting(request, item_id)
    if refusal:
        return refusal
    text = " ".join(str(data.get("text") or "").split())
    if not text:
        return json_error("Balasan kosong.", 400)
    if len(text) > MAX_TEMPLATE_TEXT:
        return json_error(f"Pesan template paling panjang {MAX_TEMPLATE_TEXT} karakter.", 400)
    settings = request.app.ctx.settings
    sessions = request.app.ctx.sessions
    try:
        with session_scope(sessions) as db:
            staff = staff_service.by_id(db, me.id)
            escalation = queue_actions.get(db, item_id)
            if escalation is None:
                return json_error("Item tidak ditemukan.", 404)
            queue_actions.check_holder(escalation, staff)
            conversation_id, channel = escalation.conversation_id, escalation.channel
            template = templates.agent_template(db)
            template_name, language = (template.name, template.language) if template else (None, None)
            body = template.body if template else ""
    except queue_actions.QueueError as refusal_:
        return json_error(str(refusal_), 409)
    if channel != "whatsapp":
        return json_error("Template hanya untuk percakapan WhatsApp.", 409)
    if template_name is None:
        return json_error("Belum ada template balasan petugas yang disetujui Meta.", 409)
    if not settings.campaigns_enabled:
        return json_error("WhatsApp belum dikonfigurasi (WHATSAPP_ACCESS_TOKEN, WHATSAPP_PHONE_NUMBER_ID).", 409)
    try:
        if await _can_message(request, conversation_id, channel):
            return json_error("Jendela 24 jam masih terbuka: kirim sebagai balasan biasa.", 409)
    except RasaUnavailable as failure:
        return json_error(f"Balasan belum terkirim: {failure}. Coba lagi.", 503)
    values = [me.first_name, settings.brand_name, text]
    message = templates.template_message(template_name, str(language), conversations.recipient(conversation_id), values)
    api = CloudApi(
        settings.whatsapp_api_url, str(settings.whatsapp_access_token), str(settings.whatsapp_phone_number_id)
    )
    try:
        await asyncio.get_running_loop().run_in_executor(None, api.send, message)
    except CloudError as failure:
        return json_error(f"WhatsApp menolak template: {failure.code or failure.status} {failure.title}", 502)
    shown = templates.render(body, values)
    try:
        await request.app.ctx.rasa.record(
            conversation_id, [bot_event(shown, agent=me.username, agent_name=me.name, template=template_name)]
        )
    except RasaUnavailable as failure:
        log.warning("template reply sent but not recorded in the transcript: %s", failure)
    with session_scope(sessions) as db:
        staff_service.audit(
            db,
            "template_reply",
            staff=staff_service.by_id(db, me.id),
            escalation_id=item_id,
            client=request.ip,
            detail=f"{template_name}, {len(text)} characters",
        )
    return response.json({"ok": True})


@queue.post("/api/items/<item_id:int>/reply")
async def api_reply(request: Request, item_id: int):
    me, data, refusal = _acting(request, item_id)
    if refusal:
        return refusal
    text = str(data.get("text") or "").strip()
    if not text:
        return json_error("Balasan kosong.", 400)
    if len(text) > MAX_REPLY:
        return json_error(f"Balasan terlalu panjang (maksimal {MAX_REPLY} karakter).", 400)
    sessions = request.app.ctx.sessions
    try:
        with session_scope(sessions) as db:
            staff = staff_service.by_id(db, me.id)
            escalation = queue_actions.get(db, item_id)
            if escalation is None:
                return json_error("Item tidak ditemukan.", 404)
            queue_actions.check_holder(escalation, staff)
            conversation_id, channel = escalation.conversation_id, escalation.channel
    except queue_actions.QueueError as refusal_:
        return json_error(str(refusal_), 409)
    try:
        if not await _can_message(request, conversation_id, channel):
            return json_error(WINDOW_CLOSED, 409)
        await request.app.ctx.rasa.append(conversation_id, [bot_event(text, agent=me.username, agent_name=me.name)])
    except RasaUnavailable as failure:
        return json_error(f"Balasan belum terkirim: {failure}. Coba lagi.", 503)
    with session_scope(sessions) as db:
        staff_service.audit(
            db,
            "reply",
            staff=staff_service.by_id(db, me.id),
            escalation_id=item_id,
            client=request.ip,
            detail=f"{len(text)} characters",
        )
    return response.json({"ok": True})


@queue.post("/api/items/<item_id:int>/resolve")
async def api_resolve(request: Request, item_id: int):
    me, data, refusal = _acting(request, item_id)
    if refusal:
        return refusal
    note = str(data.get("note") or "")
    try:
        with session_scope(request.app.ctx.sessions) as db:
            staff = staff_service.by_id(db, me.id)
            escalation = queue_actions.resolve(db, item_id, staff, note)
            conversation_id, channel = escalation.conversation_id, escalation.channel
            staff_service.audit(db, "resolve", staff=staff, escalation_id=item_id, client=request.ip, detail=note[:500])
    except queue_actions.QueueError as refusal_:
        return json_error(str(refusal_), 409)
    farewell = messages.render("utter_takeover_resolved", brand_name=request.app.ctx.settings.brand_name)
    try:
        events = [{"event": "resume"}]
        window_open = await _can_message(request, conversation_id, channel)
        if window_open:
            events.insert(0, bot_event(farewell, agent=me.username, agent_name=me.name))
        await request.app.ctx.rasa.append(conversation_id, events)
    except RasaUnavailable as failure:
        log.error("item %s resolved but the bot was not resumed: %s", item_id, failure)
        return json_error("Item selesai, tetapi bot belum aktif kembali (Rasa tidak menjawab).", 503)
    await _ask_satisfaction(request, item_id, me, window_open)
    return response.json({"ok": True})


async def _ask_satisfaction(request: Request, item_id: int, me: Me, window_open: bool) -> None:
    """After a resolution: "how was the agent?" with buttons in the chat; on WhatsApp after the
    24-hour window as the approved survey template, else skipped (counted as not asked). Never
    twice in a day for the same conversation or customer (crm.services.satisfaction)."""
    settings, sessions = request.app.ctx.settings, request.app.ctx.sessions
    if not settings.csat_after_agents:
        return
    now = utc_now()
    with session_scope(sessions) as db:
        item = queue_actions.get(db, item_id)
        if item is None or not satisfaction.may_ask(db, item.conversation_id, item.customer_id, now):
            return
        conversation_id, channel, customer_id = item.conversation_id, item.channel, item.customer_id
        reason = item.reason.value
        template = templates.survey_template(db) if not window_open else None
        template_name, language = (template.name, template.language) if template else (None, None)
        payloads = templates.quick_reply_payloads(template) if template else []
    how = "buttons" if window_open else ("template" if template_name and settings.campaigns_enabled else "skipped")
    try:
        if how == "buttons":
            question = bot_event(messages.render("utter_ask_csat_agent"), agent=me.username, agent_name=me.name)
            question["data"] = {"buttons": messages.buttons("utter_ask_csat_agent")}
            await request.app.ctx.rasa.append(conversation_id, [question])
        elif how == "template":
            api = CloudApi(
                settings.whatsapp_api_url, str(settings.whatsapp_access_token), str(settings.whatsapp_phone_number_id)
            )
            message = templates.template_message(
                str(template_name),
                str(language),
                conversations.recipient(conversation_id),
                [settings.brand_name],
                quick_replies=payloads,
            )
            await asyncio.get_running_loop().run_in_executor(None, api.send, message)
    except (RasaUnavailable, CloudError) as failure:
        log.warning("satisfaction question for item %s not sent: %s", item_id, failure)
        how = "skipped"
    with session_scope(sessions) as db:
        satisfaction.record_question(
            db,
            kind="agent",
            conversation_id=conversation_id,
            channel=channel,
            now=now,
            how=how,
            customer_id=customer_id,
            intent=reason,
            escalation_id=item_id,
            staff_id=me.id,
        )


# --- verification locks (any staff member may release one; audited) ---------------------------


@queue.get("/api/verification-locks")
async def api_locks(request: Request):
    me = require_staff(request)
    if not isinstance(me, Me):
        return me
    with session_scope(request.app.ctx.sessions) as db:
        locks = [
            {
                "contract": lock.contract_number,
                "locked_at": long_date_time(to_local(lock.locked_at)),
                "until": long_date_time(to_local(lock.until)),
                "failures": lock.failures,
                "item": lock.escalation_id,
            }
            for lock in verification_service.active_locks(db)
        ]
    return response.json({"locks": locks})


@queue.post("/api/verification-locks/<contract>/release")
async def api_release_lock(request: Request, contract: str):
    me, data, refusal = _acting(request, 0)
    if refusal:
        return refusal
    number = normalise_contract_number(contract[:40])
    if number is None:
        return json_error("Nomor kontrak tidak valid.", 400)
    with session_scope(request.app.ctx.sessions) as db:
        staff = staff_service.by_id(db, me.id)
        if not verification_service.release_lock(db, number, staff):
            return json_error("Kontrak ini tidak sedang terkunci.", 404)
        staff_service.audit(db, "verification_unlock", staff=staff, client=request.ip, detail=number)
    return response.json({"ok": True})
