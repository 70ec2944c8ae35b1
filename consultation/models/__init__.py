"""The data model; importing this package registers every table."""
from .accounts import Department, DepartmentKind, Role, User, UserRole
from .audit import AuditEvent
from .calendar import CalendarOverride, CalendarYear, DayKind
from .co_units import DocumentCoUnit  # noqa: F401
from .consultations import (
    AnswerDecision, Comment, CommentAnswer, CommentBand, CommentCampaign, CommentChannel, CommentTally, Consultation,
    ConsultationExtension, HiddenReason, Moderation,
)
from .error_reports import SiteErrorReport  # noqa: F401
from .documents import (
    Article, Assessment, AssessmentKind, Document, DocumentVersion, LibraryChange, LibraryEvent, MeetingDecision,
    VersionKind,
)
from .invitations import (  # noqa: F401 - 事前评估 (issue 14)
    AssessmentInvitation, AssessmentRemark, AssessmentWaiver, InvitedAssessment, InviteeKind,
)
from .jobs import ACTIVE_STATES, BackgroundJob, JobKind, JobState, Notification, Subscription
from .mailings import Mailing
from .offline import MeetingKind, OfflineAttachment, OfflineComment, OfflineMeeting  # noqa: F401
from .review import OpinionResponse, ReviewOrgan, ReviewRound, RoundStatus, Signoff, SignoffOutcome
from .search import SearchEntry, SearchTerm
from .statistics import ChannelTally, ChannelTallyCursor  # noqa: F401
from .types import UTCDateTime, utcnow

__all__ = [
    "ACTIVE_STATES", "AnswerDecision", "Article", "Assessment", "AssessmentKind", "AuditEvent", "BackgroundJob", "CalendarOverride", "CalendarYear", "Comment", "CommentAnswer",
    "CommentBand", "CommentCampaign", "CommentChannel", "CommentTally", "HiddenReason", "LibraryChange", "LibraryEvent", "Moderation",
    "SearchEntry", "SearchTerm", "Consultation", "ConsultationExtension", "Department", "DayKind", "DepartmentKind", "Document",
    "DocumentVersion", "JobKind", "JobState", "Mailing", "MeetingDecision", "Notification", "OpinionResponse", "ReviewOrgan", "ReviewRound",
    "Role", "RoundStatus", "Signoff", "SignoffOutcome", "Subscription", "UTCDateTime", "User", "UserRole",
    "VersionKind", "utcnow",
]
