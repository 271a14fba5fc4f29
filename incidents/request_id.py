"""The request id: one per request, to follow a request through the logs, the audit trail and
the mails it queued (docs/operations.md, "Request ids and logs").

An incoming ``X-Request-Id`` (set by a proxy in front of the service) is kept when it is short
and made of safe characters; otherwise one is made. It is returned in the response's
``X-Request-Id``, carried by every log line written during the request, and stored with each
audit entry and outbox mail the request writes.

The anonymous channel gets none at all: none read, made, returned, logged or stored. A request
id stored beside an anonymous report or its mails could be matched against a proxy's log,
which knows the reporter's address.
"""

from __future__ import annotations

import re
import uuid

from flask import Flask, g, has_request_context, request

HEADER = "X-Request-Id"
# Short and safe: what proxies send (nginx's $request_id, UUIDs), nothing a log or a mail
# header could be tricked by.
_SAFE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
ANONYMOUS_PREFIXES = ("/api/v1/anonymous-reports", "/anonymous/")


def anonymous_channel(path: str) -> bool:
    """Whether a path belongs to the anonymous channel (the API's and the pages')."""
    return path.startswith(ANONYMOUS_PREFIXES)


def _assign() -> None:
    if anonymous_channel(request.path):
        g.request_id = None
        return
    offered = request.headers.get(HEADER, "")
    g.request_id = offered if _SAFE.fullmatch(offered) else uuid.uuid4().hex


def current() -> str | None:
    """The id of the request being served; None outside a request and on the anonymous
    channel. The default of the request_id columns of audit entries and outbox mails."""
    if not has_request_context():
        return None
    return g.get("request_id")


def init_app(app: Flask) -> None:
    """Register first, so that every later hook, guard and log line sees the id."""
    app.before_request_funcs.setdefault(None, []).insert(0, _assign)

    @app.after_request
    def _return_it(response):
        request_id = g.get("request_id")
        if request_id:
            response.headers[HEADER] = request_id
        return response
