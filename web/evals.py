"""The tenant's stored eval runs: the list (newest first), each run's JSON report, and its HTML report."""

from __future__ import annotations

import datetime
import uuid
from typing import Annotated, Any

import msgspec
from litestar import Controller, MediaType, Request, get
from litestar.datastructures import State
from litestar.params import Parameter
from litestar.security.jwt import Token
from sqlalchemy.ext.asyncio import AsyncSession

from core.views import view_of
from evals.history import get_run, list_runs, stored_report
from evals.html import render_html
from evals.models import EvalRun
from evals.results import GateResult
from web.auth import AuthUser, eval_runs_admin_only

EvalsRequest = Request[AuthUser, Token, State]


class EvalRunSummary(msgspec.Struct, kw_only=True):
    """One run as the list shows it; ``report_url`` is the page with its HTML report."""

    id: uuid.UUID
    run_id: str
    suites: list[str]
    started_at: datetime.datetime
    finished_at: datetime.datetime
    incomplete: bool
    passed: bool
    """Every gate held (a run without gates passes)."""
    git_commit: str | None
    metrics: dict[str, float]
    gates: list[GateResult]
    total_cases: int
    cases_run: int
    cases_passed: int
    report_url: str


def _summary(run: EvalRun) -> EvalRunSummary:
    return view_of(EvalRunSummary, run, report_url=f"/evals/{run.id}/report")


class EvalRunController(Controller):
    path = "/api/v1/evals"
    guards = [eval_runs_admin_only]  # noqa: RUF012 - Litestar reads this class attribute

    @get("/")
    async def list_eval_runs(
        self,
        request: EvalsRequest,
        db_session: AsyncSession,
        limit: Annotated[int, Parameter(ge=1, le=500, description="how many runs, newest first")] = 50,
    ) -> list[EvalRunSummary]:
        """The tenant's eval runs, newest first."""
        return [_summary(run) for run in await list_runs(db_session, request.user.tenant_id, limit)]

    @get("/{run_id:uuid}")
    async def read_eval_run(
        self, request: EvalsRequest, db_session: AsyncSession, run_id: uuid.UUID
    ) -> dict[str, Any]:
        """The run's JSON report, as ``atende eval run --json`` wrote it."""
        return (await get_run(db_session, request.user.tenant_id, run_id)).report

    @get("/{run_id:uuid}/report", media_type=MediaType.HTML)
    async def eval_run_html(self, request: EvalsRequest, db_session: AsyncSession, run_id: uuid.UUID) -> str:
        """The run's self-contained HTML report, rendered again from the stored JSON."""
        return render_html(stored_report(await get_run(db_session, request.user.tenant_id, run_id)))
