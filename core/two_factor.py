"""TOTP two-factor authentication: a person's secret (stored encrypted), its one-time recovery codes
(stored hashed), and the check of a code at login, which no code passes twice.

A secret is pending from ``start_setup`` until ``confirm_setup`` sees a right code from the person's app;
only then does login ask for a code. A tenant's admin may require it of everyone (``Tenant.require_two_factor``).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

import pyotp
from sqlalchemy import BigInteger, DateTime, ForeignKey, String, Text, delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from core.accounts import Tenant, User
from core.errors import ConflictError, InvalidInputError
from core.secrets import decrypt_secret, encrypt_secret
from core.tenancy import TenantOwned

ISSUER = "Atende"
STEP_SECONDS = 30
"""The TOTP time-step (RFC 6238's default, what authenticator apps use)."""
DRIFT_STEPS = 1
"""A code of the step before or after now passes too: phones' clocks drift."""
RECOVERY_CODES = 10
WRONG_CODE = "wrong or already used code"


class TwoFactor(TenantOwned):
    """One person's TOTP secret: pending until confirmed, then asked for at every login."""

    __tablename__ = "user_two_factor"

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), unique=True)
    secret: Mapped[str] = mapped_column(Text)
    """Encrypted with the server's secret key (core.secrets), like channel credentials."""
    enabled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)
    """None while pending (set up, not yet confirmed with a code)."""
    last_step: Mapped[int | None] = mapped_column(BigInteger, default=None)
    """The time-step of the last code accepted: a code of this step or an earlier one is refused."""


class RecoveryCode(TenantOwned):
    """A one-time code for when the phone is lost; only its SHA-256 is kept."""

    __tablename__ = "user_recovery_codes"

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64))
    used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)


@dataclass(frozen=True)
class Setup:
    """What the person's authenticator app needs: the secret, and the same as an otpauth:// URI."""

    secret: str
    uri: str


def _hash_code(code: str) -> str:
    """Recovery codes are 50 random bits, so a plain SHA-256 is enough (no password to guess)."""
    return hashlib.sha256(_normalise(code).encode()).hexdigest()


def _normalise(code: str) -> str:
    return code.strip().replace(" ", "").replace("-", "").lower()


def _new_recovery_code() -> str:
    raw = "".join(secrets.choice("abcdefghijkmnpqrstuvwxyz23456789") for _ in range(10))
    return f"{raw[:5]}-{raw[5:]}"


async def _row(session: AsyncSession, user: User, *, lock: bool = False) -> TwoFactor | None:
    query = select(TwoFactor).where(TwoFactor.tenant_id == user.tenant_id, TwoFactor.user_id == user.id)
    return await session.scalar(query.with_for_update() if lock else query)


async def is_enabled(session: AsyncSession, user: User) -> bool:
    row = await _row(session, user)
    return row is not None and row.enabled_at is not None


async def tenant_requires(session: AsyncSession, tenant_id: uuid.UUID) -> bool:
    return bool(await session.scalar(select(Tenant.require_two_factor).where(Tenant.id == tenant_id)))


async def set_tenant_requires(session: AsyncSession, tenant_id: uuid.UUID, required: bool) -> None:
    await session.execute(update(Tenant).where(Tenant.id == tenant_id).values(require_two_factor=required))


async def start_setup(session: AsyncSession, user: User, secret_key: str) -> Setup:
    """A new pending secret (replacing a pending one); refused while 2FA is on, so it cannot be swapped
    without the code that ``disable`` asks for."""
    row = await _row(session, user, lock=True)
    if row is not None and row.enabled_at is not None:
        raise ConflictError("two-factor authentication is already on; turn it off first")
    plain = pyotp.random_base32()
    if row is None:
        row = TwoFactor(tenant_id=user.tenant_id, user_id=user.id, secret="")
        session.add(row)
    row.secret, row.last_step = encrypt_secret(secret_key, plain), None
    await session.flush()
    uri = pyotp.TOTP(plain, interval=STEP_SECONDS).provisioning_uri(name=user.email, issuer_name=ISSUER)
    return Setup(plain, uri)


def _matching_step(secret: str, code: str, after: int | None) -> int | None:
    """The time-step near now whose code is ``code`` and that comes after ``after``, else None."""
    code = code.strip()
    if not (len(code) == 6 and code.isdigit()):
        return None
    totp = pyotp.TOTP(secret, interval=STEP_SECONDS)
    now = int(time.time()) // STEP_SECONDS
    for step in range(now - DRIFT_STEPS, now + DRIFT_STEPS + 1):
        if (after is None or step > after) and hmac.compare_digest(totp.at(step * STEP_SECONDS), code):
            return step
    return None


async def _spend_totp(session: AsyncSession, row: TwoFactor, code: str, secret_key: str) -> bool:
    """True when ``code`` is right and newer than the last one used, which it then becomes: the
    conditional update makes two requests with the same code race to one winner."""
    step = _matching_step(decrypt_secret(secret_key, row.secret), code, row.last_step)
    if step is None:
        return False
    won = await session.scalar(
        update(TwoFactor)
        .where(
            TwoFactor.id == row.id,
            or_(TwoFactor.last_step.is_(None), TwoFactor.last_step < step),
        )
        .values(last_step=step)
        .returning(TwoFactor.id)
    )
    return won is not None


async def _spend_recovery_code(session: AsyncSession, user: User, code: str) -> bool:
    used = await session.scalar(
        update(RecoveryCode)
        .where(
            RecoveryCode.tenant_id == user.tenant_id,
            RecoveryCode.user_id == user.id,
            RecoveryCode.code_hash == _hash_code(code),
            RecoveryCode.used_at.is_(None),
        )
        .values(used_at=datetime.now(UTC))
        .returning(RecoveryCode.id)
    )
    return used is not None


async def confirm_setup(session: AsyncSession, user: User, code: str, secret_key: str) -> list[str]:
    """Turn 2FA on once the app shows the right code; the recovery codes, shown to the person only now."""
    row = await _row(session, user, lock=True)
    if row is None or row.enabled_at is not None:
        raise ConflictError("nothing to confirm: set up two-factor authentication first")
    if not await _spend_totp(session, row, code, secret_key):
        raise InvalidInputError("code", WRONG_CODE)
    row.enabled_at = datetime.now(UTC)
    codes = [_new_recovery_code() for _ in range(RECOVERY_CODES)]
    await session.execute(
        delete(RecoveryCode).where(RecoveryCode.tenant_id == user.tenant_id, RecoveryCode.user_id == user.id)
    )
    session.add_all(
        RecoveryCode(tenant_id=user.tenant_id, user_id=user.id, code_hash=_hash_code(c)) for c in codes
    )
    await session.flush()
    return codes


async def check_code(session: AsyncSession, user: User, code: str, secret_key: str) -> bool:
    """True when ``code`` is the app's current code (not used before) or an unused recovery code, which
    is then spent; False otherwise, and when the person has no 2FA on."""
    row = await _row(session, user)
    if row is None or row.enabled_at is None:
        return False
    return await _spend_totp(session, row, code, secret_key) or await _spend_recovery_code(
        session, user, code
    )


async def disable(session: AsyncSession, user: User) -> None:
    """Turn 2FA off (the caller checked the password and a code); refused where the tenant requires it."""
    if await tenant_requires(session, user.tenant_id):
        raise ConflictError("your organisation requires two-factor authentication")
    for model in (TwoFactor, RecoveryCode):
        await session.execute(
            delete(model).where(model.tenant_id == user.tenant_id, model.user_id == user.id)
        )


async def recovery_codes_left(session: AsyncSession, user: User) -> int:
    rows = await session.scalars(
        select(RecoveryCode.id).where(
            RecoveryCode.tenant_id == user.tenant_id,
            RecoveryCode.user_id == user.id,
            RecoveryCode.used_at.is_(None),
        )
    )
    return len(rows.all())
