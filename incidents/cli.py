"""flask commands: users, tokens, the mail outbox, summaries, the scheduler, the anonymous
channel's publication and demo data (docs/getting-started.md and docs/operations.md show them
in use)."""

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
from incidents.schemas.common import normalise_email
from incidents.services import people

users_cli = AppGroup("users", help="Manage users.")
tokens_cli = AppGroup("tokens", help="Issue local bearer tokens.")
outbox_cli = AppGroup("outbox", help="Deliver and inspect notification mails.")
summaries_cli = AppGroup("summaries", help="Make and list statistics summaries.")
scheduler_cli = AppGroup("scheduler", help="Inspect the scheduler and run a job by hand.")
audit_cli = AppGroup("audit", help="Check the audit trail.")
anonymous_cli = AppGroup("anonymous", help="Publish what the anonymous channel holds.")


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
@click.option("--hr-for", "hr_for", type=int, multiple=True,
              help="Unit id the hr role is held for (with everything below it).")
@click.option("--statistics-for", "statistics_for", type=int, multiple=True,
              help="Unit id the statistics_reader role is held for.")
@click.option("--admin-for", "admin_for", type=int, multiple=True,
              help="Unit id the admin role is held for.")
def add_user(email: str, name: str, roles: tuple[str, ...], unit_id: int | None, leads,
             hr_for, statistics_for, admin_for):
    """Register a user (the first one, a platform_admin, is made this way)."""
    from incidents.schemas.people import UserCreateSchema

    payload = {"email": email, "name": name, "roles": list(dict.fromkeys(roles))}
    if unit_id is not None:
        payload["unit_id"] = unit_id
    for field, given in (("leads_unit_ids", leads), ("hr_unit_ids", hr_for),
                         ("statistics_unit_ids", statistics_for),
                         ("admin_unit_ids", admin_for)):
        if given:
            payload[field] = list(given)
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
        _fail(f"no user with the email {normalise_email(email)}")
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


@summaries_cli.command("run")
@click.option("--kind", type=click.Choice(["tertial", "monthly"]), required=True)
@click.option("--period", required=True, help="2026-T2 for a tertial, 2026-05 for a month.")
@click.option("--unit", "unit_ids", type=int, multiple=True,
              help="Only this unit (repeatable); default every organisation and förvaltning.")
@click.option("--mail/--no-mail", default=False, show_default=True,
              help="Tell hr by mail about the summaries made, as the scheduler does.")
def summaries_run(kind: str, period: str, unit_ids: tuple[int, ...], mail: bool):
    """Make the summaries of an ended period; those that exist are left as they are."""
    from incidents.domain import SummaryOrigin
    from incidents.services import summaries

    try:
        run = summaries.make_period_summaries(
            kind, period, origin=SummaryOrigin.REQUEST, unit_ids=list(unit_ids) or None
        )
        if mail:
            summaries.tell_hr(run.created)
        db.session.commit()
    except DomainError as exc:
        db.session.rollback()
        _fail(exc.detail)
    if not run.summaries:
        click.echo("nothing to summarise: there is no organisation or förvaltning unit")
    for summary in run.summaries:
        state = "made" if summary in run.created else "existed"
        click.echo(f"{state} {summary.id}: {summary.kind} {summary.period} {summary.scope_name}")


@summaries_cli.command("list")
@click.option("--kind", type=click.Choice(["tertial", "monthly", "workshop"]))
@click.option("--period")
def summaries_list(kind: str | None, period: str | None):
    """The summaries made, latest period first."""
    from incidents.services import summaries

    for summary in summaries.list_summaries(
        summaries.SystemReader(), {"kind": kind, "period": period, "limit": 1000}
    ):
        click.echo(f"{summary.id}: {summary.kind} {summary.period} {summary.scope_name} "
                   f"({summary.origin}, {summary.created_at:%Y-%m-%d %H:%M} UTC)")


@scheduler_cli.command("status")
def scheduler_status():
    """The stored jobs with their next run (local time) and how each last went, the process
    holding the lease, and the scheduler's heartbeat."""
    from incidents.services import health
    from scheduler import JOBS, build_scheduler, lease

    held = lease.current()
    click.echo(f"lease: {held.holder} until {held.expires_at:%Y-%m-%d %H:%M:%S} UTC"
               if held else "lease: free (no scheduler running)")
    check = health.readiness().checks["scheduler"]
    beat = (f"{check['holder']} at {check['heartbeat_at']:%Y-%m-%d %H:%M:%S} UTC "
            f"({check['heartbeat_age_seconds']} s ago), {check['state']}"
            if check.get("heartbeat_at") else check["state"])
    click.echo(f"heartbeat: {beat}")
    if not check["ok"]:
        click.echo(f"not ready: {check['detail']}")
    went = {job["id"]: job for job in check["jobs"]}
    db.session.rollback()  # the job store reads on connections of its own
    scheduler = build_scheduler(current_app._get_current_object())
    scheduler.start(paused=True)
    try:
        stored = {job.id: job for job in scheduler.get_jobs()}
    finally:
        scheduler.shutdown(wait=False)
    for spec in JOBS:
        job = stored.get(spec.id)
        when = f"{job.next_run_time:%Y-%m-%d %H:%M %Z}" if job else "not stored yet"
        click.echo(f"{spec.id:24} {spec.when:44} next: {when}{_how_it_went(went.get(spec.id))}")


def _how_it_went(job: dict | None) -> str:
    if job is None:
        return ""
    success = job["last_success_at"]
    text = f"  {job['state']}, last success: " + (
        f"{success:%Y-%m-%d %H:%M:%S} UTC" if success else "none")
    if job["state"] != "ok" and job["last_error_at"]:
        text += f", last error: {job['last_error']} at {job['last_error_at']:%Y-%m-%d %H:%M} UTC"
    return text


@scheduler_cli.command("run")
@click.argument("job_id")
def scheduler_run(job_id: str):
    """Run one job now, in this process (its unique keys keep it from doing anything twice)."""
    from scheduler import JOBS, jobs

    known = {spec.id for spec in JOBS}
    if job_id not in known:
        _fail(f"no job {job_id!r}; the jobs are: {', '.join(sorted(known))}")
    jobs.bind(current_app._get_current_object())
    result = getattr(jobs, job_id)()
    click.echo(f"{job_id}: {result}")


@click.command("demo-data")
@click.option("--units", type=click.IntRange(min=1), default=500, show_default=True)
@click.option("--incidents", type=click.IntRange(min=0), default=100_000, show_default=True)
@click.option("--years", type=click.IntRange(min=1, max=20), default=3, show_default=True)
@click.option("--until", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
              help="Last day of the demo period (default: today).")
@click.option("--seed", type=int, default=1, show_default=True)
def demo_data(units: int, incidents: int, years: int, until, seed: int):
    """Fill an EMPTY database with a made-up municipality and its incidents (docs/performance.md).
    Refused in production and when the database holds anything."""
    from incidents import demo

    plan = demo.DemoPlan(units=units, incidents=incidents, years=years, seed=seed,
                         until=until.date() if until else None)
    started = time.perf_counter()
    try:
        made = demo.load(plan)
    except DomainError as exc:
        db.session.rollback()
        _fail(exc.detail)
    steps = ", ".join(f"{name} {seconds:.1f} s" for name, seconds in made.seconds.items())
    click.echo(f"demo data: {made.units} units, {made.users} users, {made.incidents} incidents "
               f"({made.forms} forms) in {time.perf_counter() - started:.1f} s ({steps})")
    click.echo(f"sign in as: {made.hr_email} (hr), {made.admin_email} (admin), "
               f"{made.manager_email} (manager), {made.employee_email} (employee)")


@click.command("demo-org")
def demo_org():
    """Make a small demo organisation in an EMPTY register: four units and one person per role,
    for trying the service out. Refused in production and when the register holds units or
    users."""
    from incidents.services import demo_org as demo

    try:
        made = demo.create_demo_organisation()
        db.session.commit()
    except DomainError as exc:
        db.session.rollback()
        _fail(exc.detail)
    units = {unit.id: unit.name for unit in made.units}
    click.echo(f"demo organisation: {len(made.units)} units, {len(made.users)} users")
    for user in made.users:
        where = units[user.unit_id] if user.unit_id else "no unit"
        leads = ", leads " + ", ".join(units[u] for u in user.leads_unit_ids)
        click.echo(f"  {user.email}  {user.name}  {', '.join(user.roles)}  {where}"
                   f"{leads if user.leads_unit_ids else ''}")
    click.echo("a token for one of them: flask --app wsgi tokens issue EMAIL")


@audit_cli.command("verify")
def audit_verify():
    """Walk the audit trail's hash chain; exit 1 naming the first entry that does not hold."""
    from incidents.services import audit_chain

    result = audit_chain.verify(db.session)
    if result.broken is None:
        click.echo(f"The audit chain holds: {result.checked} entries checked.")
        return
    broken = result.broken
    where = f"entry {broken.entry_id}" + (
        f" (chain index {broken.chain_index})" if broken.chain_index is not None else "")
    _fail(f"The audit chain is broken at {where}: {broken.reason}. "
          f"{result.checked} entries before it hold.")


@anonymous_cli.command("publish")
def anonymous_publish():
    """Publish what the anonymous channel held from before this full hour, as the hourly job
    does (what came in this hour waits for the next); exit 1 if an item failed (it stays held)."""
    from incidents.services import anonymous

    run = anonymous.publish()
    click.echo(f"anonymous: {run}")
    state = anonymous.held_state()
    if state.overdue:
        click.echo(f"still held from before this hour: {state.overdue}, the oldest from "
                   f"{state.oldest_hour:%Y-%m-%d %H:%M} UTC")
    sys.exit(1 if run.failed else 0)


def register(app: Flask) -> None:
    app.cli.add_command(demo_data)
    app.cli.add_command(demo_org)
    app.cli.add_command(users_cli)
    app.cli.add_command(tokens_cli)
    app.cli.add_command(outbox_cli)
    app.cli.add_command(summaries_cli)
    app.cli.add_command(scheduler_cli)
    app.cli.add_command(audit_cli)
    app.cli.add_command(anonymous_cli)
