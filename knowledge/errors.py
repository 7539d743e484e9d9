"""Errors of the knowledge base."""

from __future__ import annotations


class KnowledgeError(Exception):
    status_code = 400

    def __init__(self, detail: str, *, field: str | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.field = field


class UnreadableDocumentError(KnowledgeError):
    """A file that cannot be read or parsed; the ingest reports it and goes on."""

    status_code = 422


class DocumentNotFoundError(KnowledgeError):
    status_code = 404


class EmbeddingMismatchError(KnowledgeError):
    """The configured model makes vectors of another size than the stored ones."""

    status_code = 409
