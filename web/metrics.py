"""``GET /metrics`` for Prometheus: this process's counters (turns, LLM calls, deliveries, HTTP requests)
and what waits in the database (unanswered messages, the outbox), read at each scrape.

Only for the machine itself or a scraper that knows ``ATENDE_METRICS_TOKEN``: the numbers name tenants
and say how busy the service is, which is nobody else's business.
"""

from __future__ import annotations

import hmac
import ipaddress
from typing import Any

import structlog
from litestar import Controller, Response, get
from litestar.connection import ASGIConnection
from litestar.enums import ScopeType
from litestar.exceptions import PermissionDeniedException
from litestar.handlers.base import BaseRouteHandler
from litestar.plugins.prometheus import PrometheusConfig
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, generate_latest
from sqlalchemy.exc import SQLAlchemyError

from conversations.backlog import BACKLOG, refresh_backlog
from conversations.services import Services

log = structlog.get_logger(__name__)

HTTP_METRICS = PrometheusConfig(
    app_name="atende", prefix="atende_http", group_path=True, scopes={ScopeType.HTTP}
)
"""Requests by method, route (its template, not the ids in it) and status, in the default registry. Its
middleware runs inside the login's: a request the login refuses (401) is not counted, rather than
counted with a wrong status (the refusal is raised through the middleware, not sent by it)."""


def _is_loopback(host: str | None) -> bool:
    try:
        address = ipaddress.ip_address(host or "")
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_loopback


def _bears(connection: ASGIConnection[Any, Any, Any, Any], token: str | None) -> bool:
    scheme, _, presented = connection.headers.get("authorization", "").partition(" ")
    if not token or scheme.lower() != "bearer":
        return False
    return hmac.compare_digest(presented.strip().encode(), token.encode())


def scrapers_only(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    """Guard: a client on this machine, or one bearing ATENDE_METRICS_TOKEN. Behind a reverse proxy on
    this machine the client is the address the proxy names in X-Forwarded-For (uvicorn trusts it from
    127.0.0.1), so requests it forwards are not taken for local ones."""
    client = connection.client
    if _is_loopback(client.host if client else None):
        return
    if _bears(connection, connection.app.state.get("metrics_token")):
        return
    raise PermissionDeniedException(
        "metrics are served to this machine only, or with ATENDE_METRICS_TOKEN as a bearer token"
    )


class MetricsController(Controller):
    path = "/metrics"

    @get("/", exclude_from_auth=True, guards=[scrapers_only], include_in_schema=False, cache=False)
    async def metrics(self, services: Services) -> Response[bytes]:
        """The default registry, then the backlog, refreshed now; a database that does not answer leaves
        the backlog out rather than failing the whole scrape."""
        try:
            await refresh_backlog(services.database.sessionmaker)
            backlog = generate_latest(BACKLOG)
        except (SQLAlchemyError, OSError) as exc:
            log.warning("metrics.backlog_failed", error=type(exc).__name__)
            backlog = b""
        return Response(generate_latest(REGISTRY) + backlog, media_type=CONTENT_TYPE_LATEST)
