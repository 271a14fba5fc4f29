"""The access rules every statistics endpoint shares (docs/statistics.md): employees and
admins see none (403), a request without a token is 401, an unknown unit is 404 naming unit_id.
The endpoints' own rules (a manager's units, unsuppressed figures) are tested with each."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

STATS = pytest.mark.parametrize("url", [
    "/api/v1/stats/incidents",
    "/api/v1/stats/police",
    "/api/v1/stats/support",
    "/api/v1/stats/dark-figure",
    "/api/v1/stats/charts/incidents-by-form.png",
    "/api/v1/stats/charts/police-reported-share.png",
])


@STATS
@pytest.mark.parametrize("who", ["employee_a1", "admin"])
def test_employees_and_admins_see_no_statistics(client, make, org, url, who):
    response = client.get(url, headers=make.headers(getattr(org, who)))
    assert response.status_code == 403
    assert response.mimetype == "application/problem+json"


@STATS
def test_no_token_is_401(client, org, url):
    response = client.get(url)
    assert response.status_code == 401
    assert response.mimetype == "application/problem+json"


@STATS
def test_an_unknown_unit_is_404(client, make, org, db_session, url):
    unknown = db_session.scalar(sa.text("SELECT max(id) FROM units")) + 1000
    response = client.get(url, query_string={"unit_id": unknown}, headers=make.headers(org.hr))
    assert response.status_code == 404
    assert "unit_id" in response.get_json()["errors"]
