"""The error responses of every operation, written into the OpenAPI document once at start-up, so it
describes what the API really answers (``web.errors`` turns every error into an RFC 9457 problem).

Which errors an operation can give follows from its shape, one rule each: every API call may be
refused for its credentials (401) or be unavailable while the database is down (503); a guarded one
may be forbidden (403); one with path parameters or a body may name something missing (404); one that takes
input may find it invalid (422); one with a body may conflict with what exists (409); the calls with
counted allowances (login, web chat, the public API) may be refused for going too fast (429). The
request bodies that refuse unknown fields say so (``additionalProperties: false``).
"""

from __future__ import annotations

import msgspec
from litestar import Litestar
from litestar.openapi.spec import OpenAPIMediaType, OpenAPIResponse, OpenAPIType, Operation, Reference, Schema
from litestar.routes import HTTPRoute

from web.errors import PROBLEM_JSON

PROBLEM = Schema(
    type=OpenAPIType.OBJECT,
    description="An RFC 9457 problem: what went wrong and, for invalid input, each field and why.",
    properties={
        "type": Schema(type=OpenAPIType.STRING),
        "title": Schema(type=OpenAPIType.STRING),
        "status": Schema(type=OpenAPIType.INTEGER),
        "detail": Schema(type=OpenAPIType.STRING),
        "instance": Schema(type=OpenAPIType.STRING),
        "code": Schema(type=OpenAPIType.STRING),
        "errors": Schema(
            type=OpenAPIType.ARRAY,
            items=Schema(
                type=OpenAPIType.OBJECT,
                properties={
                    "field": Schema(type=OpenAPIType.STRING),
                    "reason": Schema(type=OpenAPIType.STRING),
                },
                required=["field", "reason"],
            ),
        ),
    },
    required=["status", "detail"],
)
DESCRIPTIONS = {
    400: "The request could not be read (malformed JSON or form)",
    401: "No valid credentials (login token, web chat session token or API key)",
    403: "The caller's role may not do this",
    404: "What the path names does not exist for this tenant",
    409: "A duplicate, or a change the current state does not allow",
    422: "Invalid input: each field and why",
    429: "Too many requests: wait the seconds in Retry-After",
    503: "Temporarily unavailable (the database is unreachable): retry after Retry-After seconds",
}
RATE_LIMITED_PREFIXES = ("/api/v1/auth/", "/api/v1/public/", "/api/v1/webchat/")
WRITES = {"POST", "PUT", "PATCH"}


def _statuses(path: str, method: str, operation: Operation, guarded: bool) -> set[int]:
    statuses = {400, 503}
    if path.startswith("/api/"):
        statuses.add(401)
    if guarded:
        statuses.add(403)
    parameters = operation.parameters or []
    if operation.request_body or any(
        getattr(parameter, "param_in", None) == "path" for parameter in parameters
    ):
        statuses.add(404)  # what the path names, or an id the body names (a channel, a queue)
    if parameters or operation.request_body:
        statuses.add(422)
    if method in WRITES and operation.request_body:
        statuses.add(409)
    if path.startswith(RATE_LIMITED_PREFIXES):
        statuses.add(429)
    return statuses


def _closed_structs() -> set[str]:
    """Names of the request structs that refuse unknown fields."""
    names: set[str] = set()
    pending: list[type[msgspec.Struct]] = [msgspec.Struct]
    while pending:
        struct = pending.pop()
        pending.extend(struct.__subclasses__())
        if struct.__struct_config__.forbid_unknown_fields:
            names.add(struct.__name__)
    return names


def document_errors(app: Litestar) -> None:
    """On start-up, before the document is first served: add the problem responses to every operation."""
    document = app.openapi_schema
    assert document.components.schemas is not None  # Litestar fills them from the handlers' types
    schemas = document.components.schemas
    schemas["Problem"] = PROBLEM
    for name in _closed_structs() & schemas.keys():
        schemas[name].additional_properties = False
    problem = OpenAPIMediaType(schema=Reference(ref="#/components/schemas/Problem"))
    for route in app.routes:
        path_item = (document.paths or {}).get(route.path_format)
        if not isinstance(route, HTTPRoute) or path_item is None:
            continue
        for handler in route.route_handlers:
            for method in handler.http_methods:
                operation: Operation | None = getattr(path_item, method.lower(), None)
                if operation is None or operation.responses is None:
                    continue
                for status in _statuses(route.path_format, method, operation, bool(handler.resolve_guards())):
                    operation.responses[str(status)] = OpenAPIResponse(
                        description=DESCRIPTIONS[status], content={PROBLEM_JSON: problem}
                    )
