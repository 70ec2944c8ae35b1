"""The data model; importing this package registers every table."""
from .accounts import Department, DepartmentKind, Role, User, UserRole
from .audit import AuditEvent
from .consultations import AnswerDecision, Comment, CommentAnswer, CommentChannel, Consultation
from .documents import Article, Document, DocumentVersion, MeetingDecision, VersionKind
from .jobs import BackgroundJob, JobKind, JobState
from .review import ReviewOrgan, ReviewRound, RoundStatus, Signoff, SignoffOutcome
from .types import UTCDateTime, utcnow

__all__ = [
    "AnswerDecision", "Article", "AuditEvent", "BackgroundJob", "Comment", "CommentAnswer",
    "CommentChannel", "Consultation", "Department", "DepartmentKind", "Document",
    "DocumentVersion", "JobKind", "JobState", "MeetingDecision", "ReviewOrgan", "ReviewRound",
    "Role", "RoundStatus", "Signoff", "SignoffOutcome", "UTCDateTime", "User", "UserRole",
    "VersionKind", "utcnow",
]
