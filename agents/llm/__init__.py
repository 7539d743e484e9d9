"""LLM providers behind one small interface: OpenAI, Anthropic and any OpenAI-compatible server.

Each call reports its tokens and cost; failures that survive the SDK's retries raise ``LLMError``.
"""

from agents.llm.anthropic_provider import AnthropicProvider
from agents.llm.base import ChatMessage, Completion, LLMError, LLMProvider, Usage, UsageRecord, close_provider
from agents.llm.config import ProviderConfig, ProviderKind
from agents.llm.factory import build_provider
from agents.llm.fallback import FallbackProvider
from agents.llm.openai_provider import OpenAIProvider
from agents.llm.pricing import PRICES, Price, listed_price, resolve_price

__all__ = [
    "PRICES",
    "AnthropicProvider",
    "ChatMessage",
    "Completion",
    "FallbackProvider",
    "LLMError",
    "LLMProvider",
    "OpenAIProvider",
    "Price",
    "ProviderConfig",
    "ProviderKind",
    "Usage",
    "UsageRecord",
    "build_provider",
    "close_provider",
    "listed_price",
    "resolve_price",
]
