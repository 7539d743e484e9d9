"""The OpenAPI document says what the API really answers: the problem responses each operation can
give, and request bodies that refuse unknown fields; refusals keep the headers that say what to do
next (``Allow`` on a 405)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.conftest import LiveServer
from tests.helpers import login


@pytest.fixture(scope="module")
def document(live_server: LiveServer) -> dict[str, Any]:
    answer = httpx.get(f"{live_server.url}/schema/openapi.json", timeout=30)
    assert answer.status_code == 200
    body: dict[str, Any] = answer.json()
    return body


@pytest.fixture(scope="module")
def client(live_server: LiveServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=live_server.url, timeout=30) as http:
        yield http


def _problem_statuses(document: dict[str, Any], path: str, method: str) -> set[int]:
    responses = document["paths"][path][method]["responses"]
    return {
        int(code)
        for code, response in responses.items()
        if "application/problem+json" in response.get("content", {})
    }


def test_each_operation_lists_the_problems_it_can_answer(document: dict[str, Any]) -> None:
    assert {400, 401, 403, 409, 422, 503} <= _problem_statuses(document, "/api/v1/tags", "post")
    ticket = _problem_statuses(document, "/api/v1/tickets/{ticket_id}", "get")
    assert {401, 404, 422, 503} <= ticket
    assert 409 not in ticket  # a read conflicts with nothing
    assert 429 in _problem_statuses(document, "/api/v1/auth/login", "post")
    problem = document["components"]["schemas"]["Problem"]
    assert {"status", "detail", "errors"} <= problem["properties"].keys()


def test_bodies_that_refuse_unknown_fields_say_so(
    document: dict[str, Any], client: httpx.Client, live_server: LiveServer
) -> None:
    assert document["components"]["schemas"]["TagIn"]["additionalProperties"] is False
    refused = client.post(
        "/api/v1/tags", json={"name": "vip", "colour": "#ff0000"}, headers=login(client, live_server.admin)
    )
    assert refused.status_code == 422


def test_a_wrong_method_names_the_allowed_ones(client: httpx.Client) -> None:
    answer = client.request("TRACE", "/api/v1/tags")
    assert answer.status_code == 405
    assert {"GET", "POST"} <= {method.strip() for method in answer.headers["allow"].split(",")}


def test_options_names_every_method_of_the_path(client: httpx.Client, live_server: LiveServer) -> None:
    answer = client.options("/api/v1/tags", headers=login(client, live_server.admin))
    assert answer.status_code == 204
    assert {method.strip() for method in answer.headers["allow"].split(",")} == {"GET", "POST", "OPTIONS"}
