"""Readiness reads the migrations' heads from their files (health.read_revisions), without
Alembic; Alembic, which writes and runs them, must find the same heads."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from alembic.config import Config
from alembic.script import ScriptDirectory

from incidents.services.health import MigrationsError, read_revisions

MIGRATIONS = Path(__file__).resolve().parents[2] / "migrations"


def _alembic(directory: Path) -> tuple[frozenset[str], frozenset[str]]:
    """Alembic's heads and every revision it reads in ``directory``."""
    config = Config()
    config.set_main_option("script_location", str(directory))
    script = ScriptDirectory.from_config(config)
    return (frozenset(script.get_heads()),
            frozenset(revision.revision for revision in script.walk_revisions()))


def _reader(directory: Path) -> tuple[frozenset[str], frozenset[str]]:
    revisions = read_revisions(str(directory))
    return revisions.heads, revisions.known


@pytest.fixture
def copy(tmp_path) -> Path:
    """A copy of the migrations directory that a test may add revision files to."""
    target = tmp_path / "migrations"
    shutil.copytree(MIGRATIONS, target, ignore=shutil.ignore_patterns("__pycache__"))
    return target


def _add(directory: Path, name: str, body: str) -> None:
    (directory / "versions" / name).write_text(
        f'"""a revision written by the test"""\nfrom alembic import op\n\n{body}\n'
        "\n\ndef upgrade():\n    pass\n\n\ndef downgrade():\n    pass\n")


def _head() -> str:
    (head,) = read_revisions(str(MIGRATIONS)).heads
    return head


def test_the_reader_finds_alembics_heads_and_revisions():
    assert _reader(MIGRATIONS) == _alembic(MIGRATIONS)
    assert len(_reader(MIGRATIONS)[1]) == len(list((MIGRATIONS / "versions").glob("*.py")))


def test_the_migrations_have_one_head():
    """Two heads would make `flask db upgrade` refuse to run: a branch needs a merge."""
    heads, _ = _reader(MIGRATIONS)
    assert len(heads) == 1, f"more than one head: {sorted(heads)}; write a merge revision"


def test_a_branch_makes_two_heads_and_a_merge_one_as_alembic_counts_them(copy):
    head = _head()
    parent = min(_reader(copy)[1] - {head})  # any revision below the head
    _add(copy, "x_branch.py", f"revision = 'b0000000000a'\ndown_revision = '{parent}'")

    assert _reader(copy)[0] == {head, "b0000000000a"}
    assert _reader(copy) == _alembic(copy)

    _add(copy, "x_merge.py", "revision: str = 'b0000000000b'\n"
                             f"down_revision: tuple[str, ...] = ('{head}', 'b0000000000a')")

    assert _reader(copy)[0] == {"b0000000000b"}
    assert _reader(copy) == _alembic(copy)


def test_files_alembic_skips_are_skipped(copy):
    _add(copy, "__init__.py", "revision = 'not-a-revision'\ndown_revision = None")
    _add(copy, ".#lock.py", "revision = 'not-a-revision'\ndown_revision = None")
    (copy / "versions" / "notes.txt").write_text("revision = 'not-a-revision'\n")

    assert _reader(copy) == _alembic(copy) == _reader(MIGRATIONS)


@pytest.mark.parametrize(("body", "rule"), [
    ("revision = 'c0000000000a'\ndown_revision = 'nowhere'", "no file defines: nowhere"),
    ("revision = '{head}'\ndown_revision = None", "defined twice"),
    ("revision = 'c0000000000a'", "no down_revision"),
    ("down_revision = '{head}'", "no revision"),
    ("revision = 'c' + '0000000000a'\ndown_revision = '{head}'", "revision is not a literal"),
    ("revision = 12\ndown_revision = '{head}'", "revision is not a string"),
    ("revision = 'c0000000000a'\ndown_revision = ('{head}', 3)", "down_revision is neither"),
    ("revision = 'c0000000000a'\ndown_revision = '{head}'\ndepends_on = '{head}'",
     "depends_on is not None"),
])
def test_a_revision_file_that_breaks_a_rule_is_refused(copy, body, rule):
    _add(copy, "x_broken.py", body.format(head=_head()))

    with pytest.raises(MigrationsError, match=rule):
        read_revisions(str(copy))
