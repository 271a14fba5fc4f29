"""The browsable API docs at /api/v1/docs: Swagger UI served by this service. Found by an
attack: the page loaded an unpinned Swagger UI from a CDN without integrity, exempt from the
content security policy, and on a network without internet it was blank."""

from __future__ import annotations

import re

DOCS = "/api/v1/docs"


def _references(html: str) -> list[str]:
    return re.findall(r'(?:src|href)="([^"]+)"', html)


def test_the_docs_page_references_no_other_host(client):
    r = client.get(DOCS)
    assert r.status_code == 200
    html = r.get_data(as_text=True)
    references = _references(html)
    assert references, html
    assert all(ref.startswith("/") and not ref.startswith("//") for ref in references), references
    assert "http://" not in html and "https://" not in html
    assert "<script>" not in html  # no inline script: the policy allows none


def test_every_file_of_the_docs_page_is_served_here(client):
    html = client.get(DOCS).get_data(as_text=True)
    for reference in _references(html):
        with client.get(reference) as asset:
            assert asset.status_code == 200, reference
            assert asset.data, reference
    with client.get(f"{DOCS}/assets/init.js") as init:
        assert "SwaggerUIBundle" in init.get_data(as_text=True)


def test_the_docs_page_allows_only_its_own_files(client):
    policy = client.get(DOCS).headers["Content-Security-Policy"]
    directives = dict(part.strip().split(" ", 1) for part in policy.split(";"))
    assert directives["default-src"] == "'none'"
    for name in ("script-src", "style-src", "connect-src"):
        assert directives[name] == "'self'", name
    assert "unsafe" not in policy and "http" not in policy


def test_only_swagger_uis_own_files_are_served(client):
    for name in ("../../../etc/passwd", "LICENSE", "index.css"):
        with client.get(f"{DOCS}/assets/{name}") as r:
            assert r.status_code == 404, name
