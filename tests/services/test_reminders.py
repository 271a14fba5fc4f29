"""The daily reminder digest to managers: incidents/services/reminders.py.

The rules (docs/manager-guide.md, "The daily reminder digest"): a daily reminder at 07:00, one
digest mail to each manager with overdue acknowledgements, check-ins and police decisions; a
reminder once per manager and day, with no duplicates when two scheduler processes run at once;
times are interpreted in the organisation's time zone, Europe/Stockholm. NOW is 07:00 in
Stockholm on Tuesday 10 March 2026.
"""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from freezegun import freeze_time

from incidents.models import Message, OutboxMail, ReminderDigest, User
from incidents.services import lifecycle, reminders, support
from tests.anonymous_helpers import report_and_publish
from tests.conftest import TEST_SECRET

NOW = datetime(2026, 3, 10, 6, 0, tzinfo=UTC)  # 07:00 CET
SECRET = "Klienten sa att han vet var jag bor"
ROOT = Path(__file__).resolve().parents[2]


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@pytest.fixture(autouse=True)
def clock():
    with freeze_time(NOW) as frozen:
        yield frozen


def report(make, clock, reporter, unit, at: str, category="threat", **fields):
    """A named incident reported at the UTC moment ``at`` (an hour after it occurred)."""
    clock.move_to(utc(at))
    incident = make.incident(reporter, unit, category=category, description=SECRET,
                             occurred_at=utc(at) - timedelta(hours=1), **fields)
    clock.move_to(NOW)
    return incident


@pytest.fixture
def overdue(make, org, db_session, clock):
    """At NOW:

    threat    a1  reported 2026-02-20 09:00 UTC: acknowledgement overdue since 02-21 09:00,
                  police decision since 02-27 09:00
    violence  b1  reported 2026-03-08 12:00 UTC: acknowledgement and notification to
                  Arbetsmiljöverket overdue since 03-09 12:00
    acked     a2  reported 2026-03-01 10:00 and acknowledged at once: check-ins 1d (due
                  03-02 09:00) and 1w (due 03-08 09:00) open; police decision since 03-08 10:00
    anonymous a2  received 2026-03-07 15:00: acknowledgement overdue since 03-08 15:00
    fresh     b1  reported at NOW − 1 h: nothing overdue yet
    """
    threat = report(make, clock, org.employee_a1, org.a1, "2026-02-20T09:00")
    db_session.add(Message(incident_id=threat.id, sender="reporter",
                           author_id=org.employee_a1.id, body=f"{SECRET} (meddelande)"))
    violence = report(make, clock, org.employee_b1, org.b1, "2026-03-08T12:00", "violence")
    acked = report(make, clock, org.colleague_a1, org.a2, "2026-03-01T10:00")
    clock.move_to(utc("2026-03-01T10:30"))
    lifecycle.acknowledge(org.manager_a, acked.id)
    clock.move_to(utc("2026-03-07T15:20"))
    anon, _code = report_and_publish({
        "category": "harassment", "perceived_influence_purpose": "yes",
        "occurred_at": utc("2026-03-07T12:00"), "unit_id": org.a2.id, "description": SECRET})
    clock.move_to(NOW)
    an_hour_ago = (NOW - timedelta(hours=1)).isoformat()[:16]
    fresh = report(make, clock, org.employee_b1, org.b1, an_hour_ago)
    db_session.commit()
    return {"threat": threat, "violence": violence, "acked": acked, "anon": anon,
            "fresh": fresh}


def run(db_session, now=NOW) -> int:
    written = reminders.send_daily_digests(now)
    db_session.commit()
    return written


def digests(db_session) -> list[tuple[int, date, int]]:
    return db_session.execute(sa.select(ReminderDigest.manager_id, ReminderDigest.day,
                                        ReminderDigest.items)
                              .order_by(ReminderDigest.id)).all()


def mails(db_session, user: User | None = None) -> list[OutboxMail]:
    query = sa.select(OutboxMail).where(OutboxMail.kind == reminders.MAIL_KIND)
    if user is not None:
        query = query.where(OutboxMail.recipient == user.email)
    return db_session.scalars(query.order_by(OutboxMail.id)).all()


# -- content --------------------------------------------------------------------------------


def test_the_digest_lists_reference_what_and_since_when_in_local_time_with_a_link(
    db_session, org, overdue
):
    """Each item: the reference, what is overdue (Swedish and English), since when in
    Stockholm time, and a link to the incident's page (a check-in to its check-ins); oldest
    first; then the overdue list's page."""
    assert run(db_session) == 2
    (mail,) = mails(db_session, org.manager_a)
    threat, acked, anon = overdue["threat"], overdue["acked"], overdue["anon"]
    assert mail.subject == "Påminnelse: 6 försenade åtgärder / Reminder: 6 overdue items"
    assert mail.incident_id is None and mail.status == "pending" and mail.next_attempt_at == NOW
    base = "http://127.0.0.1:5000/reports"
    expected = [
        f"- {threat.reference}: Kvittens / Acknowledgement",
        "  försenad sedan / overdue since 2026-02-21 10:00 CET",
        f"  {base}/{threat.id}",
        f"- {threat.reference}: Beslut om polisanmälan / Police-report decision",
        "  försenad sedan / overdue since 2026-02-27 10:00 CET",
        f"  {base}/{threat.id}",
        f"- {acked.reference}: Uppföljningskontakt (1d) / Check-in (1d)",
        "  försenad sedan / overdue since 2026-03-02 10:00 CET",
        f"  {base}/{acked.id}#check-ins",
        f"- {acked.reference}: Uppföljningskontakt (1w) / Check-in (1w)",
        "  försenad sedan / overdue since 2026-03-08 10:00 CET",
        f"  {base}/{acked.id}#check-ins",
        f"- {acked.reference}: Beslut om polisanmälan / Police-report decision",
        "  försenad sedan / overdue since 2026-03-08 11:00 CET",
        f"  {base}/{acked.id}",
        f"- {anon.reference}: Kvittens / Acknowledgement",
        "  försenad sedan / overdue since 2026-03-08 16:00 CET",
        f"  {base}/{anon.id}",
    ]
    lines = mail.body.splitlines()
    start = lines.index(expected[0])
    assert lines[start:start + len(expected)] == expected
    assert lines[:2] == ["Försenade åtgärder i ärenden du hanterar, 2026-03-10:",
                         "Overdue items in the cases you handle, 2026-03-10:"]
    assert lines[-5:-3] == ["Hela listan / The full list:", "http://127.0.0.1:5000/overdue"]
    assert digests(db_session)[0] == (org.manager_a.id, date(2026, 3, 10), 6)


def test_the_notification_to_arbetsmiljoverket_is_listed(db_session, org, overdue):
    """Serious incidents overdue for notification (AML 3 kap. 3 a §) are in the digest too,
    as on the manager's overdue list."""
    run(db_session)
    (mail,) = mails(db_session, org.manager_b1)
    reference = overdue["violence"].reference
    assert (f"- {reference}: Anmälan till Arbetsmiljöverket / Notification to "
            "Arbetsmiljöverket") in mail.body.splitlines()
    assert mail.subject.startswith("Påminnelse: 2 försenade åtgärder")


def test_the_digest_holds_what_the_managers_overdue_list_holds(db_session, org, overdue):
    """The digest is the manager's GET /follow-up/overdue list (services/support.overdue), item
    for item, so the two never disagree."""
    for manager in (org.manager_a, org.manager_b1):
        listed = [(i["kind"], i["incident_id"], i["due_at"]) for i in support.overdue(manager)]
        digest = [(i["kind"], i["incident_id"], i["due_at"])
                  for i in reminders.overdue_items(manager, NOW)]
        assert sorted(digest) == sorted(listed) and digest


def test_no_description_name_address_or_message_is_in_the_mail(db_session, org, overdue):
    """A mail carries references, kinds, times and links, never case content or people
    (notifications.py: never the description or anyone's name)."""
    run(db_session)
    people = [org.employee_a1, org.colleague_a1, org.employee_b1]
    for mail in mails(db_session):
        text = mail.subject + mail.body
        assert SECRET not in text
        for person in people:
            assert person.name not in text and person.email not in text


def test_an_anonymous_report_is_listed_by_its_reference(db_session, org, overdue):
    """Anonymous incidents are included, identified by their reference only."""
    run(db_session)
    (mail,) = mails(db_session, org.manager_a)
    assert f"- {overdue['anon'].reference}: Kvittens / Acknowledgement" in mail.body


def test_a_long_list_is_cut_with_a_link_to_the_whole(make, org, db_session, clock, monkeypatch):
    """More than MAX_LISTED items: the first are listed, the rest counted, and the mail links
    to the full list; the digest row counts them all."""
    monkeypatch.setattr(reminders, "MAX_LISTED", 2)
    for hour in range(3):
        report(make, clock, org.employee_b1, org.b1, f"2026-03-01T0{hour}:00", "harassment")
    db_session.commit()
    run(db_session)
    (mail,) = mails(db_session, org.manager_b1)
    assert mail.body.count("\n- ") == 2
    assert "… och 1 till / and 1 more." in mail.body
    assert digests(db_session) == [(org.manager_b1.id, date(2026, 3, 10), 3)]


def test_one_item_is_singular(make, org, db_session, clock):
    """The subject counts in proper Swedish and English: one item is singular."""
    report(make, clock, org.employee_b1, org.b1, "2026-03-08T12:00", "harassment")
    db_session.commit()
    run(db_session)
    (mail,) = mails(db_session, org.manager_b1)
    assert mail.subject == "Påminnelse: 1 försenad åtgärd / Reminder: 1 overdue item"


# -- who gets one ---------------------------------------------------------------------------


def test_each_manager_gets_one_digest_of_only_their_cases(db_session, org, overdue):
    """One mail and one row per manager; each lists only the cases that manager handles (the
    units they lead and below)."""
    assert run(db_session) == 2
    assert [(m, items) for m, _day, items in digests(db_session)] == [
        (org.manager_a.id, 6), (org.manager_b1.id, 2)]
    (mail_a,) = mails(db_session, org.manager_a)
    (mail_b,) = mails(db_session, org.manager_b1)
    assert overdue["violence"].reference not in mail_a.body
    for name in ("threat", "acked", "anon"):
        assert overdue[name].reference not in mail_b.body
    assert len(mails(db_session)) == 2


def test_no_mail_and_no_row_when_nothing_is_overdue(db_session, org, make, clock):
    """A manager with nothing overdue gets neither a mail nor a digest row."""
    report(make, clock, org.employee_b1, org.b1, (NOW - timedelta(hours=1)).isoformat()[:16])
    db_session.commit()
    assert run(db_session) == 0
    assert digests(db_session) == [] and mails(db_session) == []


def test_inactive_managers_are_skipped(db_session, org, overdue):
    """Only active managers are reminded. With B1's manager gone nobody leads B1 or above, so
    the hr reaching B1 are responsible for its cases and get the digest of them instead."""
    org.manager_b1.active = False
    db_session.commit()
    assert run(db_session) == 3
    assert [(m, i) for m, _d, i in digests(db_session)] == [
        (org.manager_a.id, 6), (org.hr.id, 2), (org.admin_hr.id, 2)]
    assert mails(db_session, org.manager_b1) == []
    (mail,) = mails(db_session, org.hr)
    assert overdue["violence"].reference in mail.body
    assert overdue["threat"].reference not in mail.body


def test_hr_gets_no_digest_of_cases_a_manager_handles(db_session, make, org, overdue):
    """hr handles every case it reaches, but is reminded only of those it is responsible for
    (no manager at or above the unit can take them): here every unit has its manager, so hr
    reads its overdue list when it wants, even when marked as leading a unit without the
    manager role."""
    hr_leading = make.user("employee", "hr", unit=org.b1, leads=(org.b1,))
    assert reminders.overdue_items(hr_leading, NOW)
    assert run(db_session) == 2
    assert mails(db_session, hr_leading) == [] and mails(db_session, org.hr) == []


# -- once a day -----------------------------------------------------------------------------


def test_a_second_run_the_same_day_writes_nothing(db_session, org, overdue, clock):
    """Once per manager and day: a second run (a catch-up, a retry) later that day writes no
    row and no mail, even with more overdue since."""
    assert run(db_session) == 2
    later = NOW + timedelta(hours=10)
    clock.move_to(later)
    assert run(db_session, now=later) == 0
    assert len(digests(db_session)) == 2 and len(mails(db_session)) == 2


def test_the_next_local_day_writes_again(db_session, org, overdue, clock):
    next_day = NOW + timedelta(days=1)
    assert run(db_session) == 2
    clock.move_to(next_day)
    assert run(db_session, now=next_day) == 2
    assert [d for _m, d, _i in digests(db_session)] == [date(2026, 3, 10)] * 2 + [
        date(2026, 3, 11)] * 2
    assert len(mails(db_session, org.manager_a)) == 2


@pytest.mark.parametrize(("first", "second", "days"), [
    # 23:30 and 01:30 Stockholm summer time: two local days within one UTC day.
    ("2026-06-30T21:30", "2026-06-30T23:30", [date(2026, 6, 30), date(2026, 7, 1)]),
    # 00:30 and 23:00 Stockholm: one local day across two UTC days.
    ("2026-06-30T22:30", "2026-07-01T21:00", [date(2026, 7, 1)]),
    # Winter (CET, UTC+1): 23:30 UTC is already the next day in Stockholm.
    ("2026-12-31T22:30", "2026-12-31T23:30", [date(2026, 12, 31), date(2027, 1, 1)]),
])
def test_the_day_is_the_organisations_local_day(db_session, org, overdue, clock, first, second,
                                                days):
    """The day of "once per day" is the calendar day in Europe/Stockholm (TIMEZONE), not
    the UTC date."""
    for moment in (utc(first), utc(second)):
        clock.move_to(moment)
        run(db_session, now=moment)
    manager_days = [d for m, d, _i in digests(db_session) if m == org.manager_b1.id]
    assert manager_days == days
    assert len(mails(db_session, org.manager_b1)) == len(days)


def test_a_digest_written_meanwhile_by_another_run_skips_only_that_manager(
    db_session, org, overdue, monkeypatch
):
    """Another run commits manager A's digest between this run's check and its insert: the
    unique key refuses the insert, the SAVEPOINT rolls back only manager A's row and mail, and
    manager B still gets theirs in the same transaction."""
    original = reminders.overdue_items

    def other_run_got_there_first(manager, now):
        if manager.id == org.manager_a.id:
            db_session.add(ReminderDigest(manager_id=manager.id, day=date(2026, 3, 10), items=1))
            db_session.flush()
        return original(manager, now)

    monkeypatch.setattr(reminders, "overdue_items", other_run_got_there_first)
    assert run(db_session) == 1
    assert [(m, i) for m, _d, i in digests(db_session)] == [
        (org.manager_a.id, 1), (org.manager_b1.id, 2)]
    assert mails(db_session, org.manager_a) == []
    assert len(mails(db_session, org.manager_b1)) == 1


# -- two runs at once, for real --------------------------------------------------------------

RUN = r"""
import sys, time, traceback
from datetime import datetime
from pathlib import Path

from incidents import create_app
from incidents.extensions import db
from incidents.services import reminders

meeting, name, where, now = Path(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
now = datetime.fromisoformat(now)


def meet():
    (meeting / name).touch()
    deadline = time.monotonic() + 60
    while len(list(meeting.iterdir())) < 2:
        if time.monotonic() > deadline:
            sys.exit("the other run never came")
        time.sleep(0.01)


app = create_app()
with app.app_context():
    if where == "inside":
        original, met = reminders.overdue_items, []

        def meeting_first(manager, moment):
            if not met:
                met.append(True)
                meet()
            return original(manager, moment)

        reminders.overdue_items = meeting_first
    else:
        meet()
    try:
        written = reminders.send_daily_digests(now)
        db.session.commit()
    except Exception:
        traceback.print_exc()
        sys.exit(1)
    print(written)
"""


def _seed(database_url: str) -> None:
    """Two units, each led by an active manager and each with an incident reported two days
    before NOW and not acknowledged."""
    engine = sa.create_engine(database_url)
    stamp = {"created_at": NOW - timedelta(days=30), "updated_at": NOW - timedelta(days=30),
             "version": 1}
    with engine.begin() as connection:
        for n in (1, 2):
            connection.execute(sa.text(
                "INSERT INTO units (id, name, kind, created_at, updated_at, version) "
                "VALUES (:id, :name, 'enhet', :created_at, :updated_at, :version)"),
                {"id": n, "name": f"Enhet {n}", **stamp})
            for user_id, role in ((10 + n, "manager"), (20 + n, "employee")):
                connection.execute(sa.text(
                    "INSERT INTO users (id, email, name, unit_id, active, created_at, "
                    "updated_at, version) VALUES (:id, :email, :name, :unit, true, "
                    ":created_at, :updated_at, :version)"),
                    {"id": user_id, "email": f"u{user_id}@stad.example",
                     "name": f"Person {user_id}", "unit": n, **stamp})
                connection.execute(sa.text(
                    "INSERT INTO user_roles (user_id, role) VALUES (:id, :role)"),
                    {"id": user_id, "role": role})
            connection.execute(sa.text(
                "INSERT INTO unit_leaders (user_id, unit_id) VALUES (:user, :unit)"),
                {"user": 10 + n, "unit": n})
            reported = NOW - timedelta(days=2)
            connection.execute(sa.text(
                "INSERT INTO incidents (reference, status, category, "
                "perceived_influence_purpose, occurred_at, unit_id, description, "
                "family_targeted, injured, sick_leave, ia_reported, police_flag, anonymous, "
                "reporter_id, created_at, updated_at, version) VALUES (:ref, 'reported', "
                "'harassment', 'yes', :at, :unit, 'Hot.', false, false, false, false, "
                "'consider', false, :reporter, :at, :at, 1)"),
                {"ref": f"OP-2026-00000{n}", "at": reported, "unit": n, "reporter": 20 + n})
    engine.dispose()


def test_two_runs_at_once_write_one_digest_and_one_mail_per_manager(own_database, tmp_path):
    """Two real processes run the job at the same moment on one database. On PostgreSQL both
    are held until each has checked that no digest exists yet, so both try to insert; the unique
    key lets one through, and the other skips, without an error, in its SAVEPOINT. (SQLite's
    BEGIN IMMEDIATE makes the two take turns, so there the second finds the first's rows.)
    Exactly one digest and one mail per manager."""
    env = {**os.environ, "DATABASE_URL": own_database, "SECRET_KEY": TEST_SECRET,
           "PYTHONPATH": str(ROOT)}
    subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", "db", "upgrade"], cwd=ROOT,
                   env=env, check=True, capture_output=True, timeout=120)
    _seed(own_database)
    meeting = tmp_path / "meeting"
    meeting.mkdir()
    where = "start" if own_database.startswith("sqlite") else "inside"
    runs = [subprocess.Popen([sys.executable, "-c", RUN, str(meeting), name, where,
                              NOW.isoformat()], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
            for name in ("one", "two")]
    results = [run.communicate(timeout=120) for run in runs]
    assert [run.returncode for run in runs] == [0, 0], [err for _out, err in results]
    assert sorted(int(out.split()[-1]) for out, _err in results) == [0, 2]
    engine = sa.create_engine(own_database)
    with engine.connect() as connection:
        rows = connection.execute(sa.text(
            "SELECT manager_id, day, items FROM reminder_digests ORDER BY manager_id")).all()
        recipients = connection.execute(sa.text(
            "SELECT recipient FROM outbox_mails WHERE kind = 'reminder_digest' "
            "ORDER BY recipient")).scalars().all()
    engine.dispose()
    assert [(m, str(d), i) for m, d, i in rows] == [(11, "2026-03-10", 1), (12, "2026-03-10", 1)]
    assert recipients == ["u11@stad.example", "u12@stad.example"]
