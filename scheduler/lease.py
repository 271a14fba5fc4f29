"""The scheduler lease: one scheduler process runs the jobs, elected through the database
(docs/operations.md). APScheduler's job store cannot be shared by two running schedulers, so a
second process waits as a standby and takes over only when the lease has gone unrenewed for
SCHEDULER_LEASE_SECONDS (its holder stopped or lost the database)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import case, delete, update
from sqlalchemy.exc import IntegrityError

from incidents.clock import utcnow
from incidents.extensions import db
from incidents.models import SchedulerLease
from incidents.models.summary import SCHEDULER_ROW

NAME = SCHEDULER_ROW


def acquire(holder: str, seconds: int) -> bool:
    """Take the lease if it is free, expired or already ours (then it is renewed); commits."""
    now = utcnow()
    taken = db.session.execute(
        update(SchedulerLease)
        .where(SchedulerLease.name == NAME)
        .where((SchedulerLease.holder == holder) | (SchedulerLease.expires_at < now))
        .values(
            holder=holder,
            acquired_at=case((SchedulerLease.holder == holder, SchedulerLease.acquired_at),
                             else_=now),
            expires_at=now + timedelta(seconds=seconds),
        )
        .execution_options(synchronize_session=False)
    ).rowcount
    if taken:
        db.session.commit()
        return True
    try:
        db.session.add(SchedulerLease(name=NAME, holder=holder, acquired_at=now,
                                      expires_at=now + timedelta(seconds=seconds)))
        db.session.commit()
        return True
    except IntegrityError:  # someone else holds it
        db.session.rollback()
        return False


def release(holder: str) -> None:
    db.session.execute(
        delete(SchedulerLease).where(SchedulerLease.name == NAME, SchedulerLease.holder == holder)
    )
    db.session.commit()


def current() -> SchedulerLease | None:
    return db.session.get(SchedulerLease, NAME)
