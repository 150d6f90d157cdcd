"""Outbound WhatsApp campaigns in the console: the list, the two-step draft form (template and
audience first, then parameters, options and send time), the campaign page (preview, approvals,
delivery figures and chart, CSV of recipients) and the templates' approval states. Plain forms
with the session's CSRF token; the rules are in crm.services.campaigns."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Dict, List

from sanic import Blueprint, response
from sanic.exceptions import NotFound
from sanic.request import Request

from crm.clock import to_local, to_utc, utc_now
from crm.console.web import CAMPAIGN_ROLES, Me, page, require_staff, valid_id
from crm.db import session_scope
from crm.models import CampaignStatus, MessageTemplate, StaffRole
from crm.services import audiences, campaigns, consent, templates
from crm.services import staff as staff_service
from crm.services.templates import placeholder_count

campaigns_bp = Blueprint("console_campaigns")
STATUS_WORDS = {
    "draft": "draf",
    "submitted": "menunggu persetujuan",
    "approved": "disetujui, menunggu waktu kirim",
    "sending": "sedang dikirim",
    "paused": "dijeda",
    "cancelled": "dibatalkan",
    "done": "selesai",
}
ROLE_WORDS = {"department_head": "Kepala Departemen CRM", "corporate_secretary": "Sekretaris Perusahaan"}
CHART = ("audience", "sent", "delivered", "read", "failed", "replied", "opted_out")
CHART_WORDS = {
    "audience": "Penerima",
    "sent": "Terkirim",
    "delivered": "Sampai",
    "read": "Dibaca",
    "failed": "Gagal",
    "replied": "Membalas",
    "opted_out": "Berhenti (STOP)",
}


def _me(request: Request, *, csrf: bool = False):
    return require_staff(request, CAMPAIGN_ROLES, csrf=csrf, page_request=True)


def _templates(db) -> List[MessageTemplate]:
    """The file's templates, loaded into the table so a new one shows at once (its state stays
    'not submitted' until `python -m crm templates submit`)."""
    try:
        templates.load(db, templates.read_file())
    except templates.TemplateFileError:
        pass  # the page shows what the table holds; `python -m crm templates check` names the fault
    return templates.all_templates(db)


def _campaign(db, campaign_id: int):
    """The campaign, or NotFound, which the console's error handler answers with a 404."""
    if not valid_id(campaign_id):
        raise NotFound("Kampanye tidak ditemukan.")
    try:
        return campaigns.get(db, campaign_id)
    except campaigns.CampaignError as error:
        raise NotFound(str(error))


def _local_input(moment: datetime) -> str:
    return to_local(moment).strftime("%Y-%m-%dT%H:%M")


@campaigns_bp.get("/campaigns")
async def campaign_list(request: Request):
    me = _me(request)
    if not isinstance(me, Me):
        return me
    with session_scope(request.app.ctx.sessions) as db:
        rows = [
            {
                "id": c.id,
                "name": c.name,
                "template": c.template.name,
                "audience": audiences.AUDIENCES[c.audience].title,
                "send_at": to_local(c.send_at),
                "status": STATUS_WORDS[c.status.value],
                "by": c.created_by.full_name,
            }
            for c in campaigns.list_campaigns(db)
        ]
        rows_templates = [
            {"name": t.name, "category": t.category.value, "status": t.status.value, "reason": t.reason}
            for t in _templates(db)
        ]
    return page(request, "campaigns.html", me=me, campaigns=rows, templates=rows_templates)


def _form_context(db, settings, data: Dict[str, Any], campaign_id=None) -> Dict[str, Any]:
    all_templates = [t for t in _templates(db) if t.use == "campaigns"]
    chosen = next((t for t in all_templates if str(t.id) == str(data.get("template_id") or "")), None)
    audience = audiences.AUDIENCES.get(str(data.get("audience") or ""))
    today = settings.current_date()
    context: Dict[str, Any] = {
        "templates": all_templates,
        "audiences": audiences.list_audiences(),
        "chosen": chosen,
        "audience": audience,
        "data": data,
        "campaign_id": campaign_id,
    }
    if chosen is not None and audience is not None:
        count = placeholder_count(chosen.body)
        given = data.get("parameters") or campaigns.default_parameters(chosen)
        context["parameters"] = [(i + 1, given[i] if i < len(given) else "") for i in range(count)]
        context["fields"] = audience.fields
        context["options"] = [(o, data.get("options", {}).get(o.name, o.default(today))) for o in audience.options]
        context["send_at"] = data.get("send_at") or _local_input(utc_now() + timedelta(hours=1))
    return context


def _posted(request: Request) -> Dict[str, Any]:
    form = request.form or {}
    count = int(form.get("parameter_count") or 0) if str(form.get("parameter_count") or "").isdigit() else 0
    audience = audiences.AUDIENCES.get(str(form.get("audience") or ""))
    return {
        "name": form.get("name") or "",
        "template_id": form.get("template_id") or "",
        "audience": form.get("audience") or "",
        "parameters": [str(form.get(f"p{i}") or "") for i in range(1, min(count, 20) + 1)],
        "options": {o.name: form.get(o.name) for o in (audience.options if audience else ())},
        "send_at": form.get("send_at") or "",
    }


@campaigns_bp.get("/campaigns/new")
async def new_form(request: Request):
    me = _me(request)
    if not isinstance(me, Me):
        return me
    data = {"template_id": request.args.get("template_id"), "audience": request.args.get("audience")}
    with session_scope(request.app.ctx.sessions) as db:
        context = _form_context(db, request.app.ctx.settings, data)
        return page(request, "campaign_form.html", me=me, error=None, **context)


def _save(request: Request, me: Me, campaign_id=None):
    data = _posted(request)
    settings = request.app.ctx.settings
    try:
        send_at = to_utc(datetime.fromisoformat(str(data["send_at"])))
    except ValueError:
        send_at = None
    with session_scope(request.app.ctx.sessions) as db:
        try:
            if send_at is None:
                raise campaigns.CampaignError("Isi waktu kirim (tanggal dan jam, WIB).")
            if not str(data["template_id"]).isdigit():
                raise campaigns.CampaignError("Pilih template.")
            campaign = campaigns.save(
                db,
                staff_service.by_id(db, me.id),
                name=str(data["name"]),
                template_id=int(data["template_id"]),
                parameters=data["parameters"],
                audience=str(data["audience"]),
                options=data["options"],
                send_at=send_at,
                today=settings.current_date(),
                now=utc_now(),
                campaign_id=campaign_id,
                client=request.ip,
            )
            return response.redirect(f"/campaigns/{campaign.id}", status=303)
        except campaigns.CampaignError as error:
            db.rollback()
            context = _form_context(db, settings, data, campaign_id)
            return page(request, "campaign_form.html", status=400, me=me, error=str(error), **context)


@campaigns_bp.post("/campaigns/new")
async def create(request: Request):
    me = _me(request, csrf=True)
    if not isinstance(me, Me):
        return me
    return _save(request, me)


@campaigns_bp.get("/campaigns/<campaign_id:int>/edit")
async def edit_form(request: Request, campaign_id: int):
    me = _me(request)
    if not isinstance(me, Me):
        return me
    with session_scope(request.app.ctx.sessions) as db:
        c = _campaign(db, campaign_id)
        data = {
            "name": c.name,
            "template_id": str(c.template_id),
            "audience": c.audience,
            "parameters": list(c.parameters),
            "options": dict(c.audience_options),
            "send_at": _local_input(c.send_at),
        }
        context = _form_context(db, request.app.ctx.settings, data, campaign_id)
        return page(request, "campaign_form.html", me=me, error=None, **context)


@campaigns_bp.post("/campaigns/<campaign_id:int>/edit")
async def edit(request: Request, campaign_id: int):
    me = _me(request, csrf=True)
    if not isinstance(me, Me):
        return me
    if not valid_id(campaign_id):
        return response.text("Kampanye tidak ditemukan.", status=404)
    return _save(request, me, campaign_id)


@campaigns_bp.get("/campaigns/<campaign_id:int>")
async def detail(request: Request, campaign_id: int):
    me = _me(request)
    if not isinstance(me, Me):
        return me
    settings = request.app.ctx.settings
    with session_scope(request.app.ctx.sessions) as db:
        c = _campaign(db, campaign_id)
        preview = None
        if c.materialized_at is None and c.status is not CampaignStatus.CANCELLED:
            preview = campaigns.preview(
                db, c, settings.current_date(), settings.brand_name, settings.notices_to_opted_out
            )
        approvals = campaigns.current_approvals(c)
        figures = campaigns.figures(db, campaign_id, utc_now()) if c.materialized_at else None
        view = {
            "id": c.id,
            "name": c.name,
            "status": c.status.value,
            "status_words": STATUS_WORDS[c.status.value],
            "version": c.version,
            "template": c.template,
            "parameters": list(c.parameters),
            "audience": audiences.AUDIENCES[c.audience],
            "options": c.audience_options,
            "send_at": to_local(c.send_at),
            "by": c.created_by.full_name,
            "by_me": c.created_by_id == me.id,
            "note": c.note,
            "excluded": dict(c.excluded or {}),
            "needed": [
                (ROLE_WORDS[r.value], approvals[r].staff.full_name if r in approvals else None)
                for r in campaigns.required_roles(c)
            ],
            "may_approve": c.status is CampaignStatus.SUBMITTED
            and me.role in (StaffRole.DEPARTMENT_HEAD.value, StaffRole.CORPORATE_SECRETARY.value)
            and StaffRole(me.role) in campaigns.required_roles(c)
            and StaffRole(me.role) not in approvals
            and c.created_by_id != me.id,
        }
    peak = max([figures[k] for k in CHART] + [1]) if figures else 1
    bars = [(CHART_WORDS[k], figures[k], round(100 * figures[k] / peak)) for k in CHART] if figures else []
    return page(
        request,
        "campaign.html",
        me=me,
        c=view,
        preview=preview,
        figures=figures,
        bars=bars,
        reasons=consent.REASONS,
        message=request.args.get("message"),
        error=request.args.get("error"),
    )


ACTIONS = ("submit", "approve", "pause", "resume", "cancel", "requeue")


@campaigns_bp.post("/campaigns/<campaign_id:int>/<action:str>")
async def act(request: Request, campaign_id: int, action: str):
    me = _me(request, csrf=True)
    if not isinstance(me, Me):
        return me
    if not valid_id(campaign_id) or action not in ACTIONS:
        return response.text("Kampanye tidak ditemukan.", status=404)
    now = utc_now()
    try:
        with session_scope(request.app.ctx.sessions) as db:
            staff = staff_service.by_id(db, me.id)
            if action == "submit":
                campaigns.submit(db, staff, campaign_id, now, request.ip)
            elif action == "approve":
                campaigns.approve(db, staff, campaign_id, now, request.ip)
            elif action == "requeue":
                campaigns.requeue_in_doubt(db, staff, campaign_id, now, request.ip)
            else:
                campaigns.steer(db, staff, campaign_id, action, now, request.ip)
    except campaigns.CampaignError as error:
        from urllib.parse import quote

        return response.redirect(f"/campaigns/{campaign_id}?error={quote(str(error))}", status=303)
    return response.redirect(f"/campaigns/{campaign_id}", status=303)


@campaigns_bp.get("/campaigns/<campaign_id:int>/recipients.csv")
async def recipients_csv(request: Request, campaign_id: int):
    me = _me(request)
    if not isinstance(me, Me):
        return me
    with session_scope(request.app.ctx.sessions) as db:
        _campaign(db, campaign_id)
        staff_service.audit(
            db,
            "campaign_export",
            staff=staff_service.by_id(db, me.id),
            client=request.ip,
            detail=f"campaign {campaign_id}",
        )
        text = "".join(campaigns.recipients_csv(db, campaign_id))
    return response.text(
        text,
        content_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="kampanye-{campaign_id}-penerima.csv"'},
    )
