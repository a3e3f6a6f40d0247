"""One shape for every error: {"error": {"code", "message"}}; never a stack trace.

The same module documents that shape in OpenAPI (`responses(...)`), so that what the routes
declare and what they answer stay one thing.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException
from starlette.routing import Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.errors import WcsyncError

log = logging.getLogger("wcsync.api")


class ErrorDetail(BaseModel):
    field: str = Field(
        description="The field at fault, dotted (`base_url`, `items.0.sku`); `body` for the whole body."
    )
    problem: str


class CheckVerdict(BaseModel):
    name: str
    ok: bool
    detail: str


class ErrorInfo(BaseModel):
    code: str = Field(
        description="A stable, machine-readable code (`store_not_found`, `invalid_request`, …)."
    )
    message: str = Field(description="What went wrong, in words.")
    details: list[ErrorDetail] | None = Field(default=None, description="422: each field at fault.")
    checks: list[CheckVerdict] | None = Field(default=None, description="store_check_failed: the verdicts.")


class ErrorBody(BaseModel):
    error: ErrorInfo


_DESCRIPTIONS = {
    400: "Bad request",
    401: "No token, a wrong one, or an ended dashboard session (`not_authenticated`)",
    403: "A store token outside its scope (`forbidden`), or a cookie call without "
    "`X-Requested-With: wcsync` (`csrf_header_missing`)",
    404: "Not found",
    409: "Conflict",
    413: "The request body is larger than the limit (`body_too_large`)",
    422: "Invalid input (`invalid_request`, with `details`)",
    429: "Too many wrong tokens from this address (`too_many_failures`); see Retry-After",
    502: "A store could not be reached or answered with an error (`store_unavailable`)",
    503: "wcsync is shutting down (`shutting_down`)",
}
_RETRY_AFTER = {"Retry-After": {"description": "Seconds to wait", "schema": {"type": "integer"}}}


def responses(*statuses: int, **descriptions: str) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` for these error statuses, each with the error body's schema.
    `descriptions` overrides one by key `s404=…`."""
    documented: dict[int | str, dict[str, Any]] = {}
    for status in statuses:
        entry: dict[str, Any] = {
            "model": ErrorBody,
            "description": descriptions.get(f"s{status}", _DESCRIPTIONS.get(status, "Error")),
        }
        if status == 429:
            entry["headers"] = _RETRY_AFTER
        documented[status] = entry
    return documented


def error_body(code: str, message: str, **extra: Any) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, **extra}}


def _location(loc: Any) -> str:
    parts = [str(part) for part in loc]
    if parts[:1] in (["body"], ["query"], ["path"], ["header"], ["cookie"]):
        parts = parts[1:]
    return ".".join(parts)


def _problem(err: dict[str, Any]) -> tuple[str, str]:
    """(field, problem in words) for one pydantic error."""
    kind = str(err.get("type", ""))
    loc = tuple(err.get("loc", ()))
    message = str(err.get("msg", ""))
    if kind == "json_invalid":
        # pydantic puts the character position in `loc` ("body", 14): say it in the sentence.
        position = loc[1] if len(loc) > 1 else None
        where = f" at character {position}" if isinstance(position, int) else ""
        reason = (err.get("ctx") or {}).get("error", "")
        return "body", f"The body is not valid JSON{where}" + (f" ({reason})." if reason else ".")
    if message.startswith("Value error, "):
        message = message[len("Value error, ") :]
    field = _location(loc)
    if kind == "missing" and field == "":
        return "body", "A JSON body is required."
    if kind == "model_attributes_type" or (kind == "dict_type" and field == ""):
        return field or "body", "The body must be a JSON object."
    return field, message


_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")


def _allowed_methods(request: Request) -> list[str]:
    """Every method some route serves at this path. The router's own 405 names only the
    methods of the first route whose path matched, so `PUT /api/stores/x` would claim that
    only GET is allowed while PATCH and DELETE are too."""
    base = {key: value for key, value in request.scope.items() if key not in ("fastapi", "route")}
    allowed = []
    for method in _METHODS:
        scope = {**base, "method": method}
        if any(route.matches(dict(scope))[0] == Match.FULL for route in request.app.router.routes):
            allowed.append(method)
    return allowed


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(WcsyncError)
    async def _domain(_: Request, exc: WcsyncError) -> JSONResponse:
        return JSONResponse(
            error_body(exc.code, exc.message, **exc.extra), status_code=exc.status_code, headers=exc.headers
        )

    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        details = []
        for err in exc.errors():
            field, problem = _problem(err)
            details.append({"field": field, "problem": problem})
        summary = "; ".join(f"{d['field'] or 'body'}: {d['problem']}" for d in details)
        return JSONResponse(
            error_body("invalid_request", f"Invalid request: {summary}", details=details),
            status_code=422,
        )

    @app.exception_handler(HTTPException)
    async def _http(request: Request, exc: HTTPException) -> JSONResponse:
        if exc.status_code == 400 and exc.detail == "There was an error parsing the body":
            # FastAPI's answer to a body that is not UTF-8 text: bad input like any other.
            problem = "The body could not be read as JSON (is it UTF-8 text?)."
            return JSONResponse(
                error_body(
                    "invalid_request",
                    f"Invalid request: body: {problem}",
                    details=[{"field": "body", "problem": problem}],
                ),
                status_code=422,
            )
        code = {404: "not_found", 405: "method_not_allowed", 413: "body_too_large"}.get(
            exc.status_code, "http_error"
        )
        headers = dict(getattr(exc, "headers", None) or {})
        message = str(exc.detail)
        if exc.status_code == 405:
            allowed = _allowed_methods(request)
            headers["Allow"] = ", ".join(allowed)
            message = f"{request.method} is not allowed here; use {', '.join(allowed)}."
        return JSONResponse(error_body(code, message), status_code=exc.status_code, headers=headers or None)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("api.unhandled path=%s", request.url.path)
        return JSONResponse(
            error_body("internal_error", "wcsync hit an unexpected error; it is in the service log."),
            status_code=500,
        )


class BodyTooLarge(HTTPException):
    def __init__(self, limit: int) -> None:
        super().__init__(
            status_code=413,
            detail=f"The request body is larger than {limit} bytes, the most wcsync accepts.",
        )


class BodySizeLimit:
    """Refuse request bodies over `limit` bytes with 413, without reading them whole: a declared
    Content-Length over the limit is refused before the body is read, and a chunked body is
    counted as it arrives and cut off at the limit. Paths under `exempt` keep their own limit
    (webhook deliveries can be larger, and their route caps them)."""

    def __init__(self, app: ASGIApp, *, limit: int, exempt: tuple[str, ...] = ()) -> None:
        self.app = app
        self.limit = limit
        self.exempt = exempt

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or str(scope.get("path", "")).startswith(self.exempt):
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or []).get(b"content-length", b"")
        if declared.isdigit() and int(declared) > self.limit:
            await self._refuse(send)
            return
        received = 0

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.limit:
                    # Raised inside the app's call: its HTTPException handler answers 413.
                    raise BodyTooLarge(self.limit)
            return message

        await self.app(scope, counted, send)

    async def _refuse(self, send: Send) -> None:
        body = json.dumps(error_body("body_too_large", BodyTooLarge(self.limit).detail)).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                    (b"connection", b"close"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})
