"""Retention (gallring) of closed incidents: incidents/services/retention.py.

The rules (docs/configuration.md, "Retention"): incidents closed longer ago than the retention
period are anonymised, with free text, messages and links to people removed and the fields
statistics need kept; with no period set nothing is anonymised, because retention is decided by
each organisation's information-management plan. The clock is frozen at NOW; the period is 365
days, so incidents closed before 2025-12-15 10:00 UTC are due.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
import sqlalchemy as sa
from freezegun import freeze_time
from sqlalchemy import String, Text

from incidents import models
from incidents.models import (
    AnonymousReceipt,
    AuditEntry,
    AuthorityReport,
    CheckIn,
    FollowUpEntry,
    Incident,
    IncidentForm,
    Message,
    OutboxMail,
    PoliceOutcomeEntry,
    PoliceReport,
    StatusChange,
    SupportDecline,
    SupportEvaluation,
    SupportMeasure,
)
from incidents.services import lifecycle, retention
from incidents.services.dark_figure import dark_figure
from incidents.stats import export
from incidents.stats.incidents import incident_table
from incidents.stats.police import police_table
from incidents.stats.support import support_table
from tests.anonymous_helpers import report_and_publish

NOW = datetime(2026, 12, 15, 10, 0, tzinfo=UTC)
DAYS = 365
CUTOFF = NOW - timedelta(days=DAYS)
MARKER = retention.MARKER
SECRET = "Klienten sa att han vet var jag bor"  # every free text of the fixture contains this


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@pytest.fixture(autouse=True)
def clock():
    with freeze_time(NOW) as frozen:
        yield frozen


@pytest.fixture(autouse=True)
def period(app, monkeypatch):
    monkeypatch.setitem(app.config, "RETENTION_AFTER_CLOSE_DAYS", DAYS)


# -- building closed cases ------------------------------------------------------------------


def named(make, org, clock, unit, occurred: str, category="threat", *extra, **fields):
    """A named incident reported an hour after it occurred (the clock moved there)."""
    at = utc(occurred)
    clock.move_to(at + timedelta(hours=1))
    incident = make.incident(
        fields.pop("reporter", org.employee_a1), unit, occurred_at=at, category=category,
        additional_categories=list(extra), description=f"{SECRET}: beskrivning", **fields,
    )
    clock.move_to(NOW)
    return incident


def anonymous_report(db_session, org, clock, unit, occurred: str, category="threat"):
    at = utc(occurred)
    clock.move_to(at + timedelta(hours=1))
    incident, code = report_and_publish({
        "category": category, "perceived_influence_purpose": "yes", "occurred_at": at,
        "unit_id": unit.id, "description": f"{SECRET} (anonym)",
    })
    db_session.commit()
    clock.move_to(NOW)
    return incident, code


def case_work(db_session, org, incident, *, closed: str | None, handler=None, full=True,
              police: str | None = "report"):
    """Everything a case handler records on a case, each free text with SECRET in it, then
    closed at ``closed`` (or left in follow-up with None)."""
    handler = handler or org.manager_a
    created = incident.created_at
    incident.acknowledged_at = created + timedelta(hours=5)
    incident.acknowledged_by_id = handler.id
    incident.status = "in_follow_up"
    db_session.add_all([
        StatusChange(incident_id=incident.id, from_status="reported", to_status="acknowledged",
                     at=created + timedelta(hours=5), by_id=handler.id),
        StatusChange(incident_id=incident.id, from_status="acknowledged",
                     to_status="in_follow_up", at=created + timedelta(hours=6), by_id=handler.id,
                     reason=f"{SECRET}: status"),
        FollowUpEntry(incident_id=incident.id, type="conversation", note=f"{SECRET}: samtal",
                      occurred_at=created + timedelta(days=1), author_id=handler.id),
        CheckIn(incident_id=incident.id, offset_label="1d", due_at=created + timedelta(days=1),
                completed_at=created + timedelta(hours=20), completed_by_id=handler.id,
                note=f"{SECRET}: check-in"),
        CheckIn(incident_id=incident.id, offset_label="1w", due_at=created + timedelta(weeks=1),
                completed_at=created + timedelta(days=9), completed_by_id=handler.id),
        CheckIn(incident_id=incident.id, offset_label="1m", due_at=created + timedelta(days=30)),
    ])
    if full:
        db_session.add_all([
            SupportMeasure(incident_id=incident.id, type="debriefing",
                           offered_at=created + timedelta(days=1), offered_by_id=handler.id,
                           accepted=True, delivered_at=created + timedelta(days=2),
                           provider=f"{SECRET}: Företagshälsan AB", note=f"{SECRET}: stöd"),
            SupportMeasure(incident_id=incident.id, type="legal_support",
                           offered_at=created + timedelta(days=3), offered_by_id=handler.id,
                           accepted=False),
            SupportEvaluation(incident_id=incident.id, sufficient="partly", relevant="yes",
                              felt_supported_by_employer=4, comment=f"{SECRET}: omdöme",
                              evaluated_by_id=incident.exposed_user_id),
            AuthorityReport(incident_id=incident.id, serious=True,
                            work_environment_authority_notified_at=created + timedelta(hours=8),
                            work_environment_authority_reference="AV 2025/12345",
                            work_injury_report_filed_at=created + timedelta(days=2),
                            work_injury_report_reference="FK 99-123"),
        ])
    elif not incident.anonymous:
        db_session.add(SupportDecline(incident_id=incident.id,
                                      declined_at=created + timedelta(days=1),
                                      note=f"{SECRET}: avböjt", recorded_by_id=handler.id))
    if police == "report":
        db_session.add_all([
            PoliceReport(incident_id=incident.id, decision="report",
                         decided_at=created + timedelta(days=2), decided_by_id=handler.id,
                         filed_by="employer", contact_address="work",
                         filed_at=created + timedelta(days=3), police_reference="K-123456-25"),
            PoliceOutcomeEntry(incident_id=incident.id, outcome="pending",
                               reached_on=(created + timedelta(days=10)).date(),
                               recorded_by_id=handler.id),
            PoliceOutcomeEntry(incident_id=incident.id, outcome="investigation_discontinued",
                               reached_on=(created + timedelta(days=40)).date(),
                               reason=f"{SECRET}: nedlagd", recorded_by_id=handler.id),
        ])
    elif police == "do_not_report":
        db_session.add(PoliceReport(incident_id=incident.id, decision="do_not_report",
                                    decision_reason=f"{SECRET}: avstår",
                                    decided_at=created + timedelta(days=9),
                                    decided_by_id=handler.id))
    db_session.add_all([
        Message(incident_id=incident.id, sender="reporter",
                author_id=incident.reporter_id, body=f"{SECRET}: fråga"),
        Message(incident_id=incident.id, sender="case_handler", author_id=handler.id,
                body=f"{SECRET}: svar"),
        OutboxMail(kind="status_changed", incident_id=incident.id,
                   recipient="exposed@stad.example", subject=incident.reference,
                   body="Ny status.", status="sent"),
    ])
    if closed is not None:
        db_session.add(StatusChange(incident_id=incident.id, from_status="in_follow_up",
                                    to_status="closed", at=utc(closed), by_id=handler.id))
        incident.status, incident.closed_at = "closed", utc(closed)
    db_session.commit()
    return incident


@pytest.fixture
def cases(make, org, db_session, clock):
    """Seven incidents of 2025–2026 under Socialförvaltningen:

    old      a1 threat+violence, for colleague_a1 by employee_a1, every record; closed 2025-03-01
    declined a2 harassment, support declined, do_not_report;        closed 2025-07-01
    anon     b1 property damage, anonymous, receipt and messages;    closed 2025-12-15 09:59
    edge     a1 threat, closed exactly at the cutoff (2025-12-15 10:00): not yet due
    recent   a1 threat, closed 2026-12-01: within the period
    open     b1 violence, in follow-up since 2025: never closed
    reopened a1 corruption, closed 2025-01-10 then reopened: not closed now
    """
    old = named(make, org, clock, org.a1, "2025-02-01T08:00", "threat", "violence",
                on_behalf_of=org.colleague_a1.id, ia_reported=True, ia_reference="IA-4711",
                location="office", perpetrator="client")
    case_work(db_session, org, old, closed="2025-03-01T12:00")
    declined = named(make, org, clock, org.a2, "2025-06-01T12:00", "harassment",
                     ia_reported=True, ia_reference="  ")
    case_work(db_session, org, declined, closed="2025-07-01T12:00", full=False,
              police="do_not_report")
    anon, code = anonymous_report(db_session, org, clock, org.b1, "2025-11-20T12:00",
                                  "property_damage")
    db_session.add(Message(incident_id=anon.id, sender="reporter", body=f"{SECRET}: anonym"))
    case_work(db_session, org, anon, closed="2025-12-15T09:59", full=False, police=None)
    edge = named(make, org, clock, org.a1, "2025-11-01T12:00")
    case_work(db_session, org, edge, closed=CUTOFF.isoformat()[:16])
    recent = named(make, org, clock, org.a1, "2026-10-01T12:00")
    case_work(db_session, org, recent, closed="2026-12-01T12:00")
    still_open = named(make, org, clock, org.b1, "2025-03-01T12:00", "violence",
                       reporter=org.employee_b1)
    case_work(db_session, org, still_open, closed=None, handler=org.manager_b1)
    reopened = named(make, org, clock, org.a1, "2025-01-05T12:00", "corruption")
    case_work(db_session, org, reopened, closed="2025-01-10T12:00", police="do_not_report")
    reopened.status, reopened.closed_at = "in_follow_up", None
    db_session.add(StatusChange(incident_id=reopened.id, from_status="closed",
                                to_status="in_follow_up", at=utc("2025-02-01T12:00"),
                                by_id=org.manager_a.id, reason=f"{SECRET}: återöppnad"))
    db_session.commit()
    return {"old": old, "declined": declined, "anon": anon, "edge": edge, "recent": recent,
            "open": still_open, "reopened": reopened, "anon_code": code}


def run(db_session, now=NOW, **kwargs) -> int:
    done = retention.anonymise_closed(now, **kwargs)
    db_session.commit()
    db_session.expire_all()
    return done


# -- which incidents ------------------------------------------------------------------------


def test_incidents_closed_longer_ago_than_the_period_are_anonymised_and_no_others(
    db_session, cases
):
    """Closed before now − RETENTION_AFTER_CLOSE_DAYS: anonymised. Closed exactly at the
    cutoff, closed within the period, never closed or reopened: untouched. Only what was closed
    longer ago than the retention period is due."""
    assert run(db_session) == 3
    for name in ("old", "declined", "anon"):
        incident = db_session.get(Incident, cases[name].id)
        assert incident.anonymised_at == NOW and incident.description == MARKER, name
    for name in ("edge", "recent", "open", "reopened"):
        incident = db_session.get(Incident, cases[name].id)
        assert incident.anonymised_at is None and SECRET in incident.description, name
        assert db_session.scalar(sa.select(sa.func.count()).select_from(Message)
                                 .where(Message.incident_id == incident.id)) == 2, name


def test_without_a_period_nothing_is_anonymised(app, db_session, cases, monkeypatch):
    """RETENTION_AFTER_CLOSE_DAYS unset: the organisation has not decided, so nothing is
    anonymised."""
    monkeypatch.setitem(app.config, "RETENTION_AFTER_CLOSE_DAYS", None)
    before = snapshot(db_session)
    assert run(db_session, now=NOW + timedelta(days=3650)) == 0
    assert snapshot(db_session) == before


def test_the_period_is_the_setting(app, db_session, cases, monkeypatch):
    """A longer period keeps more: with 600 days only the incident closed on 2025-03-01
    (654 days before NOW) is due."""
    monkeypatch.setitem(app.config, "RETENTION_AFTER_CLOSE_DAYS", 600)
    assert run(db_session) == 1
    assert db_session.get(Incident, cases["old"].id).anonymised_at == NOW
    assert db_session.get(Incident, cases["declined"].id).anonymised_at is None


# -- what is removed ------------------------------------------------------------------------


def test_free_text_is_replaced_by_the_marker_and_blank_or_null_stays(db_session, cases):
    """Every free text and every reference into another register holds the marker; a column
    that was NULL or blank stays so (the dark figure counts non-blank IA references)."""
    run(db_session)
    old, declined = (db_session.get(Incident, cases[n].id) for n in ("old", "declined"))
    assert old.ia_reference == MARKER and declined.ia_reference == "  "
    assert old.description == MARKER
    for model, columns in retention.FREE_TEXT.items():
        if model is Incident:
            continue
        rows = db_session.scalars(sa.select(model).where(
            model.incident_id.in_([cases[n].id for n in ("old", "declined", "anon")]))).all()
        for row in rows:
            for column in columns:
                assert getattr(row, column) in (None, MARKER), (model.__name__, column)
    reasons = db_session.scalars(sa.select(StatusChange.reason).where(
        StatusChange.incident_id == old.id)).all()
    assert reasons == [None, MARKER, None]
    report = db_session.get(PoliceReport, declined.id)
    assert report.decision == "do_not_report" and report.decision_reason == MARKER
    authority = db_session.get(AuthorityReport, old.id)
    assert authority.work_environment_authority_reference == MARKER
    assert authority.work_injury_report_reference == MARKER
    assert db_session.get(PoliceReport, old.id).police_reference == MARKER


def test_no_free_text_of_an_anonymised_incident_is_left_anywhere(db_session, cases):
    """The SECRET every free text of the fixture carries is found in no column of any table
    for the anonymised incidents (messages, mails and the receipt included)."""
    due = {cases[n].id for n in ("old", "declined", "anon")}
    assert _texts_mentioning_secret(db_session, due)
    run(db_session)
    assert _texts_mentioning_secret(db_session, due) == []


def _texts_mentioning_secret(db_session, incident_ids: set[int]) -> list[str]:
    found = []
    for table in models.Incident.metadata.sorted_tables:
        key = table.c.get("incident_id") if table.name != "incidents" else table.c.id
        if key is None:
            continue
        for column in table.c:
            if isinstance(column.type, (String, Text)):
                hits = db_session.scalar(sa.select(sa.func.count()).select_from(table).where(
                    key.in_(incident_ids), column.like(f"%{SECRET}%")))
                if hits:
                    found.append(f"{table.name}.{column.name}")
    return found


def test_the_people_and_their_thread_receipt_and_mails_are_removed(db_session, cases):
    """reporter_id and on_behalf_of_id are NULL; messages, the anonymous receipt and the mails
    about the incident (they hold addresses) are deleted; the incident stays named (not
    anonymous), which the schema allows once anonymised_at is set."""
    old, anon = cases["old"], cases["anon"]
    assert db_session.get(AnonymousReceipt, anon.id) is not None
    run(db_session)
    incident = db_session.get(Incident, old.id)
    assert (incident.reporter_id, incident.on_behalf_of_id, incident.anonymous) == (
        None, None, False)
    for model in (Message, OutboxMail):
        assert db_session.scalar(sa.select(sa.func.count()).select_from(model).where(
            model.incident_id.in_([old.id, anon.id]))) == 0, model.__name__
    assert db_session.get(AnonymousReceipt, anon.id) is None
    assert db_session.scalar(sa.select(sa.func.count()).select_from(OutboxMail).where(
        OutboxMail.incident_id == cases["recent"].id)) > 0


def test_what_statistics_need_is_kept(db_session, cases, org):
    """Forms, unit, times, status and its history, police codes and dates, support types and
    dates, check-in times, evaluation scale values and the officials' links are unchanged."""
    old = cases["old"]
    kept = {
        Incident: ("category", "subcategory", "unit_id", "occurred_at", "created_at", "status",
                   "police_flag", "anonymous", "acknowledged_at", "acknowledged_by_id",
                   "closed_at", "ia_reported", "location", "perpetrator", "injured",
                   "sick_leave", "family_targeted"),
        StatusChange: ("from_status", "to_status", "at", "by_id"),
        FollowUpEntry: ("type", "occurred_at", "author_id", "created_at"),
        SupportMeasure: ("type", "offered_at", "offered_by_id", "accepted", "delivered_at"),
        CheckIn: ("offset_label", "due_at", "completed_at", "completed_by_id"),
        SupportEvaluation: ("sufficient", "relevant", "felt_supported_by_employer"),
        PoliceReport: ("decision", "decided_at", "decided_by_id", "filed_by", "contact_address",
                       "filed_at"),
        PoliceOutcomeEntry: ("outcome", "reached_on", "recorded_by_id", "recorded_at"),
        AuthorityReport: ("serious", "work_environment_authority_notified_at",
                          "work_injury_report_filed_at"),
        IncidentForm: ("category", "is_primary"),
    }

    def values():
        db_session.expire_all()
        result = {}
        for model, columns in kept.items():
            key = model.id if model is Incident else model.incident_id
            rows = db_session.execute(sa.select(*(getattr(model, c) for c in columns))
                                      .where(key == old.id)).all()
            result[model.__name__] = sorted(tuple(r) for r in rows)
        return result

    before = values()
    assert all(before.values())
    run(db_session)
    assert values() == before


def test_each_anonymisation_is_audited_with_no_actor_and_the_trail_is_kept(db_session, cases):
    """One audit entry per anonymised incident, by nobody (the system); the earlier entries
    keep their actions and times."""
    old = cases["old"]
    before = db_session.execute(sa.select(AuditEntry.action, AuditEntry.at).where(
        AuditEntry.incident_id == old.id).order_by(AuditEntry.id)).all()
    run(db_session)
    after = db_session.execute(sa.select(AuditEntry.action, AuditEntry.at, AuditEntry.actor_id,
                                         AuditEntry.detail)
                               .where(AuditEntry.incident_id == old.id)
                               .order_by(AuditEntry.id)).all()
    assert [tuple(r[:2]) for r in after[:-1]] == [tuple(r) for r in before]
    assert after[-1] == ("update", NOW, None,
                         f"{retention.AUDIT_DETAIL}: {DAYS} days after closing")
    assert db_session.scalar(sa.select(sa.func.count()).select_from(AuditEntry).where(
        AuditEntry.detail.like(f"{retention.AUDIT_DETAIL}%"))) == 3


def test_versions_move_so_old_etags_no_longer_match(db_session, cases):
    """The content changed: the incident's and its records' versions (ETags) move."""
    old = cases["old"]
    before = (old.version, db_session.get(PoliceReport, old.id).version)
    run(db_session)
    after = (db_session.get(Incident, old.id).version,
             db_session.get(PoliceReport, old.id).version)
    assert after == (before[0] + 1, before[1] + 1)


# -- idempotent, batched, and again after a new closing --------------------------------------


def snapshot(db_session) -> dict[str, list[tuple]]:
    """Every row of every table an anonymisation touches."""
    db_session.expire_all()
    tables = [m.__table__ for m in (*retention.FREE_TEXT, *retention.DELETED, AuditEntry)]
    return {t.name: sorted(map(tuple, db_session.execute(sa.select(t)).all()), key=repr)
            for t in tables}


def test_a_second_run_changes_nothing_and_returns_zero(db_session, cases):
    """Idempotent: what was anonymised is skipped; a second run writes nothing (every
    job can run again without harm)."""
    assert run(db_session) == 3
    before = snapshot(db_session)
    assert run(db_session) == 0
    assert snapshot(db_session) == before


def test_a_later_run_anonymises_only_what_has_become_due(db_session, cases, clock):
    """A day later only the incident closed at the cutoff is new; the others are skipped,
    their anonymisation time and audit entries unchanged."""
    assert run(db_session) == 3
    later = NOW + timedelta(days=1)
    clock.move_to(later)
    assert run(db_session, now=later) == 1
    times = {name: db_session.get(Incident, cases[name].id).anonymised_at
             for name in ("old", "declined", "anon", "edge")}
    assert times == {"old": NOW, "declined": NOW, "anon": NOW, "edge": later}
    assert db_session.scalar(sa.select(sa.func.count()).select_from(AuditEntry).where(
        AuditEntry.detail.like(f"{retention.AUDIT_DETAIL}%"))) == 4


def test_the_work_is_done_in_batches(db_session, cases, monkeypatch):
    """Bounded memory: at most ``batch_size`` incidents per step; every due one is reached."""
    batches = []
    original = retention._anonymise
    monkeypatch.setattr(retention, "_anonymise",
                        lambda ids, now, days: (batches.append(list(ids)),
                                                original(ids, now, days)))
    assert run(db_session, batch_size=2) == 3
    assert [len(b) for b in batches] == [2, 1]
    assert sorted(sum(batches, [])) == sorted(cases[n].id for n in ("old", "declined", "anon"))


def test_a_reopened_and_closed_again_incident_is_anonymised_again(
    db_session, cases, org, clock
):
    """An anonymised incident that was reopened, worked on and closed again is anonymised
    again once its new closing is older than the period: text written after the reopening is
    removed too."""
    old = cases["old"]
    run(db_session)
    clock.move_to(NOW + timedelta(days=1))
    lifecycle.reopen(org.manager_a, old.id, f"{SECRET}: ny händelse")
    db_session.add(FollowUpEntry(incident_id=old.id, type="conversation",
                                 note=f"{SECRET}: nytt samtal", occurred_at=utc("2026-12-16"),
                                 author_id=org.manager_a.id))
    lifecycle.close(org.manager_a, old.id)
    db_session.commit()
    later = NOW + timedelta(days=1 + DAYS + 1)
    clock.move_to(later)
    run(db_session, now=NOW + timedelta(days=2))  # the new closing is too recent
    assert db_session.get(Incident, old.id).anonymised_at == NOW
    assert _texts_mentioning_secret(db_session, {old.id}) != []
    assert run(db_session, now=later) == 2  # it, and "recent" (closed 2026-12-01)
    assert _texts_mentioning_secret(db_session, {old.id}) == []
    assert db_session.get(Incident, old.id).anonymised_at == later


def test_objects_already_loaded_in_the_session_are_refreshed(db_session, cases):
    """The caller's session sees the anonymised values without reloading by hand, and deleted
    rows leave it."""
    old = db_session.get(Incident, cases["old"].id)
    entry = db_session.scalars(sa.select(FollowUpEntry).where(
        FollowUpEntry.incident_id == old.id)).one()
    message = db_session.scalars(sa.select(Message).where(Message.incident_id == old.id)).first()
    assert SECRET in old.description and SECRET in entry.note
    retention.anonymise_closed(NOW)
    assert old.description == MARKER and old.reporter_id is None
    assert entry.note == MARKER
    assert message not in db_session


# -- the catalogue of columns ---------------------------------------------------------------

# Columns of an incident's records that hold a code from a closed vocabulary, a reference
# number of this register, or nothing a person wrote: kept.
CODES = {
    "incidents": {"reference", "status", "category", "subcategory",
                  "perceived_influence_purpose", "location", "perpetrator", "channel",
                  "targeted_matter", "police_flag", "police_wanted"},
    "incident_forms": {"category"},
    "status_changes": {"from_status", "to_status"},
    "follow_up_entries": {"type"},
    "support_measures": {"type"},
    "check_ins": {"offset_label"},
    "support_evaluations": {"sufficient", "relevant"},
    "police_reports": {"decision", "filed_by", "contact_address"},
    "police_outcomes": {"outcome"},
    # The trail's detail names fields and actions, never content (models/audit.py). The hash
    # chain's columns are hashes; the actor's salt is removed with the actor, and the
    # commitment alone leads back to nobody (services/audit_chain.py). A request id names a
    # request, not a person, and is never kept for the anonymous channel. The record is a code
    # (AuditRecord): which kind of record the entry is about.
    "audit_entries": {"action", "outcome", "detail", "record", "prev_hash", "entry_hash",
                      "actor_salt", "actor_commitment", "request_id"},
}
# Links to the officials who handled the case, kept (retention.py explains why).
OFFICIALS = {
    "incidents.acknowledged_by_id", "status_changes.by_id", "follow_up_entries.author_id",
    "support_measures.offered_by_id", "support_declines.recorded_by_id",
    "check_ins.completed_by_id", "police_reports.decided_by_id",
    "police_outcomes.recorded_by_id",
}
PEOPLE_REMOVED = {"incidents.reporter_id", "incidents.on_behalf_of_id"}
# The evaluation is written by the exposed employee; its link cannot be removed while the
# column is NOT NULL (see test_the_evaluation_no_longer_names_the_exposed_employee).
KNOWN_GAPS = {"support_evaluations.evaluated_by_id"}


def _incident_tables():
    return [t for t in Incident.metadata.sorted_tables
            if t.name == "incidents" or "incident_id" in t.c]


def test_every_text_column_of_an_incidents_records_is_decided_on():
    """A new free-text column on an incident's records must be added to FREE_TEXT (or its
    table deleted, or the column declared a code here): nothing is left by oversight."""
    free = {(m.__table__.name, c) for m, cols in retention.FREE_TEXT.items() for c in cols}
    deleted = {m.__table__.name for m in retention.DELETED}
    undecided = [
        f"{t.name}.{c.name}" for t in _incident_tables() if t.name not in deleted
        for c in t.c if isinstance(c.type, (String, Text))
        and (t.name, c.name) not in free and c.name not in CODES.get(t.name, set())
    ]
    assert undecided == []


def test_every_link_to_a_person_is_decided_on():
    """Every column of an incident's records that points at a user is removed, or is an
    official's link kept on purpose, or is a known gap."""
    links = {f"{t.name}.{c.name}" for t in _incident_tables() if t.name not in
             {m.__table__.name for m in retention.DELETED}
             for c in t.c if any(fk.column.table.name == "users" for fk in c.foreign_keys)}
    assert links == PEOPLE_REMOVED | OFFICIALS | KNOWN_GAPS


def test_the_evaluation_no_longer_names_the_exposed_employee(db_session, cases):
    """Links to people are removed. The evaluation is the exposed employee's own."""
    run(db_session)
    assert db_session.get(SupportEvaluation, cases["old"].id).evaluated_by_id is None


def test_the_audit_trail_no_longer_links_the_reporter_to_the_incident(db_session, cases, org):
    """Audit entries about the incident keep actions and times, not the actor
    (the reporter's own 'create' would link them)."""
    run(db_session)
    actors = db_session.scalars(sa.select(AuditEntry.actor_id).where(
        AuditEntry.incident_id == cases["old"].id)).all()
    assert org.employee_a1.id not in actors


# -- statistics and the API afterwards -------------------------------------------------------

INCIDENT_GROUPINGS = ([], ["category", "unit"], ["month", "location", "perpetrator", "anonymous"],
                      ["tertial", "year", "category"])
MEASURE_GROUPINGS = ([], ["category", "unit"], ["month"], ["year", "unit"])
SUPPORT_GROUPINGS = ([], ["unit"], ["month"], ["tertial", "unit"])


def all_statistics(hr) -> list:
    period = {"from": date(2025, 1, 1), "to": date(2026, 12, 15)}
    tables = []
    for unsuppressed in (True, False):
        common = {**period, "unsuppressed": unsuppressed}
        tables += [incident_table(hr, {**common, "group_by": g}) for g in INCIDENT_GROUPINGS]
        tables += [police_table(hr, {**common, "group_by": g}) for g in MEASURE_GROUPINGS]
        tables += [support_table(hr, {**common, "group_by": g}) for g in SUPPORT_GROUPINGS]
    bodies = [export.json_body(table, "en") for table in tables]
    figures = [dark_figure(hr, {"from_": period["from"], "to": period["to"],
                                "unsuppressed": unsuppressed}) for unsuppressed in (True, False)]
    return bodies + figures


def test_every_statistics_table_is_the_same_after_anonymisation(app, db_session, cases, org,
                                                                 monkeypatch):
    """The fields statistics need are kept. Incidents, police, support and dark-figure
    tables, unsuppressed and suppressed, by every key, before and after: equal."""
    monkeypatch.setitem(app.config, "STATS_SUPPRESSION_THRESHOLD", 2)
    before = all_statistics(org.hr)
    assert before[0]["totals"]["count"] == 7
    assert run(db_session) == 3
    assert all_statistics(org.hr) == before


def _get(client, make, user, url):
    return client.get(url, headers=make.headers(user))


@pytest.mark.parametrize("user", ["hr", "manager_a"])
def test_handlers_still_read_every_part_of_an_anonymised_case(client, make, org, db_session,
                                                              cases, user):
    """hr and the unit's manager read the incident and each of its parts without errors; the
    message thread is empty."""
    handler = getattr(org, user)
    old = cases["old"].id
    run(db_session)
    base = f"/api/v1/incidents/{old}"
    incident = _get(client, make, handler, base)
    assert incident.status_code == 200
    body = incident.get_json()
    assert body["description"] == MARKER and body["reporter_id"] is None
    assert body["on_behalf_of"] is None and body["status"] == "closed"
    for part in ("follow-ups", "police-report", "status-history", "support-measures",
                 "check-ins", "support-evaluation", "authority-reports"):
        response = _get(client, make, handler, f"{base}/{part}")
        assert response.status_code == 200, (part, response.get_json())
    messages = _get(client, make, handler, f"{base}/messages")
    assert messages.status_code == 200 and messages.get_json() == []
    follow_ups = _get(client, make, handler, f"{base}/follow-ups").get_json()
    assert {entry["note"] for entry in follow_ups} == {MARKER}
    listed = _get(client, make, handler, "/api/v1/incidents?limit=200").get_json()["items"]
    assert old in {item["id"] for item in listed}


def test_the_reporter_and_the_exposed_colleague_no_longer_see_it(client, make, org,
                                                                 db_session, cases):
    """Nothing links them to it: it leaves their lists, and reading it is a 404."""
    old = cases["old"].id
    for person in (org.employee_a1, org.colleague_a1):
        listed = _get(client, make, person, "/api/v1/incidents?limit=200").get_json()["items"]
        assert old in {item["id"] for item in listed}
    run(db_session)
    for person in (org.employee_a1, org.colleague_a1):
        listed = _get(client, make, person, "/api/v1/incidents?limit=200").get_json()["items"]
        assert old not in {item["id"] for item in listed}
        assert _get(client, make, person, f"/api/v1/incidents/{old}").status_code == 404
    assert cases["recent"].id in {item["id"] for item in _get(
        client, make, org.employee_a1, "/api/v1/incidents?limit=200").get_json()["items"]}


def test_an_anonymous_reporter_can_no_longer_open_the_report(client, db_session, cases):
    """The receipt is deleted: the reference and code lead nowhere (404, as for a wrong
    code)."""
    url = f"/api/v1/anonymous-reports/{cases['anon'].reference}"
    receipt = {"X-Receipt-Code": cases["anon_code"]}
    assert client.get(url, headers=receipt).status_code == 200
    run(db_session)
    assert client.get(url, headers=receipt).status_code == 404
