"""HR's pages without a browser: statistics, summaries, surveys and workshops. Each page is
checked against the API: the same query gives the same figures and the same files, a summary
made from the page is the API's, and answering a survey or rating a workshop follows the API's
rules (once per person, only while open, only for the units taking part) and writes nothing
that ties the person to what they answered."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser

import openpyxl
import pytest
from freezegun import freeze_time
from sqlalchemy import func, select

from incidents.models import (
    AuditEntry,
    Summary,
    SurveyParticipation,
    SurveyResponse,
    WorkshopDevice,
    WorkshopParticipation,
    WorkshopRating,
)
from incidents.web.hr import qr_code
from tests.factories import NOW

# -- reading a page's tables ------------------------------------------------------------------


class _Tables(HTMLParser):
    """Each <table id=…> as rows of cell texts; a cell hidden by disclosure control is "x",
    text only for screen readers (class visually-hidden) is left out."""

    def __init__(self):
        super().__init__()
        self.tables: dict[str, list[list[str]]] = {}
        self._table: str | None = None
        self._cell: list[str] | None = None
        self._hidden_depth = 0
        self._span_stack: list[bool] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "table" and attrs.get("id"):
            self._table = attrs["id"]
            self.tables[self._table] = []
        elif self._table and tag == "tr":
            self.tables[self._table].append([])
        elif self._table and tag in ("th", "td"):
            self._cell = []
        elif tag == "span":
            classes = (attrs.get("class") or "").split()
            invisible = "visually-hidden" in classes
            self._span_stack.append(invisible)
            self._hidden_depth += invisible
            if "mark-hidden" in classes and self._cell is not None:
                self._cell.append("\0x")

    def handle_endtag(self, tag):
        if tag == "table":
            self._table = None
        elif tag in ("th", "td") and self._cell is not None and self._table:
            text = "".join(self._cell)
            text = "x" if "\0x" in text else " ".join(text.split())
            self.tables[self._table][-1].append(text)
            self._cell = None
        elif tag == "span" and self._span_stack:
            self._hidden_depth -= self._span_stack.pop()

    def handle_data(self, data):
        if self._cell is not None and not self._hidden_depth:
            self._cell.append(data)


def tables(html: str) -> dict[str, list[list[str]]]:
    parser = _Tables()
    parser.feed(html)
    return parser.tables


def as_number(text: str) -> float | None:
    """A figure as the page shows it (English: 1,234.5) as a number; None for "x" and "–"."""
    if text in ("x", "–", ""):
        return None
    return float(text.replace(",", "").replace("\u00a0%", "").replace("%", ""))


def text_of(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


# -- set-up -------------------------------------------------------------------------------------


@pytest.fixture
def english(pages):
    """The pages in English (the Swedish catalogue does not have these pages' words yet)."""
    pages.get("/language/en?next=/")
    return pages


@pytest.fixture
def participant(other_pages):
    """Another person's browser, in English."""
    other_pages.get("/language/en?next=/")
    return other_pages


def _threat(make, reporter, unit, when, **extra):
    return make.incident(reporter, unit, occurred_at=when, **extra)


@pytest.fixture
def incidents(make, org):
    """In February 2026: A1 has 9 threats (one of them also violence), A2 has 6 harassment
    incidents and 2 threats, B1 has 1 threat."""
    with freeze_time(NOW):
        when = datetime(2026, 2, 10, 10, 0, tzinfo=UTC)
        for day in range(9):
            extra = {"additional_categories": ["violence"]} if day == 0 else {}
            _threat(make, org.employee_a1, org.a1, when + timedelta(days=day), **extra)
        for day in range(6):
            _threat(make, org.employee_a1, org.a2, when + timedelta(days=day),
                    category="harassment")
        for day in range(2):
            _threat(make, org.employee_a1, org.a2, when + timedelta(days=day))
        _threat(make, org.employee_b1, org.b1, when)


# -- statistics ---------------------------------------------------------------------------------


def _api(client, make, user, path, **params):
    response = client.get(path, query_string=params, headers=make.headers(user))
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    return response


def _key_text(key: str, row: dict) -> str:
    if key == "unit":
        return row["unit_name"]
    if key in ("category", "location", "perpetrator"):
        return row[f"{key}_label"] or "Not given"
    if key == "anonymous":
        return "Anonymous" if row["anonymous"] else "Named"
    return str(row[key])


@pytest.mark.parametrize("group_by", [["category"], ["unit", "category"], ["month"], [],
                                      ["anonymous", "tertial"]])
def test_the_statistics_page_shows_the_apis_figures_for_the_same_filters(
        english, client, make, org, incidents, group_by):
    with freeze_time(NOW):
        for unit, employees in ((org.a1, 40), (org.a2, 20)):
            client.put(f"/api/v1/units/{unit.id}/headcounts/2026", json={"count": employees},
                       headers=make.headers(org.hr))
        english.sign_in(org.hr)
        page = english.get("/statistics", query_string={
            "period": "month", "month": "2026-02", "unit_id": org.dept_a.id,
            "group_by": group_by, "reports": "all"})
        assert page.status_code == 200, page.get_data(as_text=True)[:2000]
        api = _api(client, make, org.hr, "/api/v1/stats/incidents", **{
            "from": "2026-02-01", "to": "2026-02-28", "unit_id": org.dept_a.id,
            **({"group_by": ",".join(group_by)} if group_by else {})}).json
    shown = tables(page.get_data(as_text=True))["incidents-table"]
    body, foot = shown[1:-1], shown[-1]
    keys = api["filters"]["group_by"]
    assert len(body) == len(api["rows"])
    for row, expected in zip(body, api["rows"], strict=True):
        if keys:
            assert row[:len(keys)] == [_key_text(k, expected) for k in keys]
        assert as_number(row[-2]) == expected["count"]
        assert as_number(row[-1]) == expected["rate_per_100"]
        assert (row[-2] == "x") == bool(expected["suppressed"])
    assert as_number(foot[-2]) == api["totals"]["count"] == 17
    assert as_number(foot[-1]) == api["totals"]["rate_per_100"] == round(17 * 100 / 60, 2)


def test_suppressed_cells_are_marked_and_explained(english, org, incidents):
    with freeze_time(NOW):
        english.sign_in(org.hr)
        page = english.get("/statistics", query_string={
            "period": "month", "month": "2026-02", "unit_id": org.dept_a.id,
            "group_by": "category", "reports": "all"})
    html = page.get_data(as_text=True)
    rows = {r[0]: r[1] for r in tables(html)["incidents-table"][1:-1]}
    # violence (1) is below 5; harassment (6) would give it away through the total.
    assert rows == {"Harassment": "x", "Threat": "11", "Violence": "x",
                    "Property damage": "0", "Corruption": "0"}
    assert '<span class="mark-hidden" aria-hidden="true">x</span><span class="visually-hidden">' \
        'hidden</span>' in html
    assert ("x means hidden to protect the people involved: counts from 1 to 4 are hidden, and "
            "so is a second figure wherever a total would give the first away") in text_of(html)
    assert "counts once under each of its forms" in text_of(html)


FEBRUARY = {"period": "month", "month": "2026-02", "reports": "all"}
FEBRUARY_API = {"from": "2026-02-01", "to": "2026-02-28"}


def test_charts_and_downloads_are_the_apis_for_the_same_filters(english, client, make, org,
                                                                 incidents):
    query = {**FEBRUARY, "group_by": ["unit", "category"], "unit_id": org.forv.id}
    api_query = {**FEBRUARY_API, "group_by": "category,unit", "unit_id": org.forv.id,
                 "lang": "en"}
    with freeze_time(NOW):
        english.sign_in(org.hr)
        html = english.get("/statistics", query_string=query).get_data(as_text=True)
        for name in ("incidents-by-form", "police-reported-share"):
            src = re.search(rf'<img class="chart" src="([^"]*/{name}\.png[^"]*)" alt="([^"]+)"',
                            html)
            assert src, name
            assert "table below the chart" in src.group(2)  # the alt text names its table
            image = english.get(src.group(1).replace("&amp;", "&"))
            assert image.status_code == 200 and image.mimetype == "image/png"
            assert image.data[:8] == b"\x89PNG\r\n\x1a\n"
            from_api = _api(client, make, org.hr, f"/api/v1/stats/charts/{name}.png",
                            **{k: v for k, v in api_query.items() if k != "group_by"})
            assert image.data == from_api.data

        csv_link = re.search(r'href="([^"]*/statistics/incidents\.csv[^"]*)"', html).group(1)
        page_csv = english.get(csv_link.replace("&amp;", "&"))
        api_csv = _api(client, make, org.hr, "/api/v1/stats/incidents", format="csv",
                       **api_query)
        assert page_csv.mimetype == "text/csv" and page_csv.data == api_csv.data
        assert page_csv.headers["Content-Disposition"] == api_csv.headers["Content-Disposition"]
        rows = list(csv.reader(io.StringIO(page_csv.data.decode("utf-8-sig"))))
        assert rows[0] == ["Form", "Unit id", "Unit", "Count", "Per 100 employees",
                           "Suppressed"]

        xlsx_link = re.search(r'href="([^"]*/statistics/incidents\.xlsx[^"]*)"', html).group(1)
        page_xlsx = english.get(xlsx_link.replace("&amp;", "&"))
        api_xlsx = _api(client, make, org.hr, "/api/v1/stats/incidents", format="xlsx",
                        **api_query)
        assert page_xlsx.data[:2] == b"PK"

        def cells(data):
            book = openpyxl.load_workbook(io.BytesIO(data))
            return {sheet.title: [[c.value for c in row] for row in sheet.iter_rows()]
                    for sheet in book.worksheets}

        workbook = cells(page_xlsx.data)
        assert workbook == cells(api_xlsx.data)
        assert list(workbook) == ["Incidents", "About"]
        assert workbook["Incidents"][0][:3] == ["Form", "Unit id", "Unit"]

        for table in ("police", "support", "dark-figure"):
            link = re.search(rf'href="([^"]*/statistics/{table}\.xlsx[^"]*)"', html).group(1)
            download = english.get(link.replace("&amp;", "&"))
            assert download.status_code == 200 and download.data[:2] == b"PK", table
            openpyxl.load_workbook(io.BytesIO(download.data))


def test_police_support_and_dark_figure_are_the_apis(english, client, make, org, incidents):
    with freeze_time(NOW):
        english.sign_in(org.hr)
        html = english.get("/statistics", query_string={
            **FEBRUARY, "unit_id": org.forv.id, "group_by": "category"}).get_data(as_text=True)
        police = _api(client, make, org.hr, "/api/v1/stats/police", **FEBRUARY_API,
                      unit_id=org.forv.id, group_by="category").json
        support = _api(client, make, org.hr, "/api/v1/stats/support", **FEBRUARY_API,
                       unit_id=org.forv.id).json
        dark = _api(client, make, org.hr, "/api/v1/stats/dark-figure", **FEBRUARY_API,
                    unit_id=org.forv.id).json
    shown = tables(html)
    police_rows = shown["police-table"][1:]
    assert [r[0] for r in police_rows] == [r["category_label"] for r in police["rows"]]
    for row, expected in zip(police_rows, police["rows"], strict=True):
        assert as_number(row[1]) == expected["incidents"]
        assert as_number(row[2]) == expected["flagged"]
        assert as_number(row[4]) == expected["flagged_not_reported"]
    # Support has no form key, so it is one row, shown as figure | value.
    support_rows = dict(shown["support-table"][1:])
    assert as_number(support_rows["Incidents"]) == support["rows"][0]["incidents"] == 18
    assert as_number(support_rows["Support offered"]) == support["rows"][0]["support_offered"]
    # The dark figure: the police estimate's counts, and a paragraph for each estimate.
    text = text_of(html)
    assert dark["police"]["flagged"] == 12
    assert re.search(r"Flagged for a police report\s+12\b", text)
    assert "1. What employees say in the exposure survey" in text
    assert "2. Two registers compared" in text
    assert "3. Incidents that should have been reported to the police" in text
    assert "No closed exposure survey covers this part of the organisation" in text
    assert "No IA counts are entered" in text


def test_statistics_are_for_hr_and_for_managers_about_their_units(pages, other_pages, org,
                                                                   incidents):
    with freeze_time(NOW):
        for user in (org.employee_a1, org.admin):
            pages.sign_in(user)
            assert pages.get("/statistics").status_code == 403
            assert pages.get("/statistics/incidents.csv").status_code == 403
            assert pages.get("/statistics/charts/incidents-by-form.png").status_code == 403
        other_pages.sign_in(org.manager_a)
        own = other_pages.get("/statistics", query_string={**FEBRUARY, "group_by": "unit"})
        assert own.status_code == 200
        html = own.get_data(as_text=True)
        options = re.findall(r'<option value="(\d+)"', html.split('id="unit-id"')[1]
                             .split("</select>")[0])
        assert set(options) == {str(org.dept_a.id), str(org.a1.id), str(org.a2.id)}
        # Another unit is refused as the API refuses it; an unknown one is not found.
        assert other_pages.get("/statistics", query_string={
            **FEBRUARY, "unit_id": org.b1.id}).status_code == 403
        assert other_pages.get("/statistics", query_string={
            **FEBRUARY, "unit_id": 999999}).status_code == 404


def test_bad_filters_are_shown_on_the_form(english, org):
    english.sign_in(org.hr)
    page = english.get("/statistics", query_string={
        "period": "custom", "from": "2026-03-01", "to": "2026-01-01", "reports": "all"})
    assert page.status_code == 422
    html = page.get_data(as_text=True)
    assert 'href="#to"' in html
    assert "Enter the last day as a date on or after the first day" in html
    assert 'id="incidents-table"' not in html


# -- summaries ----------------------------------------------------------------------------------


def test_hr_makes_the_summaries_of_a_past_period_from_the_page(english, client, make, org,
                                                                db_session):
    with freeze_time(NOW):
        english.sign_in(org.hr)
        form = english.get("/summaries").get_data(as_text=True)
        assert 'value="monthly:2026-02"' in form and 'value="tertial:2025-T3"' in form
        assert 'value="monthly:2026-03"' not in form  # March has not ended
        made = english.post("/summaries", {"period": "monthly:2026-02"})
        assert made.status_code == 303
        assert made.headers["Location"] == "/summaries?kind=monthly&period=2026-02"
        listed = english.get(made.headers["Location"]).get_data(as_text=True)
        api = _api(client, make, org.hr, "/api/v1/summaries", kind="monthly",
                   period="2026-02").json
        assert {s["scope_name"] for s in api} == {"Staden", "Socialförvaltningen"}
        for summary in api:
            assert f'href="/summaries/{summary["id"]}"' in listed
            assert f'/summaries/{summary["id"]}/files/summary.sv.xlsx' in listed
        assert "2 summaries of 2026-02 were made." in listed
        # Made once: a second press keeps them as they were.
        again = english.post("/summaries", {"period": "monthly:2026-02"})
        assert again.status_code == 303
        assert "had been made already" in english.get(again.headers["Location"]).get_data(
            as_text=True)
        assert db_session.scalar(select(func.count()).select_from(Summary)) == 2
        # A period that has not ended is refused on the form, as the API refuses it.
        early = english.post("/summaries", {"period": "monthly:2026-03"})
        assert early.status_code == 422
        assert 'href="#summary-period"' in early.get_data(as_text=True)
        assert db_session.scalar(select(func.count()).select_from(Summary)) == 2


def test_summaries_are_listed_for_managers_and_made_by_hr_only(pages, other_pages, client,
                                                                make, org, db_session):
    with freeze_time(NOW):
        client.post("/api/v1/summaries", json={"kind": "monthly", "period": "2026-01",
                                               "unit_ids": [org.root.id, org.dept_b.id]},
                    headers=make.headers(org.hr))
        pages.sign_in(org.manager_b1)  # leads B1: below avdelning B, not above it
        listed = pages.get("/summaries")
        assert listed.status_code == 200
        assert 'id="summary-period"' not in listed.get_data(as_text=True)  # no button
        assert pages.post("/summaries", {"period": "monthly:2026-02"}).status_code == 403
        other_pages.sign_in(org.manager_a)
        assert other_pages.get("/summaries").status_code == 200
        other_pages.sign_in(org.employee_a1)
        assert other_pages.get("/summaries").status_code == 403
        assert db_session.scalar(select(func.count()).select_from(Summary)) == 2


# -- exposure surveys -------------------------------------------------------------------------


ANSWERS = {
    "harassment-exposed": "yes", "harassment-times": "3", "harassment-reported": "1",
    "threat-exposed": "yes", "threat-times": "1", "threat-reported": "1",
    "violence-exposed": "no", "property_damage-exposed": "no", "corruption-exposed": "no",
}


def _count(db_session, model) -> int:
    return db_session.scalar(select(func.count()).select_from(model))


def _make_survey(english, org) -> int:
    made = english.post("/surveys", {
        "title": "Exposure 2026", "unit_id": str(org.dept_a.id), "reference_months": "18",
        "opens_date": "2026-03-01", "opens_time": "08:00",
        "closes_date": "2026-03-31", "closes_time": "16:00"})
    assert made.status_code == 303, made.get_data(as_text=True)[:3000]
    return int(made.headers["Location"].rsplit("/", 1)[1])


def test_hr_sets_up_a_survey_and_an_employee_answers_it_once(english, participant, client,
                                                             make, org, db_session):
    other_pages = participant
    with freeze_time(NOW):
        english.sign_in(org.hr)
        survey_id = _make_survey(english, org)
        api = _api(client, make, org.hr, f"/api/v1/surveys/{survey_id}").json
        assert api["unit_ids"] == [org.dept_a.id] and api["status"] == "open"
        assert api["closes_at"] == "2026-03-31T14:00:00+00:00"  # 16:00 in Stockholm
        survey_page = english.get(f"/surveys/{survey_id}").get_data(as_text=True)
        assert f"/surveys/{survey_id}/answer</p>" in survey_page  # the link to share

        other_pages.sign_in(org.employee_a1)
        form = other_pages.get(f"/surveys/{survey_id}/answer")
        assert form.status_code == 200 and 'name="threat-times"' in form.get_data(as_text=True)
        audit_before = _count(db_session, AuditEntry)
        answered = other_pages.post(f"/surveys/{survey_id}/answer", ANSWERS)
        assert answered.status_code == 303 and answered.headers["Location"] == "/"
        assert _count(db_session, SurveyParticipation) == 1
        assert _count(db_session, SurveyResponse) == 1
        # Answering writes no audit entry: it would tie the person to the moment.
        assert _count(db_session, AuditEntry) == audit_before
        again = other_pages.post(f"/surveys/{survey_id}/answer", ANSWERS)
        assert again.status_code == 409
        assert "You have already answered this survey." in again.get_data(as_text=True)
        assert _count(db_session, SurveyResponse) == 1
        assert _api(client, make, org.hr, f"/api/v1/surveys/{survey_id}").json[
            "response_count"] == 1
        results = english.get(f"/surveys/{survey_id}").get_data(as_text=True)
        assert re.search(r'id="response-count">1<', results)
        assert [r[0] for r in tables(results)["survey-results"][1:]] == [
            "Harassment", "Threat", "Violence", "Property damage", "Corruption"]


def test_a_survey_answer_is_checked_as_the_api_checks_it(english, participant, org,
                                                         db_session):
    other_pages = participant
    with freeze_time(NOW):
        english.sign_in(org.hr)
        survey_id = _make_survey(english, org)
        other_pages.sign_in(org.colleague_a1)
        wrong = other_pages.post(f"/surveys/{survey_id}/answer", {
            **ANSWERS, "threat-times": "", "violence-exposed": "no", "violence-times": "2",
            "harassment-reported": "5"})
        assert wrong.status_code == 422
        html = wrong.get_data(as_text=True)
        assert 'href="#threat-times"' in html
        assert "Threat: enter how many times" in html
        assert _count(db_session, SurveyParticipation) == 0
        # The rules the service adds (reported ≤ times; 0 times when not exposed) too.
        wrong = other_pages.post(f"/surveys/{survey_id}/answer", {
            **ANSWERS, "violence-times": "2", "harassment-reported": "5"})
        assert wrong.status_code == 422
        html = wrong.get_data(as_text=True)
        assert 'href="#violence-times"' in html and 'href="#harassment-reported"' in html
        assert 'value="5"' in html  # what was typed is kept
        assert _count(db_session, SurveyResponse) == 0


def test_a_survey_is_answered_only_by_its_units_and_only_while_open(english, other_pages, org,
                                                                    db_session):
    with freeze_time(NOW) as clock:
        english.sign_in(org.hr)
        survey_id = _make_survey(english, org)
        for user in (org.employee_b1, org.admin):
            other_pages.sign_in(user)
            assert other_pages.get(f"/surveys/{survey_id}/answer").status_code == 403
            assert other_pages.post(f"/surveys/{survey_id}/answer", ANSWERS).status_code == 403
        other_pages.sign_in(org.employee_a1)
        assert other_pages.get("/surveys/999999/answer").status_code == 404
        clock.move_to(datetime(2026, 4, 1, tzinfo=UTC))
        other_pages.sign_in(org.employee_a1)
        closed = other_pages.get(f"/surveys/{survey_id}/answer").get_data(as_text=True)
        assert 'id="not-open"' in closed and 'name="threat-times"' not in closed
        assert other_pages.post(f"/surveys/{survey_id}/answer", ANSWERS).status_code == 409
        assert _count(db_session, SurveyParticipation) == 0
        assert other_pages.get("/surveys").status_code == 403  # the list is hr's


def test_the_session_keeps_nothing_of_a_survey_answer(english, other_pages, org, db_session):
    from incidents.models import WebSession

    with freeze_time(NOW):
        english.sign_in(org.hr)
        survey_id = _make_survey(english, org)
        other_pages.sign_in(org.employee_a1)
        other_pages.post(f"/surveys/{survey_id}/answer", {**ANSWERS, "threat-times": "777"})
        sessions = db_session.scalars(select(WebSession).where(
            WebSession.user_id == org.employee_a1.id)).all()
        assert sessions and all("777" not in s.data and "kept_form" not in s.data
                                for s in sessions)


# -- workshops ------------------------------------------------------------------------------


def _make_workshop(english, org, opens="09:00", closes="12:00", day="2026-03-10") -> int:
    made = english.post("/workshops", {
        "title": "Workshop Avdelning A", "held_on": day, "unit_id": str(org.dept_a.id),
        "expected_participants": "20", "opens_date": day, "opens_time": opens,
        "closes_date": day, "closes_time": closes})
    assert made.status_code == 303, made.get_data(as_text=True)[:3000]
    return int(made.headers["Location"].rsplit("/", 1)[1])


def _room_code(english, workshop_id: int) -> str:
    html = english.get(f"/workshops/{workshop_id}").get_data(as_text=True)
    link = re.search(r'id="short-link"[^>]* href="([^"]+)"', html).group(1)
    return link.rsplit("/w/", 1)[1]


def test_hr_sets_up_a_workshop_with_a_short_link_and_a_qr_code(english, client, make, org):
    with freeze_time(NOW):  # 10:30 in Stockholm
        english.sign_in(org.hr)
        workshop_id = _make_workshop(english, org)
        api = _api(client, make, org.hr, f"/api/v1/workshops/{workshop_id}").json
        assert api["status"] == "open" and api["unit_ids"] == [org.dept_a.id]
        assert api["opens_at"] == "2026-03-10T08:00:00+00:00"
        html = english.get(f"/workshops/{workshop_id}").get_data(as_text=True)
        count = english.get(f"/workshops/{workshop_id}/count").json
    assert count == {"rating_count": 0, "status": "open"}
    link = re.search(r'id="short-link"[^>]* href="([^"]+)"', html).group(1)
    # The short link carries the workshop's random code, not its id: not found by counting.
    assert link.endswith(f"/w/{api['room_code']}") and re.fullmatch(r"[0-9a-z]{6}",
                                                                     api["room_code"])
    qr = re.search(r'<img class="qr-code" id="qr-code" src="([^"]+)"[^>]* alt="([^"]+)"', html)
    assert qr.group(1).startswith("data:image/svg+xml")  # drawn here, shown without a request
    assert qr.group(1).replace("&amp;", "&") == qr_code(link)  # the QR code holds the link
    assert link.split("://", 1)[1] in qr.group(2)
    assert re.search(r'id="rating-count" data-count-url="[^"]+">0<', html)


def test_in_the_room_a_device_rates_without_an_account_once_and_only_while_open(
        english, app, client, make, org, db_session):
    """The problem's size first, the usefulness at the end, from a device that never signs in;
    a second rating from the same device is refused, another device rates; nothing is audited
    and nothing ties a rating to anyone."""
    from tests.pages.conftest import Pages

    phone, other_phone = Pages(app.test_client()), Pages(app.test_client())
    with freeze_time(NOW) as clock:
        english.sign_in(org.hr)
        workshop_id = _make_workshop(english, org, opens="11:00", closes="12:00")
        code = _room_code(english, workshop_id)
        phone.get("/language/en?next=/")
        early = phone.get(f"/w/{code}")
        assert early.status_code == 200 and 'id="not-open"' in early.get_data(as_text=True)
        cookie = early.headers["Set-Cookie"]  # the device's token: only for /w/, not scripts
        assert "op_device=" in cookie and "Path=/w/" in cookie and "HttpOnly" in cookie
        assert "op_session" not in cookie  # no session
        phone.get("/anonymous/report")  # a form token: the early page has no form
        assert phone.post(f"/w/{code}", {"problem_size": "5"}).status_code == 409
        assert _count(db_session, WorkshopRating) == 0

        clock.move_to(datetime(2026, 3, 10, 10, 15, tzinfo=UTC))  # 11:15 in Stockholm
        form = phone.get(f"/w/{code}")
        assert "Set-Cookie" not in form.headers  # the device keeps its token
        html = form.get_data(as_text=True)
        assert 'name="problem_size"' in html and 'name="usefulness"' not in html
        assert "sign in" not in text_of(html).lower().replace("do not need to sign in", "")
        audit_before = _count(db_session, AuditEntry)
        rated = phone.post(f"/w/{code}", {"problem_size": "5", "group": "Grupp 3"})
        assert rated.status_code == 303 and rated.headers["Location"] == f"/w/{code}#next"
        after = phone.get(f"/w/{code}").get_data(as_text=True)
        assert 'id="problem-saved"' in after and 'name="usefulness"' in after
        assert 'name="problem_size"' not in after
        again = phone.post(f"/w/{code}", {"problem_size": "2"})
        assert again.status_code == 409
        assert "already been rated from this phone or computer" in again.get_data(as_text=True)

        useful = phone.post(f"/w/{code}/usefulness", {"usefulness": "4"})
        assert useful.status_code == 303
        assert 'id="rating-saved"' in phone.get(f"/w/{code}").get_data(as_text=True)
        assert phone.post(f"/w/{code}/usefulness", {"usefulness": "1"}).status_code == 409

        # Another device: usefulness before the problem's size is refused, then it rates.
        other_phone.get("/language/en?next=/")
        other_phone.get(f"/w/{code}")
        assert other_phone.post(f"/w/{code}/usefulness", {"usefulness": "2"}).status_code == 409
        assert other_phone.post(f"/w/{code}", {"problem_size": "7"}).status_code == 303

        ratings = db_session.scalars(select(WorkshopRating)).all()
        assert sorted((r.problem_size, r.usefulness, r.group_label) for r in ratings) == [
            (5, 4, "Grupp 3"), (7, None, None)]
        assert _count(db_session, AuditEntry) == audit_before  # not audited
        assert _count(db_session, WorkshopParticipation) == 0  # no person took part
        devices = db_session.scalars(select(WorkshopDevice)).all()
        tokens = [phone.client.get_cookie("op_device", path="/w/").value]
        assert len(devices) == 2 and all(d.device_key not in tokens and len(d.device_key) == 64
                                         for d in devices)
        count = _api(client, make, org.hr, f"/api/v1/workshops/{workshop_id}").json[
            "rating_count"]
        assert count == 2
        english.sign_in(org.hr)  # the clock moved past the idle timeout
        assert english.get(f"/workshops/{workshop_id}/count").json["rating_count"] == 2

        clock.move_to(datetime(2026, 3, 10, 11, 0, tzinfo=UTC))  # 12:00: closed
        late = Pages(app.test_client())
        late.get("/language/en?next=/")
        closed = late.get(f"/w/{code}").get_data(as_text=True)
        assert 'id="not-open"' in closed and "Rating closed" in closed
        late.get("/anonymous/report")
        assert late.post(f"/w/{code}", {"problem_size": "5"}).status_code == 409
        assert _count(db_session, WorkshopRating) == 2


def test_a_room_rating_is_checked_and_needs_the_device_cookie(english, app, org, db_session):
    from tests.pages.conftest import Pages

    with freeze_time(NOW):
        english.sign_in(org.hr)
        workshop_id = _make_workshop(english, org)
        code = _room_code(english, workshop_id)
        phone = Pages(app.test_client())
        phone.get("/language/en?next=/")
        phone.get(f"/w/{code}")
        wrong = phone.post(f"/w/{code}", {"problem_size": "9", "group": "x" * 51})
        assert wrong.status_code == 422
        html = wrong.get_data(as_text=True)
        assert 'href="#problem-size-1"' in html and 'href="#group"' in html
        assert phone.post(f"/w/{code}/usefulness", {}).status_code == 422

        # A browser that keeps no cookie could rate again and again: it is told, not counted.
        phone.client.delete_cookie("op_device", path="/w/")
        refused = phone.post(f"/w/{code}", {"problem_size": "3"})
        assert refused.status_code == 400
        assert "Allow cookies for this site" in refused.get_data(as_text=True)
        # Without this site's form (no form token, another origin) nothing is taken.
        phone.get(f"/w/{code}")
        assert phone.post(f"/w/{code}", {"problem_size": "3"}, token=False).status_code == 400
        assert phone.post(f"/w/{code}", {"problem_size": "3"},
                          origin="https://evil.example").status_code == 400
        assert _count(db_session, WorkshopRating) == 0
        assert phone.get(f"/w/{workshop_id}").status_code in {404}  # the id is not the code
        assert english.get("/workshops/999999/count").status_code == 404


def test_the_count_and_the_projector_page_are_hrs(pages, other_pages, org):
    with freeze_time(NOW):
        pages.sign_in(org.hr)
        pages.get("/language/en?next=/")
        workshop_id = _make_workshop(pages, org)
        for user in (org.employee_a1, org.manager_a, org.admin):
            other_pages.sign_in(user)
            assert other_pages.get(f"/workshops/{workshop_id}").status_code == 403
            assert other_pages.get(f"/workshops/{workshop_id}/count").status_code == 403


def test_a_paper_tally_is_added_and_the_summary_is_the_apis(english, participant, client, make,
                                                            org):
    with freeze_time(NOW):
        english.sign_in(org.hr)
        workshop_id = _make_workshop(english, org)
        code = _room_code(english, workshop_id)
        participant.get(f"/w/{code}")
        assert participant.post(f"/w/{code}", {"problem_size": "2"}).status_code == 303
        assert participant.post(f"/w/{code}/usefulness", {"usefulness": "5"}).status_code == 303
        added = english.post(f"/workshops/{workshop_id}/tally", {
            "problem_size-2": "4", "problem_size-3": "6", "problem_size-4": "7",
            "problem_size-6": "5", "usefulness-3": "5", "usefulness-4": "11",
            "usefulness-5": "4"})
        assert added.status_code == 303
        html = english.get(added.headers["Location"]).get_data(as_text=True)
        assert "Added 22 problem-size ratings and 20 usefulness ratings." in html
        api = _api(client, make, org.hr, f"/api/v1/workshops/{workshop_id}/summary").json
    shown = tables(html)
    assert api["n"] == 23
    groups = {r[0]: as_number(r[1]) for r in shown["live-groups"][1:]}
    assert groups == {"2 or less": api["grouped"]["1-2"], "3–5": api["grouped"]["3-5"],
                      "6–7": api["grouped"]["6-7"]} == {"2 or less": 21.7, "3–5": 56.5,
                                                         "6–7": 21.7}
    distribution = [as_number(r[1]) for r in shown["live-distribution"][1:]]
    assert distribution == [api["distribution"][str(v)] for v in range(1, 8)]
    assert re.search(r'id="live-n">23<', html)
    assert re.search(r'id="rating-count"[^>]*>1<', html)  # given in the service; tallies apart


def test_a_wrong_tally_is_shown_on_the_form_and_adds_nothing(english, org, db_session):
    from incidents.models import WorkshopTally

    with freeze_time(NOW):
        english.sign_in(org.hr)
        workshop_id = _make_workshop(english, org)
        wrong = english.post(f"/workshops/{workshop_id}/tally", {"problem_size-3": "many"})
        assert wrong.status_code == 422
        html = wrong.get_data(as_text=True)
        assert 'href="#tally-problem_size-3"' in html and 'value="many"' in html
        empty = english.post(f"/workshops/{workshop_id}/tally", {"problem_size-3": "0"})
        assert empty.status_code == 422
        assert _count(db_session, WorkshopTally) == 0


def test_a_closed_workshops_stored_summary_shows_its_figures(english, make, org, db_session):
    from incidents.services import summaries as summary_service
    from incidents.services import workshops as workshop_service

    with freeze_time(NOW):
        english.sign_in(org.hr)
        workshop_id = _make_workshop(english, org, opens="08:00", closes="09:00")
        workshop_service.add_tally(org.hr, workshop_id, {
            "problem_size": {2: 5, 3: 6, 4: 9, 5: 7, 6: 5, 7: 5}})
        made = summary_service.summarise_closed_workshops(NOW)
        db_session.commit()
        assert [s.scope for s in made] == [f"workshop:{workshop_id}"]
        page = english.get(f"/summaries/{made[0].id}")
    assert page.status_code == 200
    groups = {r[0]: r[1] for r in tables(page.get_data(as_text=True))["stored-groups"][1:]}
    assert groups == {"2 or less": "13.5 %", "3–5": "59.5 %", "6–7": "27.0 %"}
