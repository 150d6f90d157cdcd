"""WhatsApp message templates: read from business/whatsapp_templates.yml (what CRM analysts
edit), kept in `message_templates` with the approval state Meta reports. A template whose text
changed since Meta approved it is not sendable until it is approved again."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Dict, Iterable, List, Optional, Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from crm.business_files import BUSINESS, read_mapping
from crm.models import MessageTemplate, TemplateCategory, TemplateStatus
from crm.policy import CODE_VALID_MINUTES
from crm.services.satisfaction import rating_payload

TEMPLATES_FILE = BUSINESS / "whatsapp_templates.yml"
NAME = re.compile(r"^[a-z0-9_]{1,512}$")
PLACEHOLDER = re.compile(r"\{\{(\d+)\}\}")
MAX_BODY, MAX_BUTTONS, MAX_BUTTON_TEXT = 1024, 3, 25
OPT_OUT_KINDS = ("marketing", "reminders")
USES = ("campaigns", "agents", "verification", "surveys")
SURVEY_FIELDS = ("brand_name",)  # the satisfaction template after an agent resolved an item
AGENT_FIELDS = ("agent_name", "brand_name", "agent_text")  # what the console fills in an agents' template
CODE_FIELDS = ("code",)  # the one-time code template's only parameter
# Meta's states (upper case in the API) as ours; IN_APPEAL and the like are still pending
META_STATUS = {
    "APPROVED": TemplateStatus.APPROVED,
    "PENDING": TemplateStatus.PENDING,
    "IN_APPEAL": TemplateStatus.PENDING,
    "PENDING_DELETION": TemplateStatus.DISABLED,
    "REJECTED": TemplateStatus.REJECTED,
    "PAUSED": TemplateStatus.PAUSED,
    "DISABLED": TemplateStatus.DISABLED,
    "DELETED": TemplateStatus.DISABLED,
}


class TemplateFileError(ValueError):
    """The templates file is wrong; the message names the template and what to fix."""


@dataclass(frozen=True)
class TemplateSpec:
    name: str
    language: str
    category: TemplateCategory
    body: str
    parameters: List[str]
    examples: List[str]
    buttons: List[Dict[str, Any]] = field(default_factory=list)  # {"text", "opt_out"?}
    use: str = "campaigns"


def placeholder_count(body: str) -> int:
    """How many {{n}} a body has; they must be numbered 1..n without gaps."""
    numbers = sorted({int(n) for n in PLACEHOLDER.findall(body)})
    if numbers != list(range(1, len(numbers) + 1)):
        raise ValueError(f"the placeholders must be {{{{1}}}}..{{{{n}}}} without gaps, not {numbers}")
    return len(numbers)


def render(body: str, values: Iterable[str]) -> str:
    """The message a customer reads: each {{n}} replaced by the n-th value."""
    listed = list(values)
    return PLACEHOLDER.sub(
        lambda m: listed[int(m.group(1)) - 1] if int(m.group(1)) <= len(listed) else m.group(0), body
    )


def _spec(raw: Any, index: int) -> TemplateSpec:
    if not isinstance(raw, dict):
        raise TemplateFileError(f"template #{index + 1} is not a mapping of name, language, category, body")
    name = str(raw.get("name") or "")
    where = f"template {name or '#' + str(index + 1)}"
    if not NAME.match(name):
        raise TemplateFileError(f"{where}: the name may hold only a-z, 0-9 and _")
    try:
        category = TemplateCategory(str(raw.get("category") or "").lower())
    except ValueError:
        raise TemplateFileError(f"{where}: category must be utility, marketing or authentication")
    body = " ".join(str(raw.get("body") or "").split())
    if not body or len(body) > MAX_BODY:
        raise TemplateFileError(f"{where}: the body must have 1 to {MAX_BODY} characters, not {len(body)}")
    try:
        count = placeholder_count(body)
    except ValueError as error:
        raise TemplateFileError(f"{where}: {error}")
    parameters = [str(p or "") for p in (raw.get("parameters") or [])]
    examples = [str(e) for e in (raw.get("examples") or [])]
    if len(parameters) != count or len(examples) != count:
        raise TemplateFileError(
            f"{where}: the body has {count} placeholder(s); give as many parameters ({len(parameters)}) "
            f"and examples ({len(examples)})"
        )
    buttons = []
    for button in raw.get("buttons") or []:
        text = str((button or {}).get("text") or "") if isinstance(button, dict) else ""
        opt_out = button.get("opt_out") if isinstance(button, dict) else None
        score = button.get("score") if isinstance(button, dict) else None
        if not text or len(text) > MAX_BUTTON_TEXT:
            raise TemplateFileError(f"{where}: a button needs a text of 1 to {MAX_BUTTON_TEXT} characters")
        if opt_out is not None and opt_out not in OPT_OUT_KINDS:
            raise TemplateFileError(f"{where}: opt_out must be one of {', '.join(OPT_OUT_KINDS)}")
        if score is not None and score not in (1, 2, 3, 4, 5):
            raise TemplateFileError(f"{where}: a button's score is a whole number from 1 to 5")
        buttons.append(
            {"text": text, **({"opt_out": opt_out} if opt_out else {}), **({"score": score} if score else {})}
        )
    if len(buttons) > MAX_BUTTONS:
        raise TemplateFileError(f"{where}: at most {MAX_BUTTONS} quick-reply buttons")
    use = str(raw.get("use") or "campaigns")
    if use not in USES:
        raise TemplateFileError(f"{where}: use must be one of {', '.join(USES)}")
    if use == "surveys" and (
        parameters != list(SURVEY_FIELDS)
        or category is not TemplateCategory.UTILITY
        or not buttons
        or not all(b.get("score") for b in buttons)
    ):
        raise TemplateFileError(
            f"{where}: a survey template is utility with parameters {list(SURVEY_FIELDS)} and a score on every button"
        )
    if use == "agents" and (parameters != list(AGENT_FIELDS) or category is not TemplateCategory.UTILITY):
        raise TemplateFileError(f"{where}: an agents' template is utility with parameters {list(AGENT_FIELDS)}")
    if (use == "verification") != (category is TemplateCategory.AUTHENTICATION) or (
        use == "verification" and parameters != list(CODE_FIELDS)
    ):
        raise TemplateFileError(f"{where}: the code template (use: verification) is authentication with parameter code")
    language = str(raw.get("language") or "id")
    return TemplateSpec(name, language, category, body, parameters, examples, buttons, use)


def read_file(path: Path = TEMPLATES_FILE) -> List[TemplateSpec]:
    data = read_mapping(path, TemplateFileError)
    specs = [_spec(raw, i) for i, raw in enumerate(data.get("templates") or [])]
    seen = set()
    for spec in specs:
        if (spec.name, spec.language) in seen:
            raise TemplateFileError(f"template {spec.name} ({spec.language}) is listed twice")
        seen.add((spec.name, spec.language))
    return specs


def load(session: Session, specs: Iterable[TemplateSpec]) -> List[MessageTemplate]:
    """Write the file's templates to the table. A new one, or one whose text, category or buttons
    changed, is `not_submitted` until Meta approves it (again)."""
    rows = []
    for spec in specs:
        row = session.execute(
            select(MessageTemplate).where(MessageTemplate.name == spec.name, MessageTemplate.language == spec.language)
        ).scalar_one_or_none()
        if row is None:
            row = MessageTemplate(name=spec.name, language=spec.language, status=TemplateStatus.NOT_SUBMITTED)
            session.add(row)
        elif (row.body, row.category, row.buttons) != (spec.body, spec.category, spec.buttons):
            row.status = TemplateStatus.NOT_SUBMITTED
            row.reason = "teks diubah; perlu diajukan ulang ke Meta"
        row.category, row.body, row.parameters, row.buttons = spec.category, spec.body, spec.parameters, spec.buttons
        row.use = spec.use
        rows.append(row)
    session.flush()
    return rows


def meta_body(components: Any) -> Optional[str]:
    for component in components or []:
        if isinstance(component, dict) and str(component.get("type", "")).upper() == "BODY":
            return " ".join(str(component.get("text") or "").split())
    return None


def apply_meta(session: Session, listed: Iterable[Dict[str, Any]], now: datetime) -> int:
    """Take the approval state of each template Meta lists (GET /{waba-id}/message_templates).
    Meta's state counts only when its text is ours; returns how many rows changed."""
    changed = 0
    for item in listed:
        row = session.execute(
            select(MessageTemplate).where(
                MessageTemplate.name == str(item.get("name")), MessageTemplate.language == str(item.get("language"))
            )
        ).scalar_one_or_none()
        if row is None:
            continue
        status = META_STATUS.get(str(item.get("status") or "").upper(), TemplateStatus.PENDING)
        body = meta_body(item.get("components"))
        reason = str(item.get("rejected_reason") or "") or None
        if body is not None and body != row.body and row.category is not TemplateCategory.AUTHENTICATION:
            status, reason = TemplateStatus.NOT_SUBMITTED, "teks berbeda dari yang diajukan ke Meta; ajukan ulang"
        if reason == "NONE":
            reason = None
        if (row.status, row.reason, row.meta_id) != (status, reason, str(item.get("id") or row.meta_id or "")):
            changed += 1
        row.status, row.reason = status, reason
        row.meta_id = str(item.get("id") or row.meta_id or "") or None
        row.synced_at = now
    session.flush()
    return changed


def submission(row: MessageTemplate, spec: TemplateSpec) -> Dict[str, Any]:
    """The body of POST /{waba-id}/message_templates (or /{template-id} to edit) for `row`."""
    if row.category is TemplateCategory.AUTHENTICATION:  # Meta writes the words; we choose the options
        components: List[Dict[str, Any]] = [
            {"type": "BODY", "add_security_recommendation": True},
            {"type": "FOOTER", "code_expiration_minutes": CODE_VALID_MINUTES},
            {"type": "BUTTONS", "buttons": [{"type": "OTP", "otp_type": "COPY_CODE", "text": "Salin kode"}]},
        ]
        payload: Dict[str, Any] = {"category": "AUTHENTICATION", "components": components}
        if not row.meta_id:
            payload.update(name=row.name, language=row.language)
        return payload
    components = [
        {"type": "BODY", "text": row.body, **({"example": {"body_text": [spec.examples]}} if spec.examples else {})}
    ]
    if row.buttons:
        components.append(
            {"type": "BUTTONS", "buttons": [{"type": "QUICK_REPLY", "text": b["text"]} for b in row.buttons]}
        )
    payload = {"category": row.category.value.upper(), "components": components}
    if not row.meta_id:
        payload.update(name=row.name, language=row.language)
    return payload


def submitted(row: MessageTemplate, answer: Dict[str, Any], now: datetime) -> None:
    row.meta_id = str(answer.get("id") or row.meta_id or "") or None
    row.status = META_STATUS.get(str(answer.get("status") or "PENDING").upper(), TemplateStatus.PENDING)
    row.reason, row.synced_at = None, now


def sendable(session: Session) -> List[MessageTemplate]:
    return list(
        session.execute(
            select(MessageTemplate)
            .where(MessageTemplate.status == TemplateStatus.APPROVED)
            .order_by(MessageTemplate.name)
        ).scalars()
    )


def all_templates(session: Session, use: Optional[str] = None) -> List[MessageTemplate]:
    query = select(MessageTemplate).order_by(MessageTemplate.name)
    if use is not None:
        query = query.where(MessageTemplate.use == use)
    return list(session.execute(query).scalars())


def approved_for(session: Session, use: str) -> Optional[MessageTemplate]:
    """The approved template for `use` (agents, verification), if any."""
    return session.execute(
        select(MessageTemplate)
        .where(MessageTemplate.use == use, MessageTemplate.status == TemplateStatus.APPROVED)
        .order_by(MessageTemplate.name)
        .limit(1)
    ).scalar_one_or_none()


def agent_template(session: Session) -> Optional[MessageTemplate]:
    """The approved template an agent sends after WhatsApp's 24-hour window closed, if any."""
    return approved_for(session, "agents")


def survey_template(session: Session) -> Optional[MessageTemplate]:
    """The approved satisfaction template (after an agent's resolution, outside the window), if any."""
    return approved_for(session, "surveys")


def template_message(
    name: str,
    language: str,
    to: str,
    values: Sequence[str],
    *,
    quick_replies: Sequence[str] = (),
    url_button: Optional[str] = None,
    opaque: Optional[str] = None,
) -> Dict[str, Any]:
    """The Graph API body of a template message: `values` fill {{1}}, {{2}}…; `quick_replies`
    are the payloads the quick-reply buttons send back (in button order); `url_button` fills
    the first URL button (an authentication template's copy-code button); `opaque` comes back
    with each delivery status (biz_opaque_callback_data)."""
    components: List[Dict[str, Any]] = [{"type": "body", "parameters": [{"type": "text", "text": v} for v in values]}]
    if url_button is not None:
        components.append(
            {"type": "button", "sub_type": "url", "index": "0", "parameters": [{"type": "text", "text": url_button}]}
        )
    for index, payload in enumerate(quick_replies):
        components.append(
            {
                "type": "button",
                "sub_type": "quick_reply",
                "index": str(index),
                "parameters": [{"type": "payload", "payload": payload}],
            }
        )
    message: Dict[str, Any] = {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": to,
        "type": "template",
        "template": {"name": name, "language": {"code": language}, "components": components},
    }
    if opaque is not None:
        message["biz_opaque_callback_data"] = opaque
    return message


def code_message(row: MessageTemplate, to: str, code: str) -> Dict[str, Any]:
    """The one-time code message (the code also fills the copy button)."""
    return template_message(row.name, row.language, to, [code], url_button=code)


def quick_reply_payloads(row: MessageTemplate) -> List[str]:
    """What each quick-reply button sends back: the STOP button its opt-out command, a survey
    button its rating, others their text."""
    payloads = []
    for button in row.buttons or []:
        if button.get("opt_out"):
            payloads.append(f"/opt_out_{button['opt_out']}")
        elif button.get("score"):
            payloads.append(rating_payload(int(button["score"])))
        else:
            payloads.append(str(button["text"]))
    return payloads


def opt_out_button(row: MessageTemplate) -> Optional[int]:
    """The index of the template's STOP button, if it has one."""
    for index, button in enumerate(row.buttons or []):
        if button.get("opt_out"):
            return index
    return None
