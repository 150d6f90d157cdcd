"""The NLU inbox: messages the bot misunderstood, for trainers (supervisors) to label as an
intent's example or dismiss; every staff member may flag a message from a transcript."""

from __future__ import annotations

import yaml
from sanic import Blueprint, response
from sanic.request import Request

from crm.console.web import Me, body, json_error, page, require_staff
from crm.db import session_scope
from crm.privacy import mask_text
from crm.services import nlu_inbox
from crm.services import staff as staff_service
from crm.settings import PROJECT_ROOT

inbox = Blueprint("console_inbox")


def domain_intents() -> list:
    domain = yaml.safe_load((PROJECT_ROOT / "domain.yml").read_text()) or {}
    return sorted(i if isinstance(i, str) else next(iter(i)) for i in domain.get("intents", []))


def _acting(request: Request, role=None):
    me = require_staff(request, role, csrf=True)
    if not isinstance(me, Me):
        return None, None, me
    try:
        return me, body(request), None
    except ValueError as error:
        return None, None, json_error(str(error), 400)


@inbox.get("/nlu-inbox")
async def inbox_page(request: Request):
    me = require_staff(request, "supervisor", page_request=True)
    if not isinstance(me, Me):
        return me
    return page(request, "inbox.html", me=me, intents=domain_intents())


@inbox.get("/api/nlu-inbox")
async def api_inbox(request: Request):
    me = require_staff(request, "supervisor")
    if not isinstance(me, Me):
        return me
    with session_scope(request.app.ctx.sessions) as db:
        entries = nlu_inbox.inbox(db, request.app.ctx.settings.tracker_db_url)
    return response.json({"entries": entries})


@inbox.post("/api/nlu-inbox/label")
async def api_label(request: Request):
    me, data, refusal = _acting(request, "supervisor")
    if refusal:
        return refusal
    try:
        with session_scope(request.app.ctx.sessions) as db:
            staff = staff_service.by_id(db, me.id)
            path = nlu_inbox.label(
                db,
                str(data.get("text") or ""),
                str(data.get("intent") or ""),
                staff,
                request.app.ctx.settings.training_data_path,
            )
            staff_service.audit(
                db,
                "nlu_label",
                staff=staff,
                client=request.ip,
                detail=f"{data.get('intent')}: {mask_text(str(data.get('text') or ''))}",
            )
    except nlu_inbox.InboxError as refusal_:
        return json_error(str(refusal_), 400)
    shown = path.relative_to(PROJECT_ROOT) if path.is_relative_to(PROJECT_ROOT) else path
    return response.json({"ok": True, "file": str(shown)})


@inbox.post("/api/nlu-inbox/dismiss")
async def api_dismiss(request: Request):
    me, data, refusal = _acting(request, "supervisor")
    if refusal:
        return refusal
    key = str(data.get("key") or "").strip()
    if not key:
        return json_error("Pesan kosong.", 400)
    with session_scope(request.app.ctx.sessions) as db:
        staff = staff_service.by_id(db, me.id)
        nlu_inbox.dismiss(db, key, staff)
        staff_service.audit(db, "nlu_dismiss", staff=staff, client=request.ip, detail=key[:500])
    return response.json({"ok": True})


@inbox.post("/api/nlu-flags")
async def api_flag(request: Request):
    me, data, refusal = _acting(request)
    if refusal:
        return refusal
    try:
        with session_scope(request.app.ctx.sessions) as db:
            staff = staff_service.by_id(db, me.id)
            nlu_inbox.flag(
                db,
                str(data.get("text") or ""),
                staff,
                predicted=data.get("intent"),
                conversation_id=data.get("conversation_id"),
            )
            staff_service.audit(
                db,
                "nlu_flag",
                staff=staff,
                client=request.ip,
                detail=mask_text(str(data.get("text") or ""))[:500],
            )
    except nlu_inbox.InboxError as refusal_:
        return json_error(str(refusal_), 400)
    return response.json({"ok": True})
