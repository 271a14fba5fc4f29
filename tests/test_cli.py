"""The flask commands: `users add` registers a user, `tokens issue` prints a local token.

The commands commit; under the test fixtures that commit is a savepoint inside the test's
transaction, so nothing outlives the test.
"""

from __future__ import annotations

import jwt
import pytest

from incidents.services import people


def add_user(runner, email: str, *options: str):
    return runner.invoke(args=["users", "add", email, *options])


def issue(runner, email: str, *options: str):
    return runner.invoke(args=["tokens", "issue", email, *options])


def fresh(db_session, email: str):
    db_session.expire_all()
    return people.find_by_email(email)


# -- users add -----------------------------------------------------------------------------


def test_users_add_creates_the_user_with_roles_unit_and_leaderships(runner, make, db_session):
    home = make.unit("Enhet Norr")
    led_a = make.unit("Avdelning Norr", "avdelning")
    led_b = make.unit("Avdelning Söder", "avdelning")

    result = add_user(
        runner,
        "Karin.Lund@Stad.Example",
        "--name", "Karin Lund",
        "--role", "employee",
        "--role", "manager",
        "--unit", str(home.id),
        "--leads", str(led_a.id),
        "--leads", str(led_b.id),
    )

    assert result.exit_code == 0, result.output
    user = fresh(db_session, "karin.lund@stad.example")
    assert user is not None
    assert user.email == "karin.lund@stad.example"  # stored normalised
    assert user.name == "Karin Lund"
    assert sorted(user.roles) == ["employee", "manager"]
    assert user.unit_id == home.id
    assert sorted(user.leads_unit_ids) == sorted([led_a.id, led_b.id])
    assert user.active is True
    assert f"Created user {user.id}" in result.stdout


def test_users_add_with_a_single_role_and_no_unit(runner, db_session):
    """The first user of a new deployment: a platform admin, before any unit exists."""
    result = add_user(
        runner, "first.admin@stad.example", "--name", "First Admin", "--role", "platform_admin"
    )

    assert result.exit_code == 0, result.output
    user = fresh(db_session, "first.admin@stad.example")
    assert user.roles == ["platform_admin"]
    assert user.unit_id is None
    assert user.leads_unit_ids == []


def test_a_repeated_role_is_stored_once(runner, make, db_session):
    root = make.unit("Staden", "organisation")
    result = add_user(runner, "eva@stad.example", "--name", "Eva", "--role", "hr", "--role", "hr",
                      "--hr-for", str(root.id))
    assert result.exit_code == 0, result.output
    eva = fresh(db_session, "eva@stad.example")
    assert eva.roles == ["hr"] and eva.hr_unit_ids == [root.id]


def test_users_add_refuses_hr_without_units(runner, db_session):
    result = add_user(runner, "olle@stad.example", "--name", "Olle", "--role", "hr")
    assert result.exit_code == 1
    assert "hr_unit_ids" in result.output
    assert fresh(db_session, "olle@stad.example") is None


@pytest.mark.parametrize("spelling", ["dup@stad.example", "DUP@Stad.Example"])
def test_users_add_refuses_a_duplicate_email(runner, make, db_session, spelling):
    existing = make.user("employee", email="dup@stad.example")

    result = add_user(runner, spelling, "--name", "Someone Else", "--role", "hr")

    assert result.exit_code != 0
    assert "already exists" in result.stderr
    assert "Traceback" not in result.output
    user = fresh(db_session, "dup@stad.example")
    assert user.id == existing.id
    assert user.roles == ["employee"]


@pytest.mark.parametrize("email", ["not-an-email", "anna@", "@stad.example", ""])
def test_users_add_refuses_an_invalid_email(runner, db_session, email):
    result = add_user(runner, email, "--name", "Anna", "--role", "employee")

    assert result.exit_code != 0
    assert "email" in result.stderr
    assert "Created user" not in result.output
    if email:
        assert fresh(db_session, email) is None


def test_users_add_refuses_leads_without_the_manager_role(runner, make, db_session):
    unit = make.unit()

    result = add_user(
        runner, "olle@stad.example", "--name", "Olle", "--role", "employee",
        "--leads", str(unit.id),
    )

    assert result.exit_code != 0
    assert "manager" in result.stderr
    assert fresh(db_session, "olle@stad.example") is None


def test_users_add_refuses_an_unknown_unit(runner, make, db_session):
    unit = make.unit()
    missing = unit.id + 10_000

    for option in ("--unit", "--leads"):
        result = add_user(
            runner, "olle@stad.example", "--name", "Olle", "--role", "employee",
            "--role", "manager", option, str(missing),
        )
        assert result.exit_code != 0, option
        assert "no such unit" in result.stderr
        assert fresh(db_session, "olle@stad.example") is None


def test_users_add_needs_a_known_role_and_a_name(runner, db_session):
    no_role = add_user(runner, "a@stad.example", "--name", "A")
    bad_role = add_user(runner, "a@stad.example", "--name", "A", "--role", "superuser")
    no_name = add_user(runner, "a@stad.example", "--role", "employee")

    for result in (no_role, bad_role, no_name):
        assert result.exit_code != 0
    assert fresh(db_session, "a@stad.example") is None


# -- tokens issue --------------------------------------------------------------------------


def test_tokens_issue_prints_only_a_token_that_authenticates(runner, client, make):
    user = make.user("employee", "hr", email="lisa.ek@stad.example")

    result = issue(runner, "lisa.ek@stad.example")

    assert result.exit_code == 0, result.output
    assert result.stderr == ""
    lines = result.stdout.strip().splitlines()
    assert len(lines) == 1
    token = lines[0]
    assert len(token.split(".")) == 3
    assert all(token.split("."))

    response = client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.get_json()["email"] == user.email
    assert sorted(response.get_json()["roles"]) == ["employee", "hr"]


def test_tokens_issue_finds_the_user_whatever_the_case_of_the_email(runner, make):
    make.user("employee", email="lisa.ek@stad.example")
    result = issue(runner, "Lisa.Ek@STAD.example")
    assert result.exit_code == 0, result.output


def _lifetime_hours(token: str) -> float:
    claims = jwt.decode(token, options={"verify_signature": False})
    return (claims["exp"] - claims["iat"]) / 3600


def test_tokens_issue_hours_sets_the_lifetime(app, runner, make):
    make.user("employee", email="lisa.ek@stad.example")

    default = issue(runner, "lisa.ek@stad.example")
    three = issue(runner, "lisa.ek@stad.example", "--hours", "3")

    assert default.exit_code == 0 and three.exit_code == 0
    assert _lifetime_hours(default.stdout.strip()) == app.config["TOKEN_DEFAULT_HOURS"]
    assert _lifetime_hours(three.stdout.strip()) == 3


def test_tokens_issue_refuses_an_unknown_email(runner, make):
    make.user("employee", email="lisa.ek@stad.example")

    result = issue(runner, "nobody@stad.example")

    assert result.exit_code != 0
    assert result.stdout == ""
    assert "nobody@stad.example" in result.stderr


def test_tokens_issue_refuses_more_than_token_max_hours(app, runner, make):
    make.user("employee", email="lisa.ek@stad.example")
    most = app.config["TOKEN_MAX_HOURS"]

    allowed = issue(runner, "lisa.ek@stad.example", "--hours", str(most))
    too_long = issue(runner, "lisa.ek@stad.example", "--hours", str(most + 1))

    assert allowed.exit_code == 0, allowed.output
    assert too_long.exit_code != 0
    assert too_long.stdout == ""
    assert "TOKEN_MAX_HOURS" in too_long.stderr


def test_tokens_issue_refuses_zero_hours(runner, make):
    make.user("employee", email="lisa.ek@stad.example")
    result = issue(runner, "lisa.ek@stad.example", "--hours", "0")
    assert result.exit_code != 0
    assert result.stdout == ""


def test_tokens_issue_refuses_a_deactivated_user(runner, make):
    make.user("employee", email="lisa.ek@stad.example", active=False)

    result = issue(runner, "lisa.ek@stad.example")

    assert result.exit_code != 0
    assert result.stdout == ""
    assert "deactivated" in result.stderr


def test_tokens_are_not_issued_when_local_tokens_are_off(runner, make, app, monkeypatch):
    user = make.user("employee")
    monkeypatch.setitem(app.config, "LOCAL_TOKENS", False)
    result = runner.invoke(args=["tokens", "issue", user.email])
    assert result.exit_code != 0
    assert result.stdout == ""
