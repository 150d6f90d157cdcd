"""The console web app (Sanic): one blueprint per area (auth, queue and takeover, NLU inbox,
WhatsApp campaigns, dashboard and review) and the notifier; `crm.console.web.require_staff` decides who may do what.

Security: server-side sessions in an HttpOnly, SameSite=Strict cookie; every state-changing
request carries the session's CSRF token (form field or X-CSRF-Token header); the login form
uses a double-submit CSRF cookie; failed logins are throttled (crm.services.staff); pages are
rendered by Jinja2 with autoescaping, the browser code writes text with textContent, and a
Content-Security-Policy allows scripts from this origin only. Every login, claim, reply,
resolve and lock release is audited.
"""

from __future__ import annotations

import logging
from typing import Optional

from jinja2 import Environment, FileSystemLoader, select_autoescape
from sanic import Sanic, response
from sanic.request import Request
from sqlalchemy.orm import sessionmaker

from crm.console import monitoring, notifier
from crm.console.auth import auth
from crm.console.campaigns import campaigns_bp
from crm.console.inbox import inbox
from crm.console.monitoring import monitoring_bp
from crm.console.queue import queue
from crm.console.rasa_api import RasaClient
from crm.console.web import HERE, json_error
from crm.db import create_db_engine, make_session_factory
from crm.settings import Settings

log = logging.getLogger("crm.console")
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}


def create_app(
    settings: Settings,
    *,
    rasa: Optional[RasaClient] = None,
    factory: Optional[sessionmaker] = None,
    name: str = "crm_console",
    notify: bool = True,
) -> Sanic:
    app = Sanic(name)
    app.config.REQUEST_MAX_SIZE = 256 * 1024
    app.ctx.settings = settings
    app.ctx.sessions = factory or make_session_factory(create_db_engine(settings.database_url))
    app.ctx.rasa = rasa or RasaClient(settings.rasa_url, settings.rasa_api_token)
    app.ctx.templates = Environment(
        loader=FileSystemLoader(str(HERE / "templates")), autoescape=select_autoescape(["html"])
    )
    app.static("/static", str(HERE / "static"), name="static")
    for blueprint in (auth, queue, inbox, campaigns_bp, monitoring_bp):
        app.blueprint(blueprint)
    if notify:
        notifier.install(app)
    monitoring.install(app, schedule=notify)

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

    return app
