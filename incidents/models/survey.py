"""Exposure surveys and the incident counts of the city's general incident system (IA): the
inputs of two of the three dark-figure estimates (docs/statistics.md).

A survey answer is stored without the respondent's identity. Two records are written in the
same transaction and share nothing that links them:

* ``SurveyParticipation`` says only *that* a user answered (it is what refuses a second answer);
  it holds no time and no answer;
* ``SurveyResponse`` and its ``SurveyAnswer`` rows hold the answers; no user, a random id (not a
  sequence that follows the order of participations) and only the day of the answer.

On SQLite these tables are WITHOUT ROWID, so rows are kept in key order rather than in the
order they were written.
"""

from __future__ import annotations

import secrets
from datetime import date, datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from incidents.clock import utcnow
from incidents.domain import Category
from incidents.extensions import db
from incidents.models.base import TimestampMixin, UTCDateTime
from incidents.models.incident import one_of

_NO_ROWID = {"sqlite_with_rowid": False}


def _random_id() -> str:
    return secrets.token_hex(16)


class Survey(db.Model):
    """An anonymous exposure survey of the employees of some units (sub-units included). It
    asks about the ``reference_months`` before ``closes_at``."""

    __tablename__ = "surveys"
    __table_args__ = (
        CheckConstraint("closes_at > opens_at", name="closes_after_opening"),
        CheckConstraint("reference_months >= 1", name="reference_months_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200), nullable=False)
    reference_months: Mapped[int] = mapped_column(Integer, nullable=False)
    opens_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    closes_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, index=True)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"), nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, default=utcnow)

    unit_rows: Mapped[list[SurveyUnit]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", order_by="SurveyUnit.unit_id"
    )

    @property
    def unit_ids(self) -> list[int]:
        return [row.unit_id for row in self.unit_rows]


class SurveyUnit(db.Model):
    """A unit the survey covers; its sub-units are covered too."""

    __tablename__ = "survey_units"

    survey_id: Mapped[int] = mapped_column(ForeignKey("surveys.id"), primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), primary_key=True, index=True)


class SurveyParticipation(db.Model):
    """That a user answered a survey — nothing more: no time, no answer. The primary key makes
    a second answer impossible, even from two requests at once."""

    __tablename__ = "survey_participations"
    __table_args__ = (_NO_ROWID,)

    survey_id: Mapped[int] = mapped_column(ForeignKey("surveys.id"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True, index=True)


class SurveyResponse(db.Model):
    """One set of answers, with no user and only the (local) day it was given."""

    __tablename__ = "survey_responses"
    __table_args__ = (_NO_ROWID,)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=_random_id)
    survey_id: Mapped[int] = mapped_column(ForeignKey("surveys.id"), nullable=False, index=True)
    submitted_on: Mapped[date] = mapped_column(Date, nullable=False)

    answers: Mapped[list[SurveyAnswer]] = relationship(
        cascade="all, delete-orphan", order_by="SurveyAnswer.category"
    )


class SurveyAnswer(db.Model):
    """The answer for one form: exposed in the reference period, how many times, and how many
    of those were reported to the employer."""

    __tablename__ = "survey_answers"
    __table_args__ = (
        one_of("category", Category),
        CheckConstraint("times >= 0", name="times_not_negative"),
        CheckConstraint("reported >= 0 AND reported <= times", name="reported_within_times"),
        CheckConstraint("exposed OR times = 0", name="times_only_when_exposed"),
        _NO_ROWID,
    )

    response_id: Mapped[str] = mapped_column(
        ForeignKey("survey_responses.id"), primary_key=True
    )
    category: Mapped[str] = mapped_column(String(20), primary_key=True)
    exposed: Mapped[bool] = mapped_column(Boolean, nullable=False)
    times: Mapped[int] = mapped_column(Integer, nullable=False)
    reported: Mapped[int] = mapped_column(Integer, nullable=False)


class IaCount(TimestampMixin, db.Model):
    """How many incidents the city's general incident system (IA) holds for one unit (that unit
    itself, not its sub-units) over a period of local dates, both ends inclusive. Entered by hr;
    the second register of the capture–recapture estimate."""

    __tablename__ = "ia_counts"
    __table_args__ = (
        UniqueConstraint("unit_id", "period_start", "period_end"),
        CheckConstraint("period_end >= period_start", name="period_ordered"),
        CheckConstraint("count >= 0", name="count_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # Indexed by the unique constraint, which starts with it.
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), nullable=False)
    period_start: Mapped[date] = mapped_column(Date, nullable=False)
    period_end: Mapped[date] = mapped_column(Date, nullable=False)
    count: Mapped[int] = mapped_column(Integer, nullable=False)
    # Who entered the figure last.
    entered_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"), nullable=False)
