"""flask commands: users and tokens (docs/getting-started.md shows them in use)."""

from __future__ import annotations

import sys

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


def register(app: Flask) -> None:
    app.cli.add_command(users_cli)
    app.cli.add_command(tokens_cli)
