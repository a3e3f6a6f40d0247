"""One shape for every error: {"error": {"code", "message"}}; never a stack trace."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from app.errors import WcsyncError

log = logging.getLogger("wcsync.api")


def error_body(code: str, message: str, **extra: Any) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, **extra}}


def _location(loc: Any) -> str:
    return ".".join(str(part) for part in loc if part not in ("body", "query", "path"))


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(WcsyncError)
    async def _domain(_: Request, exc: WcsyncError) -> JSONResponse:
        return JSONResponse(error_body(exc.code, exc.message), status_code=exc.status_code)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        details = [
            {"field": _location(err.get("loc", ())), "problem": str(err.get("msg", ""))}
            for err in exc.errors()
        ]
        summary = "; ".join(f"{d['field'] or 'body'}: {d['problem']}" for d in details)
        return JSONResponse(
            error_body("invalid_request", f"Invalid request: {summary}", details=details),
            status_code=422,
        )

    @app.exception_handler(HTTPException)
    async def _http(_: Request, exc: HTTPException) -> JSONResponse:
        code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
        return JSONResponse(
            error_body(code, str(exc.detail)),
            status_code=exc.status_code,
            headers=getattr(exc, "headers", None),
        )

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("api.unhandled path=%s", request.url.path)
        return JSONResponse(
            error_body("internal_error", "wcsync hit an unexpected error; it is in the service log."),
            status_code=500,
        )
