"""Scope logic lives in one place, incidents/access: walking the unit tree, reading the units a
manager leads to decide what they reach, and comparing reporter ids for access. This test fails
when such logic is written anywhere else in the code, so a new page or endpoint asks the access
module instead of deciding for itself."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ACCESS = ROOT / "incidents" / "access"

# What scope logic looks like in this code base.
PATTERNS = {
    "walks the unit tree in SQL": re.compile(r"\bsubtree_ids_query\b"),
    "walks the unit tree in memory": re.compile(r"\.is_within\(|(?<!access)\.subtree\("),
    "decides by the units a manager leads": re.compile(
        r"(set|in|any|all)\(\s*\w+\.leads_unit_ids|in \w+\.leads_unit_ids\b"),
    "compares reporter ids for access": re.compile(
        r"(reporter_id|on_behalf_of_id|exposed_user_id)\s*[!=]=\s*\w*user\w*\.id"),
    "decides by the units a role is held for": re.compile(
        r"assigned_unit_ids\(|\.(hr|statistics|admin)_unit_ids\b|(?<!User)\.assignment_rows\b"),
}

# Where the words occur for another reason, with the reason.
ALLOWED = {
    # Where the recursive query is defined (the access module is its only user).
    ("incidents/models/organisation.py", "walks the unit tree in SQL"),
    ("incidents/models/__init__.py", "walks the unit tree in SQL"),
    # Admin pages, the users' service and the CLI show and change who leads which unit; they
    # decide no access.
    ("incidents/web/admin.py", "decides by the units a manager leads"),
    ("incidents/services/people.py", "decides by the units a manager leads"),
    ("incidents/cli.py", "decides by the units a manager leads"),
    # Statistics rows: each selected unit's sub-units, for grouping (the selection itself is
    # the access module's).
    ("incidents/stats/scope.py", "walks the unit tree in memory"),
    # Where the units a role is held for are defined (the model), administered (the users'
    # service, the admin pages), given to the demo people and to the scheduler's reader (hr at
    # every root).
    ("incidents/models/users.py", "decides by the units a role is held for"),
    ("incidents/services/people.py", "decides by the units a role is held for"),
    ("incidents/web/admin.py", "decides by the units a role is held for"),
    ("incidents/services/summaries.py", "decides by the units a role is held for"),
    ("incidents/demo.py", "decides by the units a role is held for"),
}


def _hits() -> list[str]:
    found = []
    for path in sorted((ROOT / "incidents").rglob("*.py")):
        if ACCESS in path.parents:
            continue
        relative = path.relative_to(ROOT).as_posix()
        text = path.read_text(encoding="utf-8")
        for what, pattern in PATTERNS.items():
            if (relative, what) in ALLOWED:
                continue
            for match in pattern.finditer(text):
                line = text.count("\n", 0, match.start()) + 1
                found.append(f"{relative}:{line}: {what}: {match.group(0)!r}")
    return found


def test_the_patterns_catch_what_they_are_for():
    caught = {
        "walks the unit tree in SQL": "Incident.unit_id.in_(subtree_ids_query(led))",
        "walks the unit tree in memory": "tree.is_within(unit_id, led)",
        "decides by the units a manager leads": "led = set(user.leads_unit_ids)",
        "compares reporter ids for access": "Incident.reporter_id == user.id",
        "decides by the units a role is held for": "roots = set(user.hr_unit_ids)",
    }
    for what, text in caught.items():
        assert PATTERNS[what].search(text), what
    assert not PATTERNS["compares reporter ids for access"].search("reporter_id=user.id")
    assert PATTERNS["compares reporter ids for access"].search(
        "incident.exposed_user_id != by_user.id")


def test_scope_logic_is_written_only_in_the_access_module():
    assert ACCESS.is_dir()
    hits = _hits()
    assert hits == [], "scope logic outside incidents/access:\n" + "\n".join(hits)


def test_every_allowance_is_still_needed():
    """An allowance whose file no longer has the pattern is removed, so the list stays true."""
    for relative, what in ALLOWED:
        text = (ROOT / relative).read_text(encoding="utf-8")
        assert PATTERNS[what].search(text), (relative, what)
