"""Each tenant's escalation policy and LLM provider: read by every turn, edited by its admin."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Annotated, Any, Literal, cast

import msgspec
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from agents.classifiers import ClassifierOptions, classifier_options
from agents.llm import LLMProvider, ProviderConfig, build_provider, close_provider
from agents.models import AgentSettings
from agents.policy import EscalationPolicy, policy_from_builtins, validation_field
from core.errors import InvalidInputError
from core.secrets import MASK, decrypt_secret, encrypt_secret, mask_secret
from core.settings import Settings

ProviderKind = Literal["openai", "anthropic", "openai-compatible"]
PROVIDER_KINDS: tuple[str, ...] = ("openai", "anthropic", "openai-compatible")


class LlmChoice(msgspec.Struct, forbid_unknown_fields=True, frozen=True, kw_only=True):
    """One provider as an admin sets it; ``api_key`` is write-only (stored encrypted, shown masked)."""

    provider: ProviderKind
    model: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
    base_url: Annotated[str, msgspec.Meta(pattern=r"^https?://")] | None = None
    api_key: str | None = None
    input_price_per_mtok: Annotated[float, msgspec.Meta(ge=0)] | None = None
    output_price_per_mtok: Annotated[float, msgspec.Meta(ge=0)] | None = None


class LlmSettings(msgspec.Struct, forbid_unknown_fields=True, frozen=True, kw_only=True):
    """``primary`` None: the tenant answers offline (extractive) unless the server sets a provider."""

    primary: LlmChoice | None = None
    fallback: LlmChoice | None = None
    classify_with_llm: bool = False
    """Classify intent and sentiment by the LLM (structured output) instead of the offline heads."""


@dataclass(frozen=True)
class TenantLlm:
    provider: LLMProvider
    classifies: bool


@dataclass(frozen=True)
class TurnSettings:
    """Everything a turn needs of the tenant's settings."""

    policy: EscalationPolicy
    llm: TenantLlm | None
    """None: answer offline."""
    classifier: ClassifierOptions


async def _row(
    session: AsyncSession, tenant_id: uuid.UUID, *, for_update: bool = False
) -> AgentSettings | None:
    query = select(AgentSettings).where(AgentSettings.tenant_id == tenant_id)
    return await session.scalar(query.with_for_update() if for_update else query)


async def _row_for_update(session: AsyncSession, tenant_id: uuid.UUID) -> AgentSettings:
    row = await _row(session, tenant_id, for_update=True)
    if row is None:
        row = AgentSettings(tenant_id=tenant_id, policy={}, llm={}, classifier={})
        session.add(row)
    return row


async def get_policy(session: AsyncSession, tenant_id: uuid.UUID) -> EscalationPolicy:
    row = await _row(session, tenant_id)
    return policy_from_builtins(row.policy if row else {})


async def save_policy(session: AsyncSession, tenant_id: uuid.UUID, raw: dict[str, Any]) -> EscalationPolicy:
    """Validate first (InvalidInputError names the field), then replace the whole policy."""
    policy = policy_from_builtins(raw)
    row = await _row_for_update(session, tenant_id)
    row.policy = msgspec.to_builtins(policy)
    return policy


def _stored_choice(choice: LlmChoice, previous: dict[str, Any] | None, secret_key: str) -> dict[str, Any]:
    stored: dict[str, Any] = msgspec.to_builtins(choice)
    stored.pop("api_key", None)
    # A key sent back as it was shown ("…abcd") means "keep the stored key", never a new key.
    if choice.api_key and not choice.api_key.startswith(MASK):
        stored["api_key_encrypted"] = encrypt_secret(secret_key, choice.api_key)
    elif previous and previous.get("provider") == choice.provider and previous.get("api_key_encrypted"):
        # Saving the form again without retyping the key keeps the key.
        stored["api_key_encrypted"] = previous["api_key_encrypted"]
    return stored


async def save_llm_settings(
    session: AsyncSession, tenant_id: uuid.UUID, raw: dict[str, Any], secret_key: str
) -> LlmSettings:
    try:
        llm = msgspec.convert(raw, LlmSettings)
    except msgspec.ValidationError as exc:
        raise InvalidInputError(*validation_field(exc, "llm")) from exc
    for name, choice in (("primary", llm.primary), ("fallback", llm.fallback)):
        if choice and choice.provider == "openai-compatible" and not choice.base_url:
            raise InvalidInputError(f"{name}.base_url", "an openai-compatible server needs its URL")
    if llm.fallback and not llm.primary:
        raise InvalidInputError("fallback", "set a primary provider first")
    row = await _row_for_update(session, tenant_id)
    previous = row.llm or {}
    row.llm = {
        name: _stored_choice(choice, previous.get(name), secret_key)
        for name, choice in (("primary", llm.primary), ("fallback", llm.fallback))
        if choice is not None
    } | {"classify_with_llm": llm.classify_with_llm}
    return llm_settings_view(row.llm, secret_key)


def llm_settings_view(stored: dict[str, Any], secret_key: str) -> LlmSettings:
    """What the admin sees: the settings as saved, the key masked."""

    def shown(choice: dict[str, Any] | None) -> LlmChoice | None:
        if not choice:
            return None
        encrypted = choice.get("api_key_encrypted")
        key = mask_secret(decrypt_secret(secret_key, encrypted)) if encrypted else None
        fields = {k: v for k, v in choice.items() if k != "api_key_encrypted"}
        return msgspec.convert({**fields, "api_key": key}, LlmChoice)

    return LlmSettings(
        primary=shown(stored.get("primary")),
        fallback=shown(stored.get("fallback")),
        classify_with_llm=bool(stored.get("classify_with_llm", False)),
    )


async def get_llm_settings_view(session: AsyncSession, tenant_id: uuid.UUID, secret_key: str) -> LlmSettings:
    row = await _row(session, tenant_id)
    return llm_settings_view(row.llm if row else {}, secret_key)


def _config(choice: dict[str, Any], secret_key: str, timeout: float) -> ProviderConfig:
    encrypted = choice.get("api_key_encrypted")
    return ProviderConfig(
        kind=choice["provider"],
        model=choice["model"],
        api_key=decrypt_secret(secret_key, encrypted) if encrypted else None,
        base_url=choice.get("base_url"),
        timeout_seconds=timeout,
        input_price_per_mtok=choice.get("input_price_per_mtok"),
        output_price_per_mtok=choice.get("output_price_per_mtok"),
    )


def _server_choice(
    kind: str | None, model: str | None, base_url: str | None, key: str | None, timeout: float
) -> ProviderConfig | None:
    if not kind:
        return None
    if kind not in PROVIDER_KINDS:
        raise ValueError(f"ATENDE_LLM_PROVIDER must be one of {', '.join(PROVIDER_KINDS)}, got {kind!r}")
    return ProviderConfig(
        kind=cast(ProviderKind, kind),  # one of PROVIDER_KINDS, checked above
        model=model or "default",
        api_key=key,
        base_url=base_url,
        timeout_seconds=timeout,
    )


def server_llm_choices(settings: Settings) -> dict[str, ProviderConfig]:
    """The providers set by environment variables, for tenants that chose none."""
    timeout = settings.llm_timeout_seconds
    choices = {
        "primary": _server_choice(
            settings.llm_provider, settings.llm_model, settings.llm_base_url, settings.llm_api_key, timeout
        ),
        "fallback": _server_choice(
            settings.llm_fallback_provider,
            settings.llm_fallback_model,
            settings.llm_fallback_base_url,
            settings.llm_fallback_api_key,
            timeout,
        ),
    }
    return {name: choice for name, choice in choices.items() if choice}


async def tenant_agent_settings(
    session: AsyncSession, tenant_id: uuid.UUID, settings: Settings
) -> TurnSettings:
    """Everything a turn needs of the tenant's settings, in one read."""
    row = await _row(session, tenant_id)
    return TurnSettings(
        policy=policy_from_builtins(row.policy if row else {}),
        llm=_tenant_llm(row, settings),
        classifier=classifier_options(row.classifier if row else {}),
    )


async def get_classifier_options(session: AsyncSession, tenant_id: uuid.UUID) -> ClassifierOptions:
    row = await _row(session, tenant_id)
    return classifier_options(row.classifier if row else {})


async def save_classifier_options(
    session: AsyncSession, tenant_id: uuid.UUID, options: ClassifierOptions
) -> None:
    row = await _row_for_update(session, tenant_id)
    row.classifier = msgspec.to_builtins(options)


def _tenant_llm(row: AgentSettings | None, settings: Settings) -> TenantLlm | None:
    """The tenant's provider (with its fallback), else the server's, else None: answer offline."""
    timeout = settings.llm_timeout_seconds
    if row and row.llm.get("primary"):
        secret_key = settings.resolved_secret_key()
        fallback = row.llm.get("fallback")
        provider = _cached_provider(
            _config(row.llm["primary"], secret_key, timeout),
            _config(fallback, secret_key, timeout) if fallback else None,
        )
        return TenantLlm(provider, bool(row.llm.get("classify_with_llm", False)))
    server = server_llm_choices(settings)
    if "primary" not in server:
        return None
    return TenantLlm(_cached_provider(server["primary"], server.get("fallback")), settings.llm_classify)


_providers: dict[tuple[ProviderConfig, ProviderConfig | None], LLMProvider] = {}


def _cached_provider(primary: ProviderConfig, fallback: ProviderConfig | None) -> LLMProvider:
    """One SDK client (and its connection pool) per configuration, not one per turn."""
    key = (primary, fallback)
    if key not in _providers:
        _providers[key] = build_provider(primary, fallback)
    return _providers[key]


async def close_llm_providers() -> None:
    """At shutdown: the SDK clients' connection pools."""
    while _providers:
        _, provider = _providers.popitem()
        await close_provider(provider)
