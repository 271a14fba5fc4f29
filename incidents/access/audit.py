"""Who may list which audit entries (docs/roles-and-access.md, "Audit trail").

The trail says who read or changed which kind of record (``AuditEntry.record``); who may list an
entry follows from that kind, from the incident it names or, for an entry naming no incident,
from its unit (``AuditEntry.unit_id``):

* **hr** lists the entries about the incidents it handles (their unit within the units it holds
  hr for, and not its own case), and the entries about surveys, workshops, summaries and
  statistics whose unit lies within those units. Administrative entries are not hr's.
* **admin** lists the administrative entries (users, units, head-counts, settings) whose unit
  lies within the units it holds admin for; entries without a unit (settings, people without a
  unit) only an admin of every organisation. Never an entry about a case. A **platform admin**
  lists every administrative entry.
* **the exposed employee** (anyone) lists the entries about their own case, for the parts of it
  they may read themselves (access/parts.py): not follow-up, not the reports to authorities.
* **entries written before the kind was recorded** (``record`` NULL) may hold older texts, so
  they are kept from anyone who could not read the case anyway: with an incident, only hr
  handling it; without, only a platform admin, an admin of every organisation or hr of every
  organisation.

What applies to a person is combined; nobody else lists anything.
"""

from __future__ import annotations

from sqlalchemy import and_, false, or_, select
from sqlalchemy.sql.elements import ColumnElement

from incidents.access.parts import exposed_readable_parts
from incidents.access.reach import admin_units, administers_all, hr_units, is_platform_admin
from incidents.access.tree import UnitTree, subtree
from incidents.domain import AuditRecord
from incidents.models import AuditEntry, Incident, User

# The administrative kinds: an admin's, never a case's or hr's.
ADMINISTRATIVE_RECORDS = frozenset(
    {AuditRecord.USER, AuditRecord.UNIT, AuditRecord.HEADCOUNT, AuditRecord.SETTING}
)
# The kinds that name a unit and no incident, and are hr's: surveys, workshops, summaries and
# statistics (unsuppressed reads, IA counts).
UNIT_RECORDS = frozenset(
    {AuditRecord.SURVEY, AuditRecord.WORKSHOP, AuditRecord.SUMMARY, AuditRecord.STATISTICS}
)


def _values(records) -> list[str]:
    return sorted(record.value for record in records)


def _holds_every_organisation(held: set[int], tree: UnitTree) -> bool:
    return bool(held) and all(root in held for root in tree.roots)


def _incidents_where(*conditions) -> ColumnElement[bool]:
    return AuditEntry.incident_id.in_(select(Incident.id).where(*conditions))


def _hr(user: User, tree: UnitTree) -> list[ColumnElement[bool]]:
    held = hr_units(user)
    if not held:
        return []
    within = subtree(sorted(held))
    exposed = Incident.exposed_user_id
    # As for handling a case: its own case is not hr's to audit (the exposed employee's rule
    # below gives the parts they may read).
    not_own = or_(exposed.is_(None), exposed != user.id)
    conditions = [
        _incidents_where(Incident.unit_id.in_(within), not_own),
        and_(AuditEntry.incident_id.is_(None), AuditEntry.record.in_(_values(UNIT_RECORDS)),
             AuditEntry.unit_id.in_(within)),
    ]
    if _holds_every_organisation(held, tree):
        conditions.append(_legacy_without_incident())
    return conditions


def _admin(user: User, tree: UnitTree) -> list[ColumnElement[bool]]:
    administrative = AuditEntry.record.in_(_values(ADMINISTRATIVE_RECORDS))
    if is_platform_admin(user):
        return [administrative, _legacy_without_incident()]
    held = admin_units(user)
    if not held:
        return []
    conditions = [and_(administrative, AuditEntry.unit_id.in_(subtree(sorted(held))))]
    if administers_all(user, tree):
        conditions += [and_(administrative, AuditEntry.unit_id.is_(None)),
                       _legacy_without_incident()]
    return conditions


def _exposed(user: User) -> ColumnElement[bool]:
    return and_(
        AuditEntry.record.in_(_values(exposed_readable_parts())),
        _incidents_where(Incident.exposed_user_id == user.id),
    )


def _legacy_without_incident() -> ColumnElement[bool]:
    return and_(AuditEntry.record.is_(None), AuditEntry.incident_id.is_(None))


def audit_scope(user: User) -> ColumnElement[bool]:
    """The audit entries a user may list: the condition every audit query starts from."""
    conditions = [_exposed(user)]
    if hr_units(user) or admin_units(user) or is_platform_admin(user):
        tree = UnitTree.load()  # for "every organisation"; not needed for anyone else
        conditions += [*_hr(user, tree), *_admin(user, tree)]
    return or_(*conditions) if conditions else false()
