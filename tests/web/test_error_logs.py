"""A request that fails on the server is logged with its traceback, and the personal data an error
message quotes (a CPF, an e-mail in a failed statement's values) is masked in it (issue 15, hygiene)."""

from __future__ import annotations

import dataclasses
import io
import logging
import uuid

from sqlalchemy import text as sql_text

from conversations.services import Services
from core.pii import PersonalDataFilter
from tests.conftest import MakeTenant
from tests.helpers import NoJobs, app_client

CPF, EMAIL = "123.456.789-09", "ana.souza@example.com"
SAYS = f"meu CPF é {CPF} e o e-mail {EMAIL}"


async def test_a_failed_statement_is_logged_with_its_traceback_and_no_personal_data(
    services: Services, make_tenant: MakeTenant, log_lines: io.StringIO
) -> None:
    tenant = await make_tenant(with_kb=False)
    fault = f"refuse_{uuid.uuid4().hex[:12]}"
    async with services.database.sessionmaker.begin() as session:  # the database quotes the text it refuses
        await session.execute(
            sql_text(
                f"CREATE FUNCTION {fault}() RETURNS trigger LANGUAGE plpgsql AS "
                f"$$ BEGIN RAISE EXCEPTION 'refused: %', NEW.text; END $$"
            )
        )
        await session.execute(
            sql_text(
                f"CREATE TRIGGER {fault} BEFORE INSERT ON messages FOR EACH ROW "
                f"WHEN (NEW.tenant_id = '{tenant.id}') EXECUTE FUNCTION {fault}()"
            )
        )
    try:
        async with app_client(dataclasses.replace(services, jobs=NoJobs())) as client:
            chat = f"/api/v1/webchat/{tenant.slug}"
            session = (await client.post(f"{chat}/sessions")).json()
            failed = await client.post(
                f"{chat}/messages",
                json={"session_id": session["session_id"], "text": SAYS},
                headers={"Authorization": f"Bearer {session['token']}"},
            )
    finally:
        async with services.database.sessionmaker.begin() as session:
            await session.execute(sql_text(f"DROP TRIGGER {fault} ON messages"))
            await session.execute(sql_text(f"DROP FUNCTION {fault}()"))

    assert failed.status_code >= 500
    logged = log_lines.getvalue()
    assert "request.failed" in logged and "path=/api/v1/webchat/{tenant_slug}/messages" in logged
    assert "Traceback" in logged and "refused: meu CPF é [cpf] e o e-mail [email]" in logged
    assert CPF not in logged and EMAIL not in logged


def test_a_standard_library_traceback_is_masked_too() -> None:
    """What uvicorn and the SDKs log with ``logger.exception``, through the handler ``atende`` sets up."""
    lines = io.StringIO()
    handler = logging.StreamHandler(lines)
    handler.addFilter(PersonalDataFilter())
    logger = logging.getLogger(f"test.{uuid.uuid4().hex}")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        raise ValueError(f"invalid input for query argument $1: {EMAIL!r} ({CPF})")
    except ValueError:
        logger.exception("statement failed for %s", EMAIL)
    logged = lines.getvalue()
    assert "Traceback" in logged and "statement failed for [email]" in logged
    assert "argument $1: '[email]' ([cpf])" in logged
    assert CPF not in logged and EMAIL not in logged
