"""The statistics reader on the pages (docs/roles-and-access.md, "What each role reaches"): the
statistics and summaries of their units, small counts hidden, and nothing else — no case, no
report form, no unsuppressed figures, no other district."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from incidents.clock import to_local, utcnow


def MONTH() -> str:  # noqa: N802 - reads as the constant it stands for
    """This month, as the period picker writes it (the incidents happened an hour or two ago;
    at the turn of a month one may fall in the one before, which hides no less)."""
    return to_local(utcnow()).strftime("%Y-%m")


@pytest.fixture
def english(pages):
    pages.get("/language/en?next=/")
    return pages


@pytest.fixture
def steering_group(make, org):
    """A reader for avdelning A (a steering group's member), and two threats in A1."""
    for hours in (1, 2):
        make.incident(org.employee_a1, org.a1,
                      occurred_at=datetime.now(UTC) - timedelta(hours=hours))
    return make.user("statistics_reader", reach=(org.dept_a,))


def test_a_reader_sees_the_statistics_of_their_units_suppressed(english, org, steering_group):
    english.sign_in(steering_group)
    page = english.get("/statistics", query_string={
        "period": "month", "month": MONTH(), "unit_id": org.dept_a.id,
        "group_by": ["category"], "reports": "all"})
    html = page.get_data(as_text=True)
    assert page.status_code == 200, html[:1000]
    assert "incidents-table" in html
    # Two threats: below the threshold, shown as hidden, never as the figure.
    assert ">2<" not in html
    # The menu offers what the role reaches, and not what it does not.
    assert 'href="/statistics"' in html
    assert 'href="/report"' not in html and 'href="/cases"' not in html


def test_a_reader_gets_no_case_no_form_and_no_other_unit(english, org, steering_group):
    english.sign_in(steering_group)
    assert english.get("/cases").status_code == 403
    assert english.get("/report").status_code == 403
    other = english.get("/statistics", query_string={"unit_id": org.dept_b.id,
                                                     "period": "month", "month": MONTH()})
    assert other.status_code in (403, 422)
    assert "Enhet B1" not in other.get_data(as_text=True)
    # The pages never give unsuppressed figures (that stays with the API, for hr).
    csv = english.get("/statistics/incidents.csv", query_string={
        "unit_id": org.dept_a.id, "unsuppressed": "true", "period": "month",
        "month": MONTH(), "group_by": ["category"]})
    assert csv.status_code == 200
    rows = {line.split(",")[0]: line.split(",")[1:] for line in
            csv.get_data(as_text=True).lstrip("\ufeff").splitlines()}
    assert rows["Threat"] == ["", "", "yes"]  # the two threats: hidden, and said so


def test_hr_of_two_organisations_is_asked_which_to_count(english, make, org):
    """The statistics of one organisation never include another's: the page asks for the unit,
    with an error summary, instead of counting both."""
    other = make.unit("Grannkommunen", "organisation")
    both = make.user("hr", reach=(org.root, other))
    english.sign_in(both)
    page = english.get("/statistics", query_string={"period": "month", "month": MONTH()})
    html = page.get_data(as_text=True)
    assert page.status_code == 422
    assert 'href="#unit-id"' in html
    chosen = english.get("/statistics", query_string={"period": "month", "month": MONTH(),
                                                      "unit_id": other.id})
    assert chosen.status_code == 200
