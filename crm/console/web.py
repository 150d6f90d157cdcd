"""What every console handler shares: the logged-in staff member (`require_staff`), CSRF, cookies,
pages and JSON errors. One helper decides who may do what, so no handler checks it by hand."""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Collection, Dict, Optional, Union

from sanic import response
from sanic.exceptions import SanicException
from sanic.request import Request

from crm.db import session_scope
from crm.services import staff as staff_service

HERE = Path(__file__).resolve().parent
SESSION_COOKIE = "crm_session"
LOGIN_CSRF_COOKIE = "crm_login_csrf"
MAX_ID = 2**31 - 1
# who works on outbound campaigns: analysts draft, the department head and the corporate secretary
# approve, supervisors oversee
CAMPAIGN_ROLES = ("analyst", "department_head", "corporate_secretary", "supervisor")
# who watches the bot: the dashboard and the conversation review
MONITOR_ROLES = ("supervisor", "analyst", "department_head")


@dataclass(frozen=True)
class Me:
    """The logged-in staff member, as handlers need them."""

    id: int
    username: str
    name: str
    role: str
    csrf: str
    notice: Optional[str] = None

    @property
    def supervisor(self) -> bool:
        return self.role == "supervisor"

    @property
    def campaigns(self) -> bool:
        return self.role in CAMPAIGN_ROLES

    @property
    def sees_typed_personal_data(self) -> bool:
        """NIK, dates of birth and phone numbers customers typed: supervisors see them in
        transcripts (queue and review); everyone else sees them masked."""
        return self.role == "supervisor"

    @property
    def monitoring(self) -> bool:
        return self.role in MONITOR_ROLES

    @property
    def first_name(self) -> str:
        return (self.name.split() or [self.username])[0]


def valid_id(item_id: int) -> bool:
    """Ids the database can hold: a larger one is a 404, not an overflow (500)."""
    return 0 < item_id <= MAX_ID


def page(request: Request, template: str, status: int = 200, **context: Any) -> response.HTTPResponse:
    return response.html(request.app.ctx.templates.get_template(template).render(**context), status=status)


def set_cookie(request: Request, resp: response.HTTPResponse, name: str, value: str, max_age: int) -> None:
    resp.cookies[name] = value
    cookie = resp.cookies[name]
    cookie["httponly"] = True
    cookie["samesite"] = "Strict"
    cookie["path"] = "/"
    cookie["max-age"] = max_age
    if request.app.ctx.settings.console_secure_cookies:
        cookie["secure"] = True


def json_error(message: str, status: int) -> response.HTTPResponse:
    return response.json({"error": message}, status=status)


def current(request: Request) -> Optional[Me]:
    """The logged-in staff member, or None."""
    with session_scope(request.app.ctx.sessions) as db:
        row = staff_service.find_session(db, request.cookies.get(SESSION_COOKIE))
        if row is None:
            return None
        staff = row.staff
        return Me(
            staff.id, staff.username, staff.full_name or staff.username, staff.role.value, row.csrf_token, row.notice
        )


def csrf_ok(request: Request, expected: str) -> bool:
    given = request.headers.get("x-csrf-token") or (request.form.get("csrf_token") if request.form else None)
    return bool(given) and hmac.compare_digest(str(given), expected)


def require_staff(
    request: Request,
    role: Union[None, str, Collection[str]] = None,
    *,
    csrf: bool = False,
    page_request: bool = False,
) -> Union[Me, response.HTTPResponse]:
    """The staff member when the request may go on; otherwise the answer to send: a redirect to
    the login for pages, 401 for the API, 403 for a missing CSRF token or role (`role`: one role
    or the roles allowed)."""
    me = current(request)
    if me is None:
        return response.redirect("/login", status=303) if page_request else json_error("Silakan login.", 401)
    if csrf and not csrf_ok(request, me.csrf):
        return json_error("Token CSRF tidak valid; muat ulang halaman.", 403)
    allowed = (role,) if isinstance(role, str) else tuple(role or ())
    if allowed and me.role not in allowed:
        text = (
            "Hanya supervisor (trainer) yang dapat membuka halaman ini."
            if allowed == ("supervisor",)
            else "Peran Anda tidak dapat membuka halaman ini."
        )
        return response.text(text, status=403) if page_request else json_error(text, 403)
    return me


def body(request: Request) -> Dict[str, Any]:
    """The request's JSON object or form fields; ValueError with a reason for anything else."""
    if request.content_type.startswith("application/json"):
        try:
            data = request.json
        except SanicException:
            raise ValueError("malformed JSON")
        if not isinstance(data, dict):
            raise ValueError("JSON body must be an object")
        return data
    return {k: request.form.get(k) for k in (request.form or {})}
