"""Errors on pages: the same statuses as the API, as a page in plain words with a way on."""

from __future__ import annotations

from flask import Flask, make_response, render_template
from flask_babel import lazy_gettext as _l

_PAGES = {
    400: (_l("The request could not be handled"),
          _l("Something in the request was wrong. Go back and try again.")),
    403: (_l("You do not have access to this"),
          _l("Your account does not give access to this page. If you think it should, ask "
             "your manager or administrator.")),
    404: (_l("The page was not found"),
          _l("There is no such page, or it is not one you can see. Check the address, or "
             "go to the start page.")),
    405: (_l("The request could not be handled"),
          _l("This page cannot be used that way. Go back and try again.")),
    409: (_l("This could not be done now"),
          _l("The case has changed so that this cannot be done. Open it again to see its "
             "current state.")),
    412: (_l("Someone else changed this"),
          _l("The case was changed after you opened it. Open it again to see the new state.")),
    413: (_l("Too much text was sent"),
          _l("The form held more than the service accepts. Shorten the text and try again.")),
    429: (_l("Too many attempts"),
          _l("There have been too many attempts from your connection. Wait a while and try "
             "again.")),
    503: (_l("The service is not available right now"),
          _l("Nothing was saved. Try again in a minute.")),
}
_FALLBACK = (_l("Something went wrong"),
             _l("The service could not complete what you asked. Nothing was saved. Try again; "
                "if it keeps happening, tell your IT support."))


def render_error(status: int):
    title, message = _PAGES.get(status, _FALLBACK)
    return make_response(render_template("error.html", title=title, message=message), status)


def init_app(app: Flask) -> None:
    app.extensions["incidents.page_errors"] = render_error
