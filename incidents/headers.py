"""The security headers of every response (docs/roles-and-access.md, "Other protections")."""

from __future__ import annotations

from flask import Response, current_app, request

from incidents.extensions import DOCS_CONTENT_SECURITY_POLICY

# A year, the least that browsers' preload lists accept; the subdomains of the service's own
# name are the organisation's, and served over HTTPS too.
HSTS = "max-age=31536000; includeSubDomains"


def add_security_headers(response: Response) -> Response:
    """nosniff, no framing, no referrer everywhere; HSTS in production; API answers are never
    cached and may load nothing; the docs page may load only this service's own files."""
    headers = response.headers
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("Referrer-Policy", "no-referrer")
    if current_app.config.get("INCIDENTS_ENV") == "production":
        headers.setdefault("Strict-Transport-Security", HSTS)
    if request.path.startswith("/api/v1/docs"):
        headers.setdefault("Content-Security-Policy", DOCS_CONTENT_SECURITY_POLICY)
        return response
    headers.setdefault("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'")
    headers.setdefault("Cache-Control", "no-store")
    return response
