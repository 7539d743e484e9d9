"""Quick replies: saved with their variables checked, found by /shortcut, filled in for one ticket."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.database import unless_taken
from core.errors import InvalidInputError, NotFoundError
from handoff.models import QuickReply

VARIABLE = re.compile(r"\{\{\s*([a-z_]+\.[a-z_]+)\s*\}\}")
VARIABLES = ("contact.name", "contact.first_name", "ticket.protocol", "agent.name", "company.name")
SHORTCUT = re.compile(r"^[a-z0-9][a-z0-9_-]{0,49}$")
MAX_TEXT = 4096
EMPTY = "\x00"
"""Stands for a variable with no value (a customer who gave no name) until the text is tidied."""
LEFT_BY_EMPTY = re.compile(r" *,? *\x00 *(?=[!?.:;\n]|$)| \x00(?=,)|^\x00 *, *|\x00 ?", re.MULTILINE)


def unknown_variables(text: str) -> list[str]:
    return [name for name in VARIABLE.findall(text) if name not in VARIABLES]


def check(shortcut: str, text: str) -> tuple[str, str]:
    shortcut = shortcut.strip().lstrip("/").lower()
    if not SHORTCUT.match(shortcut):
        raise InvalidInputError("shortcut", "use 1-50 lowercase letters, digits, - or _ (typed after /)")
    if not text.strip():
        raise InvalidInputError("text", "must not be empty")
    if len(text) > MAX_TEXT:
        raise InvalidInputError("text", f"must have at most {MAX_TEXT} characters")
    unknown = unknown_variables(text)
    if unknown:
        raise InvalidInputError(
            "text",
            f"unknown variable {{{{{unknown[0]}}}}}; use {', '.join('{{' + v + '}}' for v in VARIABLES)}",
        )
    return shortcut, text


async def save_quick_reply(
    session: AsyncSession, tenant_id: uuid.UUID, shortcut: str, text: str
) -> QuickReply:
    shortcut, text = check(shortcut, text)
    reply = QuickReply(tenant_id=tenant_id, shortcut=shortcut, text=text)
    async with unless_taken(session, "shortcut", f"/{shortcut} already exists"):
        session.add(reply)
    return reply


async def delete_quick_reply(session: AsyncSession, tenant_id: uuid.UUID, reply_id: uuid.UUID) -> None:
    deleted = await session.execute(
        delete(QuickReply)
        .where(QuickReply.tenant_id == tenant_id, QuickReply.id == reply_id)
        .returning(QuickReply.id)
    )
    if deleted.first() is None:
        raise NotFoundError(f"quick reply {reply_id} not found")


async def find_quick_replies(
    session: AsyncSession, tenant_id: uuid.UUID, query: str = ""
) -> list[QuickReply]:
    """``/entr`` (or ``entr``) finds shortcuts starting with it first, then texts containing it."""
    term = query.strip().lstrip("/").lower()
    replies = await session.scalars(
        select(QuickReply).where(QuickReply.tenant_id == tenant_id).order_by(QuickReply.shortcut)
    )
    found = list(replies)
    if not term:
        return found
    starts = [r for r in found if r.shortcut.startswith(term)]
    return starts + [r for r in found if r not in starts and term in r.text.lower()]


@dataclass(frozen=True)
class Fill:
    """What the variables stand for in one ticket."""

    contact_name: str
    protocol: str
    agent_name: str
    company_name: str

    def render(self, text: str) -> str:
        """Every known variable filled in; an unknown one is an error (named), never sent as is."""
        values = {
            "contact.name": self.contact_name,
            "contact.first_name": self.contact_name.split()[0] if self.contact_name.strip() else "",
            "ticket.protocol": self.protocol,
            "agent.name": self.agent_name,
            "company.name": self.company_name,
        }
        unknown = unknown_variables(text)
        if unknown:
            raise InvalidInputError("text", f"unknown variable {{{{{unknown[0]}}}}}")
        filled = VARIABLE.sub(lambda m: values[m.group(1)] or EMPTY, text)
        # A name nobody gave leaves no "Olá, !": its separator goes with it.
        return LEFT_BY_EMPTY.sub("", filled)
