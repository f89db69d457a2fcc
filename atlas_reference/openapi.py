"""GET /openapi.yaml: the contract's OpenAPI 3.1 document, for implementers and tools.

The file is ``schemas/openapi.yaml`` of the repository; the package carries it (a link,
installed as package data) so an installed server, in a container too, serves the same bytes.
Public like /health: it holds no secret, and a client reads it before it has a key.
"""

from __future__ import annotations

import functools
from importlib import resources

from starlette.requests import Request
from starlette.responses import Response

from atlas_reference.errors import ApiError

PATH = "/openapi.yaml"
MEDIA_TYPE = "application/yaml"


@functools.lru_cache(maxsize=1)
def document() -> bytes | None:
    """The document's bytes, or None when this installation lacks it."""
    try:
        return resources.files("atlas_reference").joinpath("openapi.yaml").read_bytes()
    except (FileNotFoundError, OSError):
        return None


async def openapi_document(state: object, request: Request, tracker: object) -> Response:
    """The document as YAML (a route handler of app.route)."""
    body = document()
    if body is None:
        raise ApiError(404, "this installation of the server lacks its OpenAPI document")
    return Response(body, media_type=MEDIA_TYPE)
