"""Languages: Swedish first, English selectable and remembered in a cookie that says only the
language. All page text goes through gettext (incidents/translations); domain labels come from
the sv/en vocabulary in incidents/domain.py."""

from __future__ import annotations

from datetime import datetime
from urllib.parse import urlsplit

from flask import Blueprint, Flask, abort, redirect, request
from flask_babel import Babel, format_datetime, get_locale

from incidents.clock import to_local
from incidents.domain import CATEGORY_LABELS, Category, Label

LANGUAGES = ("sv", "en")
COOKIE = "lang"

babel = Babel()
blp = Blueprint("language", __name__)


def select_locale() -> str:
    chosen = request.cookies.get(COOKIE)
    return chosen if chosen in LANGUAGES else "sv"


def language() -> str:
    return str(get_locale() or "sv")


def label(value: Label | None) -> str:
    """A domain label in the page's language."""
    if value is None:
        return ""
    return value.en if language() == "en" else value.sv


def category_label(code: str) -> str:
    return label(CATEGORY_LABELS[Category(code)])


def labelled(pairs) -> list[tuple[str, str]]:
    """(code, Label) pairs as (code, text) options in the page's language."""
    return [(code, label(text)) for code, text in pairs]


def options(rows) -> list[tuple[str, str]]:
    """(id, name) pairs, or rows with an id and a name (people), as select options."""
    return [(str(row[0]), row[1]) if isinstance(row, tuple) else (str(row.id), row.name)
            for row in rows]


def local_time(moment: datetime | None, with_time: bool = True) -> str:
    if moment is None:
        return ""
    local = to_local(moment)
    return format_datetime(local, "yyyy-MM-dd HH:mm" if with_time else "yyyy-MM-dd")


def _safe_next(target: str | None) -> str:
    """Only a path on this site (never another host: an open redirect)."""
    if not target or not target.startswith("/") or target.startswith("//"):
        return "/"
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or "\\" in target:
        return "/"
    return target


@blp.get("/language/<code>")
def choose(code: str):
    if code not in LANGUAGES:
        abort(404)
    response = redirect(_safe_next(request.args.get("next")))
    response.set_cookie(COOKIE, code, max_age=365 * 24 * 3600, samesite="Lax",
                        secure=request.is_secure, httponly=True)
    return response


def init_app(app: Flask) -> None:
    babel.init_app(app, locale_selector=select_locale,
                   default_translation_directories="translations")
    app.jinja_env.filters["label"] = label
    app.jinja_env.filters["local_time"] = local_time
    app.jinja_env.filters["labelled"] = labelled
    app.jinja_env.filters["category_label"] = category_label
    app.jinja_env.filters["options"] = options
    app.jinja_env.globals["LANGUAGES"] = LANGUAGES
    app.jinja_env.globals["language"] = language
    app.jinja_env.add_extension("jinja2.ext.i18n")
