"""Credentials at rest (LLM and channel keys) are encrypted with a key derived from the secret key."""

from __future__ import annotations

import base64
import hashlib

from cryptography.fernet import Fernet, InvalidToken

from core.errors import AtendeError, ErrorCode


class SecretUnreadableError(AtendeError):
    """The secret was encrypted under another ATENDE_SECRET_KEY."""

    code = ErrorCode.INTERNAL
    title = "Secret unreadable"


def _fernet(secret_key: str) -> Fernet:
    digest = hashlib.sha256(b"atende-credentials:" + secret_key.encode()).digest()
    return Fernet(base64.urlsafe_b64encode(digest))


def encrypt_secret(secret_key: str, plain: str) -> str:
    return _fernet(secret_key).encrypt(plain.encode()).decode()


def decrypt_secret(secret_key: str, token: str) -> str:
    try:
        return _fernet(secret_key).decrypt(token.encode()).decode()
    except InvalidToken as exc:
        raise SecretUnreadableError(
            "a stored credential cannot be decrypted with this ATENDE_SECRET_KEY"
        ) from exc


MASK = "…"


def mask_secret(plain: str) -> str:
    """What an admin sees of a stored key: enough to recognise it, not to use it."""
    return f"{MASK}{plain[-4:]}" if len(plain) > 8 else MASK
