"""Departments, staff accounts and their roles."""
from __future__ import annotations

import enum
import hashlib
import hmac

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

    def get_id(self) -> str:
        """What the session keeps: the account and a fingerprint of its password hash, so that a new password
        (set by the user or reset by an administrator) ends every session opened with the old one."""
        return f"{self.id}:{self.session_fingerprint()}"

    def session_fingerprint(self) -> str:
        key = current_app.secret_key.encode()
        return hmac.new(key, self.password_hash.encode(), hashlib.sha256).hexdigest()[:32]


class UserRole(db.Model):
    __table_args__ = (UniqueConstraint("user_id", "role"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"))
    role: Mapped[str] = mapped_column(String(40))
