"""Errors of the knowledge base."""

from __future__ import annotations

from core.errors import AtendeError, ConflictError, ErrorCode, NotFoundError


class UnreadableDocumentError(AtendeError):
    """A file that cannot be read or parsed; the ingest reports it and goes on."""

    code = ErrorCode.INVALID_INPUT


class DocumentNotFoundError(NotFoundError):
    pass


class EmbeddingMismatchError(ConflictError):
    """The configured model makes vectors of another size than the stored ones."""
