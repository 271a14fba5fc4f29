"""The demo organisation (incidents/services/demo_org.py, `flask demo-org`): the units and the
person per role it promises, all marked as demo data; only into an empty register; never in
production; flushed for the caller to commit."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from incidents.clock import utcnow
from incidents.errors import Conflict
from incidents.extensions import db
from incidents.models import Incident, OutboxMail, Unit, User
from incidents.services import demo_org, reporting

ROOT = "Demostad (demo)"
NORTH = "Norra stadsdelsförvaltningen (demo)"
CHILDREN = "Socialtjänst barn och unga (demo)"
AID = "Ekonomiskt bistånd (demo)"


def _count(session, model) -> int:
    return session.scalar(sa.select(sa.func.count()).select_from(model))


def _tree(session) -> dict[str, tuple[str, str | None]]:
    """Unit name → (kind, parent's name)."""
    session.expire_all()
    units = session.scalars(sa.select(Unit)).all()
    names = {unit.id: unit.name for unit in units}
    return {unit.name: (unit.kind, names.get(unit.parent_id)) for unit in units}


def _people(session) -> dict[str, tuple[str, list[str], str | None, list[str]]]:
    """Email → (name, roles, home unit's name, names of the units led)."""
    session.expire_all()
    names = {unit.id: unit.name for unit in session.scalars(sa.select(Unit))}
    return {
        user.email: (user.name, sorted(user.roles), names.get(user.unit_id),
                     [names[u] for u in user.leads_unit_ids])
        for user in session.scalars(sa.select(User))
    }


EXPECTED_PEOPLE = {
    "anna.medarbetare@demo.example": ("Anna Medarbetare (demo)", ["employee"], CHILDREN, []),
    "erik.kollega@demo.example": ("Erik Kollega (demo)", ["employee"], CHILDREN, []),
    "maria.chef@demo.example": ("Maria Chef (demo)", ["manager"], CHILDREN, [CHILDREN]),
    "hanna.hr@demo.example": ("Hanna HR (demo)", ["hr"], NORTH, []),
    "adam.admin@demo.example": ("Adam Admin (demo)", ["admin"], None, []),
}


def test_it_makes_the_tree_and_one_person_per_role_marked_as_demo(db_session):
    made = demo_org.create_demo_organisation()
    assert _tree(db_session) == {
        ROOT: ("organisation", None),
        NORTH: ("forvaltning", ROOT),
        CHILDREN: ("enhet", NORTH),
        AID: ("enhet", NORTH),
    }
    assert _people(db_session) == EXPECTED_PEOPLE
    assert [unit.name for unit in made.units] == [ROOT, NORTH, CHILDREN, AID]
    assert [user.email for user in made.users] == list(EXPECTED_PEOPLE)
    assert all(user.active for user in made.users)
    assert _count(db_session, Incident) == 0


def test_it_flushes_and_leaves_the_commit_to_the_caller(db_session, monkeypatch):
    def no_commit():
        raise AssertionError("the service committed")

    monkeypatch.setattr(db.session, "commit", no_commit)
    made = demo_org.create_demo_organisation()
    assert all(unit.id is not None for unit in made.units)
    assert all(user.id is not None for user in made.users)


def test_the_demo_people_can_report_for_a_colleague_and_their_manager_is_told(db_session):
    """The organisation works as promised: Anna reports for Erik, and Maria, who leads their
    unit, is mailed about it."""
    made = demo_org.create_demo_organisation()
    anna, erik, maria = made.users[:3]
    children = made.units[2]
    incident = reporting.report_incident(anna, {
        "category": "threat", "perceived_influence_purpose": "yes",
        "occurred_at": utcnow() - timedelta(hours=1), "unit_id": children.id,
        "description": "Klienten hotade Erik i receptionen.", "on_behalf_of": erik.id})
    assert incident.exposed_user_id == erik.id
    mails = db_session.scalars(
        sa.select(OutboxMail.recipient).where(OutboxMail.incident_id == incident.id)).all()
    assert mails == [maria.email]


@pytest.mark.parametrize("holds", ["unit", "user"])
def test_a_register_that_is_not_empty_is_refused_and_nothing_is_written(db_session, make, holds):
    if holds == "unit":
        make.unit("Riktig enhet")
    else:
        make.user("admin", email="forsta.admin@stad.example")
    before = (_count(db_session, Unit), _count(db_session, User))
    with pytest.raises(Conflict, match="register is not empty"):
        demo_org.create_demo_organisation()
    assert (_count(db_session, Unit), _count(db_session, User)) == before


def test_production_is_refused(app, db_session):
    saved = app.config["INCIDENTS_ENV"]
    app.config["INCIDENTS_ENV"] = "production"
    try:
        with pytest.raises(Conflict, match="production"):
            demo_org.create_demo_organisation()
    finally:
        app.config["INCIDENTS_ENV"] = saved
    assert _count(db_session, Unit) == 0 and _count(db_session, User) == 0


# -- flask demo-org -----------------------------------------------------------------------------


def test_the_command_makes_commits_and_prints_the_people(runner, db_session):
    result = runner.invoke(args=["demo-org"])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[0] == "demo organisation: 4 units, 5 users"
    for email, (name, roles, _unit, _leads) in EXPECTED_PEOPLE.items():
        assert any(email in line and name in line and roles[0] in line
                   for line in result.output.splitlines()), email
    assert f"maria.chef@demo.example  Maria Chef (demo)  manager  {CHILDREN}, leads {CHILDREN}" \
        in result.output
    db_session.rollback()  # what the command committed stays; anything only flushed would not
    assert _people(db_session) == EXPECTED_PEOPLE


def test_the_command_refuses_a_second_run(runner, db_session):
    assert runner.invoke(args=["demo-org"]).exit_code == 0
    again = runner.invoke(args=["demo-org"])
    assert again.exit_code == 1
    assert "register is not empty" in again.output
    assert _count(db_session, User) == 5


def test_the_command_refuses_production(app, runner, db_session):
    saved = app.config["INCIDENTS_ENV"]
    app.config["INCIDENTS_ENV"] = "production"
    try:
        result = runner.invoke(args=["demo-org"])
    finally:
        app.config["INCIDENTS_ENV"] = saved
    assert result.exit_code == 1
    assert "production" in result.output
    assert _count(db_session, Unit) == 0
