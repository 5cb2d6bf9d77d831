"""The one error form of the HTTP API: `{"error": "<code>", "detail": "<what and why>"}`."""

from __future__ import annotations

import logging

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

log = logging.getLogger("collabd.api")


class ApiError(Exception):
    """An error a client caused; rendered as {"error", "detail"} with `status`."""

    def __init__(self, status: int, code: str, detail: str) -> None:
        super().__init__(detail)
        self.status, self.code, self.detail = status, code, detail

    def response(self) -> JSONResponse:
        return JSONResponse({"error": self.code, "detail": self.detail}, status_code=self.status)


async def _api_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ApiError)
    return exc.response()


async def _not_found(request: Request, exc: Exception) -> Response:
    return JSONResponse({"error": "not_found", "detail": f"no route for {request.url.path}"}, 404)


async def _internal(request: Request, exc: Exception) -> Response:
    """A bug of ours: logged with its traceback; the client still gets the one error form."""
    log.error("%s %s failed", request.method, request.url.path, exc_info=exc)
    detail = f"the hub failed handling this request ({type(exc).__name__}); see its log"
    return JSONResponse({"error": "internal", "detail": detail}, status_code=500)


# For Starlette(exception_handlers=...): every app of ours answers errors the same way.
HANDLERS = {ApiError: _api_error, 404: _not_found, Exception: _internal}
