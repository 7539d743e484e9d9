"""What a tenant keeps of its eval runs: one row per ``atende eval run``, with its whole JSON report."""

from __future__ import annotations

import datetime
import uuid
from typing import Any

from advanced_alchemy.base import UUIDv7AuditBase
from sqlalchemy import DateTime, ForeignKey, Index, String
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column


class EvalRun(UUIDv7AuditBase):
    """A finished (or interrupted) eval run: the summary the list shows, and the report to render again."""

    __tablename__ = "eval_runs"
    __table_args__ = (Index("ix_eval_runs_tenant_started", "tenant_id", "started_at"),)

    tenant_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    run_id: Mapped[str] = mapped_column(String(64))
    """The id the CLI printed (``20260101-120000-abc123``), also in the report."""
    suites: Mapped[list[str]] = mapped_column(JSONB, default=list)
    started_at: Mapped[datetime.datetime] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime.datetime] = mapped_column(DateTime(timezone=True))
    incomplete: Mapped[bool] = mapped_column(default=False)
    """Interrupted (Ctrl-C): only ``cases_run`` of ``total_cases`` ran."""
    passed: Mapped[bool] = mapped_column(default=True)
    """Every gate held (true for a run without gates)."""
    git_commit: Mapped[str | None] = mapped_column(String(64))
    settings: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    metrics: Mapped[dict[str, float]] = mapped_column(JSONB, default=dict)
    gates: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, default=list)
    total_cases: Mapped[int] = mapped_column(default=0)
    cases_run: Mapped[int] = mapped_column(default=0)
    cases_passed: Mapped[int] = mapped_column(default=0)
    report: Mapped[dict[str, Any]] = mapped_column(JSONB, deferred=True)
    """The JSON report as ``--json`` writes it; loaded only when asked for (it holds every case)."""
