"""Departments, staff accounts and their roles."""
from __future__ import annotations

import enum
from datetime import datetime

from flask import current_app, has_app_context
from flask_login import UserMixin
from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from ..extensions import db
from .types import UTCDateTime, utcnow


class DepartmentKind(str, enum.Enum):
    DRAFTING = "drafting"            # 起草单位
    GOVERNMENT_OFFICE = "gov_office"  # 市政府办公室
    JUSTICE = "justice"              # 市司法局
    OPENNESS = "openness"            # 政务公开办


class Role(str, enum.Enum):
    DRAFTER = "drafter"
    DEPARTMENT_HEAD = "department_head"
    GOV_OFFICE_REVIEWER = "gov_office_reviewer"
    JUSTICE_REVIEWER = "justice_reviewer"
    OPENNESS_OFFICER = "openness_officer"
    ADMIN = "admin"


class Department(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    kind: Mapped[str] = mapped_column(String(20))

    users: Mapped[list[User]] = relationship(back_populates="department")


class User(UserMixin, db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(80), unique=True)
    display_name: Mapped[str] = mapped_column(String(120))
    email: Mapped[str | None] = mapped_column(String(200))  # for notifications (送审提醒, 退回通知 …)
    password_hash: Mapped[str] = mapped_column(String(255))
    department_id: Mapped[int] = mapped_column(ForeignKey("department.id"))
    active: Mapped[bool] = mapped_column(default=True)
    created_at = mapped_column(UTCDateTime, default=utcnow)

    department: Mapped[Department] = relationship(back_populates="users")
    role_rows: Mapped[list[UserRole]] = relationship(
        cascade="all, delete-orphan", lazy="selectin"
    )

    @property
    def is_active(self) -> bool:  # Flask-Login refuses inactive accounts
        return self.active

    @property
    def roles(self) -> frozenset[str]:
        return frozenset(r.role for r in self.role_rows)

    def has_role(self, *roles: str | Role) -> bool:
        wanted = {r.value if isinstance(r, Role) else r for r in roles}
        return bool(self.roles & wanted)

    def set_roles(self, roles: list[str | Role]) -> None:
        self.role_rows = [UserRole(role=Role(r).value) for r in roles]

    def set_password(self, password: str) -> None:
        method = current_app.config.get("PASSWORD_HASH_METHOD", "scrypt") if has_app_context() else "scrypt"
        self.password_hash = generate_password_hash(password, method=method)

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password)

    # The token of the sign-in session this object was loaded for (services/sign_in.py); never stored.
    sign_in_token = None  # type: str | None

    def get_id(self) -> str:
        """What Flask-Login keeps in the cookie: the sign-in session's token, which the server can end
        (services/sign_in.py), never the account's id alone."""
        if not self.sign_in_token:
            raise RuntimeError("the account has no sign-in session: use services.sign_in.open_session")
        return self.sign_in_token


class UserRole(db.Model):
    __table_args__ = (UniqueConstraint("user_id", "role"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"))
    role: Mapped[str] = mapped_column(String(40))


class SignInSession(db.Model):
    """A staff member's signed-in session (登录会话), kept on the server so that the server can end it.

    The browser holds a random token; the table holds only its SHA-256, so that a copy of the database opens
    no session. Signing out, deactivation and a new password delete the rows; a row past its idle timeout or
    its absolute lifetime opens nothing and is deleted when next seen or at the next sign-in.
    """

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
