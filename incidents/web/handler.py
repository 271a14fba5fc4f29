"""The pages mails send case handlers and HR to: the overdue list of the cases one handles, and
one summary with its files. The services decide who reaches what (the same calls as the API)."""

from __future__ import annotations

from flask import Blueprint, Response, render_template
from flask_babel import gettext as _

from incidents import auth
from incidents.clock import utcnow
from incidents.domain import SUMMARY_KIND_LABELS, Role, SummaryKind
from incidents.services import summaries, support
from incidents.services.reminders import KIND_LABELS
from incidents.web.boundary import unit_of_work
from incidents.web.identity import login_required, signed_in_user

blp = Blueprint("handler", __name__)


@blp.get("/overdue")
@login_required
@unit_of_work
def overdue():
    user = signed_in_user()
    auth.require_roles(user, (Role.MANAGER, Role.HR))
    now = utcnow()
    items = [
        {**item, "late": now - item["due_at"], "label": KIND_LABELS[item["kind"]]}
        for item in support.overdue(user)
    ]
    return render_template("overdue.html", items=items)


def _summary(summary_id: int):
    user = signed_in_user()
    auth.require_roles(user, (Role.HR, Role.MANAGER))
    return summaries.read(user, summary_id)


@blp.get("/summaries/<int:summary_id>")
@login_required
@unit_of_work
def summary(summary_id: int):
    found = _summary(summary_id)
    return render_template(
        "summary.html", summary=found, kind_label=SUMMARY_KIND_LABELS[SummaryKind(found.kind)],
        files=sorted(found.files, key=lambda f: f.name),
    )


@blp.get("/summaries/<int:summary_id>/files/<string:name>")
@login_required
@unit_of_work
def summary_file(summary_id: int, name: str):
    stored = summaries.file_of(_summary(summary_id), name)
    disposition = "inline" if stored.media_type == "image/png" else "attachment"
    return Response(stored.content, mimetype=stored.media_type, headers={
        "Content-Disposition": f'{disposition}; filename="{stored.name}"'})


def late_text(late) -> str:
    """How late, in whole days or hours, for people."""
    hours = int(late.total_seconds() // 3600)
    if hours >= 48:
        return _("%(days)s days late", days=hours // 24)
    return _("%(hours)s hours late", hours=max(hours, 1))
