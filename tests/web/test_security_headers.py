"""The headers a browser enforces, on a running ``atende demo``: on pages, API answers and errors, and
on customers' media, where only a plain raster image is shown inline and anything else is a sandboxed
download (an SVG's script would otherwise read the inbox's login token)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import httpx
import pytest

from core.settings import Settings
from tests.conftest import LiveServer
from tests.fakes.graph_api import FakeGraphAPI
from tests.helpers import login
from tests.media_files import (
    PNG,
    FileSender,
    add_whatsapp_channel,
    keep_as_before,
    message_with_file,
    stealing_svg,
)

PAGE_HEADERS = {
    "x-content-type-options": "nosniff",
    "referrer-policy": "strict-origin-when-cross-origin",
    "x-frame-options": "SAMEORIGIN",
}


@pytest.fixture(scope="module")
def client(live_server: LiveServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=live_server.url, timeout=30) as http:
        yield http


@pytest.fixture(scope="module")
def graph() -> Iterator[FakeGraphAPI]:
    with FakeGraphAPI(access_token="EAAG-media-headers") as fake:
        yield fake


@pytest.fixture(scope="module")
def agent(client: httpx.Client, live_server: LiveServer) -> dict[str, str]:
    return login(client, live_server.agent)


@pytest.fixture(scope="module")
def sender(client: httpx.Client, live_server: LiveServer, graph: FakeGraphAPI) -> FileSender:
    return FileSender(client, graph, add_whatsapp_channel(live_server, graph))


@pytest.fixture(scope="module")
def ticket_id(sender: FileSender, agent: dict[str, str]) -> str:
    return sender.asks_for_a_human(agent)


def _policy(response: httpx.Response) -> dict[str, str]:
    directives = (d.strip().split(" ", 1) for d in response.headers["content-security-policy"].split(";"))
    return {d[0]: (d[1] if len(d) > 1 else "") for d in directives if d[0]}


def _assert_strict_page_headers(response: httpx.Response) -> None:
    for name, value in PAGE_HEADERS.items():
        assert response.headers.get(name) == value, (name, response.headers.get(name))
    permissions = response.headers["permissions-policy"]
    assert all(f"{feature}=()" in permissions for feature in ("camera", "microphone", "geolocation"))
    policy = _policy(response)
    assert policy["script-src"] == "'self'", "no inline script, no eval"
    assert policy["default-src"] == "'self'"
    assert policy["object-src"] == "'none'"
    assert policy["base-uri"] == "'self'"
    assert policy["frame-ancestors"] == "'self'"
    assert "unsafe-inline" not in policy.get("style-src", "")
    assert "strict-transport-security" not in response.headers, "plain HTTP: no HSTS"


def test_pages_api_answers_and_errors_carry_the_security_headers(
    client: httpx.Client, agent: dict[str, str]
) -> None:
    page = client.get("/inbox")
    assert page.status_code == 200
    api = client.get("/api/v1/tickets", headers=agent)
    assert api.status_code == 200
    refused = client.get("/api/v1/tickets")
    assert refused.status_code == 401
    missing = client.get("/no-such-page")
    assert missing.status_code == 404
    for response in (page, api, refused, missing, client.get("/static/common.js")):
        _assert_strict_page_headers(response)


def test_hsts_only_when_the_request_came_over_https(client: httpx.Client) -> None:
    # A TLS-terminating proxy on the machine says so (X-Forwarded-Proto, trusted from 127.0.0.1).
    over_https = client.get("/inbox", headers={"X-Forwarded-Proto": "https"})
    assert over_https.headers["strict-transport-security"].startswith("max-age=")
    assert "strict-transport-security" not in client.get("/inbox").headers


def test_the_chat_widget_page_may_be_framed_by_a_tenants_site(client: httpx.Client) -> None:
    chat = client.get("/chat/demo")
    assert chat.status_code == 200
    policy = _policy(chat)
    assert policy["frame-ancestors"] == "*"
    assert "x-frame-options" not in chat.headers
    assert policy["script-src"] == "'self'"
    assert chat.headers["x-content-type-options"] == "nosniff"


def test_a_customers_svg_or_html_file_is_refused_by_default(
    client: httpx.Client, agent: dict[str, str], sender: FileSender, ticket_id: str
) -> None:
    for data, mime_type, name in (
        (stealing_svg("http://127.0.0.1:9"), "image/svg+xml", "comprovante.svg"),
        (b"<script>alert(1)</script>", "text/html", "boleto.html"),
    ):
        media_id = sender.sends_document(data, mime_type, name)
        [attachment] = message_with_file(client, agent, ticket_id, media_id)["content"]["attachments"]
        assert attachment["rejected"] == "a type of file not accepted", mime_type
        assert "path" not in attachment


def test_an_svg_kept_earlier_is_a_sandboxed_download_never_an_svg(
    client: httpx.Client, live_server: LiveServer, agent: dict[str, str], sender: FileSender, ticket_id: str
) -> None:
    svg = stealing_svg("http://127.0.0.1:9")
    media_id = sender.sends_document(svg, "image/svg+xml", 'compro"vante\r\n.svg')
    message = message_with_file(client, agent, ticket_id, media_id)
    asyncio.run(keep_as_before(live_server.data_dir, message["id"], svg, ".svg"))

    served = client.get(f"/api/v1/media/{message['id']}/0", headers=agent)
    assert served.status_code == 200
    assert served.content == svg
    assert served.headers["content-type"] == "application/octet-stream"
    disposition = served.headers["content-disposition"]
    assert disposition.startswith("attachment;")
    assert 'filename="compro_vante.svg"' in disposition
    assert "filename*=UTF-8''compro%22vante.svg" in disposition
    assert "sandbox" in _policy(served)
    assert served.headers["x-content-type-options"] == "nosniff"


def test_a_png_shows_inline_and_a_pdf_downloads_both_sandboxed(
    client: httpx.Client, agent: dict[str, str], sender: FileSender, ticket_id: str
) -> None:
    png = message_with_file(client, agent, ticket_id, sender.sends_image(PNG, "image/png"))
    pdf_id = sender.sends_document(b"%PDF-1.4 fatura", "application/pdf", "fatura março.pdf")
    pdf = message_with_file(client, agent, ticket_id, pdf_id)

    image = client.get(f"/api/v1/media/{png['id']}/0", headers=agent)
    assert image.status_code == 200 and image.content == PNG
    assert image.headers["content-type"] == "image/png"
    assert image.headers["content-disposition"].startswith("inline;")
    document = client.get(f"/api/v1/media/{pdf['id']}/0", headers=agent)
    assert document.headers["content-type"] == "application/pdf"
    assert document.headers["content-disposition"].startswith("attachment;")
    assert "filename*=UTF-8''fatura%20mar%C3%A7o.pdf" in document.headers["content-disposition"]
    for response in (image, document):
        assert "sandbox" in _policy(response)
        assert response.headers["x-content-type-options"] == "nosniff"


def test_a_wildcard_never_lets_active_content_in_but_its_exact_name_does() -> None:
    wide = Settings(media_types=("image/*", "text/*", "application/*"))
    for active in (
        "image/svg+xml",
        "text/html",
        "text/xml",
        "application/xhtml+xml",
        "application/javascript",
    ):
        assert not wide.accepts_media_type(active), active
    assert wide.accepts_media_type("image/png") and wide.accepts_media_type("application/pdf")
    assert Settings(media_types=("image/svg+xml",)).accepts_media_type("image/svg+xml; charset=utf-8")
    assert not Settings().accepts_media_type("image/svg+xml"), "not accepted by default"
