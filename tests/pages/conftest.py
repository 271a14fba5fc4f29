"""Page tests without a browser: the Flask test client posts forms as a browser would (the
session cookie, the CSRF token of the last page, this site's Origin). Each test runs in the
suite's savepoint like every other test; the browser tests are in tests/web/."""

from __future__ import annotations

import re

import pytest

ORIGIN = "http://localhost"
_TOKEN = re.compile(r'name="(csrf_token|form_token)" value="([^"]+)"')


class Pages:
    """A person's browser: remembers cookies and the form tokens of the last page."""

    def __init__(self, client):
        self.client = client
        self.tokens: dict[str, str] = {}
        self.last = None

    def get(self, path: str, **kwargs):
        response = self.client.get(path, **kwargs)
        self._remember(response)
        return response

    def post(self, path: str, data=None, *, origin: str | None = ORIGIN, token: bool = True,
             **kwargs):
        data = dict(data or {})
        if token:
            for name, value in self.tokens.items():
                data.setdefault(name, value)
        headers = kwargs.pop("headers", {})
        if origin:
            headers["Origin"] = origin
        response = self.client.post(path, data=data, headers=headers, **kwargs)
        self._remember(response)
        return response

    def _remember(self, response):
        self.last = response
        if response.mimetype == "text/html":
            for name, value in _TOKEN.findall(response.get_data(as_text=True)):
                self.tokens[name] = value

    def sign_in(self, user):
        """The development sign-in (on in tests, as in development)."""
        self.get("/dev/signin")
        response = self.post("/dev/signin", {"user_id": str(user.id)})
        assert response.status_code == 302, response.get_data(as_text=True)[:500]
        return response


@pytest.fixture
def pages(app):
    return Pages(app.test_client())


@pytest.fixture
def other_pages(app):
    return Pages(app.test_client())


def report_form(org, **overrides) -> dict:
    """A filled-in report form as the page sends it."""
    form = {
        "category": "threat",
        "subcategory": "threat:death_threat",
        "description": "The client said he knows where I live.",
        "occurred_date": "2026-03-10",
        "occurred_time": "08:15",
        "unit_id": str(org.a1.id),
        "perceived_influence_purpose": "yes",
        "police_wanted": "yes",
        "for_whom": "self",
    }
    form.update(overrides)
    return {key: value for key, value in form.items() if value is not None}
