"""Guessing receipt codes against locking people out (docs/configuration.md, "The anonymous
channel").

Found by an attack: 200 wrong codes from one address got 120 answers (the limit was counted in
each worker apart), and then a valid code from the same address was refused for an hour, so
one client could shut the channel for everyone behind a city's proxy. Now wrong codes are
counted apart, per client and per reference, and a right code stays usable.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from incidents.extensions import limiter

ANON = "/api/v1/anonymous-reports"
WRONG = "0000-0000-0000-0000-0000"


@pytest.fixture(autouse=True)
def _fresh_rate_limits(app):
    limiter.reset()
    yield
    limiter.reset()


@pytest.fixture
def behind_a_proxy(app, monkeypatch):
    """One proxy in front (PROXY_FIX_X_FOR=1), so tests can speak for several clients."""
    from incidents import register_proxy_fix

    monkeypatch.setattr(app, "wsgi_app", app.wsgi_app)
    monkeypatch.setitem(app.config, "PROXY_FIX_X_FOR", 1)
    register_proxy_fix(app)


def _report(client, org) -> tuple[str, str]:
    r = client.post(ANON, json={
        "category": "threat", "perceived_influence_purpose": "yes",
        "occurred_at": (datetime.now(UTC) - timedelta(hours=2)).isoformat(),
        "unit_id": org.a1.id, "description": "Hot i telefon."})
    assert r.status_code == 201, r.get_json()
    return r.get_json()["reference"], r.get_json()["receipt_code"]


def _read(client, reference, code, address="10.0.0.1"):
    return client.get(f"{ANON}/{reference}",
                      headers={"X-Receipt-Code": code, "X-Forwarded-For": address})


def _too_many(response) -> None:
    assert response.status_code == 429, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    assert int(response.headers["Retry-After"]) > 0


def test_200_wrong_codes_then_the_right_one_from_the_same_address(
    client, org, behind_a_proxy
):
    """The attack, with the default settings: the wrong codes are cut off after 20 from this
    client (10 per reference), and the right code from the same address is still served."""
    reference, code = _report(client, org)
    others = [f"OP-2026-{n:06d}" for n in range(900_000, 900_020)]
    answers = [_read(client, others[n // 10], WRONG).status_code for n in range(200)]
    assert answers.count(404) == 20
    assert set(answers[20:]) == {429}
    assert _read(client, reference, code).status_code == 200


def test_wrong_codes_from_one_client_do_not_lock_out_another(client, org, behind_a_proxy):
    reference, code = _report(client, org)
    for n in range(20):
        assert _read(client, f"OP-2026-9001{n:02d}", WRONG, address="10.0.0.66").status_code \
            == 404
    _too_many(_read(client, "OP-2026-900002", WRONG, address="10.0.0.66"))
    assert _read(client, reference, code, address="10.0.0.7").status_code == 200
    assert _read(client, "OP-2026-900002", WRONG, address="10.0.0.7").status_code == 404


def test_a_reference_with_too_many_wrong_codes_answers_429_to_everyone(
    client, org, app, behind_a_proxy
):
    """Guesses spread over many addresses are counted per reference: past the limit the code
    is not even compared, so no guess can succeed; other reports are untouched."""
    reference, code = _report(client, org)
    other_reference, other_code = _report(client, org)
    limiter.reset()
    wrong = [_read(client, reference, WRONG, address=f"10.1.0.{n}").status_code
             for n in range(1, 11)]
    assert wrong == [404] * 10
    _too_many(_read(client, reference, WRONG, address="10.1.0.99"))
    _too_many(_read(client, reference, code, address="10.1.0.100"))  # even the right code
    assert _read(client, other_reference, other_code).status_code == 200


def test_an_unknown_reference_is_locked_like_a_known_one(client, org, behind_a_proxy):
    """Locking only existing references would tell which exist."""
    for n in range(10):
        assert _read(client, "OP-2026-987654", WRONG, address=f"10.2.0.{n}").status_code == 404
    _too_many(_read(client, "OP-2026-987654", WRONG, address="10.2.0.50"))


def test_the_right_code_has_its_own_budget(client, org, app, monkeypatch, behind_a_proxy):
    monkeypatch.setitem(app.config, "ANONYMOUS_READ_RATE_LIMIT", "3 per hour")
    reference, code = _report(client, org)
    for _ in range(5):
        assert _read(client, "OP-2026-900003", WRONG).status_code == 404
    assert [_read(client, reference, code).status_code for _ in range(3)] == [200] * 3
    _too_many(_read(client, reference, code))


def test_the_follow_page_counts_wrong_codes_with_the_api(app, client, org, behind_a_proxy):
    """/anonymous/follow and the API share the wrong-code counts (services.anonymous.find):
    nine wrong codes through the API and one through the page lock the reference, for the
    page as for the API."""
    from tests.pages.conftest import Pages

    reference, code = _report(client, org)
    for n in range(9):
        assert _read(client, reference, WRONG, address=f"10.3.0.{n}").status_code == 404
    pages = Pages(app.test_client())
    pages.get("/anonymous/follow")
    page = pages.post("/anonymous/follow", {"reference": reference, "code": WRONG},
                      headers={"X-Forwarded-For": "10.3.0.200"})
    assert page.status_code == 404
    _too_many(_read(client, reference, code, address="10.3.0.201"))
    page = pages.post("/anonymous/follow", {"reference": reference, "code": code},
                      headers={"X-Forwarded-For": "10.3.0.202"})
    assert page.status_code == 429
