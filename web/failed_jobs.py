"""The admin's failed jobs: the tenant's jobs given up on (messages, webhook events, turns, ingests),
listed with why, and replayed one by one or all at once (``conversations.dead_letters``)."""

from __future__ import annotations

import uuid
from typing import Annotated

import msgspec
from litestar import Request, get, post
from litestar.datastructures import State
from litestar.params import Parameter
from litestar.security.jwt import Token
from sqlalchemy.ext.asyncio import AsyncSession

from conversations.dead_letters import FailedJob, failed_jobs, hand_out, replay
from conversations.services import Services
from web.auth import AdminController, AuthUser

AdminRequest = Request[AuthUser, Token, State]


class FailedJobView(msgspec.Struct):
    id: str
    kind: str
    """message, webhook, turn, ingest or malformed."""
    ref_id: str | None
    """The message, webhook delivery or document the job was for."""
    attempts: int
    error: str | None
    created_at: str
    failed_at: str
    replayable: bool
    """False for a malformed job: it would fail the same way again."""
    replaying: bool
    """Asked for again, not yet handed to a worker."""


class ReplayedView(msgspec.Struct):
    replayed: list[str]


def _view(job: FailedJob) -> FailedJobView:
    return FailedJobView(
        id=str(job.id),
        kind=job.kind,
        ref_id=str(job.ref_id) if job.ref_id else None,
        attempts=job.attempts,
        error=job.error,
        created_at=job.created_at.isoformat(),
        failed_at=job.failed_at.isoformat(),
        replayable=job.replayable,
        replaying=job.replaying,
    )


class FailedJobsController(AdminController):
    path = "/api/v1/admin/failed-jobs"
    tags = ["Admin: failed jobs"]  # noqa: RUF012 - Litestar reads this class attribute

    @get("/")
    async def list_failed(
        self,
        request: AdminRequest,
        db_session: AsyncSession,
        limit: Annotated[int, Parameter(ge=1, le=1000, description="how many, latest failure first")] = 200,
    ) -> list[FailedJobView]:
        """The tenant's jobs given up on after their last try, with the error and how many tries."""
        return [_view(job) for job in await failed_jobs(db_session, request.user.tenant_id, limit)]

    @post("/{job_id:uuid}/replay", status_code=202)
    async def replay_one(
        self, request: AdminRequest, job_id: uuid.UUID, db_session: AsyncSession, services: Services
    ) -> ReplayedView:
        """Run a failed job again (a turn answers its message, a message is sent…); 404 when it is not
        the tenant's, 409 when it is malformed or no longer dead."""
        return await self._replay(request, [job_id], db_session, services)

    @post("/replay", status_code=202)
    async def replay_all(
        self, request: AdminRequest, db_session: AsyncSession, services: Services
    ) -> ReplayedView:
        """Run every failed job of the tenant again, malformed ones excepted."""
        return await self._replay(request, None, db_session, services)

    async def _replay(
        self,
        request: AdminRequest,
        job_ids: list[uuid.UUID] | None,
        db_session: AsyncSession,
        services: Services,
    ) -> ReplayedView:
        async with db_session.begin():
            replayed = await replay(db_session, job_ids, request.user.tenant_id)
        await hand_out(services.database.sessionmaker, services.jobs, replayed)
        return ReplayedView(replayed=[str(job_id) for job_id in replayed.ids])
