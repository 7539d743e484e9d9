"""List prices in USD per million tokens, so every call can report what it cost.

Prices change; the config's ``input_price_per_mtok`` / ``output_price_per_mtok`` override this table.
Models not listed here (local ones served by vLLM, Ollama or llama.cpp) cost nothing.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Price:
    input_per_mtok: float
    output_per_mtok: float

    def cost_usd(self, input_tokens: int, output_tokens: int) -> float:
        # Rounded to a millionth of a cent so sums of many calls do not collect float noise.
        return round((input_tokens * self.input_per_mtok + output_tokens * self.output_per_mtok) / 1e6, 8)


FREE = Price(0.0, 0.0)

# Keys are model-name prefixes; the longest matching prefix wins, so dated snapshots
# ("gpt-4o-2024-08-06", "claude-sonnet-4-20250514") find their family.
PRICES: dict[str, Price] = {
    "gpt-4o": Price(2.50, 10.00),
    "gpt-4o-mini": Price(0.15, 0.60),
    "gpt-4.1": Price(2.00, 8.00),
    "gpt-4.1-mini": Price(0.40, 1.60),
    "gpt-4.1-nano": Price(0.10, 0.40),
    "gpt-5": Price(1.25, 10.00),
    "gpt-5-mini": Price(0.25, 2.00),
    "gpt-5-nano": Price(0.05, 0.40),
    "o3-mini": Price(1.10, 4.40),
    "o4-mini": Price(1.10, 4.40),
    "claude-3-haiku": Price(0.25, 1.25),
    "claude-3-5-haiku": Price(0.80, 4.00),
    "claude-haiku-4-5": Price(1.00, 5.00),
    "claude-3-5-sonnet": Price(3.00, 15.00),
    "claude-3-7-sonnet": Price(3.00, 15.00),
    "claude-sonnet-4": Price(3.00, 15.00),
    "claude-opus-4": Price(15.00, 75.00),
    "claude-opus-4-5": Price(5.00, 25.00),
}


def listed_price(model: str) -> Price:
    """The table's price for ``model`` (longest prefix match), or free when it is not listed."""
    name = model.lower().rsplit("/", 1)[-1]  # "openai/gpt-4o-mini" as a proxy may call it
    matches = [prefix for prefix in PRICES if name.startswith(prefix)]
    return PRICES[max(matches, key=len)] if matches else FREE


def resolve_price(model: str, input_per_mtok: float | None, output_per_mtok: float | None) -> Price:
    """Configured prices win, each on its own; the table fills in what is not configured."""
    listed = listed_price(model)
    return Price(
        listed.input_per_mtok if input_per_mtok is None else input_per_mtok,
        listed.output_per_mtok if output_per_mtok is None else output_per_mtok,
    )
