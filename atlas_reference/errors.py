"""The OpenAI error envelope, and the one exception type routes raise to produce it."""

from __future__ import annotations

from starlette.responses import JSONResponse

ERROR_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    404: "invalid_request_error",
    405: "invalid_request_error",
    409: "invalid_request_error",
    413: "invalid_request_error",
    429: "rate_limit_error",
    500: "server_error",
    503: "unavailable_error",
    507: "insufficient_storage_error",
}


class ApiError(Exception):
    """An answer with a status and a message meant for the client."""

    def __init__(self, status: int, message: str, *, param: str | None = None,
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.param = param
        self.headers = headers or {}


def error_body(status: int, message: str, param: str | None = None,
               error_type: str | None = None) -> dict:
    return {"error": {
        "message": message,
        "type": error_type or ERROR_TYPES.get(status, "server_error"),
        "code": status,
        "param": param,
    }}


def error_response(exc: ApiError) -> JSONResponse:
    return JSONResponse(error_body(exc.status, exc.message, exc.param), status_code=exc.status,
                        headers=exc.headers)
