"""A tenant's own labelled examples: the offline classifiers learn its intents from them."""

from __future__ import annotations

import uuid

from advanced_alchemy.base import UUIDv7AuditBase
from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column


class ClassifierExample(UUIDv7AuditBase):
    __tablename__ = "classifier_examples"
    __table_args__ = (Index("ix_classifier_examples_tenant_task", "tenant_id", "task"),)

    tenant_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    task: Mapped[str] = mapped_column(String(16))
    """``intent`` or ``sentiment``."""
    label: Mapped[str] = mapped_column(String(100))
    text: Mapped[str] = mapped_column(Text)
