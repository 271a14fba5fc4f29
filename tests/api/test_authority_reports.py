"""GET/PUT /api/v1/incidents/{id}/authority-reports: what is due to Arbetsmiljöverket (AML 3 kap.
3 a §) and Försäkringskassan (socialförsäkringsbalken 42 kap. 10 §), what has been done, who may
see and record it, and what it means for closing and the overdue list (docs/domain.md)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from freezegun import freeze_time
from sqlalchemy import insert, select

from incidents.domain import IncidentStatus
from incidents.errors import PreconditionFailed
from incidents.models import AuditEntry, AuthorityReport
from incidents.services import authority
from tests.factories import NOW

EARLIER = NOW - timedelta(hours=1)
DUE = NOW + timedelta(hours=24)

AV_MISSING = "the notification of a serious incident to Arbetsmiljöverket (AML 3 kap. 3 a §)"
FK_MISSING = "the work-injury report to Försäkringskassan (socialförsäkringsbalken 42 kap. 10 §)"


def _url(incident) -> str:
    return f"/api/v1/incidents/{incident.id}/authority-reports"


def _get(client, make, user, incident):
    return client.get(_url(incident), headers=make.headers(user))


def _put(client, make, user, incident, body, etag=None):
    extra = {"If-Match": etag} if etag else {}
    return client.put(_url(incident), json=body, headers=make.headers(user, **extra))


def _record(client, make, user, incident, body):
    """PUT with the current ETag, asserting success."""
    etag = _get(client, make, user, incident).headers["ETag"]
    response = _put(client, make, user, incident, body, etag)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def _errors(response) -> dict:
    assert response.status_code == 422, response.get_json()
    return response.get_json()["errors"]


@pytest.fixture
def frozen():
    with freeze_time(NOW) as clock:
        yield clock


@pytest.fixture
def violence(make, org, frozen):
    """An act of violence against employee_a1 in unit A1, reported at NOW: serious by rule."""
    return make.incident(org.employee_a1, org.a1, category="violence", subcategory="pushing")


@pytest.fixture
def threat(make, org, frozen):
    """A threat of violence: not serious by rule."""
    return make.incident(org.employee_a1, org.a1, subcategory="threat_of_violence")


# -- reading ----------------------------------------------------------------------------------


def test_a_threat_owes_nothing_by_default(client, make, org, threat):
    response = _get(client, make, org.manager_a, threat)

    assert response.status_code == 200
    assert response.headers["ETag"]
    assert response.get_json() == {
        "serious": False,
        "serious_proposed": False,
        "serious_decided_by_manager": False,
        "work_environment_authority": {
            "due": False, "due_at": None, "notified_at": None, "reference": None,
            "overdue": False,
        },
        "work_injury_report": {"due": False, "filed_at": None, "reference": None},
        "safety_representative_informed_at": None,
        "investigation_done_at": None,
    }


def test_a_serious_incident_is_due_at_arbetsmiljoverket_within_24_hours(
    client, make, org, violence, frozen
):
    body = _get(client, make, org.manager_a, violence).get_json()
    assert body["serious"] is True
    assert body["work_environment_authority"]["due"] is True
    assert body["work_environment_authority"]["due_at"] == DUE.isoformat()
    assert body["work_environment_authority"]["overdue"] is False

    frozen.move_to(DUE + timedelta(seconds=1))
    late = _get(client, make, org.manager_a, violence).get_json()
    assert late["work_environment_authority"]["overdue"] is True

    _record(client, make, org.manager_a, violence,
            {"work_environment_authority": {"notified_at": NOW.isoformat()}})
    notified = _get(client, make, org.manager_a, violence).get_json()
    assert notified["work_environment_authority"]["overdue"] is False


def test_the_notification_deadline_follows_the_configured_hours(
    app, client, make, org, violence, monkeypatch
):
    monkeypatch.setitem(app.config, "AUTHORITY_NOTIFICATION_HOURS", 8)

    body = _get(client, make, org.manager_a, violence).get_json()

    assert body["work_environment_authority"]["due_at"] == (NOW + timedelta(hours=8)).isoformat()


@pytest.mark.parametrize(
    ("fields", "proposed"),
    [
        ({"category": "violence"}, True),
        ({"category": "threat", "additional_categories": ["violence"]}, True),
        ({"category": "harassment", "additional_categories": ["violence"]}, True),
        ({"category": "threat", "subcategory": "death_threat"}, True),
        ({"category": "threat", "subcategory": "threat_of_violence"}, False),
        ({"category": "threat"}, False),
        ({"category": "property_damage", "subcategory": "arson"}, False),
        ({"category": "harassment"}, False),
    ],
)
def test_violence_and_death_threats_are_proposed_as_serious(
    client, make, org, fields, proposed, frozen
):
    incident = make.incident(org.employee_a1, org.a1, **fields)

    body = _get(client, make, org.manager_a, incident).get_json()

    assert (body["serious_proposed"], body["serious"]) == (proposed, proposed)
    assert authority.serious_proposed(incident) is proposed
    # The overdue list computes the same proposal in SQL.
    listed = incident.id in _overdue(org.hr, DUE + timedelta(seconds=1))
    assert listed is proposed


@pytest.mark.parametrize(
    ("fields", "due"),
    [({}, False), ({"injured": True}, True), ({"sick_leave": True}, True)],
)
def test_a_work_injury_report_is_due_when_injured_or_on_sick_leave(
    client, make, org, frozen, fields, due
):
    incident = make.incident(org.employee_a1, org.a1, **fields)

    body = _get(client, make, org.manager_a, incident).get_json()

    assert body["work_injury_report"]["due"] is due


# -- recording ------------------------------------------------------------------------------------


def test_the_manager_overrides_the_proposal_and_can_go_back_to_it(client, make, org, violence):
    not_serious = _put(client, make, org.manager_a, violence, {"serious": False})
    assert not_serious.status_code == 200
    body = not_serious.get_json()
    assert (body["serious"], body["serious_proposed"], body["serious_decided_by_manager"]) == (
        False, True, True)
    assert body["work_environment_authority"]["due"] is False
    assert body["work_environment_authority"]["due_at"] is None

    back = _record(client, make, org.manager_a, violence, {"serious": None})
    assert (back["serious"], back["serious_decided_by_manager"]) == (True, False)


def test_the_manager_can_judge_a_threat_serious(client, make, org, threat):
    body = _put(client, make, org.manager_a, threat, {"serious": True}).get_json()

    assert (body["serious"], body["serious_proposed"]) == (True, False)
    assert body["work_environment_authority"]["due_at"] == DUE.isoformat()


def test_a_put_changes_only_the_fields_sent(client, make, org, violence):
    _put(client, make, org.manager_a, violence, {
        "work_environment_authority": {"notified_at": NOW.isoformat(), "reference": "AV-1"},
        "work_injury_report": {"filed_at": EARLIER.isoformat(), "reference": "FK-2"},
        "safety_representative_informed_at": EARLIER.isoformat(),
    })

    body = _record(client, make, org.manager_a, violence, {
        "investigation_done_at": NOW.isoformat(),
        "work_injury_report": {"reference": "FK-3"},
    })

    assert body["work_environment_authority"]["notified_at"] == NOW.isoformat()
    assert body["work_environment_authority"]["reference"] == "AV-1"
    assert body["work_injury_report"] == {
        "due": False, "filed_at": EARLIER.isoformat(), "reference": "FK-3"}
    assert body["safety_representative_informed_at"] == EARLIER.isoformat()
    assert body["investigation_done_at"] == NOW.isoformat()

    cleared = _record(client, make, org.manager_a, violence, {"investigation_done_at": None})
    assert cleared["investigation_done_at"] is None
    assert cleared["safety_representative_informed_at"] == EARLIER.isoformat()


MOMENTS = [
    ("work_environment_authority", "notified_at"),
    ("work_injury_report", "filed_at"),
    ("safety_representative_informed_at", None),
    ("investigation_done_at", None),
]


def _body_with(field: tuple[str, str | None], value: str) -> dict:
    outer, inner = field
    return {outer: {inner: value}} if inner else {outer: value}


def _error_at(errors: dict, field: tuple[str, str | None]) -> list[str]:
    outer, inner = field
    return errors[outer][inner] if inner else errors[outer]


@pytest.mark.parametrize("field", MOMENTS, ids=lambda f: ".".join(p for p in f if p))
def test_no_time_before_the_incident(client, make, org, violence, db_session, field):
    before = violence.occurred_at - timedelta(seconds=1)

    errors = _errors(_put(client, make, org.manager_a, violence, _body_with(
        field, before.isoformat())))

    assert "before the incident" in _error_at(errors, field)[0]
    assert db_session.get(AuthorityReport, violence.id) is None
    ok = _put(client, make, org.manager_a, violence, _body_with(
        field, violence.occurred_at.isoformat()))
    assert ok.status_code == 200


@pytest.mark.parametrize("field", MOMENTS, ids=lambda f: ".".join(p for p in f if p))
def test_no_time_in_the_future_beyond_clock_skew(client, make, org, violence, field):
    late = NOW + timedelta(minutes=5, seconds=1)

    errors = _errors(_put(client, make, org.manager_a, violence, _body_with(
        field, late.isoformat())))

    assert "future" in _error_at(errors, field)[0]
    skewed = NOW + timedelta(minutes=5)
    assert _put(client, make, org.manager_a, violence, _body_with(
        field, skewed.isoformat())).status_code == 200


@pytest.mark.parametrize("outer", ["work_environment_authority", "work_injury_report"])
def test_a_reference_needs_its_date(client, make, org, violence, outer):
    date_field = "notified_at" if outer == "work_environment_authority" else "filed_at"

    errors = _errors(_put(client, make, org.manager_a, violence, {outer: {"reference": "R-1"}}))
    assert list(errors) == [outer]
    assert list(errors[outer]) == ["reference"]

    _put(client, make, org.manager_a, violence,
         {outer: {"reference": "R-1", date_field: NOW.isoformat()}})
    cleared = _put(client, make, org.manager_a, violence, {outer: {date_field: None}},
                   _get(client, make, org.manager_a, violence).headers["ETag"])
    assert "reference" in _errors(cleared)[outer]


def test_schema_errors_name_the_field(client, make, org, violence):
    errors = _errors(_put(client, make, org.manager_a, violence, {"serious": "yes"}))
    assert "serious" in errors
    errors = _errors(_put(client, make, org.manager_a, violence,
                          {"work_environment_authority": {"notified": NOW.isoformat()}}))
    assert "notified" in errors["work_environment_authority"]


def test_changes_are_audited(client, make, org, violence, db_session):
    _put(client, make, org.manager_a, violence, {
        "serious": True, "work_environment_authority": {"notified_at": NOW.isoformat()}})

    entries = db_session.scalars(
        select(AuditEntry).where(AuditEntry.incident_id == violence.id).order_by(AuditEntry.id)
    ).all()

    assert [(e.action, e.detail) for e in entries[1:]] == [
        ("update", "reports to authorities changed: serious, "
                   "work_environment_authority.notified_at"),
    ]
    _get(client, make, org.manager_a, violence)
    assert db_session.scalar(
        select(AuditEntry.detail).where(AuditEntry.action == "read")
    ) == "reports to authorities"


# -- ETag and If-Match -----------------------------------------------------------------------------


def test_the_first_put_needs_no_if_match_later_ones_do(client, make, org, violence):
    before = _get(client, make, org.manager_a, violence).headers["ETag"]
    first = _put(client, make, org.manager_a, violence, {"serious": True})
    assert first.status_code == 200
    assert first.headers["ETag"] != before

    without = _put(client, make, org.manager_a, violence, {"serious": False})
    assert without.status_code == 428

    stale = _put(client, make, org.manager_a, violence, {"serious": False}, before)
    assert stale.status_code == 412

    current = _put(client, make, org.manager_a, violence, {"serious": False},
                   first.headers["ETag"])
    assert current.status_code == 200
    assert current.headers["ETag"] not in (before, first.headers["ETag"])
    assert _get(client, make, org.manager_a, violence).headers["ETag"] == current.headers["ETag"]


def test_two_first_records_at_once_the_second_is_412(org, violence, db_session):
    state = authority.reports_for_recording(org.manager_a, violence.id)
    db_session.execute(insert(AuthorityReport).values(incident_id=violence.id, serious=True))

    with pytest.raises(PreconditionFailed):
        authority.record_reports(org.manager_a, state, {"serious": False})


# -- who may read and record --------------------------------------------------------------------


@pytest.mark.parametrize("handler", ["manager_a", "hr"])
def test_the_unit_manager_and_hr_record_and_read(client, make, org, violence, handler):
    user = getattr(org, handler)

    assert _put(client, make, user, violence, {"serious": True}).status_code == 200
    assert _get(client, make, user, violence).status_code == 200


def test_the_exposed_employee_neither_reads_nor_records(client, make, org, violence):
    assert _get(client, make, org.employee_a1, violence).status_code == 403
    assert _put(client, make, org.employee_a1, violence, {"serious": False}).status_code == 403


def test_a_reporter_for_a_colleague_neither_reads_nor_records(client, make, org, frozen):
    incident = make.incident(org.colleague_a1, org.a1, on_behalf_of=org.employee_a1.id)

    assert _get(client, make, org.colleague_a1, incident).status_code == 403
    assert _put(client, make, org.colleague_a1, incident, {"serious": True}).status_code == 403


def test_a_manager_of_another_unit_gets_404(client, make, org, violence):
    assert _get(client, make, org.manager_b1, violence).status_code == 404
    assert _put(client, make, org.manager_b1, violence, {"serious": True}).status_code == 404


def test_a_manager_does_not_handle_their_own_case(client, make, org, db_session, frozen):
    own = make.incident(org.manager_a, org.a1, category="violence")

    assert _get(client, make, org.manager_a, own).status_code == 403
    assert _put(client, make, org.manager_a, own, {"serious": False}).status_code == 403
    assert db_session.get(AuthorityReport, own.id) is None


# -- the close check ------------------------------------------------------------------------------


def test_closing_a_serious_incident_needs_the_notification(client, make, org, violence):
    assert authority.missing_for_close(violence) == [AV_MISSING]

    _put(client, make, org.manager_a, violence,
         {"work_environment_authority": {"notified_at": NOW.isoformat()}})

    assert authority.missing_for_close(violence) == []


def test_a_manager_who_judges_it_not_serious_owes_no_notification(client, make, org, violence):
    _put(client, make, org.manager_a, violence, {"serious": False})

    assert authority.missing_for_close(violence) == []


def test_closing_a_work_injury_needs_the_report_to_forsakringskassan(client, make, org, frozen):
    incident = make.incident(org.employee_a1, org.a1, category="violence", sick_leave=True)
    assert authority.missing_for_close(incident) == [AV_MISSING, FK_MISSING]

    _put(client, make, org.manager_a, incident,
         {"work_injury_report": {"filed_at": NOW.isoformat(), "reference": "FK-1"}})

    assert authority.missing_for_close(incident) == [AV_MISSING]


def test_nothing_is_missing_for_a_threat_without_injury(threat):
    assert authority.missing_for_close(threat) == []


# -- overdue notifications ------------------------------------------------------------------------


def _overdue(user, now) -> list[int]:
    return [item["incident_id"] for item in authority.overdue_notifications(user, now)]


def test_a_notification_is_overdue_24_hours_after_the_report(org, violence):
    assert _overdue(org.manager_a, DUE) == []
    assert _overdue(org.manager_a, DUE + timedelta(seconds=1)) == [violence.id]

    item = authority.overdue_notifications(org.manager_a, DUE + timedelta(hours=1))[0]
    assert item == {
        "incident_id": violence.id,
        "reference": violence.reference,
        "unit_id": org.a1.id,
        "due_at": DUE,
        "kind": "work_environment_notification",
    }


def test_overdue_notifications_follow_seriousness_notification_and_status(
    client, make, org, db_session
):
    later = DUE + timedelta(hours=1)
    with freeze_time(NOW):
        by_rule = make.incident(org.employee_a1, org.a1, category="violence")
        death_threat = make.incident(org.employee_a1, org.a1, subcategory="death_threat")
        judged_serious = make.incident(org.employee_a1, org.a1, category="harassment")
        judged_not = make.incident(org.employee_a1, org.a1, category="violence")
        notified = make.incident(org.employee_a1, org.a1, category="violence")
        referenced_only = make.incident(org.employee_a1, org.a1, category="violence")
        closed = make.incident(org.employee_a1, org.a1, category="violence")
        manager = org.manager_a
        _put(client, make, manager, judged_serious, {"serious": True})
        _put(client, make, manager, judged_not, {"serious": False})
        _put(client, make, manager, notified,
             {"work_environment_authority": {"notified_at": NOW.isoformat()}})
        _put(client, make, manager, referenced_only, {"safety_representative_informed_at":
                                                       NOW.isoformat()})
    closed.status = IncidentStatus.CLOSED.value
    db_session.commit()

    assert _overdue(manager, later) == [
        by_rule.id, death_threat.id, judged_serious.id, referenced_only.id]


def test_overdue_notifications_are_those_of_the_cases_you_handle(make, org):
    later = DUE + timedelta(hours=1)
    with freeze_time(NOW):
        a1 = make.incident(org.employee_a1, org.a1, category="violence")
        b1 = make.incident(org.employee_b1, org.b1, category="violence")
        own = make.incident(org.manager_a, org.a2, category="violence")

    assert _overdue(org.manager_a, later) == [a1.id]
    assert _overdue(org.manager_b1, later) == [b1.id]
    assert _overdue(org.hr, later) == [a1.id, b1.id, own.id]
    assert _overdue(org.employee_a1, later) == []
    assert _overdue(org.admin, later) == []
