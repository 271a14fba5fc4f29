"""Access: who reaches what. The one module that answers "may this person see this?" — for
incidents, cases and their parts, statistics and summaries — and the one place that walks the
unit tree. Services and statistics start their queries from these conditions; the API and the
pages never decide access themselves. docs/roles-and-access.md describes the same rules for
people; tests/test_hygiene.py fails when scope logic appears outside this package."""

from incidents.access.reach import (
    handler_scope,
    in_units,
    incident_scope,
    is_case_handler,
    is_exposed_employee,
    is_reporter,
    led_units,
    may_read_part,
    own_incidents,
    readable_summary_units,
    statistics_cover,
    statistics_roots,
)
from incidents.access.tree import UnitTree, subtree, unit_within

__all__ = [
    "UnitTree",
    "handler_scope",
    "in_units",
    "incident_scope",
    "is_case_handler",
    "is_exposed_employee",
    "is_reporter",
    "led_units",
    "may_read_part",
    "own_incidents",
    "readable_summary_units",
    "statistics_cover",
    "statistics_roots",
    "subtree",
    "unit_within",
]
