"""Police-report statistics per form and unit (docs/statistics.md).

Per row: incidents; flagged for reporting (police flag required or recommended) and flagged for
consideration; decisions made; reported (decision: report); filed, and filed by the employer;
the share reported (of all incidents, and of those flagged); the share filed by the employer (of
those filed); the median days from the incident to the filing; the latest outcome of each
report; and the police dark figure: incidents flagged for reporting that were not reported.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import and_, func, select

from incidents.domain import FiledBy, PoliceDecision, PoliceFlag, PoliceOutcome
from incidents.extensions import db
from incidents.models import Incident, PoliceOutcomeEntry, PoliceReport, User
from incidents.stats import measures, pd
from incidents.stats.incidents import MULTI_FORM_NOTE, StatsTable

FLAGGED = (PoliceFlag.REQUIRED.value, PoliceFlag.RECOMMENDED.value)
COUNTS = [
    "incidents", "flagged", "flagged_for_consideration", "decided", "reported", "filed",
    "filed_by_employer", "flagged_not_reported",
]
OUTCOMES = [o.value for o in PoliceOutcome]


def _days_to_filing():
    return measures.whole_days(PoliceReport.filed_at, Incident.occurred_at)


def _latest_outcome():
    latest = (
        select(PoliceOutcomeEntry.incident_id, func.max(PoliceOutcomeEntry.id).label("id"))
        .group_by(PoliceOutcomeEntry.incident_id)
        .subquery()
    )
    return (
        select(PoliceOutcomeEntry.incident_id, PoliceOutcomeEntry.outcome)
        .join(latest, latest.c.id == PoliceOutcomeEntry.id)
        .subquery()
    )


def police_table(user: User, params: dict[str, Any]) -> StatsTable:
    selection, keys, unsuppressed = measures.prepare(user, params, "police")
    outcome = _latest_outcome()
    flagged = Incident.police_flag.in_(FLAGGED)
    reported = PoliceReport.decision == PoliceDecision.REPORT.value
    counts = [
        measures.counted(Incident.id.is_not(None), "incidents"),
        measures.counted(flagged, "flagged"),
        measures.counted(Incident.police_flag == PoliceFlag.CONSIDER.value,
                         "flagged_for_consideration"),
        measures.counted(PoliceReport.decision.is_not(None), "decided"),
        measures.counted(reported, "reported"),
        measures.counted(PoliceReport.filed_at.is_not(None), "filed"),
        measures.counted(and_(PoliceReport.filed_at.is_not(None),
                              PoliceReport.filed_by == FiledBy.EMPLOYER.value),
                         "filed_by_employer"),
        measures.counted(and_(flagged, func.coalesce(PoliceReport.decision, "") !=
                              PoliceDecision.REPORT.value), "flagged_not_reported"),
        *[measures.counted(outcome.c.outcome == code, f"outcome_{code}") for code in OUTCOMES],
    ]
    joins = [(PoliceReport, PoliceReport.incident_id == Incident.id),
             (outcome, outcome.c.incident_id == Incident.id)]
    query = measures.base_query(selection, params, keys, counts, joins)
    sums = COUNTS + [f"outcome_{code}" for code in OUTCOMES]
    rows = db.session.execute(query).all()
    frame = pd.DataFrame(rows, columns=["month", "leaf_unit_id", *(["category"]
                         if "category" in keys else []), *sums])
    folded = (measures.empty(keys, sums) if frame.empty
              else measures.fold(frame, selection, keys, sums))
    medians = _median_days(selection, params, keys)
    folded["median_days_to_filing"] = [
        medians.get(tuple(row[k] for k in keys)) for _, row in folded.iterrows()
    ]
    # Every incident carries exactly one police flag, so incidents = flagged + consider.
    frame, hidden = measures.suppress_columns(
        folded, keys, sums, unsuppressed,
        row_totals=(("incidents", ("flagged", "flagged_for_consideration")),),
    )
    frame["share_reported"] = [measures.share(r, n) for r, n in
                               zip(frame["reported"], frame["incidents"], strict=True)]
    frame["share_of_flagged_reported"] = [
        measures.share(None if f is None or nr is None else f - nr, f)
        for f, nr in zip(frame["flagged"], frame["flagged_not_reported"], strict=True)
    ]
    frame["share_filed_by_employer"] = [measures.share(e, f) for e, f in
                                        zip(frame["filed_by_employer"], frame["filed"],
                                            strict=True)]
    # A median over fewer filings than the threshold describes too few reports to publish.
    frame["median_days_to_filing"] = [
        None if f is None else m for m, f in zip(frame["median_days_to_filing"], frame["filed"],
                                                 strict=True)
    ]
    notes = [
        "flagged: police flag required or recommended (threats, violence, property damage, "
        "corruption); flagged_for_consideration: harassment.",
        "flagged_not_reported is the police dark figure: incidents flagged for reporting with "
        "no decision to report.",
        "outcome_*: the latest recorded outcome of each report.",
    ]
    if "category" in keys:
        notes.insert(0, MULTI_FORM_NOTE)
    return StatsTable(
        name="police",
        filters={"from": params["from"].isoformat(), "to": params["to"].isoformat(),
                 "units": selection.describe(), "group_by": keys,
                 "_unit_names": selection.tree.name},
        keys=keys,
        rows=frame,
        values=[*COUNTS, "share_reported", "share_of_flagged_reported",
                "share_filed_by_employer", "median_days_to_filing",
                *[f"outcome_{code}" for code in OUTCOMES]],
        totals={},
        suppression=measures.suppression_block(unsuppressed, hidden),
        notes=notes,
    )


def _median_days(selection, params, keys) -> dict[tuple, float]:
    days = _days_to_filing().label("days")
    query = measures.base_query(
        selection, params, keys, [days, measures.counted(Incident.id.is_not(None), "n")],
        joins=[(PoliceReport, PoliceReport.incident_id == Incident.id)],
    ).where(PoliceReport.filed_at.is_not(None)).group_by(days)
    return measures.medians_of_days(query, selection, keys)
