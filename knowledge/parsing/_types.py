"""What every parser returns."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

BlockKind = Literal["heading", "text", "table", "qa"]


@dataclass(frozen=True)
class Block:
    text: str
    kind: BlockKind = "text"
    level: int = 0
    """Heading level (1 = title) for headings."""
    page: int | None = None
    """1-based page, for formats that have pages."""


@dataclass
class ParsedDocument:
    format: str
    blocks: list[Block]
    title: str | None = None
    page_count: int | None = None
    metadata: dict[str, str] = field(default_factory=dict)

    @property
    def text(self) -> str:
        return "\n\n".join(block.text for block in self.blocks)
