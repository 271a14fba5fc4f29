"""POST/GET/PATCH /api/v1/incidents: the reporting rules (docs/domain.md)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from freezegun import freeze_time
from sqlalchemy import func, select
from sqlalchemy.orm.exc import StaleDataError

from incidents.models import AuditEntry, IdempotencyRecord, Incident, IncidentForm


def _body(org, **overrides):
    return {
        "category": "threat",
        "perceived_influence_purpose": "yes",
        "occurred_at": (datetime.now(UTC) - timedelta(hours=1)).isoformat(),
        "unit_id": org.a1.id,
        "description": "Klienten sa att han vet var jag bor.",
        **overrides,
    }


def _count(session, model) -> int:
    return session.scalar(select(func.count()).select_from(model))


def test_report_returns_201_with_reference_status_and_flag(client, make, org):
    response = client.post(
        "/api/v1/incidents", json=_body(org, subcategory="death_threat"),
        headers=make.headers(org.employee_a1),
    )
    assert response.status_code == 201
    body = response.get_json()
    assert body["reference"] == f"OP-{datetime.now(UTC).year}-000001"
    assert body["status"] == "reported"
    assert body["police_flag"] == "required"
    assert body["subcategory"] == "death_threat"
    assert body["reporter_id"] == org.employee_a1.id
    assert response.headers["Location"] == f"/api/v1/incidents/{body['id']}"
    assert response.headers["ETag"]


def test_references_are_sequential_per_year_and_restart_each_year(client, make, org):
    refs = []
    for moment in ("2026-12-31T22:30:00+00:00", "2026-12-31T23:30:00+00:00"):
        # 23:30 UTC on 31 December is already 1 January in Stockholm: a new year's series.
        with freeze_time(moment):
            headers = make.headers(org.employee_a1)
            for _ in range(2):
                r = client.post(
                    "/api/v1/incidents",
                    json=_body(org, occurred_at="2026-12-31T20:00:00+00:00"),
                    headers=headers,
                )
                assert r.status_code == 201
                refs.append(r.get_json()["reference"])
    assert refs == ["OP-2026-000001", "OP-2026-000002", "OP-2027-000001", "OP-2027-000002"]


def test_a_refused_report_takes_no_number(client, make, org):
    """A report refused by its checks is refused before the number is taken (a report that
    fails later may leave a gap: tests/perf/test_references.py)."""
    headers = make.headers(org.employee_a1)
    assert client.post("/api/v1/incidents", json=_body(org), headers=headers).status_code == 201
    bad = client.post("/api/v1/incidents", json=_body(org, unit_id=999999), headers=headers)
    assert bad.status_code == 422
    ok = client.post("/api/v1/incidents", json=_body(org), headers=headers)
    assert ok.get_json()["reference"].endswith("-000002")


@pytest.mark.parametrize(
    ("category", "additional", "flag"),
    [
        ("threat", [], "required"),
        ("violence", [], "required"),
        ("property_damage", [], "recommended"),
        ("corruption", [], "recommended"),
        ("harassment", [], "consider"),
        ("harassment", ["violence"], "required"),
        ("harassment", ["corruption"], "recommended"),
    ],
)
def test_police_flag_is_the_strongest_of_all_forms(client, make, org, category, additional, flag):
    response = client.post(
        "/api/v1/incidents",
        json=_body(org, category=category, additional_categories=additional),
        headers=make.headers(org.employee_a1),
    )
    assert response.status_code == 201
    assert response.get_json()["police_flag"] == flag


def test_every_form_is_stored_once_with_the_primary_marked(client, make, org, db_session):
    response = client.post(
        "/api/v1/incidents",
        json=_body(org, category="threat", additional_categories=["violence"]),
        headers=make.headers(org.employee_a1),
    )
    incident_id = response.get_json()["id"]
    forms = db_session.execute(
        select(IncidentForm.category, IncidentForm.is_primary)
        .where(IncidentForm.incident_id == incident_id)
        .order_by(IncidentForm.category)
    ).all()
    assert [tuple(f) for f in forms] == [("threat", True), ("violence", False)]
    assert response.get_json()["additional_categories"] == ["violence"]


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"category": "bullying"}, "category"),
        ({"subcategory": "arson"}, "subcategory"),  # arson is property damage, not a threat
        ({"additional_categories": ["threat"]}, "additional_categories"),  # repeats primary
        ({"additional_categories": ["violence", "violence"]}, "additional_categories"),
        ({"perceived_influence_purpose": "maybe"}, "perceived_influence_purpose"),
        ({"occurred_at": "2026-01-10T10:00:00"}, "occurred_at"),  # no offset
        ({"occurred_at": "yesterday"}, "occurred_at"),
        ({"occurred_at": "1999-12-31T10:00:00+00:00"}, "occurred_at"),
        ({"description": ""}, "description"),
        ({"description": "x" * 10_001}, "description"),
        ({"description": "bell\x07"}, "description"),
        ({"unit_id": "1"}, "unit_id"),
        ({"unit_id": 999999}, "unit_id"),
        ({"location": "moon"}, "location"),
        ({"perpetrator": "alien"}, "perpetrator"),
        ({"channel": "pigeon"}, "channel"),
        ({"targeted_matter": "tax"}, "targeted_matter"),
        ({"injured": "yes"}, "injured"),
        ({"on_behalf_of": 999999}, "on_behalf_of"),
        ({"ia_reference": "IA-1", "ia_reported": False}, "ia_reference"),
        ({"surprise": 1}, "surprise"),
    ],
)
def test_bad_input_is_422_naming_the_field_and_writes_nothing(
    client, make, org, db_session, overrides, field
):
    before = (_count(db_session, Incident), _count(db_session, AuditEntry))
    response = client.post(
        "/api/v1/incidents", json=_body(org, **overrides), headers=make.headers(org.employee_a1)
    )
    assert response.status_code == 422, response.get_json()
    assert response.mimetype == "application/problem+json"
    assert field in response.get_json()["errors"]
    assert (_count(db_session, Incident), _count(db_session, AuditEntry)) == before


@pytest.mark.parametrize("field", ["category", "perceived_influence_purpose", "occurred_at",
                                   "unit_id", "description"])
def test_required_fields(client, make, org, field):
    body = _body(org)
    del body[field]
    response = client.post("/api/v1/incidents", json=body, headers=make.headers(org.employee_a1))
    assert response.status_code == 422
    assert field in response.get_json()["errors"]


def test_occurred_at_may_be_within_five_minutes_of_clock_skew_but_not_beyond(client, make, org):
    with freeze_time("2026-03-10T09:30:00+00:00"):
        headers = make.headers(org.employee_a1)
        near = client.post(
            "/api/v1/incidents", json=_body(org, occurred_at="2026-03-10T09:34:00+00:00"),
            headers=headers,
        )
        far = client.post(
            "/api/v1/incidents", json=_body(org, occurred_at="2026-03-10T09:36:00+00:00"),
            headers=headers,
        )
    assert near.status_code == 201
    assert far.status_code == 422
    assert "occurred_at" in far.get_json()["errors"]


def test_occurred_at_keeps_the_instant_across_offsets(client, make, org):
    response = client.post(
        "/api/v1/incidents", json=_body(org, occurred_at="2026-01-10T10:00:00+01:00"),
        headers=make.headers(org.employee_a1),
    )
    assert response.get_json()["occurred_at"] == "2026-01-10T09:00:00+00:00"


def test_report_on_behalf_of_a_colleague(client, make, org):
    response = client.post(
        "/api/v1/incidents", json=_body(org, on_behalf_of=org.colleague_a1.id),
        headers=make.headers(org.employee_a1),
    )
    assert response.status_code == 201
    assert response.get_json()["on_behalf_of"] == org.colleague_a1.id
    incident_id = response.get_json()["id"]
    # The exposed colleague can read it although someone else reported it.
    seen = client.get(f"/api/v1/incidents/{incident_id}", headers=make.headers(org.colleague_a1))
    assert seen.status_code == 200


def test_on_behalf_of_oneself_or_a_deactivated_user_is_rejected(client, make, org):
    gone = make.user("employee", unit=org.a1, active=False)
    for target in (org.employee_a1.id, gone.id):
        response = client.post(
            "/api/v1/incidents", json=_body(org, on_behalf_of=target),
            headers=make.headers(org.employee_a1),
        )
        assert response.status_code == 422
        assert "on_behalf_of" in response.get_json()["errors"]


def test_stored_text_is_returned_verbatim(client, make, org):
    text = "<script>alert(1)</script>'; DROP TABLE incidents; --\nrad två\tå"
    created = client.post(
        "/api/v1/incidents", json=_body(org, description=text),
        headers=make.headers(org.employee_a1),
    ).get_json()
    read = client.get(f"/api/v1/incidents/{created['id']}", headers=make.headers(org.employee_a1))
    assert read.get_json()["description"] == text


# -- list, filters and keyset pagination ---------------------------------------------------


def _report_many(make, org, n, unit=None, **overrides):
    base = datetime(2026, 2, 1, 12, tzinfo=UTC)
    return [
        make.incident(org.employee_a1, unit or org.a1, occurred_at=base + timedelta(hours=i),
                      **overrides)
        for i in range(n)
    ]


def test_pages_cover_every_incident_once_newest_first(client, make, org):
    incidents = _report_many(make, org, 7)
    # Two incidents at the same instant: the id breaks the tie and neither is lost.
    twin = make.incident(org.employee_a1, org.a1, occurred_at=incidents[3].occurred_at)
    headers = make.headers(org.hr)
    seen, cursor = [], None
    while True:
        params = {"limit": 3, **({"cursor": cursor} if cursor else {})}
        page = client.get("/api/v1/incidents", query_string=params, headers=headers).get_json()
        seen += [item["id"] for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    expected = sorted(
        [*incidents, twin], key=lambda i: (i.occurred_at, i.id), reverse=True
    )
    assert seen == [i.id for i in expected]


def test_a_page_is_stable_while_new_reports_arrive(client, make, org):
    _report_many(make, org, 4)
    headers = make.headers(org.hr)
    first = client.get("/api/v1/incidents", query_string={"limit": 2}, headers=headers).get_json()
    make.incident(org.employee_a1, org.a1, occurred_at=datetime(2026, 3, 1, tzinfo=UTC))
    second = client.get(
        "/api/v1/incidents", query_string={"limit": 2, "cursor": first["next_cursor"]},
        headers=headers,
    ).get_json()
    ids = [i["id"] for i in first["items"] + second["items"]]
    assert len(set(ids)) == 4


def test_list_filters(client, make, org):
    a1 = make.incident(org.employee_a1, org.a1, occurred_at=datetime(2026, 1, 5, 10, tzinfo=UTC))
    a2 = make.incident(org.employee_a1, org.a2, category="violence",
                       occurred_at=datetime(2026, 1, 20, 10, tzinfo=UTC))
    b1 = make.incident(org.employee_b1, org.b1, category="harassment",
                       occurred_at=datetime(2026, 2, 1, 10, tzinfo=UTC))
    headers = make.headers(org.hr)

    def ids(**params):
        response = client.get("/api/v1/incidents", query_string=params, headers=headers)
        assert response.status_code == 200, response.get_json()
        return {i["id"] for i in response.get_json()["items"]}

    assert ids(unit_id=org.dept_a.id) == {a1.id, a2.id}  # sub-units included
    assert ids(unit_id=org.b1.id) == {b1.id}
    assert ids(category="violence") == {a2.id}
    assert ids(status="reported") == {a1.id, a2.id, b1.id}
    assert ids(status="closed") == set()
    assert ids(occurred_from="2026-01-20") == {a2.id, b1.id}
    assert ids(occurred_to="2026-01-20") == {a1.id, a2.id}  # inclusive last day


def test_occurred_to_is_the_whole_local_day(client, make, org):
    # 23:30 in Stockholm on 31 January is 22:30 UTC: still 31 January for the organisation.
    late = make.incident(org.employee_a1, org.a1,
                         occurred_at=datetime(2026, 1, 31, 22, 30, tzinfo=UTC))
    after = make.incident(org.employee_a1, org.a1,
                          occurred_at=datetime(2026, 1, 31, 23, 30, tzinfo=UTC))
    response = client.get("/api/v1/incidents", query_string={"occurred_to": "2026-01-31"},
                          headers=make.headers(org.hr))
    ids = {i["id"] for i in response.get_json()["items"]}
    assert late.id in ids and after.id not in ids


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"limit": 0}, "limit"),
        ({"limit": 201}, "limit"),
        ({"cursor": "not-a-cursor"}, "cursor"),
        ({"category": "bullying"}, "category"),
        ({"occurred_from": "2026-02-01", "occurred_to": "2026-01-01"}, "occurred_to"),
    ],
)
def test_bad_list_arguments_are_422(client, make, org, params, field):
    response = client.get("/api/v1/incidents", query_string=params, headers=make.headers(org.hr))
    assert response.status_code == 422
    assert field in response.get_json()["errors"]


# -- PATCH with ETag / If-Match -----------------------------------------------------------


def test_reporter_corrects_a_report_with_if_match(client, make, org):
    incident = make.incident(org.employee_a1, org.a1)
    headers = make.headers(org.employee_a1)
    etag = client.get(f"/api/v1/incidents/{incident.id}", headers=headers).headers["ETag"]
    response = client.patch(
        f"/api/v1/incidents/{incident.id}",
        json={"category": "violence", "subcategory": "pushing", "location": "reception"},
        headers={**headers, "If-Match": etag},
    )
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert (body["category"], body["subcategory"], body["location"]) == (
        "violence", "pushing", "reception")
    assert body["police_flag"] == "required"
    assert response.headers["ETag"] != etag


def test_changing_the_form_recomputes_the_police_flag(client, make, org):
    incident = make.incident(org.employee_a1, org.a1, category="threat")
    headers = make.headers(org.employee_a1)
    etag = client.get(f"/api/v1/incidents/{incident.id}", headers=headers).headers["ETag"]
    response = client.patch(f"/api/v1/incidents/{incident.id}", json={"category": "harassment"},
                            headers={**headers, "If-Match": etag})
    assert response.get_json()["police_flag"] == "consider"


def test_patch_without_if_match_is_428(client, make, org):
    incident = make.incident(org.employee_a1, org.a1)
    response = client.patch(f"/api/v1/incidents/{incident.id}", json={"location": "phone"},
                            headers=make.headers(org.employee_a1))
    assert response.status_code == 428


def test_patch_with_a_stale_etag_is_412_and_changes_nothing(client, make, org, db_session):
    incident = make.incident(org.employee_a1, org.a1)
    headers = make.headers(org.employee_a1)
    stale = client.get(f"/api/v1/incidents/{incident.id}", headers=headers).headers["ETag"]
    first = client.patch(f"/api/v1/incidents/{incident.id}", json={"location": "phone"},
                         headers={**headers, "If-Match": stale})
    assert first.status_code == 200
    second = client.patch(f"/api/v1/incidents/{incident.id}", json={"location": "office"},
                          headers={**headers, "If-Match": stale})
    assert second.status_code == 412
    db_session.expire_all()
    assert db_session.get(Incident, incident.id).location == "phone"


def test_a_concurrent_update_between_check_and_write_is_412(client, make, org, db_session):
    """The version column guards the UPDATE itself: a change committed after the If-Match check
    but before our flush must not be overwritten."""
    from incidents.services import reporting

    incident = make.incident(org.employee_a1, org.a1)
    db_session.execute(
        Incident.__table__.update()
        .where(Incident.id == incident.id)
        .values(version=Incident.version + 1)
    )
    with pytest.raises(StaleDataError):
        reporting.update_incident(org.employee_a1, incident, {"location": "phone"})
        db_session.flush()


def test_only_reported_incidents_can_be_changed(client, make, org, db_session):
    incident = make.incident(org.employee_a1, org.a1)
    incident.status = "acknowledged"
    db_session.commit()
    headers = make.headers(org.employee_a1)
    etag = client.get(f"/api/v1/incidents/{incident.id}", headers=headers).headers["ETag"]
    response = client.patch(f"/api/v1/incidents/{incident.id}", json={"location": "phone"},
                            headers={**headers, "If-Match": etag})
    assert response.status_code == 409
    assert "status" in response.get_json()["errors"]


def test_patch_rejects_an_incompatible_subcategory(client, make, org):
    incident = make.incident(org.employee_a1, org.a1, category="threat")
    headers = make.headers(org.employee_a1)
    etag = client.get(f"/api/v1/incidents/{incident.id}", headers=headers).headers["ETag"]
    response = client.patch(f"/api/v1/incidents/{incident.id}", json={"subcategory": "arson"},
                            headers={**headers, "If-Match": etag})
    assert response.status_code == 422
    assert "subcategory" in response.get_json()["errors"]


# -- Idempotency-Key ----------------------------------------------------------------------


def test_a_retry_with_the_same_key_returns_the_first_response_and_writes_nothing(
    client, make, org, db_session
):
    headers = make.headers(org.employee_a1, **{"Idempotency-Key": "k-1"})
    body = _body(org)
    first = client.post("/api/v1/incidents", json=body, headers=headers)
    counts = (_count(db_session, Incident), _count(db_session, AuditEntry))
    again = client.post("/api/v1/incidents", json=body, headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.get_json() == first.get_json()
    assert again.headers["Location"] == first.headers["Location"]
    assert again.headers["Idempotent-Replayed"] == "true"
    assert (_count(db_session, Incident), _count(db_session, AuditEntry)) == counts


def test_the_same_key_with_another_body_is_422(client, make, org, db_session):
    headers = make.headers(org.employee_a1, **{"Idempotency-Key": "k-2"})
    client.post("/api/v1/incidents", json=_body(org), headers=headers)
    before = _count(db_session, Incident)
    other = client.post("/api/v1/incidents", json=_body(org, description="Another"),
                        headers=headers)
    assert other.status_code == 422
    assert "Idempotency-Key" in other.get_json()["errors"]
    assert _count(db_session, Incident) == before


def test_keys_are_scoped_to_the_caller(client, make, org):
    body = _body(org)
    a = client.post("/api/v1/incidents", json=body,
                    headers=make.headers(org.employee_a1, **{"Idempotency-Key": "shared"}))
    b = client.post("/api/v1/incidents", json=body,
                    headers=make.headers(org.colleague_a1, **{"Idempotency-Key": "shared"}))
    assert a.status_code == b.status_code == 201
    assert a.get_json()["id"] != b.get_json()["id"]


def test_a_failed_request_does_not_consume_its_key(client, make, org, db_session):
    headers = make.headers(org.employee_a1, **{"Idempotency-Key": "k-3"})
    bad = client.post("/api/v1/incidents", json=_body(org, unit_id=999999), headers=headers)
    assert bad.status_code == 422
    assert _count(db_session, IdempotencyRecord) == 0


def test_idempotency_applies_to_other_posts_too(client, make, org, db_session):
    from incidents.models import Unit

    headers = make.headers(org.admin, **{"Idempotency-Key": "unit-1"})
    body = {"name": "Ny enhet", "kind": "enhet", "parent_id": org.dept_a.id}
    before = _count(db_session, Unit)
    first = client.post("/api/v1/units", json=body, headers=headers)
    again = client.post("/api/v1/units", json=body, headers=headers)
    assert first.status_code == again.status_code == 201
    assert _count(db_session, Unit) == before + 1


def test_an_invalid_idempotency_key_is_422(client, make, org):
    response = client.post("/api/v1/incidents", json=_body(org),
                           headers=make.headers(org.employee_a1, **{"Idempotency-Key": "x" * 201}))
    assert response.status_code == 422
    assert "Idempotency-Key" in response.get_json()["errors"]


def test_permission_is_checked_before_the_precondition(client, make, org):
    """Someone who may not change the report learns that (403), not that an ETag is missing."""
    incident = make.incident(org.employee_a1, org.a1)
    response = client.patch(f"/api/v1/incidents/{incident.id}", json={"location": "phone"},
                            headers=make.headers(org.manager_a))
    assert response.status_code == 403


def test_the_same_json_in_another_key_order_is_the_same_request(client, make, org, db_session):
    import json

    body = _body(org)
    headers = make.headers(org.employee_a1, **{"Idempotency-Key": "k-order",
                                                "Content-Type": "application/json"})
    first = client.post("/api/v1/incidents", data=json.dumps(body), headers=headers)
    reordered = json.dumps(dict(reversed(list(body.items()))), indent=2)
    again = client.post("/api/v1/incidents", data=reordered, headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.get_json()["id"] == first.get_json()["id"]


def test_a_key_is_forgotten_after_its_time_to_live(client, make, org, app, monkeypatch):
    monkeypatch.setitem(app.config, "IDEMPOTENCY_TTL_HOURS", 1)
    body = _body(org, occurred_at="2026-03-10T08:00:00+00:00")
    with freeze_time("2026-03-10T09:00:00+00:00"):
        headers = make.headers(org.employee_a1, **{"Idempotency-Key": "k-ttl"})
        first = client.post("/api/v1/incidents", json=body, headers=headers)
    with freeze_time("2026-03-10T10:30:00+00:00"):
        headers = make.headers(org.employee_a1, **{"Idempotency-Key": "k-ttl"})
        later = client.post("/api/v1/incidents", json=body, headers=headers)
    assert first.status_code == later.status_code == 201
    assert later.get_json()["id"] != first.get_json()["id"]


def test_reporting_on_behalf_of_an_admin_only_account_is_422(client, make, org):
    response = client.post("/api/v1/incidents", json=_body(org, on_behalf_of=org.admin.id),
                           headers=make.headers(org.employee_a1))
    assert response.status_code == 422
    assert "on_behalf_of" in response.get_json()["errors"]


def test_a_pure_admin_is_refused_before_the_body_is_read(client, make, org):
    response = client.post("/api/v1/incidents", json={"nonsense": True},
                           headers=make.headers(org.admin))
    assert response.status_code == 403
