"""Which LLM to call and how: one typed config per provider, checked when it is made."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, get_args

ProviderKind = Literal["openai", "anthropic", "openai-compatible"]
PROVIDER_KINDS: tuple[str, ...] = get_args(ProviderKind)


@dataclass(frozen=True)
class ProviderConfig:
    kind: ProviderKind
    """``openai``, ``anthropic``, or ``openai-compatible`` for vLLM, Ollama, llama.cpp and the like."""
    model: str
    """The model name the server expects, e.g. ``gpt-4o-mini`` or ``claude-3-5-haiku-latest``."""
    api_key: str | None = field(default=None, repr=False)
    """None reads the SDK's own variable (``OPENAI_API_KEY``, ``ANTHROPIC_API_KEY``); never printed."""
    base_url: str | None = None
    """The API's root; required for ``openai-compatible`` (e.g. ``http://localhost:11434/v1``)."""
    timeout_seconds: float = 30.0
    """How long one attempt may take before it counts as failed."""
    max_retries: int = 3
    """Retries after the first attempt, on 408/409/429/5xx and connection errors, with backoff."""
    input_price_per_mtok: float | None = None
    """USD per million input tokens; None takes the built-in price table (0.0 for unknown models)."""
    output_price_per_mtok: float | None = None
    """USD per million output tokens; None takes the built-in price table (0.0 for unknown models)."""

    def __post_init__(self) -> None:
        if self.kind not in PROVIDER_KINDS:
            raise ValueError(f"kind must be one of {', '.join(PROVIDER_KINDS)}, got {self.kind!r}")
        if not self.model.strip():
            raise ValueError("model must name the model to call, got an empty string")
        if self.kind == "openai-compatible" and not self.base_url:
            raise ValueError(
                "base_url is required for an openai-compatible provider "
                "(the server's API root, e.g. http://localhost:11434/v1)"
            )
        if self.timeout_seconds <= 0:
            raise ValueError(f"timeout_seconds must be more than 0, got {self.timeout_seconds}")
        if self.max_retries < 0:
            raise ValueError(f"max_retries must be 0 or more, got {self.max_retries}")
        for name in ("input_price_per_mtok", "output_price_per_mtok"):
            price = getattr(self, name)
            if price is not None and price < 0:
                raise ValueError(f"{name} must be 0 or more, got {price}")
