"""Server-side sessions for the web pages, kept in the database so that one can be ended.

The cookie holds a random id (HttpOnly, SameSite=Lax, Secure outside development); the row is
found by its SHA-256, so a copy of the table cannot be replayed as a cookie. A session ends after
SESSION_IDLE_MINUTES without a request and SESSION_ABSOLUTE_HOURS after it began, whatever
happens; the id is renewed at sign-in (session fixation). Paths that must never be tied to a
person (the anonymous channel, the API, static files) get no session and no cookie at all.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from datetime import datetime, timedelta

from flask import Flask, Request, Response
from flask.sessions import NullSession, SessionInterface, SessionMixin
from werkzeug.datastructures import CallbackDict

from incidents.clock import utcnow
from incidents.extensions import db
from incidents.models import WebSession

# No session is opened for these: the API authenticates by token, static files need none, and
# the anonymous channel must leave nothing that ties a reporter to a browser, and a workshop
# is rated in the room without an account (participation.py).
SESSIONLESS_PREFIXES = ("/api/", "/static/", "/anonymous/", "/w/", "/language/", "/favicon")


def _digest(session_id: str) -> str:
    return hashlib.sha256(session_id.encode()).hexdigest()


class ServerSession(CallbackDict, SessionMixin):
    """The data of one browser's session; who is signed in is kept beside it (``user_id``)."""

    def __init__(self, data=None, session_id: str | None = None, row: WebSession | None = None):
        def on_update(_self):
            _self.modified = True

        super().__init__(data or {}, on_update)
        self.session_id = session_id
        self.user_id: int | None = row.user_id if row else None
        self.created_at: datetime | None = row.created_at if row else None
        self.signed_in_at: datetime | None = row.signed_in_at if row else None
        self.modified = False
        # The previous session ran out (idle or absolute timeout) on this request.
        self.expired = False
        self._renew = False
        self._end = False

    def sign_in(self, user_id: int) -> None:
        """Bind the session to a person under a new id; the old id stops working."""
        self.user_id = user_id
        self.signed_in_at = utcnow()
        self.created_at = self.signed_in_at
        self._renew = True
        self.modified = True

    def end(self) -> None:
        """Sign out: the row is deleted and the cookie removed."""
        self.clear()
        self.user_id = None
        self._end = True
        self.modified = True


class ServerSessionInterface(SessionInterface):
    def open_session(self, app: Flask, request: Request):
        if request.path.startswith(SESSIONLESS_PREFIXES):
            return NullSession()
        session_id = request.cookies.get(self.get_cookie_name(app))
        if not session_id or len(session_id) > 100:
            return ServerSession()
        row = db.session.get(WebSession, _digest(session_id))
        if row is None:
            return ServerSession()
        if self._ran_out(app, row):
            db.session.delete(row)
            db.session.commit()
            session = ServerSession()
            session.expired = row.user_id is not None
            return session
        return ServerSession(json.loads(row.data), session_id=session_id, row=row)

    @staticmethod
    def _ran_out(app: Flask, row: WebSession) -> bool:
        now = utcnow()
        idle = timedelta(minutes=app.config["SESSION_IDLE_MINUTES"])
        absolute = timedelta(hours=app.config["SESSION_ABSOLUTE_HOURS"])
        return now - row.last_seen_at > idle or now - row.created_at > absolute

    def save_session(self, app: Flask, session, response: Response) -> None:
        if not isinstance(session, ServerSession):
            return
        name = self.get_cookie_name(app)
        cookie = {
            "domain": self.get_cookie_domain(app),
            "path": self.get_cookie_path(app),
            "secure": self.get_cookie_secure(app),
            "httponly": self.get_cookie_httponly(app),
            "samesite": self.get_cookie_samesite(app),
        }
        if session._end or session._renew:
            if session.session_id:
                db.session.query(WebSession).filter_by(id=_digest(session.session_id)).delete()
            if session._end:
                db.session.commit()
                response.delete_cookie(name, **cookie)
                return
            session.session_id = None
        if session.session_id is None and not session.modified:
            return  # nothing to keep: no cookie is set
        now = utcnow()
        data = json.dumps(dict(session))
        if session.session_id is None:
            session.session_id = secrets.token_urlsafe(32)
            row = WebSession(
                id=_digest(session.session_id),
                user_id=session.user_id,
                data=data,
                created_at=session.created_at or now,
                last_seen_at=now,
                signed_in_at=session.signed_in_at,
            )
            db.session.add(row)
        else:
            row = db.session.get(WebSession, _digest(session.session_id))
            if row is None:  # ended elsewhere (signed out in another tab) meanwhile
                db.session.rollback()
                response.delete_cookie(name, **cookie)
                return
            row.last_seen_at = now
            if session.modified:
                row.data = data
                row.user_id = session.user_id
        db.session.commit()
        # A session cookie (no Expires): closing the browser ends it on the browser's side too.
        response.set_cookie(name, session.session_id, **cookie)
        response.vary.add("Cookie")


def end_sessions_of(user_id: int) -> int:
    """End every session of a person at once (deactivation); returns how many."""
    return db.session.query(WebSession).filter_by(user_id=user_id).delete()
