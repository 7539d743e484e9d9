"""Build the configured provider, wrapped with its fallback when one is configured."""

from __future__ import annotations

from agents.llm.anthropic_provider import AnthropicProvider
from agents.llm.base import LLMProvider
from agents.llm.config import ProviderConfig
from agents.llm.fallback import FallbackProvider
from agents.llm.openai_provider import OpenAIProvider


def _build_one(config: ProviderConfig) -> LLMProvider:
    if config.kind == "anthropic":
        return AnthropicProvider(config)
    return OpenAIProvider(config)


def build_provider(config: ProviderConfig, fallback: ProviderConfig | None = None) -> LLMProvider:
    """One provider, or a ``FallbackProvider`` that tries ``config`` first and ``fallback`` second.

    Raises ``ValueError`` naming the field when a config cannot work (no key, no base_url).
    """
    primary = _build_one(config)
    if fallback is None:
        return primary
    return FallbackProvider(primary, _build_one(fallback))
