"""Support outcomes (docs/statistics.md): whether exposed staff got enough support, in time.

Per row (optionally per unit and period), over the named incidents of the period — an anonymous
report has nobody known to support, so it is left out and the notes say so:

- support offered, accepted and delivered (incidents with at least one such measure), and each
  of these per support type;
- support declined, and the median days from the incident to the first offer;
- the employees' evaluations: sufficient and relevant (yes / partly / no) and the mean of
  "felt supported by the employer" (1–5);
- timeliness: acknowledged within ACKNOWLEDGE_WITHIN_HOURS of the report, check-ins completed by
  their due time (of those due by now), police decisions within POLICE_DECISION_DAYS of the report
  (of the incidents flagged required or recommended).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import Float, and_, case, cast, func, or_, select, true

from incidents.clock import utcnow
from incidents.domain import PoliceFlag, Rating3, SupportType
from incidents.extensions import db
from incidents.models import (
    CheckIn,
    Incident,
    PoliceReport,
    SupportDecline,
    SupportEvaluation,
    SupportMeasure,
    User,
)
from incidents.services import settings
from incidents.stats import measures, pd
from incidents.stats.incidents import StatsTable

KEYS = ("unit", "month", "tertial", "year")
TYPES = [t.value for t in SupportType]
RATINGS = [r.value for r in Rating3]


def _per_incident(now):
    """Each incident's support measures, declines and check-ins folded to one row each, for
    the table to join once. (Probing them per incident, with a subquery per column, cost
    seconds per table on a tertial of 100,000 incidents.)"""

    def flag(name: str, *conditions):
        return func.max(case((and_(*conditions), 1), else_=0)).label(name)

    delivered = SupportMeasure.delivered_at.is_not(None)
    accepted = SupportMeasure.accepted.is_(True)
    flags = [flag("offered", true()), flag("accepted", accepted),
             flag("delivered", delivered)]
    for support_type in TYPES:
        of_type = SupportMeasure.type == support_type
        flags += [flag(f"{support_type}_offered", of_type),
                  flag(f"{support_type}_accepted", of_type, accepted),
                  flag(f"{support_type}_delivered", of_type, delivered)]
    support = (select(SupportMeasure.incident_id, *flags)
               .group_by(SupportMeasure.incident_id).subquery("support"))
    due = CheckIn.due_at <= now
    check_ins = (
        select(
            CheckIn.incident_id,
            func.sum(case((due, 1), else_=0)).label("due"),
            func.sum(case((and_(due, CheckIn.completed_at.is_not(None),
                                CheckIn.completed_at <= CheckIn.due_at), 1), else_=0))
            .label("on_time"),
        ).group_by(CheckIn.incident_id).subquery("check_ins")
    )
    declined = select(SupportDecline.incident_id).distinct().subquery("declined")
    return support, check_ins, declined


def _measures(now, support, check_ins, declined):
    counted = measures.counted
    flagged = Incident.police_flag.in_((PoliceFlag.REQUIRED.value, PoliceFlag.RECOMMENDED.value))
    columns = [
        counted(Incident.id.is_not(None), "incidents"),
        counted(support.c.offered == 1, "support_offered"),
        counted(support.c.accepted == 1, "support_accepted"),
        counted(support.c.delivered == 1, "support_delivered"),
        counted(declined.c.incident_id.is_not(None), "support_declined"),
        counted(SupportEvaluation.incident_id.is_not(None), "evaluations"),
        *[counted(SupportEvaluation.sufficient == r, f"sufficient_{r}") for r in RATINGS],
        *[counted(SupportEvaluation.relevant == r, f"relevant_{r}") for r in RATINGS],
        func.coalesce(func.sum(cast(SupportEvaluation.felt_supported_by_employer, Float)), 0)
        .label("felt_supported_sum"),
        counted(Incident.acknowledged_at.is_not(None), "acknowledged"),
        counted(and_(Incident.acknowledged_at.is_not(None),
                     measures.hours_between(Incident.acknowledged_at, Incident.created_at)
                     <= settings.value("ACKNOWLEDGE_WITHIN_HOURS")), "acknowledged_on_time"),
        func.coalesce(func.sum(check_ins.c.due), 0).label("check_ins_due"),
        func.coalesce(func.sum(check_ins.c.on_time), 0).label("check_ins_on_time"),
        # Due: decided already, or past the deadline by now (like check-ins due by now).
        counted(and_(flagged, or_(PoliceReport.decided_at.is_not(None),
                                  Incident.created_at <= now - timedelta(
                                      days=settings.value("POLICE_DECISION_DAYS")))),
                "police_decisions_due"),
        counted(and_(flagged, PoliceReport.decided_at.is_not(None),
                     measures.hours_between(PoliceReport.decided_at, Incident.created_at)
                     <= settings.value("POLICE_DECISION_DAYS") * 24), "police_decisions_on_time"),
    ]
    for support_type in TYPES:
        columns += [
            counted(support.c[f"{support_type}_{what}"] == 1, f"{support_type}_{what}")
            for what in ("offered", "accepted", "delivered")
        ]
    return columns


COUNTS = [
    "incidents", "support_offered", "support_accepted", "support_delivered", "support_declined",
    "evaluations", *[f"sufficient_{r}" for r in RATINGS], *[f"relevant_{r}" for r in RATINGS],
    "acknowledged", "acknowledged_on_time", "check_ins_due", "check_ins_on_time",
    "police_decisions_due", "police_decisions_on_time",
    *[f"{t}_{what}" for t in TYPES for what in ("offered", "accepted", "delivered")],
]
SHARES = {
    "share_support_offered": ("support_offered", "incidents"),
    "share_support_accepted": ("support_accepted", "support_offered"),
    "share_support_delivered": ("support_delivered", "support_offered"),
    "share_acknowledged_on_time": ("acknowledged_on_time", "incidents"),
    "share_check_ins_on_time": ("check_ins_on_time", "check_ins_due"),
    "share_police_decisions_on_time": ("police_decisions_on_time", "police_decisions_due"),
}


def support_table(user: User, params: dict[str, Any]) -> StatsTable:
    selection, keys, unsuppressed = measures.prepare(
        user, {**params, "group_by": [k for k in params.get("group_by", []) if k in KEYS]},
        "support",
    )
    now = utcnow()
    support, check_ins, declined = _per_incident(now)
    query = measures.base_query(
        selection, params, keys, _measures(now, support, check_ins, declined),
        joins=[(SupportEvaluation, SupportEvaluation.incident_id == Incident.id),
               (PoliceReport, PoliceReport.incident_id == Incident.id),
               (support, support.c.incident_id == Incident.id),
               (check_ins, check_ins.c.incident_id == Incident.id),
               (declined, declined.c.incident_id == Incident.id)],
    ).where(Incident.anonymous.is_(False))
    sums = [*COUNTS[:12], "felt_supported_sum", *COUNTS[12:]]
    rows = db.session.execute(query).all()
    frame = pd.DataFrame(rows, columns=["month", "leaf_unit_id", *sums])
    folded = (measures.empty(keys, sums) if frame.empty
              else measures.fold(frame, selection, keys, sums,
                                 fractions=("felt_supported_sum",)))
    medians = _median_days_to_first_support(selection, params, keys)
    folded["median_days_to_first_support"] = [
        medians.get(tuple(row[k] for k in keys)) for _, row in folded.iterrows()
    ]
    # Each evaluation answers both questions: evaluations = Σ sufficient_* = Σ relevant_*.
    result, hidden = measures.suppress_columns(
        folded, keys, COUNTS, unsuppressed,
        row_totals=(("evaluations", tuple(f"sufficient_{r}" for r in RATINGS)),
                    ("evaluations", tuple(f"relevant_{r}" for r in RATINGS))),
    )
    for name, (numerator, denominator) in SHARES.items():
        result[name] = [measures.share(n, d) for n, d in
                        zip(result[numerator], result[denominator], strict=True)]
    result["felt_supported_mean"] = [
        None if n is None or not n else round(float(total) / n, 2)
        for total, n in zip(result["felt_supported_sum"], result["evaluations"], strict=True)
    ]
    result["median_days_to_first_support"] = [
        None if offered is None else m
        for m, offered in zip(result["median_days_to_first_support"],
                              result["support_offered"], strict=True)
    ]
    return StatsTable(
        name="support",
        filters={"from": params["from"].isoformat(), "to": params["to"].isoformat(),
                 "units": selection.describe(), "group_by": keys,
                 "_unit_names": selection.tree.name},
        keys=keys,
        rows=result.drop(columns=["felt_supported_sum"]),
        values=[*COUNTS, *SHARES, "felt_supported_mean", "median_days_to_first_support"],
        totals={},
        suppression=measures.suppression_block(unsuppressed, hidden),
        notes=[
            "Named incidents only: an anonymous report has nobody known to offer support to.",
            "support_offered, _accepted and _delivered count incidents with at least one such "
            "measure; the same per support type (<type>_offered …).",
            "Timeliness: acknowledged within ACKNOWLEDGE_WITHIN_HOURS of the report; check-ins "
            "completed by their due time, of those due by now; police decisions within "
            "POLICE_DECISION_DAYS of the report, of incidents flagged required or recommended that "
            "were decided or were past that deadline by now.",
        ],
    )


def _median_days_to_first_support(selection, params, keys) -> dict[tuple, float]:
    first = (
        select(SupportMeasure.incident_id, func.min(SupportMeasure.offered_at).label("first"))
        .group_by(SupportMeasure.incident_id)
        .subquery()
    )
    days = measures.whole_days(first.c.first, Incident.occurred_at).label("days")
    query = measures.base_query(
        selection, params, keys, [days, measures.counted(Incident.id.is_not(None), "n")],
    ).join(first, first.c.incident_id == Incident.id).where(
        Incident.anonymous.is_(False)).group_by(days)
    return measures.medians_of_days(query, selection, keys)
