"""What every page gets: a CSRF check on every form, a same-origin check on every POST, a
content security policy that allows only the service's own files, and no caching of pages.

Forms of signed-in people carry Flask-WTF's CSRF token, bound to the server-side session. The
anonymous channel has no session by design (nothing may tie a reporter to a browser), so its
forms carry a signed, time-limited form token instead, and every POST must come from this site
(Origin or Referer; OWASP's "verifying origin with standard headers")."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Flask, current_app, render_template, request, session
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError, CSRFProtect, generate_csrf
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from incidents.web.sessions import SESSIONLESS_PREFIXES

csrf = CSRFProtect()

ANONYMOUS_FORM_SECONDS = 4 * 3600


class FormRefused(Exception):
    """A POST that did not come from a form of this site (CSRF): 400 with a plain page."""


def _web_path() -> bool:
    return not request.path.startswith(("/api/", "/static/"))


def _origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def _same_origin() -> bool:
    sent = request.headers.get("Origin") or request.headers.get("Referer")
    if not sent or sent == "null":
        return False
    allowed = {_origin_of(request.host_url), _origin_of(current_app.config["PUBLIC_BASE_URL"])}
    return _origin_of(sent) in allowed


def anonymous_form_token() -> str:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], "anonymous-form").dumps(1)


def check_anonymous_form_token() -> None:
    token = request.form.get("form_token", "")
    serializer = URLSafeTimedSerializer(current_app.config["SECRET_KEY"], "anonymous-form")
    try:
        serializer.loads(token, max_age=ANONYMOUS_FORM_SECONDS)
    except (BadSignature, SignatureExpired) as exc:
        raise FormRefused from exc


def _protect() -> None:
    if request.method != "POST" or not _web_path():
        return
    if not _same_origin():
        raise FormRefused
    if request.path.startswith(SESSIONLESS_PREFIXES):
        check_anonymous_form_token()
        return
    # An expired session cannot hold the token it issued; login_required (identity.py) keeps
    # what was sent and asks the person to sign in again, and nothing is acted on.
    if getattr(session, "expired", False):
        return
    csrf.protect()


def content_security_policy() -> str:
    form_targets = ["'self'"]
    issuer = current_app.config.get("OIDC_ISSUER")
    if issuer and current_app.config.get("OIDC_CLIENT_ID"):
        # Sign-in and sign-out forms redirect to the provider.
        form_targets.append(_origin_of(issuer))
    return (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "font-src 'self'; connect-src 'self'; form-action " + " ".join(form_targets) + "; "
        "frame-ancestors 'none'; base-uri 'none'"
    )


def init_app(app: Flask) -> None:
    csrf.init_app(app)
    app.before_request(_protect)
    app.jinja_env.globals["csrf_token"] = generate_csrf
    app.jinja_env.globals["anonymous_form_token"] = anonymous_form_token

    @app.after_request
    def _page_headers(response):
        if request.path.startswith("/api/"):
            return response
        if request.path.startswith("/static/"):
            response.headers["Cache-Control"] = "public, max-age=3600"
            return response
        response.headers.setdefault("Content-Security-Policy", content_security_policy())
        # Same-origin only: the browser then sends this site's Origin with a form (the CSRF
        # check above needs it), and never a page address to another site.
        response.headers["Referrer-Policy"] = "same-origin"
        return response

    @app.errorhandler(CSRFError)
    def _csrf_error(_error):
        return _refused()

    @app.errorhandler(FormRefused)
    def _form_refused(_error):
        return _refused()


def _refused():
    return render_template(
        "error.html",
        title=_("The form could not be sent"),
        message=_("The form was too old or did not come from this site. Go back, reload the "
                  "page and send it again."),
    ), 400
