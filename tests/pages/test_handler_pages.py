"""The pages mails lead case handlers and HR to: the overdue list and a summary's files. Every
page a mail links to exists."""

from __future__ import annotations

from datetime import timedelta

import pytest
from freezegun import freeze_time
from werkzeug.exceptions import MethodNotAllowed, NotFound

from incidents.services.notifications import PAGES
from tests.factories import NOW


def test_every_page_a_mail_links_to_is_a_page(app):
    adapter = app.url_map.bind("localhost")
    for name, template in PAGES.items():
        path = template.format(incident_id=1, summary_id=1, unit_id=1)
        try:
            endpoint, _ = adapter.match(path, method="GET")
        except (NotFound, MethodNotAllowed):
            pytest.fail(f"mails link to {path} ({name}), which no page serves")
        assert not endpoint.startswith("api"), (name, endpoint)


def test_the_overdue_list_shows_what_is_late_in_the_managers_cases(pages, make, org):
    with freeze_time(NOW) as clock:
        late = make.incident(org.employee_a1, org.a1)
        elsewhere = make.incident(org.employee_b1, org.b1)
        clock.tick(timedelta(days=3))
        pages.sign_in(org.manager_a)
        page = pages.get("/overdue").get_data(as_text=True)
        assert late.reference in page and elsewhere.reference not in page
        assert f'href="/reports/{late.id}"' in page
        assert "Kvittens" in page
        assert "dagar" in page  # how late, in days


def test_the_overdue_list_is_for_case_handlers_only(pages, org):
    pages.sign_in(org.employee_a1)
    assert pages.get("/overdue").status_code == 403


def test_a_summary_page_offers_its_files_to_hr_and_not_to_others(pages, other_pages, runner,
                                                                 client, make, org):
    with freeze_time(NOW):
        made = client.post("/api/v1/summaries", json={"kind": "monthly", "period": "2026-02"},
                           headers=make.headers(org.hr))
        assert made.status_code == 201, made.json
        summary = made.json["created"][0]
        pages.sign_in(org.hr)
        page = pages.get(f"/summaries/{summary['id']}").get_data(as_text=True)
        assert summary["scope_name"] in page
        link = f'/summaries/{summary["id"]}/files/summary.sv.xlsx'
        assert f'href="{link}"' in page
        download = pages.get(link)
        assert download.status_code == 200
        assert download.data[:2] == b"PK"  # a workbook
        other_pages.sign_in(org.employee_a1)
        assert other_pages.get(f"/summaries/{summary['id']}").status_code == 403
        other_pages.sign_in(org.manager_b1)  # leads B1 only: not the organisation's summary
        assert other_pages.get(f"/summaries/{summary['id']}").status_code == 404
