"""The admin dashboard: sign-in with the admin token, then a static page that drives /api.

The token travels once, in the body of POST /admin/login, and then lives in an HttpOnly,
SameSite=Strict cookie that `require_token` accepts; it never appears in a URL. The page's
script adds `X-Requested-With: wcsync` to every API call, the header the API asks of
cookie-authenticated requests (a cross-site form cannot set it).
"""

from __future__ import annotations

import html
import json
import logging
import secrets
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from fastapi import APIRouter, FastAPI, Request, status
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException
from starlette.types import Scope

log = logging.getLogger("wcsync.web")

STATIC_DIR = Path(__file__).resolve().parent / "static"
COOKIE_NAME = "wcsync_token"
CSRF_HEADER = "X-Requested-With"
CSRF_VALUE = "wcsync"
COOKIE_MAX_AGE = 12 * 3600
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


def token_matches(request: Request, supplied: str) -> bool:
    expected: str = request.app.state.admin_token
    return bool(supplied) and secrets.compare_digest(supplied.encode(), expected.encode())


def is_signed_in(request: Request) -> bool:
    return token_matches(request, request.cookies.get(COOKIE_NAME, ""))


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
    if not is_signed_in(request):
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
    if not token_matches(request, token):
        log.warning("web.login.refused reason=%s", "empty_token" if not token else "wrong_token")
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
    log.info("web.login.ok")
    response: Response
    if wants_json:
        response = JSONResponse({"ok": True})
    else:
        response = RedirectResponse("/admin", status_code=status.HTTP_303_SEE_OTHER)
    response.set_cookie(
        COOKIE_NAME,
        token,
        max_age=COOKIE_MAX_AGE,
        path="/",
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
    )
    response.headers["Cache-Control"] = "no-store"
    return response


@router.post("/admin/logout")
async def logout(request: Request) -> Response:
    wants_json = "application/json" in request.headers.get("accept", "")
    if not _same_origin(request):
        return JSONResponse(
            _error("cross_origin", "Sign-out refused: the form was sent from another site."),
            status_code=status.HTTP_403_FORBIDDEN,
        )
    response: Response
    if wants_json:
        response = JSONResponse({"ok": True})
    else:
        response = RedirectResponse("/admin", status_code=status.HTTP_303_SEE_OTHER)
    response.delete_cookie(
        COOKIE_NAME, path="/", httponly=True, samesite="strict", secure=request.url.scheme == "https"
    )
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


def install(app: FastAPI) -> None:
    """Mount the dashboard on the app: /admin, its sign-in and sign-out, and its static files."""
    app.include_router(router)
    app.mount("/admin/static", _Assets(directory=STATIC_DIR), name="admin-static")
