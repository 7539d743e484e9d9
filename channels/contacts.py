"""A contact's profile: name, e-mail, phone and the company's own fields, checked field by field."""

from __future__ import annotations

import re
import uuid
from typing import Annotated

import msgspec
from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from channels.models import Contact
from core.errors import InvalidInputError, NotFoundError
from core.tenancy import get_owned

PHONE_CHANNELS = ("whatsapp-cloud", "whatsapp-neonize")
MAX_CUSTOM_FIELDS = 30
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
FIELD_NAME = re.compile(r"^[\w .-]{1,64}$")


def phone_of(channel_type: str, external_id: str) -> str | None:
    """On WhatsApp the contact's id is their phone number; elsewhere it is not known."""
    if channel_type in PHONE_CHANNELS and external_id.isdigit():
        return external_id
    return None


class ContactProfileIn(msgspec.Struct, forbid_unknown_fields=True):
    name: Annotated[str, msgspec.Meta(max_length=200)] | None = None
    email: Annotated[str, msgspec.Meta(max_length=320)] | None = None
    phone: Annotated[str, msgspec.Meta(max_length=40)] | None = None
    custom_fields: dict[str, Annotated[str, msgspec.Meta(max_length=500)]] = {}


def _clean(profile: ContactProfileIn) -> tuple[str | None, str | None, str | None, dict[str, str]]:
    name = (profile.name or "").strip() or None
    email = (profile.email or "").strip().lower() or None
    if email and not EMAIL.match(email):
        raise InvalidInputError("email", "is not an e-mail address")
    phone = re.sub(r"[\s().+-]", "", profile.phone or "") or None
    if phone and not (phone.isdigit() and 6 <= len(phone) <= 20):
        raise InvalidInputError("phone", "must be 6 to 20 digits, with the country code")
    if len(profile.custom_fields) > MAX_CUSTOM_FIELDS:
        raise InvalidInputError("custom_fields", f"may have at most {MAX_CUSTOM_FIELDS} fields")
    fields: dict[str, str] = {}
    for key, value in profile.custom_fields.items():
        if not FIELD_NAME.match(key.strip()):
            raise InvalidInputError(f"custom_fields.{key}", "names are 1-64 letters, digits, spaces, . _ -")
        if value.strip():
            fields[key.strip()] = value.strip()
    return name, email, phone, fields


async def get_contact(session: AsyncSession, tenant_id: uuid.UUID, contact_id: uuid.UUID) -> Contact:
    return await get_owned(session, Contact, tenant_id, contact_id, NotFoundError(f"no contact {contact_id}"))


def update_profile(contact: Contact, profile: ContactProfileIn) -> None:
    """Replace the profile; all fields are checked before any is written (the caller flushes)."""
    name, email, phone, fields = _clean(profile)
    contact.name, contact.email, contact.phone, contact.custom_fields = name, email, phone, fields


async def same_person(session: AsyncSession, contact: Contact) -> list[Contact]:
    """The contact and the tenant's other contacts sharing their phone or e-mail (other channels)."""
    links = [Contact.id == contact.id]
    if contact.phone:
        links.append(Contact.phone == contact.phone)
    if contact.email:
        links.append(Contact.email == contact.email)
    found = await session.scalars(
        select(Contact)
        .where(Contact.tenant_id == contact.tenant_id, or_(*links))
        .order_by(Contact.created_at)
    )
    return list(found)
