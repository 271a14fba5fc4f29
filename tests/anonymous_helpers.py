"""The anonymous channel in tests: what is held is published as the hourly job would at the
next full hour (services/anonymous.py), so a test can look at the incident, its messages and
its audit entries right after sending them."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select

from incidents.clock import this_hour
from incidents.extensions import db
from incidents.models import Incident
from incidents.services import anonymous


def publish_held() -> anonymous.Publication:
    """Publish everything held so far, this hour's too, as the run at the next full hour does.
    What the caller has not committed is committed first (publication commits per item)."""
    db.session.commit()
    run = anonymous.publish(until=this_hour() + timedelta(hours=1))
    assert not run.failed, run
    return run


def report_and_publish(data: dict[str, Any]) -> tuple[Incident, str]:
    """An anonymous report through the service, published: the incident and its receipt code."""
    report, code = anonymous.report(data)
    publish_held()
    incident = db.session.scalar(
        select(Incident).where(Incident.reference == report["incident"].reference))
    return incident, code
