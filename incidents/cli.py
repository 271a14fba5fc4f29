"""flask commands: users, tokens and the mail outbox (docs/getting-started.md shows them in use)."""

from __future__ import annotations

import sys
import time

import click
from flask import Flask, current_app
from flask.cli import AppGroup

from incidents import auth
from incidents.domain import Role, values
from incidents.errors import DomainError
from incidents.extensions import db
from incidents.services import people

users_cli = AppGroup("users", help="Manage users.")
tokens_cli = AppGroup("tokens", help="Issue local bearer tokens.")
outbox_cli = AppGroup("outbox", help="Deliver and inspect notification mails.")


def _fail(message: str) -> None:
    click.echo(f"Error: {message}", err=True)
    sys.exit(1)


@users_cli.command("add")
@click.argument("email")
@click.option("--name", required=True, help="Full name.")
@click.option(
    "--role",
    "roles",
    multiple=True,
    required=True,
    type=click.Choice(values(Role)),
    help="A role; repeat for several.",
)
@click.option("--unit", "unit_id", type=int, default=None, help="Home unit id.")
@click.option("--leads", "leads", type=int, multiple=True, help="Unit id the user leads.")
def add_user(email: str, name: str, roles: tuple[str, ...], unit_id: int | None, leads):
    """Register a user (the first admin is made this way)."""
    from incidents.schemas.people import UserCreateSchema

    payload = {"email": email, "name": name, "roles": list(dict.fromkeys(roles))}
    if unit_id is not None:
        payload["unit_id"] = unit_id
    if leads:
        payload["leads_unit_ids"] = list(leads)
    errors = UserCreateSchema().validate(payload)
    if errors:
        _fail("; ".join(f"{field}: {', '.join(map(str, msgs))}" for field, msgs in errors.items()))
    try:
        user = people.create_user(UserCreateSchema().load(payload))
        db.session.commit()
    except DomainError as exc:
        db.session.rollback()
        _fail(exc.detail)
    click.echo(f"Created user {user.id} <{user.email}> with roles {', '.join(user.roles)}.")


@tokens_cli.command("issue")
@click.argument("email")
@click.option("--hours", type=click.IntRange(min=1), default=None, help="Validity in hours.")
def issue_token(email: str, hours: int | None):
    """Print a signed bearer token for EMAIL, and nothing else, on stdout."""
    if not current_app.config["LOCAL_TOKENS"]:
        _fail("local tokens are switched off (LOCAL_TOKENS=false); sign in through OpenID Connect")
    user = people.find_by_email(email)
    if user is None:
        _fail(f"no user with the email {email.strip().lower()}")
    if not user.active:
        _fail(f"{user.email} is deactivated")
    try:
        token = auth.issue_local_token(user, hours)
    except ValueError as exc:
        _fail(f"--hours: {exc}")
    click.echo(token)


@outbox_cli.command("deliver")
@click.option("--loop", is_flag=True, help="Keep delivering until stopped (Ctrl-C).")
@click.option(
    "--interval",
    type=click.FloatRange(min=0.1),
    default=10.0,
    show_default=True,
    help="Seconds between runs with --loop.",
)
def deliver_outbox(loop: bool, interval: float):
    """Send the notification mails that are due; retries what the server could not take."""
    from incidents.services import outbox

    while True:
        report = outbox.deliver()
        if report.sent or report.deferred or report.failed or not loop:
            click.echo(f"outbox: {report}")
        if not loop:
            sys.exit(1 if report.failed else 0)
        try:
            time.sleep(interval)
        except KeyboardInterrupt:
            return


@outbox_cli.command("status")
def outbox_status():
    """Count the mails by status and list those the server refused for good."""
    from incidents.services import outbox

    counts = outbox.counts()
    click.echo(", ".join(f"{status} {number}" for status, number in counts.items()))
    for mail in outbox.failed_mails():
        click.echo(f"failed {mail.id} to {mail.recipient} ({mail.kind}): {mail.last_error}")


@outbox_cli.command("retry")
@click.argument("ids", nargs=-1, type=int)
def outbox_retry(ids: tuple[int, ...]):
    """Queue failed mails again: the given ids, or every failed mail."""
    from incidents.services import outbox

    click.echo(f"queued {outbox.retry_failed(list(ids))} failed mail(s) again")


def register(app: Flask) -> None:
    app.cli.add_command(users_cli)
    app.cli.add_command(tokens_cli)
    app.cli.add_command(outbox_cli)
