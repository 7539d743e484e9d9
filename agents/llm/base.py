"""The one small interface every LLM provider speaks, so the graph never sees an SDK."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import asdict, dataclass
from typing import Any, Literal, Protocol, TypeAlias, runtime_checkable


@dataclass(frozen=True)
class ChatMessage:
    role: Literal["user", "assistant"]
    content: str


@dataclass(frozen=True)
class Usage:
    """What one call cost; ``provider`` names the one that answered (the fallback, if it did)."""

    provider: str
    model: str
    input_tokens: int
    output_tokens: int
    cost_usd: float

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class UsageRecord:
    """One call's cost and what it was for (``classify``, ``reply``, ``summary``, ``suggestion``): a row
    of the usage ledger, and an entry of the decision record's ``usage``."""

    provider: str
    model: str
    input_tokens: int
    output_tokens: int
    cost_usd: float
    purpose: str = "reply"

    @classmethod
    def of(cls, usage: Usage, purpose: str) -> UsageRecord:
        return cls(
            usage.provider, usage.model, usage.input_tokens, usage.output_tokens, usage.cost_usd, purpose
        )


@dataclass(frozen=True)
class Completion:
    text: str
    usage: Usage


Schema: TypeAlias = dict[str, Any]
"""The JSON Schema that ``complete_json``'s answer follows."""
JsonAnswer: TypeAlias = tuple[dict[str, Any], Usage]
"""``complete_json``'s answer: the object, parsed, and what the call cost."""


class LLMError(Exception):
    """A call that failed for good: retries are spent, or retrying cannot help (a 400, a bad key).

    The message names the provider, the HTTP status when there was one, and why; never the API key.
    """

    def __init__(self, provider: str, reason: str, *, status: int | None = None) -> None:
        self.provider = provider
        self.reason = reason
        self.status = status
        where = f"{provider} answered HTTP {status}" if status is not None else f"{provider} call failed"
        super().__init__(f"{where}: {reason}")


@runtime_checkable
class LLMProvider(Protocol):
    name: str
    """``openai``, ``anthropic`` or ``openai-compatible``."""
    model: str

    async def complete(
        self, system: str, messages: list[ChatMessage], *, max_tokens: int = 512, temperature: float = 0.0
    ) -> Completion:
        """The whole reply at once."""
        ...

    def stream(
        self, system: str, messages: list[ChatMessage], *, max_tokens: int = 512, temperature: float = 0.0
    ) -> AsyncIterator[str | Usage]:
        """Text deltas as they arrive, then exactly one ``Usage`` last."""
        ...

    async def complete_json(
        self, system: str, messages: list[ChatMessage], schema: Schema, *, name: str, max_tokens: int = 512
    ) -> JsonAnswer:
        """An object that follows ``schema`` (a JSON Schema), parsed; ``name`` names the schema."""
        ...


async def close_provider(provider: LLMProvider) -> None:
    """Close a provider's connection pool at shutdown, if it has one (an offline provider has none)."""
    close = getattr(provider, "aclose", None)
    if close is not None:
        await close()
