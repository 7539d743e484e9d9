"""Web chat sessions the server issues: a random id, and a token that proves the holder was given it.

The id names the customer's contact (its external id) and grants nothing; the token, an HMAC of the
tenant and the id under the app's secret key, is what reads the transcript, posts and listens. A token
of one tenant is refused on another, and a session the browser made up has no token at all.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import uuid
from dataclasses import dataclass

from core.errors import UnauthenticatedError

_PURPOSE = b"atende-webchat-session-v1"


@dataclass(frozen=True)
class WebChatSession:
    id: str
    token: str


def visitor_name(session_id: str) -> str:
    """What the inbox calls the customer until they say who they are: never the token."""
    return f"Visitante {session_id[:6]}"


def session_token(secret_key: str, tenant_id: uuid.UUID, session_id: str) -> str:
    signed = b"\x00".join((_PURPOSE, str(tenant_id).encode(), session_id.encode()))
    digest = hmac.new(secret_key.encode(), signed, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def new_session(secret_key: str, tenant_id: uuid.UUID) -> WebChatSession:
    session_id = secrets.token_hex(16)
    return WebChatSession(session_id, session_token(secret_key, tenant_id, session_id))


def check_session_token(secret_key: str, tenant_id: uuid.UUID, session_id: str, token: str | None) -> None:
    """Refuse (401) unless ``token`` is the one issued for this session of this tenant."""
    expected = session_token(secret_key, tenant_id, session_id)
    if not token or not hmac.compare_digest(expected.encode(), token.encode()):
        raise UnauthenticatedError(
            "this chat session needs its token: create one with POST /api/v1/webchat/{tenant}/sessions "
            "and send it as 'Authorization: Bearer <token>'"
        )
