"""Domain vocabulary: codes, their Swedish and English labels, and the rules tied to them.

Codes are stable API values; labels are what people read. Sources for the vocabulary: BRÅ 2016:13
for the five forms, SKR for their sub-types (docs/domain.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


@dataclass(frozen=True)
class Label:
    sv: str
    en: str


class Category(StrEnum):
    """BRÅ's five forms of unauthorised influence (otillåten påverkan)."""

    HARASSMENT = "harassment"
    THREAT = "threat"
    VIOLENCE = "violence"
    PROPERTY_DAMAGE = "property_damage"
    CORRUPTION = "corruption"


CATEGORY_LABELS: dict[Category, Label] = {
    Category.HARASSMENT: Label("Trakasserier", "Harassment"),
    Category.THREAT: Label("Hot", "Threat"),
    Category.VIOLENCE: Label("Våld", "Violence"),
    Category.PROPERTY_DAMAGE: Label("Skadegörelse", "Property damage"),
    Category.CORRUPTION: Label("Korruption", "Corruption"),
}

# BRÅ's description of each form (BRÅ 2016:13; docs/domain.md).
CATEGORY_DESCRIPTIONS: dict[Category, Label] = {
    Category.HARASSMENT: Label(
        "Ärekränkning, ofredande, subtila hot som inte är olaga hot och annan icke-brottslig "
        "påtryckning.",
        "Defamation, molestation, subtle threats that are not unlawful threats and other "
        "non-criminal pressure.",
    ),
    Category.THREAT: Label(
        "Olaga hot, hot mot tjänsteman, utpressning och liknande.",
        "Unlawful threat, threat against a public official, extortion and similar.",
    ),
    Category.VIOLENCE: Label(
        "Misshandel, våld mot tjänsteman och liknande.",
        "Assault, violence against a public official and similar.",
    ),
    Category.PROPERTY_DAMAGE: Label(
        "Skadegörelse, vandalisering, mordbrand och liknande.",
        "Damage, vandalism, arson and similar.",
    ),
    Category.CORRUPTION: Label(
        "Löfte eller erbjudande om muta eller annan otillbörlig belöning; otillbörliga relationer.",
        "Promise or offer of a bribe or other improper reward; improper relationships.",
    ),
}

# Sub-types per form as SKR describes them; the API accepts only these.
SUBCATEGORIES: dict[Category, dict[str, Label]] = {
    Category.THREAT: {
        "threat_of_violence": Label("Hot om våld", "Threat of violence"),
        "death_threat": Label("Dödshot", "Death threat"),
        "threat_against_relatives": Label("Hot mot anhöriga", "Threat against relatives"),
        "extortion": Label("Utpressning", "Extortion"),
    },
    Category.VIOLENCE: {
        "pushing": Label("Knuffar", "Pushing"),
        "hitting_or_kicking": Label("Slag eller sparkar", "Hitting or kicking"),
        "weapon": Label("Vapen", "Weapon"),
    },
    Category.HARASSMENT: {
        "insults": Label("Grova förolämpningar", "Gross insults"),
        "unwanted_contact": Label(
            "Obehagliga brev, sms eller samtal", "Unpleasant mail, texts or calls"
        ),
        "filming_or_photographing": Label(
            "Otillåten filmning eller fotografering", "Unauthorised filming or photographing"
        ),
        "defamation": Label("Förtal", "Defamation"),
        "insinuation": Label("Insinuationer", "Insinuations"),
    },
    Category.PROPERTY_DAMAGE: {
        "vandalism": Label("Vandalisering", "Vandalism"),
        "arson": Label("Mordbrand", "Arson"),
        "other": Label("Annan skadegörelse", "Other damage"),
    },
    Category.CORRUPTION: {
        "bribe_offer": Label("Erbjudande om muta", "Offer of a bribe"),
        "improper_relationship": Label("Otillbörlig relation", "Improper relationship"),
        "other": Label("Annan otillbörlig påverkan", "Other improper influence"),
    },
}


class PoliceFlag(StrEnum):
    """How strongly the rules call for a police report (polisanmälan)."""

    REQUIRED = "required"
    RECOMMENDED = "recommended"
    CONSIDER = "consider"


POLICE_FLAG_LABELS: dict[PoliceFlag, Label] = {
    PoliceFlag.REQUIRED: Label("Ska polisanmälas", "Must be reported to the police"),
    PoliceFlag.RECOMMENDED: Label("Bör polisanmälas", "Should be reported to the police"),
    PoliceFlag.CONSIDER: Label("Överväg polisanmälan", "Consider a police report"),
}

# The city's line is to police-report all threats and violence; property damage and corruption
# are flagged; harassment is flagged for consideration (docs/domain.md).
POLICE_FLAG_BY_CATEGORY: dict[Category, PoliceFlag] = {
    Category.THREAT: PoliceFlag.REQUIRED,
    Category.VIOLENCE: PoliceFlag.REQUIRED,
    Category.PROPERTY_DAMAGE: PoliceFlag.RECOMMENDED,
    Category.CORRUPTION: PoliceFlag.RECOMMENDED,
    Category.HARASSMENT: PoliceFlag.CONSIDER,
}

_FLAG_STRENGTH = [PoliceFlag.CONSIDER, PoliceFlag.RECOMMENDED, PoliceFlag.REQUIRED]


def police_flag_for(categories: list[Category] | set[Category]) -> PoliceFlag:
    """The strongest flag among all of an incident's forms: a threat followed by a blow is
    flagged as strongly as its most serious part."""
    return max((POLICE_FLAG_BY_CATEGORY[c] for c in categories), key=_FLAG_STRENGTH.index)


class IncidentStatus(StrEnum):
    REPORTED = "reported"
    ACKNOWLEDGED = "acknowledged"
    IN_FOLLOW_UP = "in_follow_up"
    CLOSED = "closed"


STATUS_LABELS: dict[IncidentStatus, Label] = {
    IncidentStatus.REPORTED: Label("Rapporterad", "Reported"),
    IncidentStatus.ACKNOWLEDGED: Label("Mottagen", "Acknowledged"),
    IncidentStatus.IN_FOLLOW_UP: Label("Under uppföljning", "In follow-up"),
    IncidentStatus.CLOSED: Label("Avslutad", "Closed"),
}


class PerceivedPurpose(StrEnum):
    """BRÅ's criterion: the exposed person's own perception that the aim was to influence
    the exercise of office."""

    YES = "yes"
    NO = "no"
    UNSURE = "unsure"


class PoliceWish(StrEnum):
    """The reporter's answer to "Do you want the police to be involved?" (Vill du att polisen
    kopplas in?). Information for the case handler deciding on the police report: it changes
    neither the police flag nor any rule."""

    YES = "yes"
    NO = "no"
    UNSURE = "unsure"


POLICE_WISH_QUESTION = Label(
    "Vill du att polisen kopplas in?", "Do you want the police to be involved?"
)

POLICE_WISH_LABELS: dict[PoliceWish, Label] = {
    PoliceWish.YES: Label("Ja", "Yes"),
    PoliceWish.NO: Label("Nej", "No"),
    PoliceWish.UNSURE: Label("Vet inte", "Not sure"),
}


class Location(StrEnum):
    OFFICE = "office"
    RECEPTION = "reception"
    HOME_VISIT = "home_visit"
    PHONE = "phone"
    DIGITAL = "digital"
    PUBLIC_PLACE = "public_place"
    COURT = "court"
    EMPLOYEE_HOME = "employee_home"
    OTHER = "other"


LOCATION_LABELS: dict[Location, Label] = {
    Location.OFFICE: Label("Kontor", "Office"),
    Location.RECEPTION: Label("Reception", "Reception"),
    Location.HOME_VISIT: Label("Hembesök", "Home visit"),
    Location.PHONE: Label("Telefon", "Phone"),
    Location.DIGITAL: Label("Digitalt", "Digital"),
    Location.PUBLIC_PLACE: Label("Allmän plats", "Public place"),
    Location.COURT: Label("Domstol", "Court"),
    Location.EMPLOYEE_HOME: Label("Medarbetarens hem", "Employee's home"),
    Location.OTHER: Label("Annat", "Other"),
}


class Perpetrator(StrEnum):
    CLIENT = "client"
    RELATIVE = "relative"
    REPRESENTATIVE = "representative"
    UNKNOWN = "unknown"
    OTHER = "other"


PERPETRATOR_LABELS: dict[Perpetrator, Label] = {
    Perpetrator.CLIENT: Label("Klient", "Client"),
    Perpetrator.RELATIVE: Label("Anhörig", "Relative"),
    Perpetrator.REPRESENTATIVE: Label("Ombud", "Representative"),
    Perpetrator.UNKNOWN: Label("Okänd", "Unknown"),
    Perpetrator.OTHER: Label("Annan", "Other"),
}


class Channel(StrEnum):
    IN_PERSON = "in_person"
    PHONE = "phone"
    LETTER = "letter"
    EMAIL = "email"
    SOCIAL_MEDIA = "social_media"
    OTHER = "other"


class TargetedMatter(StrEnum):
    """The kind of case or decision the influence aimed at."""

    FINANCIAL_AID = "financial_aid"
    CHILDREN_AND_YOUTH = "children_and_youth"
    ELDERLY_CARE = "elderly_care"
    DISABILITY = "disability"
    ADDICTION = "addiction"
    OTHER = "other"


class Role(StrEnum):
    """What a person may do. hr, statistics_reader and admin are held for parts of the
    organisation (a unit and everything below it, ``UnitAssignment``), as a manager leads units;
    platform_admin administers the whole deployment, every organisation in it
    (docs/roles-and-access.md)."""

    EMPLOYEE = "employee"
    MANAGER = "manager"
    HR = "hr"
    STATISTICS_READER = "statistics_reader"
    ADMIN = "admin"
    PLATFORM_ADMIN = "platform_admin"


ROLE_LABELS: dict[Role, Label] = {
    Role.EMPLOYEE: Label("Medarbetare", "Employee"),
    Role.MANAGER: Label("Chef", "Manager"),
    Role.HR: Label("HR", "HR"),
    Role.STATISTICS_READER: Label("Statistikläsare", "Statistics reader"),
    Role.ADMIN: Label("Administratör", "Administrator"),
    Role.PLATFORM_ADMIN: Label("Plattformsadministratör", "Platform administrator"),
}

# Roles held for units (a unit and its subtree); the manager's units are the ones they lead.
ASSIGNED_ROLES = (Role.HR, Role.STATISTICS_READER, Role.ADMIN)

# Roles that may report incidents: everyone who works in the organisation. A pure admin account
# is a technical role and has no incident access unless it also holds one of these.
REPORTING_ROLES = frozenset({Role.EMPLOYEE, Role.MANAGER, Role.HR})


class UnitKind(StrEnum):
    """Levels of the organisation tree (organisation → förvaltning → avdelning → enhet)."""

    ORGANISATION = "organisation"
    FORVALTNING = "forvaltning"
    AVDELNING = "avdelning"
    ENHET = "enhet"


UNIT_KIND_LABELS: dict[UnitKind, Label] = {
    UnitKind.ORGANISATION: Label("Organisation", "Organisation"),
    UnitKind.FORVALTNING: Label("Förvaltning", "Administration"),
    UnitKind.AVDELNING: Label("Avdelning", "Department"),
    UnitKind.ENHET: Label("Enhet", "Unit"),
}


class FollowUpType(StrEnum):
    """What a manager documents after an incident (docs/domain.md)."""

    CONVERSATION = "conversation"
    RISK_ASSESSMENT = "risk_assessment"
    SAFETY_MEASURE = "safety_measure"
    ROUTINE_CHANGED = "routine_changed"
    PERPETRATOR_CONTACT = "perpetrator_contact"
    AUTHORITY_NOTIFIED = "authority_notified"
    OTHER = "other"


FOLLOW_UP_LABELS: dict[FollowUpType, Label] = {
    FollowUpType.CONVERSATION: Label("Samtal med medarbetaren", "Conversation with the employee"),
    FollowUpType.RISK_ASSESSMENT: Label("Riskbedömning uppdaterad", "Risk assessment updated"),
    FollowUpType.SAFETY_MEASURE: Label("Säkerhetsåtgärd vidtagen", "Safety measure taken"),
    FollowUpType.ROUTINE_CHANGED: Label("Rutin ändrad", "Routine changed"),
    FollowUpType.PERPETRATOR_CONTACT: Label(
        "Kontakt med gärningspersonen", "Contact with the perpetrator"
    ),
    FollowUpType.AUTHORITY_NOTIFIED: Label("Myndighet underrättad", "Authority notified"),
    FollowUpType.OTHER: Label("Annat", "Other"),
}


class SupportType(StrEnum):
    """Support to the exposed employee (Prevent's and occupational health guidance)."""

    DEBRIEFING = "debriefing"
    OCCUPATIONAL_HEALTH = "occupational_health"
    PEER_SUPPORT = "peer_support"
    SAFETY_MEASURES = "safety_measures"
    CHANGED_DUTIES = "changed_duties"
    LEGAL_SUPPORT = "legal_support"
    ACCOMPANIMENT = "accompaniment"
    OTHER = "other"


SUPPORT_LABELS: dict[SupportType, Label] = {
    SupportType.DEBRIEFING: Label("Avlastningssamtal/debriefing", "Defusing talk/debriefing"),
    SupportType.OCCUPATIONAL_HEALTH: Label(
        "Krisstöd via företagshälsovården", "Crisis support from occupational health"
    ),
    SupportType.PEER_SUPPORT: Label("Kollegialt stöd", "Peer support"),
    SupportType.SAFETY_MEASURES: Label("Säkerhetsåtgärder", "Safety measures"),
    SupportType.CHANGED_DUTIES: Label("Ändrade arbetsuppgifter", "Changed duties"),
    SupportType.LEGAL_SUPPORT: Label("Juridiskt stöd", "Legal support"),
    SupportType.ACCOMPANIMENT: Label(
        "Följeslagare till polis eller domstol", "Accompaniment to police or court"
    ),
    SupportType.OTHER: Label("Annat stöd", "Other support"),
}


class Rating3(StrEnum):
    YES = "yes"
    PARTLY = "partly"
    NO = "no"


RATING3_LABELS: dict[Rating3, Label] = {
    Rating3.YES: Label("Ja", "Yes"),
    Rating3.PARTLY: Label("Delvis", "Partly"),
    Rating3.NO: Label("Nej", "No"),
}


class PoliceDecision(StrEnum):
    REPORT = "report"
    DO_NOT_REPORT = "do_not_report"


class FiledBy(StrEnum):
    """Who filed the police report: the employee, or the employer standing behind it."""

    EMPLOYEE = "employee"
    EMPLOYER = "employer"


class ContactAddress(StrEnum):
    """Which address was given on the report: the employee's home, or the workplace (the city
    found the administration's address seems to be accepted)."""

    HOME = "home"
    WORK = "work"


class PoliceOutcome(StrEnum):
    """Outcomes in the vocabulary of the police and prosecution statistics (docs/domain.md)."""

    PENDING = "pending"
    NOT_INVESTIGATED = "not_investigated"
    INVESTIGATION_OPENED = "investigation_opened"
    INVESTIGATION_DISCONTINUED = "investigation_discontinued"
    INDICTED = "indicted"
    SUMMARY_FINE = "summary_fine"
    PROSECUTION_WAIVED = "prosecution_waived"
    CONVICTED = "convicted"
    ACQUITTED = "acquitted"
    APPEALED = "appealed"


POLICE_OUTCOME_LABELS: dict[PoliceOutcome, Label] = {
    PoliceOutcome.PENDING: Label("Inväntar beslut", "Pending"),
    PoliceOutcome.NOT_INVESTIGATED: Label(
        "Avskriven utan utredning", "Written off without investigation"
    ),
    PoliceOutcome.INVESTIGATION_OPENED: Label("Förundersökning inledd", "Investigation opened"),
    PoliceOutcome.INVESTIGATION_DISCONTINUED: Label(
        "Förundersökning nedlagd", "Investigation discontinued"
    ),
    PoliceOutcome.INDICTED: Label("Åtal väckt", "Indicted"),
    PoliceOutcome.SUMMARY_FINE: Label("Strafföreläggande", "Summary fine order"),
    PoliceOutcome.PROSECUTION_WAIVED: Label("Åtalsunderlåtelse", "Prosecution waived"),
    PoliceOutcome.CONVICTED: Label("Fällande dom", "Convicted"),
    PoliceOutcome.ACQUITTED: Label("Frikännande dom", "Acquitted"),
    PoliceOutcome.APPEALED: Label("Överklagad", "Appealed"),
}

# Which outcome may follow which: the course of a case through police, prosecutor and court.
# None is "no outcome recorded yet".
POLICE_OUTCOME_NEXT: dict[PoliceOutcome | None, frozenset[PoliceOutcome]] = {
    None: frozenset({PoliceOutcome.PENDING, PoliceOutcome.NOT_INVESTIGATED,
                     PoliceOutcome.INVESTIGATION_OPENED}),
    PoliceOutcome.PENDING: frozenset({PoliceOutcome.NOT_INVESTIGATED,
                                      PoliceOutcome.INVESTIGATION_OPENED}),
    # A written-off report or a discontinued investigation can be taken up again.
    PoliceOutcome.NOT_INVESTIGATED: frozenset({PoliceOutcome.INVESTIGATION_OPENED}),
    PoliceOutcome.INVESTIGATION_OPENED: frozenset({
        PoliceOutcome.INVESTIGATION_DISCONTINUED, PoliceOutcome.INDICTED,
        PoliceOutcome.SUMMARY_FINE, PoliceOutcome.PROSECUTION_WAIVED}),
    PoliceOutcome.INVESTIGATION_DISCONTINUED: frozenset({PoliceOutcome.INVESTIGATION_OPENED}),
    # A summary fine that is not accepted goes to court.
    PoliceOutcome.SUMMARY_FINE: frozenset({PoliceOutcome.INDICTED}),
    PoliceOutcome.PROSECUTION_WAIVED: frozenset(),
    PoliceOutcome.INDICTED: frozenset({PoliceOutcome.CONVICTED, PoliceOutcome.ACQUITTED}),
    PoliceOutcome.CONVICTED: frozenset({PoliceOutcome.APPEALED}),
    PoliceOutcome.ACQUITTED: frozenset({PoliceOutcome.APPEALED}),
    PoliceOutcome.APPEALED: frozenset({PoliceOutcome.CONVICTED, PoliceOutcome.ACQUITTED}),
}

# Flags that make a police-report decision a condition for closing (docs/domain.md).
DECISION_REQUIRED_FLAGS = frozenset({PoliceFlag.REQUIRED, PoliceFlag.RECOMMENDED})


class AuditAction(StrEnum):
    CREATE = "create"
    READ = "read"
    UPDATE = "update"
    ACCESS_DENIED = "access_denied"


class AuditOutcome(StrEnum):
    OK = "ok"
    DENIED = "denied"


class AuditRecord(StrEnum):
    """Which kind of record an audit entry is about: what decides who may list the entry
    (incidents/access/audit.py). The entry's detail names the kind and what was done, never a
    fact of the case."""

    # Parts of a case (the entry names its incident).
    INCIDENT = "incident"
    STATUS = "status"
    FOLLOW_UP = "follow_up"
    SUPPORT = "support"
    CHECK_IN = "check_in"
    SUPPORT_EVALUATION = "support_evaluation"
    POLICE_REPORT = "police_report"
    AUTHORITY_REPORTS = "authority_reports"
    MESSAGES = "messages"
    # Administration (users, units, head-counts, settings).
    USER = "user"
    UNIT = "unit"
    HEADCOUNT = "headcount"
    SETTING = "setting"
    # Surveys, workshops, summaries and statistics (the entry names a unit, not an incident).
    SURVEY = "survey"
    WORKSHOP = "workshop"
    SUMMARY = "summary"
    STATISTICS = "statistics"


def values(enum: type[StrEnum]) -> list[str]:
    return [member.value for member in enum]


class MessageSender(StrEnum):
    """Who wrote a message in an incident's thread: the reporter (named or anonymous) or one of
    the case handlers (a manager above the unit, or hr)."""

    REPORTER = "reporter"
    CASE_HANDLER = "case_handler"


MESSAGE_SENDER_LABELS: dict[MessageSender, Label] = {
    MessageSender.REPORTER: Label("Rapportör", "Reporter"),
    MessageSender.CASE_HANDLER: Label("Handläggare", "Case handler"),
}


class OutboxStatus(StrEnum):
    """A notification mail in the outbox: pending (due at next_attempt_at), sending (claimed by
    one sender until its lease runs out), sent, or failed (refused for good by the server)."""

    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"


class SummaryKind(StrEnum):
    """Summaries the scheduler produces (docs/operations.md): statistics per tertial (T1 Jan–Apr, T2
    May–Aug, T3 Sep–Dec) and per month, per organisation and per förvaltning; and a workshop's
    ratings once its rating window has closed."""

    TERTIAL = "tertial"
    MONTHLY = "monthly"
    WORKSHOP = "workshop"


SUMMARY_KIND_LABELS: dict[SummaryKind, Label] = {
    SummaryKind.TERTIAL: Label("Tertialsammanställning", "Tertial summary"),
    SummaryKind.MONTHLY: Label("Månadssammanställning", "Monthly summary"),
    SummaryKind.WORKSHOP: Label("Sammanställning av workshop", "Workshop summary"),
}


class SummaryOrigin(StrEnum):
    """Who made a summary: the scheduler on its timetable, or hr on demand."""

    SCHEDULE = "schedule"
    REQUEST = "request"


class WorkshopScale(StrEnum):
    """The two questions a workshop participant answers (docs/statistics.md, "Workshops"): how large
    the problem of unauthorised influence, threats and violence is in their own workplace
    (1–7), and how useful the workshop will be (1–5)."""

    PROBLEM_SIZE = "problem_size"
    USEFULNESS = "usefulness"


WORKSHOP_SCALE_LABELS: dict[WorkshopScale, Label] = {
    WorkshopScale.PROBLEM_SIZE: Label(
        "Hur stort är problemet med otillåten påverkan, hot och våld på din arbetsplats?",
        "How large is the problem of unauthorised influence, threats and violence in your "
        "workplace?",
    ),
    WorkshopScale.USEFULNESS: Label(
        "I vilken grad kommer du att ha nytta av workshopen?",
        "To what degree will the workshop be useful to you?",
    ),
}

# The values of each scale, lowest to highest, both ends inclusive.
WORKSHOP_SCALE_RANGE: dict[WorkshopScale, tuple[int, int]] = {
    WorkshopScale.PROBLEM_SIZE: (1, 7),
    WorkshopScale.USEFULNESS: (1, 5),
}

# The ends of each scale are named; the values between them are not.
WORKSHOP_SCALE_ANCHORS: dict[WorkshopScale, dict[int, Label]] = {
    WorkshopScale.PROBLEM_SIZE: {
        1: Label("Inget problem alls", "No problem at all"),
        7: Label("Mycket stort problem", "A very large problem"),
    },
    WorkshopScale.USEFULNESS: {
        1: Label("Inte alls", "Not at all"),
        5: Label("I mycket hög grad", "To a very high degree"),
    },
}

# How the city reports the problem-size ratings: 2 or less, 3–5, 6–7 (code: lowest, highest).
PROBLEM_SIZE_GROUPS: dict[str, tuple[int, int]] = {"1-2": (1, 2), "3-5": (3, 5), "6-7": (6, 7)}
PROBLEM_SIZE_GROUP_LABELS: dict[str, Label] = {
    "1-2": Label("2 eller lägre", "2 or less"),
    "3-5": Label("3–5", "3–5"),
    "6-7": Label("6–7", "6–7"),
}
# A workshop is rated useful at 4 or 5 ("i hög grad", "i mycket hög grad").
USEFUL_RATINGS: tuple[int, int] = (4, 5)


class ClosingItem(StrEnum):
    """What a case may still lack before it can close (services/lifecycle.py)."""

    FOLLOW_UP = "follow_up"
    ANONYMOUS_ANSWER = "anonymous_answer"
    CONVERSATION = "conversation"
    SUPPORT_DECISION = "support_decision"
    POLICE_DECISION = "police_decision"
    WORK_ENVIRONMENT_NOTIFICATION = "work_environment_notification"
    WORK_INJURY_REPORT = "work_injury_report"


CLOSING_ITEM_LABELS: dict[ClosingItem, Label] = {
    ClosingItem.FOLLOW_UP: Label("Dokumentera vad som har gjorts", "Document what was done"),
    ClosingItem.ANONYMOUS_ANSWER: Label(
        "Svara den anonyma rapportören (där stöd kan erbjudas)",
        "Answer the anonymous reporter (where support can be offered)",
    ),
    ClosingItem.CONVERSATION: Label(
        "Dokumentera samtalet med den utsatta medarbetaren",
        "Document the conversation with the exposed employee",
    ),
    ClosingItem.SUPPORT_DECISION: Label(
        "Registrera stöd som medarbetaren tackade ja eller nej till",
        "Record support the employee accepted or declined",
    ),
    ClosingItem.POLICE_DECISION: Label(
        "Besluta om polisanmälan", "Decide on a police report"
    ),
    ClosingItem.WORK_ENVIRONMENT_NOTIFICATION: Label(
        "Anmäl den allvarliga händelsen till Arbetsmiljöverket",
        "Notify Arbetsmiljöverket of the serious incident",
    ),
    ClosingItem.WORK_INJURY_REPORT: Label(
        "Anmäl arbetsskadan till Försäkringskassan",
        "Report the work injury to Försäkringskassan",
    ),
}


class Missing(str):
    """One thing a case lacks before it can close: its text (as the API answers it) and its
    kind (ClosingItem), so a page can say it in the person's language and link to where it is
    done."""

    code: ClosingItem

    def __new__(cls, text: str, code: ClosingItem) -> Missing:
        item = super().__new__(cls, text)
        item.code = code
        return item


POLICE_DECISION_LABELS: dict[PoliceDecision, Label] = {
    PoliceDecision.REPORT: Label("Polisanmäla", "Report to the police"),
    PoliceDecision.DO_NOT_REPORT: Label("Inte polisanmäla", "Do not report to the police"),
}

FILED_BY_LABELS: dict[FiledBy, Label] = {
    FiledBy.EMPLOYEE: Label("Medarbetaren", "The employee"),
    FiledBy.EMPLOYER: Label("Arbetsgivaren", "The employer"),
}

CONTACT_ADDRESS_LABELS: dict[ContactAddress, Label] = {
    ContactAddress.HOME: Label("Hemadress", "Home address"),
    ContactAddress.WORK: Label("Arbetsplatsens adress", "The workplace's address"),
}
