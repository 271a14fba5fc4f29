"""Settings an administrator changed in the service (services/settings.py). A row exists only
for a setting changed in the service: without one, the environment's value (incidents/config.py)
applies. Going back to the environment's value deletes the row; every change and every return
is in the audit trail."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from incidents.clock import utcnow
from incidents.extensions import db
from incidents.models.base import UTCDateTime


class Setting(db.Model):
    __tablename__ = "settings"

    # The environment variable it overrides, e.g. ACKNOWLEDGE_WITHIN_HOURS.
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    # A whole number, a list of check-in offsets, or JSON null for "not set" (retention).
    value: Mapped[Any] = mapped_column(JSON, nullable=True)
    updated_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"), nullable=False)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, default=utcnow)

    updated_by = relationship("User", foreign_keys=[updated_by_id], lazy="joined")
