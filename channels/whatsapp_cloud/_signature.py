"""Meta signs each webhook body with the app secret: ``X-Hub-Signature-256: sha256=<hex HMAC-SHA256>``."""

from __future__ import annotations

import hashlib
import hmac

SIGNATURE_HEADER = "X-Hub-Signature-256"


def signature_of(body: bytes, app_secret: str) -> str:
    return "sha256=" + hmac.new(app_secret.encode(), body, hashlib.sha256).hexdigest()


def is_signed_by(body: bytes, signature: str, app_secret: str) -> bool:
    """Compared in constant time, so the answer's timing tells nothing of the expected value."""
    return hmac.compare_digest(signature.strip().encode(), signature_of(body, app_secret).encode())
