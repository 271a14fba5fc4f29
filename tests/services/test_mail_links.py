"""Every link in every mail the service sends leads to the web page where the person acts, never
to the JSON API: links are built only by services/notifications.py ``page_url``."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from freezegun import freeze_time

from incidents.domain import SummaryOrigin
from incidents.models import OutboxMail
from incidents.services import lifecycle, messages, reminders, summaries
from incidents.services.notifications import page_url
from tests.anonymous_helpers import report_and_publish

BASE = "https://incidents.stad.example"
REPORTED = datetime(2026, 2, 2, 9, 0, tzinfo=UTC)
DIGEST_DAY = datetime(2026, 3, 10, 6, 0, tzinfo=UTC)  # 07:00 in Stockholm
LINK = re.compile(r"\S+://\S+")
PAGE = re.compile(rf"^{re.escape(BASE)}/(reports/\d+(#check-ins)?|overdue|summaries/\d+)$")
# Every kind of mail the service writes to the outbox.
KINDS = {"new_incident", "status_changed", "new_message", "reminder_digest", "summary_monthly"}


@pytest.fixture(autouse=True)
def public_base(app, monkeypatch):
    monkeypatch.setitem(app.config, "PUBLIC_BASE_URL", BASE)


def test_page_url_gives_the_pages_under_the_public_address(app):
    assert page_url("report", incident_id=7) == f"{BASE}/reports/7"
    assert page_url("report", section="check-ins", incident_id=7) == f"{BASE}/reports/7#check-ins"
    assert page_url("overdue") == f"{BASE}/overdue"
    assert page_url("summary", summary_id=3) == f"{BASE}/summaries/3"


def test_no_mail_links_to_the_api(make, org, db_session):
    """Each kind of mail, made as it is in use: a new incident (named and anonymous), a status
    change, messages both ways, the reminder digest and hr's summary mail."""
    with freeze_time(REPORTED) as clock:
        named = make.incident(org.employee_a1, org.a1, occurred_at=REPORTED - timedelta(hours=1))
        report_and_publish({"category": "harassment", "perceived_influence_purpose": "unsure",
                          "occurred_at": REPORTED - timedelta(hours=2), "unit_id": org.b1.id,
                          "description": "Han följde efter mig till bussen."})
        lifecycle.acknowledge(org.manager_a, named.id)
        messages.post_for_user(org.manager_a, named.id, "Jag ringer dig i morgon.")
        messages.post_for_user(org.employee_a1, named.id, "Tack, det passar bra.")
        clock.move_to(DIGEST_DAY)
        assert reminders.send_daily_digests(DIGEST_DAY) == 2  # manager_a (check-ins), manager_b1
        run = summaries.make_period_summaries("monthly", "2026-02", origin=SummaryOrigin.REQUEST)
        assert summaries.tell_hr(run.created) == 2
    db_session.flush()

    mails = db_session.scalars(sa.select(OutboxMail).order_by(OutboxMail.id)).all()
    assert {mail.kind for mail in mails} == KINDS
    for mail in mails:
        assert "/api/" not in mail.body, (mail.kind, mail.body)
        links = LINK.findall(mail.body)
        assert links, mail.kind
        for link in links:
            assert PAGE.match(link), (mail.kind, link)
    digest = next(m for m in mails if m.kind == "reminder_digest"
                  and m.recipient == org.manager_a.email)
    lines = digest.body.splitlines()
    assert f"  {BASE}/reports/{named.id}#check-ins" in lines
    assert f"{BASE}/overdue" in lines
