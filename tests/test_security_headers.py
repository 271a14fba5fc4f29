"""Security headers: HSTS in production (docs/roles-and-access.md, "Other protections")."""

from __future__ import annotations


def _max_age(header: str) -> int:
    return int(header.split("max-age=")[1].split(";")[0])


def test_production_answers_carry_hsts_for_a_year_with_subdomains(app, client, monkeypatch):
    monkeypatch.setitem(app.config, "INCIDENTS_ENV", "production")
    for path in ("/api/v1/categories", "/api/v1/docs", "/api/v1/me", "/anonymous/report"):
        header = client.get(path).headers.get("Strict-Transport-Security")
        assert header is not None, path
        assert _max_age(header) >= 365 * 24 * 3600
        assert "includeSubDomains" in header


def test_development_sends_no_hsts(client):
    assert "Strict-Transport-Security" not in client.get("/api/v1/categories").headers
