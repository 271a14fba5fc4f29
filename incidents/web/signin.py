"""Signing in to the pages with the organisation's OpenID Connect provider (authorization code
flow with PKCE, by Authlib: state, nonce and the ID token's signature are checked), and signing
out here and, where the provider offers it, there too.

Authlib (with requests, about 8 MB per process) is imported when a sign-in or sign-out first
talks to the provider, not when a worker starts: most workers never sign anyone in."""

from __future__ import annotations

import threading
from urllib.parse import urlencode

from flask import (
    Blueprint,
    Flask,
    current_app,
    flash,
    redirect,
    render_template,
    session,
    url_for,
)
from flask_babel import gettext as _

from incidents.services import people
from incidents.web.i18n import _safe_next
from incidents.web.identity import signed_in_user

blp = Blueprint("signin", __name__)
PROVIDER = "organisation"
_oauth_lock = threading.Lock()


def oidc_enabled() -> bool:
    return bool(current_app.config.get("OIDC_CLIENT_ID"))


def init_oauth(app: Flask) -> None:
    """One OpenID Connect client per app (Authlib), registered from the app's settings."""
    from authlib.integrations.flask_client import OAuth

    oauth = OAuth(app)
    app.extensions["incidents.oauth"] = oauth
    if app.config.get("OIDC_CLIENT_ID"):
        oauth.register(
            PROVIDER,
            client_id=app.config["OIDC_CLIENT_ID"],
            client_secret=app.config["OIDC_CLIENT_SECRET"],
            server_metadata_url=app.config["OIDC_ISSUER"].rstrip("/")
            + "/.well-known/openid-configuration",
            client_kwargs={"scope": app.config["OIDC_SCOPES"], "code_challenge_method": "S256",
                           "timeout": 10},
        )


def _provider():
    """The provider's client; the app's OpenID Connect client is made on first use."""
    app = current_app._get_current_object()
    with _oauth_lock:
        if "incidents.oauth" not in app.extensions:
            init_oauth(app)
    return app.extensions["incidents.oauth"].create_client(PROVIDER)


def _provider_errors() -> tuple[type[Exception], ...]:
    """What talking to the provider may raise: the provider unreachable, or a refusal."""
    from authlib.common.errors import AuthlibBaseError
    from requests.exceptions import RequestException

    return RequestException, AuthlibBaseError, ValueError


def complete_sign_in(user_id: int, id_token: str | None = None):
    """A new session id for the signed-in person, then back to where they were going."""
    target = _safe_next(session.pop("next", None))
    session.sign_in(user_id)
    if id_token:
        session["id_token"] = id_token
    return redirect(target)


@blp.get("/signin")
def page():
    if signed_in_user() is not None:
        return redirect(url_for("employee.start"))
    return render_template("signin.html", oidc=oidc_enabled(),
                           dev_signin=current_app.config["DEV_SIGNIN"])


@blp.post("/signin/oidc")
def start():
    if not oidc_enabled():
        return redirect(url_for("signin.page"))
    try:
        return _provider().authorize_redirect(
            current_app.config["PUBLIC_BASE_URL"] + url_for("signin.callback")
        )
    except _provider_errors():
        return _provider_unreachable()


@blp.get("/signin/callback")
def callback():
    if not oidc_enabled():
        return redirect(url_for("signin.page"))
    try:
        token = _provider().authorize_access_token()
    except (*_provider_errors(), KeyError):
        # A wrong or replayed state, a refused code, a bad ID token or an unreachable provider.
        flash(_("Signing in did not succeed. Try again."), "error")
        return redirect(url_for("signin.page")), 303
    claims = token.get("userinfo") or {}
    claim = current_app.config["OIDC_USER_CLAIM"]
    value = claims.get(claim)
    user = people.find_by_email(value) if isinstance(value, str) else None
    if user is None or not user.active:
        return render_template("not_registered.html", inactive=user is not None), 403
    return complete_sign_in(user.id, token.get("id_token"))


def _provider_unreachable():
    return render_template(
        "error.html",
        title=_("Signing in is not possible right now"),
        message=_("The organisation's sign-in service could not be reached. Try again in a "
                  "few minutes."),
    ), 503


@blp.post("/signout")
def sign_out():
    id_token = session.get("id_token")
    session.end()
    if id_token and oidc_enabled() and current_app.config["OIDC_END_SESSION"]:
        try:
            metadata = _provider().load_server_metadata()
        except _provider_errors():
            metadata = {}
        end_session = metadata.get("end_session_endpoint")
        if end_session:
            query = urlencode({
                "id_token_hint": id_token,
                "post_logout_redirect_uri": current_app.config["PUBLIC_BASE_URL"]
                + url_for("signin.signed_out"),
                "client_id": current_app.config["OIDC_CLIENT_ID"],
            })
            return redirect(f"{end_session}?{query}", 303)
    return redirect(url_for("signin.signed_out"), 303)


@blp.get("/signed-out")
def signed_out():
    return render_template("signed_out.html")
