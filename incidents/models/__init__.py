"""SQLAlchemy models, one module per aggregate. Importing this package registers them all."""

from incidents.models.anonymous import AnonymousPending
from incidents.models.audit import AuditEntry
from incidents.models.case import (
    AuthorityReport,
    CheckIn,
    FollowUpEntry,
    PoliceOutcomeEntry,
    PoliceReport,
    StatusChange,
    SupportDecline,
    SupportEvaluation,
    SupportMeasure,
)
from incidents.models.idempotency import IdempotencyRecord
from incidents.models.incident import Incident, IncidentForm, ReferenceCounter
from incidents.models.messaging import AnonymousReceipt, Message
from incidents.models.organisation import Headcount, Unit, subtree_ids_query
from incidents.models.outbox import OutboxMail
from incidents.models.settings import Setting
from incidents.models.summary import (
    ReminderDigest,
    SchedulerHeartbeat,
    SchedulerJobStatus,
    SchedulerLease,
    Summary,
    SummaryFile,
)
from incidents.models.survey import (
    IaCount,
    Survey,
    SurveyAnswer,
    SurveyParticipation,
    SurveyResponse,
    SurveyUnit,
)
from incidents.models.users import UnitAssignment, UnitLeader, User, UserRole
from incidents.models.web_session import WebSession
from incidents.models.workshop import (
    Workshop,
    WorkshopDevice,
    WorkshopParticipation,
    WorkshopRating,
    WorkshopTally,
    WorkshopTallyCount,
    WorkshopUnit,
)

# Tables the migrations create but no model describes: APScheduler's job store defines its own
# (scheduler/). Autogenerate and the model/migration comparison leave them alone.
UNMODELLED_TABLES = frozenset({"apscheduler_jobs"})


def include_object(object_, name, type_, reflected, compare_to) -> bool:
    table = object_ if type_ == "table" else getattr(object_, "table", None)
    return table is None or table.name not in UNMODELLED_TABLES


__all__ = [
    "WebSession",
    "AnonymousPending",
    "AnonymousReceipt",
    "Message",
    "OutboxMail",
    "Setting",
    "ReminderDigest",
    "SchedulerHeartbeat",
    "SchedulerJobStatus",
    "SchedulerLease",
    "Summary",
    "SummaryFile",
    "AuditEntry",
    "AuthorityReport",
    "CheckIn",
    "FollowUpEntry",
    "PoliceOutcomeEntry",
    "PoliceReport",
    "StatusChange",
    "SupportDecline",
    "SupportEvaluation",
    "SupportMeasure",
    "Headcount",
    "IdempotencyRecord",
    "Incident",
    "IncidentForm",
    "ReferenceCounter",
    "Unit",
    "UnitAssignment",
    "UnitLeader",
    "User",
    "UserRole",
    "subtree_ids_query",
    "IaCount",
    "Survey",
    "SurveyAnswer",
    "SurveyParticipation",
    "SurveyResponse",
    "SurveyUnit",
    "Workshop",
    "WorkshopDevice",
    "WorkshopParticipation",
    "WorkshopRating",
    "WorkshopTally",
    "WorkshopTallyCount",
    "WorkshopUnit",
]
