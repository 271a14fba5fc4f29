"""Retention (gallring): closed incidents are anonymised once RETENTION_AFTER_CLOSE_DAYS have
passed since they were closed (docs/configuration.md, "Retention"). Retention is decided by each
organisation's information-management plan, so the period is a setting without a default, and
with none set nothing is anonymised.

Anonymising removes what tells what happened in words and who it happened to, and keeps what
the statistics count, so every statistics table gives the same figures afterwards:

removed
    - the description (NOT NULL: replaced by ``MARKER``);
    - every other free text written about the case: the reasons of status changes, follow-up
      notes, support providers and notes, the note of declined support, check-in notes, the
      employee's comment on the support, the reason of the police decision and of outcomes.
      Text that was written is replaced by ``MARKER`` (so a reader sees that something was
      recorded and removed, e.g. the reason a decision not to report needs); NULL stays NULL;
    - the reference numbers that lead to the person in another register: the police case
      number, Arbetsmiljöverket's and Försäkringskassan's references and the reference in the
      general incident system (IA). They are replaced by ``MARKER`` too, so the dark-figure
      estimate, which counts incidents *with* an IA reference, is unchanged;
    - the reporter and the colleague reported for (``reporter_id``, ``on_behalf_of_id``), and
      the exposed employee as the one who evaluated the support (``evaluated_by_id``);
    - the actor of every audit entry about the incident: the trail keeps what was done and
      when, not by whom (the reporter's own "create" and the exposed employee's reads would
      name them). The database lets exactly this UPDATE through its append-only guard;
    - the message thread, an anonymous report's receipt (nobody can sign in to it any more)
      and the notification mails about the incident (they hold addresses).

kept
    - forms and sub-type, unit, when it occurred, was reported, acknowledged and closed, the
      status and its history, the police flag, decision, filing (by whom: employee or employer,
      which address) and outcome codes with their dates, the support measures' types, dates and
      answers, the check-ins' due and completion times, the evaluation's scale values, the
      anonymous flag, the yes/no facts of the report (injured, sick leave, family targeted,
      reported in IA) and the closed vocabularies (location, perpetrator, channel, matter);
    - the links to the officials who handled the case (who acknowledged, documented, offered
      support, decided, recorded): they acted in their office, and the record of who did what
      in the authority's handling stays accountable; none of them is the exposed employee,
      because nobody handles their own case (services/case_access.py);
    - the audit trail's actions, times and details (details never hold incident content).

One audit entry with no actor records each anonymisation.

An incident already anonymised is skipped, unless it was reopened and closed again since: then
what was written after the reopening is anonymised when the new closing is old enough. A
reopened incident is not closed, so it is not touched. Incidents are handled in batches of
``BATCH_SIZE`` by set-based UPDATE and DELETE statements, so memory stays bounded whatever the
backlog; running again changes nothing and returns 0.

The caller commits: everything is flushed into the session's transaction (the scheduler job
commits once after the call, or rolls everything back on an error).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import (
    ColumnElement,
    and_,
    case,
    delete,
    func,
    insert,
    inspect,
    or_,
    select,
    update,
)

from incidents.domain import AuditAction, AuditOutcome, IncidentStatus
from incidents.extensions import db
from incidents.models import (
    AnonymousReceipt,
    AuditEntry,
    AuthorityReport,
    CheckIn,
    FollowUpEntry,
    Incident,
    Message,
    OutboxMail,
    PoliceOutcomeEntry,
    PoliceReport,
    StatusChange,
    SupportDecline,
    SupportEvaluation,
    SupportMeasure,
)

MARKER = "[gallrad / removed by retention]"
BATCH_SIZE = 500
AUDIT_DETAIL = "anonymised by retention (gallring)"

# Every free-text or reference column of an incident's records, by model. Each is replaced by
# MARKER where it holds text; tests/services/test_retention.py checks that no Text or String
# column outside these lists and the closed vocabularies is left unnoticed.
FREE_TEXT = {
    Incident: ("description", "ia_reference"),
    StatusChange: ("reason",),
    FollowUpEntry: ("note",),
    SupportMeasure: ("provider", "note"),
    SupportDecline: ("note",),
    CheckIn: ("note",),
    SupportEvaluation: ("comment",),
    PoliceReport: ("decision_reason", "police_reference"),
    PoliceOutcomeEntry: ("reason",),
    AuthorityReport: ("work_environment_authority_reference", "work_injury_report_reference"),
}
# Links to the people of the case (not to the officials who handled it): cleared.
UNLINKED = {
    Incident: {"reporter_id": None, "on_behalf_of_id": None},
    SupportEvaluation: {"evaluated_by_id": None},
}
# Rows that only the people of the case could read, or that hold addresses: deleted.
DELETED = (Message, AnonymousReceipt, OutboxMail)


def retention_days() -> int | None:
    """The retention period in effect when the job runs (services/settings.py: changed in the
    service, else RETENTION_AFTER_CLOSE_DAYS from the environment); None: not set."""
    from incidents.services import settings

    return settings.value("RETENTION_AFTER_CLOSE_DAYS")


def _due(cutoff: datetime) -> ColumnElement[bool]:
    """Closed before the cutoff, and not anonymised since that closing."""
    return and_(
        Incident.status == IncidentStatus.CLOSED.value,
        Incident.closed_at.is_not(None),
        Incident.closed_at < cutoff,
        or_(Incident.anonymised_at.is_(None), Incident.anonymised_at < Incident.closed_at),
    )


def anonymise_closed(now: datetime, batch_size: int = BATCH_SIZE) -> int:
    """Anonymise the incidents closed more than RETENTION_AFTER_CLOSE_DAYS before ``now``;
    returns how many. With no period set, nothing is anonymised (0). Flushes; the caller
    commits."""
    days = retention_days()
    if days is None:
        return 0
    cutoff = now - timedelta(days=days)
    done = 0
    last_id = 0
    while True:
        ids = db.session.scalars(
            select(Incident.id)
            .where(_due(cutoff), Incident.id > last_id)
            .order_by(Incident.id)
            .limit(batch_size)
        ).all()
        if not ids:
            return done
        _anonymise(ids, now, days)
        done += len(ids)
        last_id = ids[-1]


def _has_text(column) -> ColumnElement[bool]:
    return func.coalesce(func.trim(column), "") != ""


def _redacted(column):
    """MARKER where the column holds text; NULL and blank stay as they are."""
    return case((_has_text(column), MARKER), else_=column)


def _anonymise(ids: Sequence[int], now: datetime, days: int) -> None:
    for model, columns in FREE_TEXT.items():
        values = {name: _redacted(getattr(model, name)) for name in columns}
        values.update(UNLINKED.get(model, {}))
        if model is Incident:
            values["anonymised_at"] = now
        if "version" in model.__table__.columns:
            # The content changed, so the ETag a client holds no longer matches.
            values["version"] = model.version + 1
        if "updated_at" in model.__table__.columns:
            values["updated_at"] = now
        key = model.id if model is Incident else model.incident_id
        db.session.execute(
            update(model).where(key.in_(ids)).values(**values),
            execution_options={"synchronize_session": False},
        )
    for model in DELETED:
        db.session.execute(
            delete(model).where(model.incident_id.in_(ids)),
            execution_options={"synchronize_session": False},
        )
    # The trail keeps what was done and when, not by whom: the reporter's own "create" and
    # the exposed employee's reads would name them. The database allows exactly this UPDATE
    # of the otherwise append-only trail, and only on an anonymised incident's entries; the
    # hash chain keeps the actor's salted commitment, which leads back to nobody without the
    # salt removed here (services/audit_chain.py).
    db.session.execute(
        update(AuditEntry)
        .where(AuditEntry.incident_id.in_(ids), AuditEntry.actor_id.is_not(None))
        .values(actor_id=None, actor_salt=None),
        execution_options={"synchronize_session": False},
    )
    db.session.execute(
        insert(AuditEntry),
        [
            {
                "at": now,
                "actor_id": None,
                "action": AuditAction.UPDATE.value,
                "incident_id": incident_id,
                "outcome": AuditOutcome.OK.value,
                "detail": f"{AUDIT_DETAIL}: {days} days after closing",
            }
            for incident_id in ids
        ],
    )
    # Objects of these incidents already in the session were changed behind its back.
    _expire_loaded(ids)


def _expire_loaded(ids: Sequence[int]) -> None:
    """Loaded objects of these incidents: changed ones are expired (read again on next use),
    deleted ones leave the session. Only what is already loaded is looked at (no SQL)."""
    wanted = set(ids)
    for obj in list(db.session.identity_map.values()):
        if type(obj) not in (*FREE_TEXT, *DELETED):
            continue
        loaded = inspect(obj).dict
        incident_id = loaded.get("id" if isinstance(obj, Incident) else "incident_id")
        if incident_id not in wanted or obj in db.session.dirty:
            continue  # not ours, or the caller's own pending change: not ours to discard
        if isinstance(obj, DELETED):
            db.session.expunge(obj)
        else:
            db.session.expire(obj)
