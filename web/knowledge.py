"""The knowledge manager's API: upload, documents and their chunks, search playground, knowledge gaps."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, delete, get, post
from litestar.connection import ASGIConnection
from litestar.datastructures import State, UploadFile
from litestar.enums import RequestEncodingType
from litestar.exceptions import PermissionDeniedException
from litestar.handlers.base import BaseRouteHandler
from litestar.params import Body, Parameter
from litestar.security.jwt import Token
from sqlalchemy.ext.asyncio import AsyncSession

from channels.service import unanswered_questions
from conversations.services import Services
from core.accounts import Role
from core.errors import InvalidInputError
from core.views import view_of
from knowledge.gaps import group_gaps
from knowledge.models import DEFAULT_COLLECTION
from knowledge.passages import PassageView
from knowledge.reindex import check_dimension
from knowledge.search import MAX_QUERY_CHARS, SearchMode, search
from knowledge.service import delete_documents, document_chunks, find_collection, get_document, list_documents
from knowledge.uploads import accept_upload
from web.auth import AuthUser

ManagerRequest = Request[AuthUser, Token, State]

MULTIPART_ALLOWANCE = 1024 * 1024
"""Room in an upload's request for the multipart framing and the other fields, beside the file."""


def upload_body_limit(max_upload_bytes: int) -> int:
    """The largest upload request taken in (larger ones get a 413): one file of ATENDE_MAX_UPLOAD_MB,
    the same limit ``accept_upload`` holds each file to, and the rest of the form."""
    return max_upload_bytes + MULTIPART_ALLOWANCE


def knowledge_roles_only(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    if connection.user.role not in {Role.ADMIN, Role.KNOWLEDGE_MANAGER}:
        raise PermissionDeniedException("only knowledge managers and admins manage the knowledge base")


class DocumentView(msgspec.Struct):
    id: str
    collection: str
    source: str
    title: str
    format: str
    language: str
    status: str
    error: str | None
    chunks: int
    size_bytes: int
    updated_at: str


class UploadView(msgspec.Struct):
    source: str
    status: str
    document_id: str | None
    error: str | None


class ChunkView(msgspec.Struct):
    id: str
    position: int
    heading_path: str
    page: int | None
    text: str


class GapView(msgspec.Struct):
    question: str
    count: int
    examples: list[str]


class KnowledgeController(Controller):
    path = "/api/v1/kb"
    guards = [knowledge_roles_only]  # noqa: RUF012 - Litestar reads this class attribute

    @post("/documents", status_code=202)
    async def upload(
        self,
        request: ManagerRequest,
        data: Annotated[dict[str, Any], Body(media_type=RequestEncodingType.MULTI_PART)],
        db_session: AsyncSession,
        services: Services,
    ) -> list[UploadView]:
        """Several files in the ``files`` field (multipart); each is checked, stored and queued on its own."""
        files = data.get("files") or []
        files = [
            upload
            for upload in (files if isinstance(files, list) else [files])
            if isinstance(upload, UploadFile)
        ]
        if not files:
            raise InvalidInputError("files", "send at least one file (multipart field 'files')")
        collection = str(data.get("collection") or DEFAULT_COLLECTION)
        outcomes = []
        for upload in files:
            content = await upload.read()
            async with db_session.begin():
                outcome = await accept_upload(
                    db_session,
                    request.user.tenant_id,
                    collection,
                    upload.filename,
                    content,
                    services.settings.uploads_dir,
                    services.settings.max_upload_bytes,
                )
            if outcome.status == "queued" and outcome.document_id:
                await services.jobs.ingest_upload(request.user.tenant_id, uuid.UUID(outcome.document_id))
            outcomes.append(UploadView(outcome.source, outcome.status, outcome.document_id, outcome.error))
        return outcomes

    @get("/documents")
    async def documents(
        self, request: ManagerRequest, db_session: AsyncSession, collection: str | None = None
    ) -> list[DocumentView]:
        rows = await list_documents(db_session, request.user.tenant_id, collection)
        return [
            view_of(
                DocumentView,
                d,
                collection=name,
                chunks=chunks,
                updated_at=d.updated_at.isoformat(timespec="seconds"),
            )
            for d, name, chunks in rows
        ]

    @get("/documents/{document_id:uuid}/chunks")
    async def chunks(
        self, request: ManagerRequest, document_id: uuid.UUID, db_session: AsyncSession
    ) -> list[ChunkView]:
        await get_document(db_session, request.user.tenant_id, document_id)
        return [
            ChunkView(str(c.id), c.position, c.heading_path, c.page, c.text)
            for c in await document_chunks(db_session, request.user.tenant_id, document_id)
        ]

    @delete("/documents/{document_id:uuid}", status_code=204)
    async def remove(self, request: ManagerRequest, document_id: uuid.UUID, db_session: AsyncSession) -> None:
        async with db_session.begin():
            document = await get_document(db_session, request.user.tenant_id, document_id)
            await delete_documents(db_session, request.user.tenant_id, [document.source], None)

    @get("/search")
    async def playground(
        self,
        request: ManagerRequest,
        db_session: AsyncSession,
        services: Services,
        q: Annotated[str, Parameter(min_length=1, max_length=MAX_QUERY_CHARS, description="the question")],
        k: Annotated[int, Parameter(ge=1, le=50)] = 10,
        mode: SearchMode = "hybrid",
        collection: str | None = None,
    ) -> list[PassageView]:
        """Ranked chunks with the fused score and each retriever's score and rank."""
        async with db_session.begin():
            await check_dimension(db_session, services.embedder)
            found = (
                await find_collection(db_session, request.user.tenant_id, collection) if collection else None
            )
            passages = await search(
                db_session,
                services.embedder,
                request.user.tenant_id,
                q,
                k,
                mode=mode,
                collection_id=found.id if found else None,
                reranker=services.reranker,
            )
        return [PassageView.of(p) for p in passages]

    @get("/gaps")
    async def gaps(
        self, request: ManagerRequest, db_session: AsyncSession, services: Services
    ) -> list[GapView]:
        """Customer questions handed off because nothing relevant was found, grouped, most frequent first."""
        questions = await unanswered_questions(db_session, request.user.tenant_id, "no_relevant_passage")
        return [
            GapView(g.question, g.count, g.examples) for g in await group_gaps(questions, services.embedder)
        ]
