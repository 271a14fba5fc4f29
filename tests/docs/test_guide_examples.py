"""Every guide's examples run, in order, under a fixed clock, and the answers the guides show
must be the service's answers, so a guide cannot go stale.

How a guide is read is in tests/docs/guides.py. Each guide runs in one shell of its own on a
register that starts empty (on PostgreSQL the id sequences restart inside the test's
transaction, so ids are those of a fresh database), through the Flask test client and the
app's CLI runner. The clock is frozen (freezegun) at the guide's clock comments and moves on by
one second after each command, so every time the service makes is known in advance.

A shown answer is compared by value:

- ``curl -i``: the status line, and each header shown, exactly;
- a JSON body: every value exactly (key order and line wrapping aside). ``"...": "..."`` in an
  object stands for keys not shown; ``"…"`` as a value stands for any value. Nothing else may
  differ;
- a command's printed output: exactly, leading and trailing blank space aside.

A command whose answer is not shown must succeed: an HTTP status below 400, exit status 0.
Commands the test cannot run are listed in SKIPPED with the reason; a listed command that no
guide has any more fails the test, and so does a command that is neither runnable nor listed.
"""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import sqlalchemy as sa
from freezegun import freeze_time

from tests.docs import guides
from tests.docs.guides import Clock, Command, NotRunnable, RunFirst

GUIDES = (
    "README.md",
    "docs/getting-started.md",
    "docs/manager-guide.md",
    "docs/configuration.md",
    "docs/operations.md",
    "docs/performance.md",
    "docs/testing.md",
)

# Guides that tell a story with dates in it: they say near the top which day "today" is.
STORIES = ("docs/getting-started.md", "docs/manager-guide.md")

SERVER = "runs a server until it is stopped; the tests run the app in-process"
PRODUCTION = "sets a production setting; the test runs the app of tests/conftest.py"
SUITE = "runs (part of) the test suite itself"
BENCH = "a benchmark against gunicorn and a database of its own, minutes long"
MIGRATES = ("migrates on a connection of its own, which the test's transaction locks out on "
            "SQLite; tests/conftest.py migrates every run and tests/test_migrations.py runs it")
PRODUCTION_SUMMARIES = ("$TOKEN, $BASE and summary 12 stand for those of a production register; "
                        "tests/api/test_summaries.py makes these requests")

# (guide, the command's first words) -> why the test does not run it.
SKIPPED = {
    ("README.md", "make run"): SERVER,
    ("README.md", "make test"): SUITE,
    ("docs/getting-started.md", "make run"): SERVER,
    ("docs/getting-started.md", ".venv/bin/flask --app wsgi demo-data"):
        "makes 100,000 incidents and needs an empty register; tests/test_demo_data.py runs it",
    ("docs/getting-started.md", ".venv/bin/flask --app wsgi tokens issue hr@demo.invalid"):
        "a user of the demo data above, which is not made here",
    ("docs/getting-started.md", ".venv/bin/flask --app wsgi demo-org"):
        "needs an empty register; tests/test_demo_data.py runs it",
    ("docs/getting-started.md",
     ".venv/bin/flask --app wsgi tokens issue anna.medarbetare@demo.example"):
        "a user of the demo organisation above, which is not made here",
    ("docs/configuration.md", "export INCIDENTS_ENV=production"): PRODUCTION,
    ("docs/configuration.md", "export DATABASE_URL="): PRODUCTION,
    ("docs/configuration.md", "export SECRET_KEY="): PRODUCTION,
    ("docs/configuration.md", ".venv/bin/gunicorn"): SERVER,
    ("docs/configuration.md", ".venv/bin/python -m scheduler"): SERVER,
    ("docs/configuration.md", ".venv/bin/flask --app wsgi outbox deliver --loop"): SERVER,
    ("docs/configuration.md", ".venv/bin/flask --app wsgi db migrate"):
        "writes a new migration script into migrations/versions",
    ("docs/configuration.md", ".venv/bin/flask --app wsgi db upgrade"): MIGRATES,
    ("docs/operations.md", "export INCIDENTS_ENV=production"): PRODUCTION,
    ("docs/operations.md", "export DATABASE_URL="): PRODUCTION,
    ("docs/operations.md", "export SECRET_KEY="): PRODUCTION,
    ("docs/operations.md", "export PROMETHEUS_MULTIPROC_DIR="): PRODUCTION,
    ("docs/operations.md", ".venv/bin/gunicorn"): SERVER,
    ("docs/operations.md", ".venv/bin/python -m scheduler"): SERVER,
    ("docs/operations.md", ".venv/bin/flask --app wsgi scheduler status"):
        "reads the scheduler's state on a connection of its own, which the test's transaction "
        "locks out on SQLite; tests/scheduler/test_heartbeat.py runs it",
    ("docs/operations.md", 'curl -H "Authorization: Bearer $TOKEN"'): PRODUCTION_SUMMARIES,
    ("docs/operations.md", 'curl -X POST -H "Authorization: Bearer $TOKEN"'): PRODUCTION_SUMMARIES,
    ("docs/operations.md", "pg_dump"): "a backup of a production database",
    ("docs/operations.md", "pg_restore"): "a restore into a production server",
    ("docs/performance.md", ".venv/bin/python -m bench."): BENCH,
    ("docs/performance.md", "RELIABILITY_REPORTS=20000"):
        "20,000 reports against gunicorn on PostgreSQL, minutes long",
    ("docs/testing.md", ".venv/bin/python -m pytest"): SUITE,
    ("docs/testing.md", "TEST_DATABASE_URL="): SUITE,
    ("docs/testing.md", "FUZZ_MAX_EXAMPLES=200"): SUITE,
    ("docs/testing.md", "ls test-screenshots/"): "lists what the browser tests wrote",
}

STEP = timedelta(seconds=1)


def skip_reason(command: Command) -> str | None:
    for (guide, first_words), reason in SKIPPED.items():
        if guide == command.guide and command.normalised.startswith(first_words):
            return reason
    return None


def all_guides() -> dict[str, guides.Guide]:
    return {name: guides.parse(name) for name in GUIDES}


def runnable_guides() -> list[str]:
    return [
        name for name, guide in all_guides().items()
        if any(skip_reason(command) is None for command in guide.commands)
    ]


# -- the parser and the skip list, without running anything --------------------------------


def test_every_command_is_runnable_or_skipped_with_a_reason():
    problems = []
    for guide in all_guides().values():
        for command in guide.commands:
            if skip_reason(command) is None and guides.kind(command) == "unknown":
                problems.append(f"{command.where}: {command.normalised!r} is neither runnable "
                                "nor in SKIPPED")
    assert not problems, "\n".join(problems)


def test_the_skip_list_names_only_commands_the_guides_have():
    commands = [command for guide in all_guides().values() for command in guide.commands]
    stale = [
        key for key in SKIPPED
        if not any(c.guide == key[0] and c.normalised.startswith(key[1]) for c in commands)
    ]
    assert not stale, f"SKIPPED names commands no guide has any more: {stale}"


def test_a_guide_that_runs_examples_has_a_clock_and_states_its_today():
    for name in runnable_guides():
        guide = guides.parse(name)
        first_command = next(c for c in guide.commands if skip_reason(c) is None)
        clocks = [e for e in guide.events if isinstance(e, Clock)]
        assert clocks and clocks[0].line < first_command.line, (
            f"{name}: no <!-- clock: … --> comment before the first example "
            f"({first_command.where})")
        assert all(a.at <= b.at for a, b in zip(clocks, clocks[1:], strict=False)), (
            f"{name}: a clock comment moves the clock back")
        if name in STORIES:
            assert guide.today is not None, (
                f"{name} does not say 'The examples are dated as if today were YYYY-MM-DD'")
        if guide.today is not None:
            assert clocks[0].at.date() == date.fromisoformat(guide.today), (
                f"{name} says today is {guide.today}, its first clock is {clocks[0].at}")


def test_the_parser_splits_commands_as_a_shell_does():
    text = (
        "API=http://127.0.0.1:5000/api/v1   # a comment\n"
        "curl -s -X POST \"$API/units\" \\\n"
        "  -d '{\"name\": \"$API #1\",\n"
        "       \"kind\": \"enhet\"}'\n"
        "\n"
        "TOKEN=$(.venv/bin/flask --app wsgi tokens issue a@b.example)\n"
    )
    commands = guides.split_commands(text, "x.md", 10)
    assert [c.line for c in commands] == [10, 11, 15]
    assert commands[0].source == "API=http://127.0.0.1:5000/api/v1"
    env = {"API": "http://h/api/v1"}
    assert guides.words(commands[1].source, env) == [
        "curl", "-s", "-X", "POST", "http://h/api/v1/units",
        "-d", '{"name": "$API #1",\n       "kind": "enhet"}',
    ]
    assert [guides.kind(c) for c in commands] == ["assign", "curl", "flask"]
    with pytest.raises(NotRunnable, match=r"\$TOKEN is not set"):
        guides.words('curl "$TOKEN"', {})
    with pytest.raises(NotRunnable, match="operator"):
        guides.words("curl x | jq .", {})


@pytest.mark.parametrize(
    ("shown", "actual", "problems"),
    [
        ({"a": 1, "...": "..."}, {"a": 1, "b": 2}, 0),
        ({"a": 1}, {"a": 1, "b": 2}, 1),
        ({"a": "…"}, {"a": [1]}, 0),
        ({"a": True}, {"a": 1}, 1),
        ([{"a": 1}], [{"a": 1}, {"a": 2}], 1),
        ({"a": "2026-11-23T17:00:00+00:00"}, {"a": "2026-11-23T17:00:01+00:00"}, 1),
    ],
)
def test_shown_json_is_compared_strictly_but_for_the_marks(shown, actual, problems):
    assert len(differences(shown, actual)) == problems


# -- running the guides --------------------------------------------------------------------


def differences(shown, actual, path: str = "$") -> list[str]:
    """Where a shown JSON value differs from the actual one (see the module's docstring)."""
    if shown == "…":
        return []
    if isinstance(shown, dict):
        if not isinstance(actual, dict):
            return [f"{path}: the guide shows an object, the answer is {actual!r}"]
        shown_keys = set(shown) - {"..."}
        found = []
        for key in sorted(shown_keys):
            if key not in actual:
                found.append(f"{path}.{key}: shown, but not in the answer")
            else:
                found += differences(shown[key], actual[key], f"{path}.{key}")
        extra = sorted(set(actual) - shown_keys)
        if extra and shown.get("...") != "...":
            found.append(f"{path}: the answer also has {extra}; show them or add \"...\": \"...\"")
        return found
    if isinstance(shown, list):
        if not isinstance(actual, list) or len(actual) != len(shown):
            return [f"{path}: the guide shows {len(shown)} items, the answer is {actual!r}"]
        found = []
        for index, (one, other) in enumerate(zip(shown, actual, strict=True)):
            found += differences(one, other, f"{path}[{index}]")
        return found
    if type(shown) is not type(actual) or shown != actual:
        return [f"{path}: the guide shows {shown!r}, the answer is {actual!r}"]
    return []


class Shell:
    """One guide's shell: its variables, the frozen clock, and what went wrong."""

    def __init__(self, client, runner, tmp_path: Path):
        self.client = client
        self.runner = runner
        self.tmp_path = tmp_path
        self.env: dict[str, str] = {}
        self.problems: list[str] = []
        self.clock = None
        self.ran = 0

    # one command ---------------------------------------------------------------------------

    def run(self, command: Command, check_answer: bool = True) -> None:
        try:
            self._run(command, check_answer)
        except NotRunnable as exc:
            self.problems.append(f"{command.where}: cannot run {command.normalised!r}: {exc}")
        finally:
            self.ran += 1
            self.clock.tick(STEP)

    def _run(self, command: Command, check_answer: bool) -> None:
        source = command.source
        if source.startswith("export "):
            source = source[len("export "):]
        substitution = guides.SUBSTITUTION.match(source)
        if substitution:
            name, inner = substitution.groups()
            output, ok, _ = self._execute(guides.words(inner, self.env))
            if not ok:
                self.problems.append(f"{command.where}: {inner!r} failed: {output}")
            self.env[name] = output.strip()
            return
        if guides.kind(command) == "assign":
            name, _, value = source.partition("=")
            self.env[name] = (guides.words(value, self.env) or [""])[0]
            return
        output, ok, answer = self._execute(guides.words(source, self.env))
        if check_answer and command.answer is not None:
            self._compare(command, answer)
        elif not ok:
            self.problems.append(f"{command.where}: failed, and the guide shows no answer: "
                                 f"{output[:500]}")

    def _execute(self, argv: list[str]):
        """Run a curl or flask command: (its output, whether it succeeded, what to compare)."""
        if argv[0] == "curl":
            return self._curl(argv[1:])
        if argv[0] in guides.FLASK and argv[1:3] == ["--app", "wsgi"]:
            result = self.runner.invoke(args=argv[3:])
            output = result.output
            if result.exception and not isinstance(result.exception, SystemExit):
                output += f"\n{result.exception!r}"
            return output, result.exit_code == 0, ("flask", output)
        raise NotRunnable(f"{argv[0]} is not a command the shell knows")

    def _curl(self, args: list[str]):
        method, headers, data, include, out, url = None, [], None, False, None, None
        options = iter(args)
        for arg in options:
            if arg == "-s":
                continue
            if arg == "-i":
                include = True
            elif arg == "-X":
                method = next(options)
            elif arg == "-H":
                name, _, value = next(options).partition(":")
                headers.append((name.strip(), value.strip()))
            elif arg in ("-d", "--data", "--data-binary"):
                data = next(options)
            elif arg == "-o":
                out = next(options)
            elif arg.startswith("-"):
                raise NotRunnable(f"the curl option {arg}")
            else:
                url = arg
        if url is None:
            raise NotRunnable("curl without a URL")
        if data is not None and not any(n.lower() == "content-type" for n, _ in headers):
            headers.append(("Content-Type", "application/x-www-form-urlencoded"))  # as curl
        parts = urlsplit(url)
        response = self.client.open(
            parts.path + (f"?{parts.query}" if parts.query else ""),
            base_url=f"{parts.scheme}://{parts.netloc}",
            method=method or ("POST" if data is not None else "GET"),
            headers=headers,
            data=data.encode() if data is not None else None,
        )
        body = response.get_data()
        if out is not None:
            (self.tmp_path / Path(out).name).write_bytes(body)
        text = body.decode(errors="replace")
        return text, response.status_code < 400, ("curl", response, include)

    # answers -------------------------------------------------------------------------------

    def _compare(self, command: Command, answer) -> None:
        shown = command.answer
        if answer[0] == "flask":
            self._compare_output(command, answer[1])
            return
        _, response, include = answer
        if shown.head is not None and include:
            self._compare_head(command, response)
        elif shown.head is not None:
            if response.get_data(as_text=True).strip() != shown.head.text.strip():
                self.problems.append(f"{command.where}: the answer differs from the text shown "
                                     f"at line {shown.head.line}")
        if shown.body is not None:
            self._compare_body(command, response)
        elif not include and shown.head is None:
            self.problems.append(f"{command.where}: an answer without a body")

    def _compare_output(self, command: Command, output: str) -> None:
        shown = command.answer
        if shown.head is None or shown.body is not None:
            self.problems.append(f"{command.where}: a command's output is shown in one plain "
                                 "block")
        elif output.strip() != shown.head.text.strip():
            self.problems.append(f"{command.where}: the guide shows (line {shown.head.line})\n"
                                 f"{shown.head.text}\nthe command printed\n{output}")

    def _compare_head(self, command: Command, response) -> None:
        head = command.answer.head
        lines = [line for line in head.text.splitlines() if line.strip()]
        status = f"HTTP/1.1 {response.status}"
        if lines[0] != status:
            self.problems.append(f"{command.where}: the guide shows {lines[0]!r} (line "
                                 f"{head.line}), the answer is {status!r}: "
                                 f"{response.get_data(as_text=True)[:500]}")
        for line in lines[1:]:
            name, _, value = line.partition(":")
            actual = response.headers.get(name.strip())
            if actual != value.strip():
                self.problems.append(f"{command.where}: the guide shows {line!r}, the answer "
                                     f"has {name}: {actual!r}")

    def _compare_body(self, command: Command, response) -> None:
        body = command.answer.body
        try:
            expected = json.loads(body.text)
        except json.JSONDecodeError as exc:
            self.problems.append(f"{command.where}: the JSON at line {body.line} does not "
                                 f"parse: {exc}")
            return
        actual = response.get_json(silent=True)
        if actual is None:
            self.problems.append(f"{command.where}: the answer is not JSON: {response.status} "
                                 f"{response.get_data(as_text=True)[:300]}")
            return
        for difference in differences(expected, actual):
            self.problems.append(f"{command.where} (answer at line {body.line}): {difference}")

    # a guide -------------------------------------------------------------------------------

    def run_guide(self, guide: guides.Guide) -> None:
        for event in guide.events:
            if isinstance(event, Clock):
                if self.clock is None:
                    self._start_clock(event)
                else:
                    self.clock.move_to(event.at)
            elif isinstance(event, RunFirst):
                self._run_first(guide, event)
            elif skip_reason(event) is None:
                if self.clock is None:
                    self.problems.append(f"{event.where}: an example before the first clock "
                                         "comment")
                    return
                self.run(event)

    def _start_clock(self, clock: Clock) -> None:
        self._freezer = freeze_time(clock.at)
        self.clock = self._freezer.start()

    def stop(self) -> None:
        if self.clock is not None:
            self._freezer.stop()

    def _run_first(self, guide: guides.Guide, event: RunFirst) -> None:
        other = guides.parse(str(Path(guide.name).parent / event.guide))
        chosen = [c for c in other.commands
                  if c.section is not None and event.first <= c.section <= event.last]
        if not chosen:
            self.problems.append(f"{guide.name}:{event.line}: {event.guide} has no commands "
                                 f"in sections {event.first}-{event.last}")
        for command in chosen:
            if skip_reason(command) is None:
                self.run(command, check_answer=False)


def _restart_sequences(db_session) -> None:
    """Ids as in a fresh database. PostgreSQL's sequences do not roll back with the tests
    before this one; ALTER SEQUENCE … RESTART does roll back with this test's transaction.
    (SQLite numbers from the rows there are, which the rollback removed.)"""
    connection = db_session.connection()
    if connection.dialect.name != "postgresql":
        return
    rows = connection.execute(sa.text(
        "SELECT s.relname, t.relname, a.attname FROM pg_class s"
        " JOIN pg_depend d ON d.objid = s.oid AND d.classid = 'pg_class'::regclass"
        " JOIN pg_class t ON t.oid = d.refobjid"
        " JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = d.refobjsubid"
        " WHERE s.relkind = 'S'"
    )).all()
    for sequence, table, column in rows:
        highest = connection.execute(sa.text(f'SELECT max("{column}") FROM "{table}"')).scalar()
        restart = (highest or 0) + 1
        connection.execute(sa.text(f'ALTER SEQUENCE "{sequence}" RESTART WITH {restart}'))
    db_session.commit()


@pytest.mark.parametrize("name", runnable_guides())
def test_the_guide_examples_run_and_answer_as_shown(name, client, runner, db_session, tmp_path):
    guide = guides.parse(name)
    _restart_sequences(db_session)
    shell = Shell(client, runner, tmp_path)
    try:
        shell.run_guide(guide)
    finally:
        shell.stop()
    assert shell.ran, f"{name}: no example ran"
    assert not shell.problems, f"{len(shell.problems)} problem(s):\n" + "\n\n".join(shell.problems)
