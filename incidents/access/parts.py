"""The parts of a case and who reads them: the one table of which parts the exposed employee
may read. Case handlers read every part; the exposed employee reads the parts marked here;
others who can see the incident (the reporter for a colleague) read none of them
(docs/roles-and-access.md, "Who reads which part of a case").

Reading a part (services/case_access.py ``for_reading``) and listing the audit trail
(access/audit.py: the exposed employee sees the entries about the parts they may read) both
take the answer from this table.
"""

from __future__ import annotations

from incidents.access.reach import may_read_part
from incidents.domain import AuditRecord
from incidents.models import Incident, User

# Part of a case → whether its exposed employee may read it.
EXPOSED_EMPLOYEE_READS: dict[AuditRecord, bool] = {
    AuditRecord.INCIDENT: True,
    AuditRecord.STATUS: True,
    AuditRecord.FOLLOW_UP: False,
    AuditRecord.SUPPORT: True,
    AuditRecord.CHECK_IN: True,
    AuditRecord.SUPPORT_EVALUATION: True,
    AuditRecord.POLICE_REPORT: True,
    AuditRecord.AUTHORITY_REPORTS: False,
    # The thread is between the case handlers and the reporter's side, of which the exposed
    # employee is always one (services/messages.py).
    AuditRecord.MESSAGES: True,
}

CASE_PARTS = frozenset(EXPOSED_EMPLOYEE_READS)

# What a part is called in an audit entry's detail and in a refusal ("read police report").
PART_NAMES: dict[AuditRecord, str] = {
    AuditRecord.INCIDENT: "incident",
    AuditRecord.STATUS: "status history",
    AuditRecord.FOLLOW_UP: "follow-up",
    AuditRecord.SUPPORT: "support",
    AuditRecord.CHECK_IN: "check-ins",
    AuditRecord.SUPPORT_EVALUATION: "support evaluation",
    AuditRecord.POLICE_REPORT: "police report",
    AuditRecord.AUTHORITY_REPORTS: "reports to authorities",
    AuditRecord.MESSAGES: "messages",
}


def exposed_may_read(part: AuditRecord) -> bool:
    """Whether the exposed employee may read this part of their case."""
    return EXPOSED_EMPLOYEE_READS[AuditRecord(part)]


def exposed_readable_parts() -> frozenset[AuditRecord]:
    return frozenset(part for part, readable in EXPOSED_EMPLOYEE_READS.items() if readable)


def may_read(user: User, incident: Incident, part: AuditRecord) -> bool:
    """Whether the user may read this part of the incident: a case handler, or the exposed
    employee for a part the table opens to them."""
    return may_read_part(user, incident, exposed_may_read=exposed_may_read(part))
