"""Logging in and out of the console: bcrypt passwords, server-side sessions, a double-submit
CSRF cookie on the login form, throttled and progressively slowed failures (crm.services.staff)."""

from __future__ import annotations

import asyncio
import hmac
import secrets

from sanic import Blueprint, response
from sanic.request import Request

from crm.console.web import LOGIN_CSRF_COOKIE, SESSION_COOKIE, csrf_ok, current, page, set_cookie
from crm.db import session_scope
from crm.models import Staff
from crm.services import staff as staff_service

auth = Blueprint("console_auth")


def _login_page(request: Request, status: int, error):
    fresh = secrets.token_urlsafe(24)
    resp = page(request, "login.html", status=status, csrf=fresh, error=error)
    set_cookie(request, resp, LOGIN_CSRF_COOKIE, fresh, 3600)
    return resp


@auth.get("/health")
async def health(request: Request):
    return response.json({"status": "ok"})


@auth.get("/login")
async def login_form(request: Request):
    return _login_page(request, 200, None)


@auth.post("/login")
async def login(request: Request):
    cookie_token = request.cookies.get(LOGIN_CSRF_COOKIE) or ""
    form_token = (request.form.get("csrf_token") if request.form else "") or ""
    if not cookie_token or not hmac.compare_digest(cookie_token, form_token):
        return response.text("Formulir kedaluwarsa; muat ulang halaman login.", status=403)
    username = (request.form.get("username") or "")[:60]
    password = (request.form.get("password") or "")[:200]
    client = request.ip
    sessions = request.app.ctx.sessions
    with session_scope(sessions) as db:  # each failure of this pair waits longer
        delay = staff_service.login_delay(db, username, client)
    await asyncio.sleep(delay)
    try:
        with session_scope(sessions) as db:
            staff = staff_service.authenticate(db, username, password, client=client)
            new = staff_service.start_session(db, staff) if staff else None
    except staff_service.LoginThrottled:
        return _login_page(request, 429, "Terlalu banyak percobaan gagal dari perangkat ini. Coba lagi dalam 15 menit.")
    if new is None:
        return _login_page(request, 401, "Username atau password salah.")
    resp = response.redirect("/", status=303)
    set_cookie(request, resp, SESSION_COOKIE, new.token, 3600 * 10)
    del resp.cookies[LOGIN_CSRF_COOKIE]
    return resp


@auth.post("/logout")
async def logout(request: Request):
    me = current(request)
    if me is None or not csrf_ok(request, me.csrf):
        return response.redirect("/login", status=303)
    with session_scope(request.app.ctx.sessions) as db:
        staff_service.end_session(db, request.cookies.get(SESSION_COOKIE))
        staff_service.audit(db, "logout", staff=db.get(Staff, me.id), client=request.ip)
    resp = response.redirect("/login", status=303)
    del resp.cookies[SESSION_COOKIE]
    return resp
