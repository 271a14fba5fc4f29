"""Server-side sessions of the web pages (incidents/web/sessions.py).

The browser holds only a random session id; the row is found by a hash of it, so a copy of the
table cannot be used to take over a session. A row can be deleted to end a session at once.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from incidents.extensions import db
from incidents.models.base import UTCDateTime


class WebSession(db.Model):
    __tablename__ = "web_sessions"

    # sha256 of the cookie's session id, hex.
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    # Null until the person has signed in (the session then holds sign-in state and CSRF only).
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    data: Mapped[str] = mapped_column(Text, nullable=False, default="{}")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, index=True)
    signed_in_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
