"""The admin dashboard: sign-in with the admin token, then a static page that drives /api.

The token travels once, in the body of POST /admin/login, and is never kept by the browser: the
answer sets an HttpOnly, SameSite=Strict cookie holding a random session id, which the database
knows only hashed, with an expiry and the fingerprint of the admin token (app.auth.sessions).
Sign-out deletes the session; a new admin token ends them all. The page's script adds
`X-Requested-With: wcsync` to every API call, the header the API asks of cookie-authenticated
requests (a cross-site form cannot set it).

Also here: /docs, Swagger UI served from the package's own files (vendored under
static/swagger-ui with its licence), so it works without internet.
"""

from __future__ import annotations

import html
import json
import logging
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from fastapi import APIRouter, FastAPI, Request, status
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException
from starlette.types import Scope

from app.api.deps import (
    SESSION_COOKIE,
    check_not_blocked,
    count_failure,
    is_admin_token,
    signed_in,
)
from app.auth import sessions
from app.db import session_scope
from app.errors import TooManyFailures

log = logging.getLogger("wcsync.web")

STATIC_DIR = Path(__file__).resolve().parent / "static"
COOKIE_NAME = SESSION_COOKIE
# The cookie before sessions held the token itself: it is cleared wherever it is still found.
OLD_COOKIE_NAME = "wcsync_token"
MAX_LOGIN_BODY = 4096

# The pages load nothing but their own files: no inline script or style, no third parties.
_SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-store",
}

router = APIRouter(include_in_schema=False)


@lru_cache(maxsize=4)
def _page(name: str) -> str:
    return (STATIC_DIR / name).read_text(encoding="utf-8")


def _html(body: str, status_code: int = status.HTTP_200_OK) -> HTMLResponse:
    return HTMLResponse(body, status_code=status_code, headers=_SECURITY_HEADERS)


def _login_page(message: str = "", status_code: int = status.HTTP_200_OK) -> HTMLResponse:
    notice = ""
    if message:
        notice = f'<p class="notice notice-error" role="alert" id="login-error">{html.escape(message)}</p>'
    return _html(_page("login.html").replace("<!--login-error-->", notice), status_code)


def _same_origin(request: Request) -> bool:
    """Refuse form posts that another site makes the browser send (login and logout CSRF).
    Browsers send Origin on every cross-origin POST; its absence means a same-origin or
    non-browser client."""
    origin = request.headers.get("origin")
    if origin is None or origin == "null":
        return origin is None
    host = request.headers.get("host", "")
    return urlsplit(origin).netloc.lower() == host.lower()


async def _supplied_token(request: Request) -> tuple[str, bool]:
    """The token from a JSON or a urlencoded body, and whether the caller wants JSON back."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    body = await request.body()
    if len(body) > MAX_LOGIN_BODY:
        return "", content_type == "application/json"
    if content_type == "application/json":
        try:
            data: Any = json.loads(body or b"{}")
        except ValueError:
            return "", True
        token = data.get("token") if isinstance(data, dict) else None
        return (token if isinstance(token, str) else ""), True
    fields = parse_qs(body.decode("utf-8", errors="replace"), keep_blank_values=True)
    return (fields.get("token") or [""])[0].strip(), False


@router.get("/admin")
async def dashboard(request: Request) -> Response:
    if not await signed_in(request):
        return _login_page()
    return _html(_page("dashboard.html"))


@router.get("/admin/", include_in_schema=False)
async def dashboard_slash() -> Response:
    return RedirectResponse("/admin", status_code=status.HTTP_308_PERMANENT_REDIRECT)


@router.post("/admin/login")
async def login(request: Request) -> Response:
    token, wants_json = await _supplied_token(request)
    if not _same_origin(request):
        log.warning("web.login.refused reason=cross_origin")
        message = "Sign-in refused: the form was sent from another site."
        if wants_json:
            return JSONResponse(_error("cross_origin", message), status_code=status.HTTP_403_FORBIDDEN)
        return _login_page(message, status.HTTP_403_FORBIDDEN)
    try:
        client = await check_not_blocked(request)
        if not is_admin_token(request, token):
            log.warning("web.login.refused reason=%s", "empty_token" if not token else "wrong_token")
            if token:
                await count_failure(request, client, "wrong_sign_in_token")
            message = (
                "Enter the admin token."
                if not token
                else "That token is not right. Sign-in refused: check WCSYNC_ADMIN_TOKEN and try again."
            )
            if wants_json:
                return JSONResponse(
                    _error("not_authenticated", message), status_code=status.HTTP_401_UNAUTHORIZED
                )
            return _login_page(message, status.HTTP_401_UNAUTHORIZED)
    except TooManyFailures as exc:
        if wants_json:
            return JSONResponse(
                _error(exc.code, exc.message), status_code=exc.status_code, headers=exc.headers
            )
        page = _login_page(exc.message, exc.status_code)
        page.headers.update(exc.headers or {})
        return page
    hours: float = request.app.state.session_hours
    async with session_scope(request.app.state.session_factory) as session:
        session_id = await sessions.open_session(session, request.app.state.admin_token, hours)
    log.info("web.login.ok")
    response: Response
    if wants_json:
        response = JSONResponse({"ok": True})
    else:
        response = RedirectResponse("/admin", status_code=status.HTTP_303_SEE_OTHER)
    response.set_cookie(
        COOKIE_NAME,
        session_id,
        max_age=int(hours * 3600),
        path="/",
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
    )
    _clear_old_cookie(request, response)
    response.headers["Cache-Control"] = "no-store"
    return response


def _clear_old_cookie(request: Request, response: Response) -> None:
    if OLD_COOKIE_NAME in request.cookies:
        response.delete_cookie(
            OLD_COOKIE_NAME, path="/", httponly=True, samesite="strict", secure=request.url.scheme == "https"
        )


@router.post("/admin/logout")
async def logout(request: Request) -> Response:
    wants_json = "application/json" in request.headers.get("accept", "")
    if not _same_origin(request):
        return JSONResponse(
            _error("cross_origin", "Sign-out refused: the form was sent from another site."),
            status_code=status.HTTP_403_FORBIDDEN,
        )
    async with session_scope(request.app.state.session_factory) as session:
        await sessions.close_session(session, request.cookies.get(COOKIE_NAME, ""))
    log.info("web.logout")
    response: Response
    if wants_json:
        response = JSONResponse({"ok": True})
    else:
        response = RedirectResponse("/admin", status_code=status.HTTP_303_SEE_OTHER)
    response.delete_cookie(
        COOKIE_NAME, path="/", httponly=True, samesite="strict", secure=request.url.scheme == "https"
    )
    _clear_old_cookie(request, response)
    return response


def _error(code: str, message: str) -> dict[str, Any]:
    return {"error": {"code": code, "message": message}}


class _Assets(StaticFiles):
    """The dashboard's CSS, JS and images. The HTML files beside them are templates served
    by the routes above, not assets."""

    async def get_response(self, path: str, scope: Scope) -> Response:
        if path.endswith(".html"):
            raise HTTPException(status_code=status.HTTP_404_NOT_FOUND)
        return await super().get_response(path, scope)


# Swagger UI may show inline styles; everything it loads comes from this origin.
_DOCS_HEADERS = {
    **_SECURITY_HEADERS,
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
        "connect-src 'self'; font-src 'self' data:; base-uri 'none'; frame-ancestors 'none'; "
        "form-action 'none'"
    ),
}


@router.get("/docs")
async def api_docs() -> Response:
    """The interactive OpenAPI page, built from files in the package (no CDN)."""
    return HTMLResponse(_page("docs.html"), headers=_DOCS_HEADERS)


def install(app: FastAPI) -> None:
    """Mount the dashboard on the app: /admin, its sign-in and sign-out, its static files, and
    the /docs page."""
    app.include_router(router)
    app.mount("/admin/static", _Assets(directory=STATIC_DIR), name="admin-static")
