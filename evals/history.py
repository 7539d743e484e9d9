"""Eval runs kept per tenant: stored after each run, listed newest first, their report read back."""

from __future__ import annotations

import datetime
import uuid
from typing import Any

import msgspec
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import undefer

from core.errors import NotFoundError
from evals.models import EvalRun
from evals.results import Report

MAX_LISTED = 500


def _moment(text: str) -> datetime.datetime:
    moment = datetime.datetime.fromisoformat(text)
    return moment if moment.tzinfo else moment.replace(tzinfo=datetime.UTC)


def store_run(session: AsyncSession, tenant_id: uuid.UUID, report: Report) -> EvalRun:
    """Add the run to the session (the caller commits): its summary columns and the whole JSON report."""
    stored: dict[str, Any] = msgspec.json.decode(msgspec.json.encode(report))
    run = EvalRun(
        tenant_id=tenant_id,
        run_id=report.run_id,
        suites=list(report.suites),
        started_at=_moment(report.started_at),
        finished_at=_moment(report.finished_at),
        incomplete=report.incomplete,
        passed=all(gate.passed for gate in report.gates),
        git_commit=report.git_commit,
        settings=stored["settings"],
        metrics=stored["metrics"],
        gates=stored["gates"],
        total_cases=report.total_cases,
        cases_run=len(report.cases),
        cases_passed=sum(1 for case in report.cases if case.passed),
        report=stored,
    )
    session.add(run)
    return run


async def list_runs(session: AsyncSession, tenant_id: uuid.UUID, limit: int = 50) -> list[EvalRun]:
    """The tenant's runs, newest first (without their reports)."""
    query = (
        select(EvalRun)
        .where(EvalRun.tenant_id == tenant_id)
        .order_by(EvalRun.started_at.desc(), EvalRun.id.desc())
        .limit(min(limit, MAX_LISTED))
    )
    return list((await session.scalars(query)).all())


async def get_run(session: AsyncSession, tenant_id: uuid.UUID, run_id: uuid.UUID) -> EvalRun:
    """One of the tenant's runs with its report; another tenant's run is as unknown as a missing one."""
    query = (
        select(EvalRun)
        .where(EvalRun.tenant_id == tenant_id, EvalRun.id == run_id)
        .options(undefer(EvalRun.report))
    )
    run = await session.scalar(query)
    if run is None:
        raise NotFoundError(f"eval run {run_id} not found")
    return run


def stored_report(run: EvalRun) -> Report:
    """The report as the run wrote it, to render as HTML again."""
    return msgspec.convert(run.report, Report)
