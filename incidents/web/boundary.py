"""The request boundary of a page: one commit when the page succeeded, a rollback otherwise, as
the API's unit of work does (incidents/api/base.py), so a page writes exactly what the API
would, or nothing."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from flask import current_app

from incidents.errors import DomainError
from incidents.extensions import db
from incidents.services import audit


def unit_of_work(view: Callable) -> Callable:
    @wraps(view)
    def wrapper(*args, **kwargs):
        try:
            response = current_app.make_response(view(*args, **kwargs))
        except DomainError as exc:
            db.session.rollback()
            audit.write_after_rollback(exc)
            raise
        except BaseException:
            db.session.rollback()
            raise
        if response.status_code >= 400:
            db.session.rollback()
        else:
            db.session.commit()
        return response

    return wrapper
