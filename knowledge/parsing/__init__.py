"""Turn uploaded files into blocks of text (headings, paragraphs, tables, Q&A pairs) with their pages."""

from knowledge.parsing._dispatch import SUPPORTED_SUFFIXES, parse_document
from knowledge.parsing._types import Block, ParsedDocument

__all__ = ["SUPPORTED_SUFFIXES", "Block", "ParsedDocument", "parse_document"]
