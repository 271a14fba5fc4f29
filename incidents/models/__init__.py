"""SQLAlchemy models, one module per aggregate. Importing this package registers them all."""

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
from incidents.models.survey import (
    IaCount,
    Survey,
    SurveyAnswer,
    SurveyParticipation,
    SurveyResponse,
    SurveyUnit,
)
from incidents.models.users import UnitLeader, User, UserRole

__all__ = [
    "AnonymousReceipt",
    "Message",
    "OutboxMail",
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
]
