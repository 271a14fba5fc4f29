"""Access: who reaches what. The one module that answers "may this person see this?" — for
incidents, cases and their parts, statistics, summaries, surveys, workshops, the audit trail and
the administration of people and units — and the one place that walks the unit tree. Services
and statistics start their queries from these conditions; the API and the pages never decide
access themselves. docs/roles-and-access.md describes the same rules for people;
tests/test_access_hygiene.py fails when scope logic appears outside this package."""

from incidents.access.reach import (
    ADMIN_ROLES,
    HANDLER_ROLES,
    STATISTICS_ROLES,
    admin_units,
    administers_all,
    administers_unit,
    administers_user,
    covers_units,
    handler_scope,
    handling_units,
    hr_units,
    in_organisations_of,
    in_units,
    incident_scope,
    is_case_handler,
    is_exposed_employee,
    is_platform_admin,
    is_reporter,
    led_units,
    list_branches,
    may_read_part,
    may_see_unsuppressed,
    organisations_of,
    own_incidents,
    reached_units,
    readable_summary_units,
    reader_units,
    statistics_cover,
    statistics_roots,
    statistics_units,
    survey_scope,
    unit_scope,
    user_scope,
    workshop_scope,
)
from incidents.access.tree import UnitTree, subtree, unit_within

__all__ = [
    "ADMIN_ROLES",
    "HANDLER_ROLES",
    "STATISTICS_ROLES",
    "UnitTree",
    "admin_units",
    "administers_all",
    "administers_unit",
    "administers_user",
    "covers_units",
    "handler_scope",
    "handling_units",
    "hr_units",
    "in_units",
    "in_organisations_of",
    "incident_scope",
    "is_case_handler",
    "is_exposed_employee",
    "is_platform_admin",
    "is_reporter",
    "led_units",
    "list_branches",
    "may_read_part",
    "may_see_unsuppressed",
    "organisations_of",
    "own_incidents",
    "readable_summary_units",
    "reached_units",
    "reader_units",
    "statistics_cover",
    "statistics_roots",
    "statistics_units",
    "subtree",
    "survey_scope",
    "unit_scope",
    "unit_within",
    "user_scope",
    "workshop_scope",
]

# Who lists which audit entries, and which parts of a case the exposed employee reads.
from incidents.access.audit import ADMINISTRATIVE_RECORDS, audit_scope  # noqa: E402
from incidents.access.parts import (  # noqa: E402
    EXPOSED_EMPLOYEE_READS,
    PART_NAMES,
    exposed_may_read,
    may_read,
)

__all__ += [
    "ADMINISTRATIVE_RECORDS",
    "EXPOSED_EMPLOYEE_READS",
    "PART_NAMES",
    "audit_scope",
    "exposed_may_read",
    "may_read",
]
from incidents.access.handlers import (  # noqa: E402
    Handler,
    UnansweredUnit,
    responsible_for_incidents,
    responsible_for_units,
    responsible_handlers,
    units_without_handler,
)

__all__ += [
    "Handler",
    "UnansweredUnit",
    "responsible_for_incidents",
    "responsible_for_units",
    "responsible_handlers",
    "units_without_handler",
]
