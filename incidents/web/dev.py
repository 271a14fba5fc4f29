"""Development only (DEV_SIGNIN, which production refuses to start with): sign in as any user
without a provider, make a small demo organisation in an empty register, and read the mail the
service would send. Registered only when DEV_SIGNIN is on."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from incidents.errors import DomainError
from incidents.services import outbox, people
from incidents.web.boundary import unit_of_work
from incidents.web.forms import whole_number
from incidents.web.signin import complete_sign_in

blp = Blueprint("dev", __name__, url_prefix="/dev")


@blp.get("/signin")
@unit_of_work
def signin_page():
    return render_template("dev_signin.html", users=people.list_users(active=True))


@blp.post("/signin")
@unit_of_work
def signin():
    user_id = whole_number(request.form.get("user_id"))
    user = people.find_active(user_id) if isinstance(user_id, int) else None
    if user is None:
        flash(_("Choose a user to sign in as."), "error")
        return redirect(url_for("dev.signin_page"), 303)
    return complete_sign_in(user.id)


@blp.post("/demo-organisation")
@unit_of_work
def demo_organisation():
    from incidents.services import demo_org

    try:
        demo_org.create_demo_organisation()
    except DomainError as exc:
        flash(exc.detail, "error")
        return redirect(url_for("dev.signin_page"), 303)
    flash(_("The demo organisation was created. Choose a person to sign in as."), "success")
    return redirect(url_for("dev.signin_page"), 303)


@blp.get("/mailbox")
@unit_of_work
def mailbox():
    return render_template("dev_mailbox.html", mails=outbox.recent(50))
