"""Who is signed in to the pages: the session names a user id; the user, their roles and the
units they lead are read afresh on every request, as the API does with a token, so a removed
role or a deactivated account takes effect on the next page."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from flask import flash, g, redirect, request, session, url_for
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from incidents.extensions import db
from incidents.models import User

# What a POST to these endpoints carried is kept across an expired session and offered again
# after signing in, so a half-written report is not lost.
KEEP_ON_EXPIRY = {"employee.report"}


def signed_in_user() -> User | None:
    if "web_user" in g:
        return g.web_user
    user = None
    user_id = getattr(session, "user_id", None)
    if user_id is not None:
        user = db.session.scalars(
            select(User)
            .options(joinedload(User.role_rows), joinedload(User.leadership_rows))
            .where(User.id == user_id)
        ).unique().one_or_none()
        if user is None or not user.active:
            session.end()
            g.account_closed = True
            user = None
    g.web_user = user
    return user


def _keep_what_was_sent() -> None:
    if request.method == "POST" and request.endpoint in KEEP_ON_EXPIRY:
        kept = {key: request.form.getlist(key) for key in request.form if key != "csrf_token"}
        session["kept_form"] = {"endpoint": request.endpoint, "fields": kept}


def login_required(view: Callable) -> Callable:
    """Pages for people with an account: without a session, to sign-in and back afterwards."""

    @wraps(view)
    def wrapper(*args, **kwargs):
        if signed_in_user() is not None:
            return view(*args, **kwargs)
        if getattr(session, "expired", False):
            flash(_("You were signed out after a while without activity. Sign in to go on."),
                  "info")
            _keep_what_was_sent()
        elif g.get("account_closed"):
            flash(_("Your account can no longer be used here. Ask your administrator."),
                  "error")
        session["next"] = request.full_path.rstrip("?") if request.method == "GET" else (
            request.path)
        return redirect(url_for("signin.page"))

    return wrapper


def take_kept_form(endpoint: str) -> dict[str, list[str]] | None:
    """What an expired session's POST to ``endpoint`` carried, once."""
    kept = session.get("kept_form")
    if not kept or kept.get("endpoint") != endpoint:
        return None
    session.pop("kept_form")
    return kept["fields"]
