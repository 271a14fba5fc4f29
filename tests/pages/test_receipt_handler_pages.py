"""The receipt pages say who handles a report, and the admin's units page lists the units where
nobody would (docs/roles-and-access.md, "Who handles a report"). The API's side:
tests/api/test_receipt_handlers.py."""

from __future__ import annotations

from pathlib import Path

import pytest
from freezegun import freeze_time

from tests.factories import NOW
from tests.pages.conftest import report_form

MO = Path(__file__).resolve().parents[2] / "incidents/translations/sv/LC_MESSAGES/messages.mo"


@pytest.fixture(autouse=True)
def frozen():
    with freeze_time(NOW):
        yield


def _other_organisation(make):
    """An organisation made after everyone's roles: nobody leads it and no hr reaches it."""
    other = make.unit("Grannkommunen", "organisation")
    school = make.unit("Skolförvaltningen", "forvaltning", other)
    return other, school


# -- the receipt pages ----------------------------------------------------------------------


def _receipt(pages, org, unit, english: bool):
    if english:
        pages.get("/language/en?next=/")
    pages.get("/report")
    sent = pages.post("/report", report_form(org, unit_id=str(unit.id)))
    assert sent.status_code == 303, sent.get_data(as_text=True)[:500]
    return pages.get(sent.headers["Location"]).get_data(as_text=True)


def test_the_receipt_page_names_the_manager(pages, named):
    pages.sign_in(named.employee_a1)
    page = _receipt(pages, named, named.a1, english=True)
    assert "Your report is handled by Maria Chef (manager)." in page


def test_the_receipt_page_names_hr_and_says_why(pages, named):
    pages.sign_in(named.employee_b1)
    page = _receipt(pages, named, named.dept_b, english=True)
    assert "Your report is handled by Hanna HR (HR) and Anders HR (HR)." in page
    assert "HR handles it because no manager at your unit or above it can take it." in page
    assert "HR is told at once" in page


def test_the_receipt_page_warns_when_nobody_is_responsible(pages, make, org):
    _other, school = _other_organisation(make)
    teacher = make.user("employee", unit=school)
    pages.sign_in(teacher)
    page = _receipt(pages, org, school, english=True)
    assert 'class="warning" role="alert" id="case-handlers"' in page
    assert "Nobody is responsible for reports from this unit yet." in page


def test_the_receipt_page_says_it_in_swedish(pages, named):
    if b"Your report is handled by %(handlers)s." not in MO.read_bytes():
        pytest.skip("the compiled Swedish catalog does not have the receipt's new texts yet")
    pages.sign_in(named.employee_a1)
    page = _receipt(pages, named, named.a1, english=False)
    assert "Din rapport hanteras av Maria Chef (chef)." in page


def test_the_anonymous_receipt_says_the_role_only(pages, named):
    pages.get("/language/en?next=/")
    pages.get("/anonymous/report")
    form = report_form(named, unit_id=str(named.dept_b.id))
    for field in ("for_whom", "subcategory"):
        form.pop(field, None)
    page = pages.post("/anonymous/report", form).get_data(as_text=True)
    assert "HR is told and takes care of the report" in page
    assert "Hanna HR" not in page and "Anders HR" not in page



def test_the_admin_units_page_warns_with_links(pages, make, org):
    other, school = _other_organisation(make)
    their_admin = make.user("admin", unit=school, reach=(other,))
    pages.sign_in(their_admin)
    pages.get("/language/en?next=/")
    page = pages.get("/admin/units").get_data(as_text=True)
    assert 'id="unanswered-units"' in page
    assert "2 units have nobody responsible for reports" in page
    assert f'<a href="/admin/units/{school.id}">Skolförvaltningen</a>' in page
    assert f'<a href="/admin/units/{other.id}">Grannkommunen</a>' in page


def test_the_admin_units_page_has_no_warning_when_everyone_is_answered(pages, org):
    pages.sign_in(org.admin)
    page = pages.get("/admin/units").get_data(as_text=True)
    assert 'id="unanswered-units"' not in page
