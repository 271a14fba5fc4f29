"""The report's own page shows the exposed employee who has read or changed it: the audit
entries they may list themselves (access.audit_scope), by others, without the parts they may
not read (follow-up), and nothing of it to the colleague who reported for them."""

from __future__ import annotations

from datetime import timedelta

import pytest
from freezegun import freeze_time

from incidents.services import lifecycle, police, support
from tests.factories import NOW


@pytest.fixture
def frozen():
    with freeze_time(NOW):
        yield


def _section(html: str) -> str:
    start = html.find('<section id="audit"')
    return html[start:html.find("</section>", start)] if start >= 0 else ""


def test_the_exposed_employee_sees_who_read_the_police_report_but_not_the_follow_up(
    pages, make, org, frozen
):
    incident = make.incident(org.employee_a1, org.a1)
    lifecycle.acknowledge(org.manager_a, incident.id)
    support.add_follow_up(org.manager_a, incident.id, {
        "type": "conversation", "note": "Samtal.", "occurred_at": NOW - timedelta(minutes=5)})
    support.list_follow_ups(org.manager_a, incident.id)
    police.read_report(org.manager_a, incident.id)
    make.session.commit()

    pages.sign_in(org.employee_a1)
    section = _section(pages.get(f"/reports/{incident.id}").get_data(as_text=True))

    assert "Vem har läst eller ändrat rapporten" in section or \
        "Who has read or changed this report" in section
    assert org.manager_a.name in section
    rows = section.count("<tr>") - 1  # the header row
    # acknowledged (status) and the police report read; not the follow-up entry or its read.
    assert rows == 2, section
    assert org.employee_a1.name not in section  # their own reads are not listed


def test_the_colleague_who_reported_for_someone_sees_no_such_section(pages, make, org, frozen):
    incident = make.incident(org.colleague_a1, org.a1, on_behalf_of=org.employee_a1.id)
    police.read_report(org.manager_a, incident.id)
    make.session.commit()

    pages.sign_in(org.colleague_a1)
    html = pages.get(f"/reports/{incident.id}").get_data(as_text=True)

    assert _section(html) == ""
