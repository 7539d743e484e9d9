"""Turn uploaded files into blocks of text (headings, paragraphs, tables, Q&A pairs) with their pages.

Pure parsers, run by the ingest in a child process (``knowledge.parse_apart``): this package imports
nothing heavy at its top, so the child starts quickly."""

from knowledge.parsing._dispatch import SUPPORTED_SUFFIXES, parse_document
from knowledge.parsing._types import Block, ParsedDocument

__all__ = ["SUPPORTED_SUFFIXES", "Block", "ParsedDocument", "parse_document"]
