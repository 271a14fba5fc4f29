"""gunicorn's access log without the client on the anonymous channel.

gunicorn logs every request with the client's address, the time to the second, the user agent
and the referrer; for the anonymous channel (the API's /api/v1/anonymous-reports and the pages
under /anonymous/) these could be matched against the hour a report arrived. This logger class
writes "-" for them and for every request header and environment variable a format could name
(X-Forwarded-For among them); the request line, status and size stay. gunicorn.conf.py sets it
(docs/operations.md, "Web workers").
"""

from __future__ import annotations

from gunicorn.glogging import Logger

ANONYMOUS_PREFIXES = ("/api/v1/anonymous-reports", "/anonymous/")
# Who and when: the address, the time, the user, the referrer and the user agent.
_IDENTIFYING = {"h", "t", "u", "f", "a"}


class AnonymousChannelLogger(Logger):
    """gunicorn's Logger, with the client and the time blanked on the anonymous paths."""

    def atoms(self, resp, req, environ, request_time):
        atoms = super().atoms(resp, req, environ, request_time)
        if not (environ.get("PATH_INFO") or "").startswith(ANONYMOUS_PREFIXES):
            return atoms
        for key in atoms:
            if key in _IDENTIFYING or key.endswith(("}i", "}e")):
                atoms[key] = "-"
        atoms["t"] = "[-]"
        return atoms
