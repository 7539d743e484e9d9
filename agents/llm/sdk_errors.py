"""Turn what the OpenAI and Anthropic SDKs raise into one ``LLMError`` that says why, without the key.

Both SDKs share the shape: ``APIStatusError`` (with a status and a parsed body), ``APITimeoutError``
(a subclass of ``APIConnectionError``) and the base ``APIError``. By the time one reaches us the
SDK has already spent its retries. ``sdk_call`` is one call of either provider, with those errors said.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import httpx2

from agents.llm.base import LLMError
from agents.llm.config import ProviderConfig
from agents.llm.telemetry import LlmCall


def error_detail(body: object) -> str:
    """The human part of an error body, whichever of the known shapes it has."""
    if isinstance(body, Mapping):
        inner: Any = body.get("error", body)
        if isinstance(inner, Mapping) and isinstance(inner.get("message"), str):
            return str(inner["message"])
        if isinstance(body.get("message"), str):
            return str(body["message"])
    if isinstance(body, str) and body.strip():
        return body.strip()[:300]
    return "no detail in the error body"


def redact(text: str, secret: str | None) -> str:
    """Some APIs quote the key back (whole or masked to its last characters): drop it before it travels."""
    if secret and len(secret) >= 8:
        text = text.replace(secret, "***")
        if len(secret) > 12:
            text = text.replace(secret[-4:], "***")
    return text


def _was_retried(exc: Exception, status: int) -> bool:
    """The SDKs' own rule: the server's ``x-should-retry`` first, else 408, 409, 429 and 5xx."""
    response = getattr(exc, "response", None)
    header = response.headers.get("x-should-retry") if response is not None else None
    if header in ("true", "false"):
        return bool(header == "true")
    return status in (408, 409, 429) or status >= 500


@dataclass(frozen=True)
class SdkErrors:
    """One SDK's own ``APIError`` (the base of the rest), ``APIStatusError``, ``APITimeoutError`` and
    ``APIConnectionError``."""

    api: type[Exception]
    status: type[Exception]
    timeout: type[Exception]
    connection: type[Exception]


def to_llm_error(provider: str, config: ProviderConfig, exc: Exception, sdk: SdkErrors) -> LLMError:
    """``exc`` is one of the SDK's ``APIError``s."""
    attempts = f"after {config.max_retries + 1} attempt(s)"
    if isinstance(exc, sdk.status):
        status: int = getattr(exc, "status_code", 0)
        detail = error_detail(getattr(exc, "body", None))
        reason = f"{detail} ({attempts})" if _was_retried(exc, status) else f"{detail} (not retried)"
        return LLMError(provider, redact(reason, config.api_key), status=status)
    if isinstance(exc, sdk.timeout):
        return LLMError(provider, f"no answer within {config.timeout_seconds:g}s ({attempts})")
    if isinstance(exc, sdk.connection):
        cause = exc.__cause__ or exc.__context__
        why = f"{type(cause).__name__}: {cause}" if cause else str(exc)
        return LLMError(provider, redact(f"could not reach the API: {why} ({attempts})", config.api_key))
    return LLMError(provider, redact(f"{type(exc).__name__}: {exc}", config.api_key))


def sdk_call(provider: str, call: str, config: ProviderConfig, sdk: SdkErrors) -> LlmCall:
    """One call through a provider's SDK: timed, traced, held to the provider's timeout, and what it
    raises said as an ``LLMError`` (``translate``)."""
    return LlmCall(
        provider,
        call,
        config.model,
        lambda exc: translate(provider, config, exc, sdk),
        config.timeout_seconds,
    )


def translate(provider: str, config: ProviderConfig, exc: BaseException, sdk: SdkErrors) -> LLMError | None:
    """What a call raised, as the ``LLMError`` that says why; None for what is not a provider's fault."""
    if isinstance(exc, TimeoutError):
        return past_deadline(provider, config)
    if isinstance(exc, json.JSONDecodeError):
        return unreadable_reply(provider, exc)
    if isinstance(exc, sdk.api):
        return to_llm_error(provider, config, exc, sdk)
    # OpenAI's SDK wraps these today, Anthropic's not once the body streams: a broken stream must not leak raw.
    if isinstance(exc, httpx2.TransportError):
        return broken_stream(provider, exc)
    return None


def broken_stream(provider: str, exc: Exception) -> LLMError:
    """The connection died while the reply was streaming: what was sent cannot be retried silently."""
    return LLMError(provider, f"the stream broke off: {type(exc).__name__}: {exc}")


def past_deadline(provider: str, config: ProviderConfig) -> LLMError:
    """The whole call, retries included, outlasted the provider's timeout."""
    return LLMError(provider, f"no answer within {config.timeout_seconds:g}s")


def unreadable_reply(provider: str, exc: Exception) -> LLMError:
    """The server answered, but not in its API's format (a stream event or a body that is not JSON)."""
    return LLMError(provider, f"the reply was not understood: {type(exc).__name__}")
