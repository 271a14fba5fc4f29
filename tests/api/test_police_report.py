"""GET/PUT /api/v1/incidents/{id}/police-report: the decision, the filing and the outcomes of a
police report (docs/domain.md), who may read and record it, and what it means for closing and the
overdue list."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from freezegun import freeze_time
from sqlalchemy import insert, select

from incidents.domain import IncidentStatus
from incidents.errors import PreconditionFailed
from incidents.models import AuditEntry, PoliceReport
from incidents.services import police
from tests.factories import NOW

FILED_AT = NOW - timedelta(hours=1)


def _url(incident) -> str:
    return f"/api/v1/incidents/{incident.id}/police-report"


def _filed(**overrides) -> dict:
    """A decision to report, filed by the employer with the workplace's address."""
    return {
        "decision": "report",
        "decision_reason": "Hot mot tjänsteman.",
        "filed_by": "employer",
        "contact_address": "work",
        "filed_at": FILED_AT.isoformat(),
        "police_reference": "5000-K123456-26",
        **overrides,
    }


def _put(client, make, user, incident, body, etag=None):
    extra = {"If-Match": etag} if etag else {}
    return client.put(_url(incident), json=body, headers=make.headers(user, **extra))


def _etag(client, make, user, incident) -> str:
    return client.get(_url(incident), headers=make.headers(user)).headers["ETag"]


def _record(client, make, user, incident, body):
    """PUT with the current ETag, asserting success."""
    response = _put(client, make, user, incident, body, _etag(client, make, user, incident))
    assert response.status_code == 200, response.get_json()
    return response


def _record_attempt(client, make, org, incident, body):
    """PUT by the unit's manager with the current ETag, whatever the outcome."""
    return _put(client, make, org.manager_a, incident, body,
                _etag(client, make, org.manager_a, incident))


def _errors(response) -> dict:
    assert response.status_code == 422, response.get_json()
    return response.get_json()["errors"]


@pytest.fixture
def frozen():
    with freeze_time(NOW) as clock:
        yield clock


@pytest.fixture
def incident(make, org, frozen):
    """A threat against employee_a1 in unit A1, reported at NOW, occurred two hours before."""
    return make.incident(org.employee_a1, org.a1)


@pytest.fixture
def filed(client, make, org, incident):
    """The incident with a filed police report."""
    _put(client, make, org.manager_a, incident, _filed())
    return incident


# -- reading ----------------------------------------------------------------------------------


def test_a_police_report_not_yet_recorded_reads_as_open(client, make, org, incident):
    response = client.get(_url(incident), headers=make.headers(org.manager_a))

    assert response.status_code == 200
    assert response.headers["ETag"]
    body = response.get_json()
    assert body["flag"] == "required"
    assert body["decision_required"] is True
    assert body["decision"] is None
    assert body["decided_at"] is None
    assert body["filed_at"] is None
    assert body["outcome"] is None
    assert body["outcome_history"] == []
    assert body["decision_due_at"] == (incident.created_at + timedelta(days=7)).isoformat()
    assert "personnummer" in body["injured_party"]["en"]
    assert "injured party" in body["injured_party"]["en"]
    assert "målsägande" in body["injured_party"]["sv"]


@pytest.mark.parametrize(
    ("category", "flag", "required"),
    [
        ("violence", "required", True),
        ("property_damage", "recommended", True),
        ("corruption", "recommended", True),
        ("harassment", "consider", False),
    ],
)
def test_the_forms_decide_whether_a_decision_is_required(
    client, make, org, category, flag, required
):
    incident = make.incident(org.employee_a1, org.a1, category=category)

    body = client.get(_url(incident), headers=make.headers(org.manager_a)).get_json()

    assert (body["flag"], body["decision_required"]) == (flag, required)
    assert (body["decision_due_at"] is not None) == required


def test_the_decision_due_date_follows_the_configured_days(
    app, client, make, org, incident, monkeypatch
):
    monkeypatch.setitem(app.config, "POLICE_DECISION_DAYS", 3)

    body = client.get(_url(incident), headers=make.headers(org.manager_a)).get_json()

    assert body["decision_due_at"] == (incident.created_at + timedelta(days=3)).isoformat()


# -- recording the decision and the filing --------------------------------------------------


def test_the_first_put_records_the_report_without_if_match(client, make, org, incident):
    before = _etag(client, make, org.manager_a, incident)

    response = _put(client, make, org.manager_a, incident, _filed())

    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["decision"] == "report"
    assert body["filed_by"] == "employer"
    assert body["contact_address"] == "work"
    assert body["filed_at"] == FILED_AT.isoformat()
    assert body["police_reference"] == "5000-K123456-26"
    assert body["decided_by"] == org.manager_a.id
    assert body["decided_at"] == NOW.isoformat()
    assert response.headers["ETag"] != before
    read = client.get(_url(incident), headers=make.headers(org.manager_a))
    assert read.get_json() == body
    assert read.headers["ETag"] == response.headers["ETag"]


def test_once_recorded_a_change_needs_if_match(client, make, org, filed):
    response = _put(client, make, org.manager_a, filed, _filed(police_reference="X-1"))

    assert response.status_code == 428
    assert "If-Match" in response.get_json()["errors"]


def test_a_stale_etag_is_412_and_changes_nothing(client, make, org, incident):
    stale = _etag(client, make, org.manager_a, incident)
    _put(client, make, org.manager_a, incident, _filed())
    current = _etag(client, make, org.manager_a, incident)

    response = _put(client, make, org.manager_a, incident, _filed(police_reference="X-1"), stale)

    assert response.status_code == 412
    body = client.get(_url(incident), headers=make.headers(org.manager_a)).get_json()
    assert body["police_reference"] == "5000-K123456-26"
    assert _etag(client, make, org.manager_a, incident) == current


def test_a_first_put_with_a_stale_etag_of_its_own_is_412(client, make, org, incident):
    stale = '"an-etag-this-service-never-gave"'

    response = _put(client, make, org.manager_a, incident, _filed(), stale)

    assert response.status_code == 412


def test_two_first_records_at_once_the_second_is_412(make, org, incident, db_session):
    state = police.report_for_recording(org.manager_a, incident.id)
    # Another request records the report after this one read it (no row yet).
    db_session.execute(insert(PoliceReport).values(incident_id=incident.id, decision="report"))

    with pytest.raises(PreconditionFailed):
        police.record_report(org.manager_a, state, {"decision": "do_not_report",
                                                    "decision_reason": "Ingen brottsmisstanke."})


def test_a_put_carries_the_whole_state_so_left_out_fields_are_cleared(client, make, org, filed):
    body = {"decision": "report", "filed_at": FILED_AT.isoformat()}

    response = _record(client, make, org.manager_a, filed, body).get_json()

    assert response["filed_at"] == FILED_AT.isoformat()
    assert response["police_reference"] is None
    assert response["filed_by"] is None
    assert response["contact_address"] is None
    assert response["decision_reason"] is None


def test_the_decision_time_and_maker_are_recorded_when_the_decision_changes(
    client, make, org, incident, frozen
):
    decided = _put(client, make, org.manager_a, incident, {"decision": "report"}).get_json()
    assert (decided["decided_by"], decided["decided_at"]) == (org.manager_a.id, NOW.isoformat())

    frozen.tick(timedelta(hours=1))
    reason_only = _record(
        client, make, org.hr, incident, {"decision": "report", "decision_reason": "Allvarligt."}
    ).get_json()
    assert (reason_only["decided_by"], reason_only["decided_at"]) == (
        org.manager_a.id, NOW.isoformat())

    frozen.tick(timedelta(hours=1))
    changed = _record(
        client, make, org.hr, incident,
        {"decision": "do_not_report", "decision_reason": "Den anställda vill inte."},
    ).get_json()
    assert changed["decided_by"] == org.hr.id
    assert changed["decided_at"] == (NOW + timedelta(hours=2)).isoformat()

    cleared = _record(client, make, org.hr, incident, {}).get_json()
    assert (cleared["decision"], cleared["decided_by"], cleared["decided_at"]) == (
        None, None, None)


@pytest.mark.parametrize("reason", [None, "   "])
def test_a_decision_not_to_report_needs_a_reason(client, make, org, incident, reason):
    body = {"decision": "do_not_report"}
    if reason is not None:
        body["decision_reason"] = reason

    errors = _errors(_put(client, make, org.manager_a, incident, body))

    assert "decision_reason" in errors


def test_a_decision_not_to_report_with_a_reason_is_recorded(client, make, org, incident):
    body = {"decision": "do_not_report", "decision_reason": "Medarbetaren avstår efter samtal."}

    response = _put(client, make, org.manager_a, incident, body)

    assert response.status_code == 200
    assert response.get_json()["decision_reason"] == "Medarbetaren avstår efter samtal."


def test_a_reason_without_a_decision_is_422(client, make, org, incident):
    errors = _errors(_put(client, make, org.manager_a, incident, {"decision_reason": "Varför?"}))

    assert "decision_reason" in errors


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("filed_by", "employee"),
        ("contact_address", "home"),
        ("filed_at", FILED_AT.isoformat()),
        ("police_reference", "5000-K1-26"),
    ],
)
@pytest.mark.parametrize("decision", ["do_not_report", None])
def test_filing_fields_need_a_decision_to_report(
    client, make, org, incident, db_session, field, value, decision
):
    body = {"decision": decision, "decision_reason": "Skäl.", field: value}
    if decision is None:
        del body["decision_reason"]
    if field == "police_reference":
        body["filed_at"] = FILED_AT.isoformat()

    errors = _errors(_put(client, make, org.manager_a, incident, body))

    assert field in errors
    assert db_session.get(PoliceReport, incident.id) is None  # nothing written


def test_a_police_reference_needs_a_filing_time(client, make, org, incident):
    body = _filed()
    del body["filed_at"]

    errors = _errors(_put(client, make, org.manager_a, incident, body))

    assert list(errors) == ["police_reference"]


def test_the_filing_cannot_be_before_the_incident(client, make, org, incident):
    before = incident.occurred_at - timedelta(minutes=1)

    body = _filed(filed_at=before.isoformat())

    errors = _errors(_put(client, make, org.manager_a, incident, body))

    assert list(errors) == ["filed_at"]
    at_the_time = _filed(filed_at=incident.occurred_at.isoformat())
    assert _put(client, make, org.manager_a, incident, at_the_time).status_code == 200


def test_the_filing_cannot_be_in_the_future_beyond_clock_skew(client, make, org, incident):
    late = NOW + timedelta(minutes=5, seconds=1)

    errors = _errors(_put(client, make, org.manager_a, incident, _filed(filed_at=late.isoformat())))

    assert list(errors) == ["filed_at"]
    skewed = NOW + timedelta(minutes=5)
    assert _put(client, make, org.manager_a, incident, _filed(
        filed_at=skewed.isoformat())).status_code == 200


def test_schema_errors_name_the_field(client, make, org, incident):
    errors = _errors(_put(client, make, org.manager_a, incident, _filed(filed_by="police")))
    assert "filed_by" in errors
    errors = _errors(_put(client, make, org.manager_a, incident, {"personnummer": "19800101"}))
    assert "personnummer" in errors


# -- outcomes ---------------------------------------------------------------------------------


def _with_outcome(code: str, reached_on: date | str, reason: str | None = None, **overrides):
    outcome = {"code": code, "reached_on": str(reached_on)}
    if reason is not None:
        outcome["reason"] = reason
    return _filed(outcome=outcome, **overrides)


TODAY = NOW.date()


def test_an_outcome_needs_a_filing(client, make, org, incident):
    body = {"decision": "report", "outcome": {"code": "pending", "reached_on": str(TODAY)}}

    errors = _errors(_put(client, make, org.manager_a, incident, body))

    assert list(errors) == ["outcome"]
    assert "filed_at" in errors["outcome"][0]


def test_the_outcome_history_is_kept_in_order_with_labels(client, make, org, filed, frozen):
    steps = [
        ("pending", TODAY, None),
        ("investigation_opened", TODAY, None),
        ("indicted", TODAY, None),
        ("convicted", TODAY, None),
        ("appealed", TODAY, "Den dömde överklagade."),
    ]
    for code, day, reason in steps:
        _record(client, make, org.manager_a, filed, _with_outcome(code, day, reason))

    body = client.get(_url(filed), headers=make.headers(org.manager_a)).get_json()

    assert body["outcome"] == "appealed"
    assert [e["outcome"] for e in body["outcome_history"]] == [s[0] for s in steps]
    assert body["outcome_history"][-1]["reason"] == "Den dömde överklagade."
    assert body["outcome_history"][0]["label"] == {"sv": "Inväntar beslut", "en": "Pending"}
    assert body["outcome_history"][0]["reached_on"] == str(TODAY)
    assert body["outcome_history"][0]["recorded_at"] == NOW.isoformat()


def test_the_latest_outcome_sent_again_is_not_appended(client, make, org, filed):
    first = _record(client, make, org.manager_a, filed, _with_outcome("pending", TODAY))

    again = _put(client, make, org.manager_a, filed, _with_outcome("pending", TODAY),
                 first.headers["ETag"])

    assert again.status_code == 200
    assert [e["outcome"] for e in again.get_json()["outcome_history"]] == ["pending"]
    assert again.headers["ETag"] == first.headers["ETag"]


def test_a_new_outcome_changes_the_etag(client, make, org, filed):
    before = _etag(client, make, org.manager_a, filed)

    after = _record(client, make, org.manager_a, filed, _with_outcome("pending", TODAY))

    assert after.headers["ETag"] != before


def test_the_latest_outcome_with_other_details_is_refused(client, make, org, filed):
    _record(client, make, org.manager_a, filed, _with_outcome("pending", TODAY))

    errors = _errors(_record_attempt(
        client, make, org, filed, _with_outcome("pending", TODAY, "Nu med skäl.")))

    assert "already the latest" in errors["outcome"]["code"][0]


@pytest.mark.parametrize(
    ("history", "code", "may_follow"),
    [
        ([], "convicted", "pending, not_investigated, investigation_opened"),
        (["pending"], "indicted", "not_investigated, investigation_opened"),
        (["investigation_opened"], "convicted",
         "investigation_discontinued, indicted, summary_fine, prosecution_waived"),
        (["investigation_opened", "prosecution_waived"], "appealed", None),
    ],
)
def test_an_outcome_must_follow_from_the_previous_one(
    client, make, org, filed, history, code, may_follow
):
    for step in history:
        _record(client, make, org.manager_a, filed, _with_outcome(step, TODAY))

    errors = _errors(_record_attempt(client, make, org, filed, _with_outcome(code, TODAY)))

    message = errors["outcome"]["code"][0]
    if may_follow is None:
        assert "nothing follows prosecution_waived" in message
    else:
        assert message.endswith(may_follow)


def test_a_discontinued_investigation_needs_a_reason(client, make, org, filed):
    _record(client, make, org.manager_a, filed, _with_outcome("investigation_opened", TODAY))

    errors = _errors(_record_attempt(
        client, make, org, filed, _with_outcome("investigation_discontinued", TODAY)))

    assert list(errors["outcome"]) == ["reason"]
    _record(client, make, org.manager_a, filed,
            _with_outcome("investigation_discontinued", TODAY, "Ingen gärningsperson."))


def test_an_outcome_cannot_be_before_the_filing_day_in_local_time(client, make, org):
    # 23:30 UTC on 9 March is already 10 March in Stockholm: the filing day is 10 March.
    with freeze_time("2026-03-10T09:30:00+00:00"):
        incident = make.incident(
            org.employee_a1, org.a1, occurred_at=datetime(2026, 3, 9, 20, 0, tzinfo=UTC))
        filed_at = "2026-03-09T23:30:00+00:00"
        body = _with_outcome("pending", "2026-03-09", filed_at=filed_at)

        errors = _errors(_put(client, make, org.manager_a, incident, body))
        assert list(errors["outcome"]) == ["reached_on"]

        ok = _put(client, make, org.manager_a, incident,
                  _with_outcome("pending", "2026-03-10", filed_at=filed_at))
        assert ok.status_code == 200


def test_an_outcome_cannot_be_in_the_future_in_local_time(client, make, org):
    # 23:30 UTC on 10 March is 11 March in Stockholm: the 11th is today, the 12th is not.
    with freeze_time("2026-03-10T23:30:00+00:00"):
        incident = make.incident(org.employee_a1, org.a1)
        filed_at = "2026-03-10T23:00:00+00:00"
        body = _with_outcome("pending", "2026-03-12", filed_at=filed_at)

        errors = _errors(_put(client, make, org.manager_a, incident, body))
        assert list(errors["outcome"]) == ["reached_on"]

        ok = _put(client, make, org.manager_a, incident,
                  _with_outcome("pending", "2026-03-11", filed_at=filed_at))
        assert ok.status_code == 200


def test_an_outcome_cannot_be_before_the_previous_one(client, make, org, frozen):
    filed_at = (NOW - timedelta(days=40)).isoformat()
    with freeze_time(NOW - timedelta(days=41)):
        old = make.incident(org.employee_a1, org.a1)
    _put(client, make, org.manager_a, old,
         _with_outcome("pending", TODAY - timedelta(days=10), filed_at=filed_at))

    errors = _errors(_record_attempt(client, make, org, old, _with_outcome(
        "investigation_opened", TODAY - timedelta(days=11), filed_at=filed_at)))

    assert "previous outcome" in errors["outcome"]["reached_on"][0]


def test_a_filing_with_outcomes_cannot_be_removed_or_moved_past_them(client, make, org, filed):
    _record(client, make, org.manager_a, filed, _with_outcome("pending", TODAY))

    removed = _errors(_record_attempt(
        client, make, org, filed, {"decision": "do_not_report", "decision_reason": "Ångrat."}))
    assert "filed_at" in removed

    tomorrow_local = datetime(2026, 3, 10, 23, 30, tzinfo=UTC)  # 11 March in Stockholm
    with freeze_time(NOW + timedelta(days=1)):
        moved = _errors(_record_attempt(
            client, make, org, filed, _filed(filed_at=tomorrow_local.isoformat())))
    assert "first recorded outcome" in moved["filed_at"][0]


def test_changes_are_audited(client, make, org, filed, db_session):
    _record(client, make, org.manager_a, filed, _with_outcome("pending", TODAY))

    details = db_session.scalars(
        select(AuditEntry.detail)
        .where(AuditEntry.incident_id == filed.id, AuditEntry.action == "update")
        .order_by(AuditEntry.id)
    ).all()

    assert details == [
        "police report changed: decision, decision_reason, filed_by, contact_address, filed_at, "
        "police_reference",
        "police report changed: outcome",
    ]
    reads = db_session.scalars(
        select(AuditEntry.detail).where(
            AuditEntry.incident_id == filed.id, AuditEntry.action == "read")
    ).all()
    assert "police report" in reads


# -- who may read and record --------------------------------------------------------------------


@pytest.mark.parametrize("handler", ["manager_a", "hr"])
def test_the_unit_manager_and_hr_record_and_read(client, make, org, incident, handler):
    user = getattr(org, handler)

    assert _put(client, make, user, incident, _filed()).status_code == 200
    assert client.get(_url(incident), headers=make.headers(user)).status_code == 200


def test_the_exposed_employee_reads_but_does_not_record(client, make, org, filed):
    read = client.get(_url(filed), headers=make.headers(org.employee_a1))
    assert read.status_code == 200
    assert read.get_json()["decision"] == "report"

    response = _put(client, make, org.employee_a1, filed, _filed(police_reference="X"),
                    read.headers["ETag"])
    assert response.status_code == 403


def test_the_colleague_reported_for_reads_it_and_the_reporter_does_not(client, make, org):
    incident = make.incident(org.colleague_a1, org.a1, on_behalf_of=org.employee_a1.id)

    assert client.get(_url(incident), headers=make.headers(org.employee_a1)).status_code == 200
    assert client.get(_url(incident), headers=make.headers(org.colleague_a1)).status_code == 403
    assert _put(client, make, org.colleague_a1, incident, _filed()).status_code == 403


def test_a_manager_of_another_unit_gets_404(client, make, org, incident):
    assert client.get(_url(incident), headers=make.headers(org.manager_b1)).status_code == 404
    assert _put(client, make, org.manager_b1, incident, _filed()).status_code == 404


def test_a_manager_does_not_handle_their_own_case(client, make, org, db_session):
    own = make.incident(org.manager_a, org.a1)

    assert _put(client, make, org.manager_a, own, _filed()).status_code == 403
    assert db_session.get(PoliceReport, own.id) is None
    # As the exposed employee they may read it.
    assert client.get(_url(own), headers=make.headers(org.manager_a)).status_code == 200


def test_an_admin_without_hr_sees_nothing(client, make, org, incident):
    assert client.get(_url(incident), headers=make.headers(org.admin)).status_code == 404


# -- the close check ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("category", "missing"),
    [("threat", "required"), ("property_damage", "recommended"), ("harassment", None)],
)
def test_closing_needs_a_decision_when_the_forms_call_for_one(make, org, category, missing):
    incident = make.incident(org.employee_a1, org.a1, category=category)

    result = police.missing_for_close(incident)

    if missing is None:
        assert result == []
    else:
        assert result == [f"a police-report decision (the incident is flagged '{missing}')"]


def test_any_decision_satisfies_the_close_check(client, make, org, incident):
    _put(client, make, org.manager_a, incident,
         {"decision": "do_not_report", "decision_reason": "Medarbetaren avstår."})

    assert police.missing_for_close(incident) == []


def test_a_cleared_decision_is_missing_again(make, org, incident, db_session):
    db_session.add(PoliceReport(incident_id=incident.id, decision=None))
    db_session.commit()

    assert police.missing_for_close(incident) != []


# -- overdue decisions --------------------------------------------------------------------------

DUE = NOW + timedelta(days=7)


def _overdue(user, now) -> list[int]:
    return [item["incident_id"] for item in police.overdue_decisions(user, now)]


def test_a_decision_is_overdue_seven_days_after_the_report(make, org, incident):
    assert _overdue(org.manager_a, DUE) == []
    assert _overdue(org.manager_a, DUE + timedelta(seconds=1)) == [incident.id]

    item = police.overdue_decisions(org.manager_a, DUE + timedelta(days=1))[0]
    assert item == {
        "incident_id": incident.id,
        "reference": incident.reference,
        "unit_id": org.a1.id,
        "due_at": DUE,
        "kind": "police_decision",
    }


def test_overdue_decisions_follow_the_flag_the_decision_and_the_status(
    client, make, org, db_session
):
    later = DUE + timedelta(days=1)
    with freeze_time(NOW):
        threat = make.incident(org.employee_a1, org.a1)
        damage = make.incident(org.employee_a1, org.a1, category="property_damage")
        harassment = make.incident(org.employee_a1, org.a1, category="harassment")
        decided = make.incident(org.employee_a1, org.a1)
        cleared = make.incident(org.employee_a1, org.a1)
        closed = make.incident(org.employee_a1, org.a1)
        _put(client, make, org.manager_a, decided, {"decision": "report"})
    db_session.add(PoliceReport(incident_id=cleared.id, decision=None))
    closed.status = IncidentStatus.CLOSED.value
    db_session.commit()

    assert _overdue(org.manager_a, later) == [threat.id, damage.id, cleared.id]
    assert harassment.id not in _overdue(org.hr, later)


def test_overdue_decisions_are_those_of_the_cases_you_handle(make, org):
    later = DUE + timedelta(days=1)
    with freeze_time(NOW):
        a1 = make.incident(org.employee_a1, org.a1)
        b1 = make.incident(org.employee_b1, org.b1)
        own = make.incident(org.manager_a, org.a2)

    assert _overdue(org.manager_a, later) == [a1.id]
    assert _overdue(org.manager_b1, later) == [b1.id]
    assert _overdue(org.hr, later) == [a1.id, b1.id, own.id]
    assert _overdue(org.employee_a1, later) == []
    assert _overdue(org.admin, later) == []
