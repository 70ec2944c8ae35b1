"""Departments and staff accounts, as the administrator manages them.

Every change is an audit event naming what changed (never a password or its hash). There is always an
active administrator: nobody removes their own account or admin role, and the last one cannot be removed.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from email_validator import EmailNotValidError, validate_email
from flask_babel import gettext as _
from sqlalchemy import and_, func, select, text
from sqlalchemy.exc import IntegrityError

from .. import audit, passwords
from . import sign_in
from ..errors import FieldRefused
from ..extensions import db
from ..models import Department, DepartmentKind, Role, User, UserRole
from ..models.types import MAX_ROW_ID
from ..text import CONTROL_CHARACTERS

USERNAME_PATTERN = r"^[A-Za-z0-9._-]+$"
USERNAME_MIN, USERNAME_MAX = 2, 80
DISPLAY_NAME_MAX = 120
DEPARTMENT_NAME_MAX = 120
EMAIL_MAX = 200
PASSWORD_MIN, PASSWORD_MAX = passwords.MIN_LENGTH, passwords.MAX_LENGTH
_ACCOUNTS_LOCK = 7346002  # PostgreSQL advisory lock: one account change at a time, so the admin count holds


@dataclass(frozen=True)
class DepartmentRow:
    id: int
    name: str
    kind: str
    active_accounts: int


def _one_line(value: str | None, field: str, *, missing: str, max_length: int) -> str:
    """The text with its spaces collapsed (ideographic ones included); refused when empty, too long or with
    control characters."""
    value = value or ""
    if CONTROL_CHARACTERS.search(value):
        raise FieldRefused(field, _("Contains characters that are not allowed."))
    value = " ".join(value.split())
    if not value:
        raise FieldRefused(field, missing)
    if len(value) > max_length:
        raise FieldRefused(field, _("At most %(n)d characters.", n=max_length))
    return value


def _lock_accounts() -> None:
    if db.engine.dialect.name == "postgresql":
        db.session.execute(text(f"SELECT pg_advisory_xact_lock({_ACCOUNTS_LOCK})"))


# Departments


def department_overview() -> list[DepartmentRow]:
    """Every department by name, with how many active accounts it holds."""
    rows = db.session.execute(
        select(Department.id, Department.name, Department.kind, func.count(User.id))
        .outerjoin(User, and_(User.department_id == Department.id, User.active.is_(True)))
        .group_by(Department.id, Department.name, Department.kind)
        .order_by(Department.name)
    ).all()
    return [DepartmentRow(*row) for row in rows]


def department_choices() -> list[tuple[int, str]]:
    return [(d.id, d.name) for d in db.session.scalars(select(Department).order_by(Department.name))]


def _department_name(name: str, *, exclude: Department | None = None) -> str:
    name = _one_line(name, "name", missing=_("Give the department's name."), max_length=DEPARTMENT_NAME_MAX)
    taken = select(Department.id).where(func.lower(Department.name) == name.lower())
    if exclude is not None:
        taken = taken.where(Department.id != exclude.id)
    if db.session.scalar(taken.limit(1)) is not None:
        raise _department_taken(name)
    return name


def _department_taken(name: str) -> FieldRefused:
    return FieldRefused("name", _("A department named “%(name)s” already exists.", name=name))


def _department_kind(kind: str) -> str:
    try:
        return DepartmentKind(kind).value
    except ValueError:
        raise FieldRefused("kind", _("Choose the kind of department.")) from None


def _flush_unique(refusal: FieldRefused) -> None:
    """Flush; a unique constraint hit by a concurrent request becomes the same refusal as the check's."""
    try:
        db.session.flush()
    except IntegrityError:
        raise refusal from None


def create_department(actor: User | None, *, name: str, kind: str) -> Department:
    name, kind = _department_name(name), _department_kind(kind)
    department = Department(name=name, kind=kind)
    db.session.add(department)
    _flush_unique(_department_taken(name))
    audit.record("department_created", actor=actor,
                 payload={"department_id": department.id, "name": name, "kind": kind})
    return department


def update_department(department: Department, actor: User, *, name: str, kind: str) -> dict[str, list[str]]:
    """Rename the department or change its kind; return the changes as {field: [old, new]}."""
    name, kind = _department_name(name, exclude=department), _department_kind(kind)
    changes = {field: [old, new] for field, old, new in
               (("name", department.name, name), ("kind", department.kind, kind)) if old != new}
    if not changes:
        return changes
    department.name, department.kind = name, kind
    _flush_unique(_department_taken(name))
    audit.record("department_updated", actor=actor,
                 payload={"department_id": department.id, "changes": changes})
    return changes


# Accounts


def staff_accounts() -> list[User]:
    """Every account, by department and username."""
    return list(db.session.scalars(
        select(User).join(Department).order_by(Department.name, User.username)
    ))


def _username(username: str) -> str:
    username = (username or "").strip()
    if not USERNAME_MIN <= len(username) <= USERNAME_MAX or not re.match(USERNAME_PATTERN, username):
        raise FieldRefused("username", _("%(min)d to %(max)d letters, digits, dots, hyphens or underscores.",
                                         min=USERNAME_MIN, max=USERNAME_MAX))
    # Unique regardless of case: "Wang" and "wang" would be two people nobody can tell apart.
    if db.session.scalar(select(User.id).where(func.lower(User.username) == username.lower()).limit(1)):
        raise _username_taken(username)
    return username


def _username_taken(username: str) -> FieldRefused:
    return FieldRefused("username", _("The username “%(username)s” is already taken.", username=username))


def _display_name(display_name: str) -> str:
    return _one_line(display_name, "display_name", missing=_("Give the name shown to colleagues."),
                     max_length=DISPLAY_NAME_MAX)


def _email(email: str | None) -> str | None:
    email = (email or "").strip()
    if not email:
        return None
    try:
        if len(email) > EMAIL_MAX:
            raise EmailNotValidError(email)
        validate_email(email, check_deliverability=False)  # the same check as the form's Email()
    except EmailNotValidError:
        raise FieldRefused("email", _("This email address is not valid.")) from None
    return email


def _department(department_id: int | None) -> Department:
    # An id beyond the database's integer belongs to nothing (and PostgreSQL refuses to compare with it).
    department = db.session.get(Department, department_id) if 1 <= (department_id or 0) <= MAX_ROW_ID else None
    if department is None:
        raise FieldRefused("department", _("Choose a department from the list."))
    return department


def _roles(roles: list[str]) -> list[str]:
    try:
        chosen = {Role(r).value for r in roles}
    except ValueError:
        raise FieldRefused("roles", _("Choose roles from the list.")) from None
    if not chosen:
        raise FieldRefused("roles", _("Give the account at least one role."))
    return [r.value for r in Role if r.value in chosen]  # in the list's order


def _password(password: str, user: User) -> str:
    """The password, unless the policy refuses it for this account (consultation/passwords.py says why)."""
    if why := passwords.refusal(password or "", personal=(user.username, user.display_name, user.email)):
        raise FieldRefused("password", why)
    return password


def create_account(actor: User | None, *, username: str, display_name: str, email: str | None, department_id: int | None,
                   roles: list[str], password: str) -> User:
    _lock_accounts()
    user = User(username=_username(username), display_name=_display_name(display_name), email=_email(email),
                department=_department(department_id), active=True)
    user.set_roles(_roles(roles))
    user.set_password(_password(password, user))
    db.session.add(user)
    _flush_unique(_username_taken(user.username))
    audit.record("account_created", actor=actor, payload={
        "user_id": user.id, "username": user.username, "display_name": user.display_name,
        "department": user.department.name, "department_id": user.department_id, "roles": sorted(user.roles),
        "email_given": user.email is not None,
    })
    return user


def _other_active_admins(user: User) -> int:
    return db.session.scalar(
        select(func.count(func.distinct(User.id))).join(UserRole)
        .where(UserRole.role == Role.ADMIN.value, User.active.is_(True), User.id != user.id)
    ) or 0


def _keep_an_administrator(user: User, actor: User, *, active: bool, roles: list[str]) -> None:
    """Refuse a change that would leave nobody able to administer the service."""
    loses_admin = user.active and user.has_role(Role.ADMIN) and (not active or Role.ADMIN.value not in roles)
    if user.id == actor.id:
        if not active:
            raise FieldRefused("active", _("You cannot deactivate your own account: ask another administrator."))
        if loses_admin:
            raise FieldRefused("roles", _("You cannot remove your own administrator role: ask another "
                                          "administrator."))
    if loses_admin and _other_active_admins(user) == 0:
        raise FieldRefused("active" if not active else "roles", _(
            "%(name)s is the last active administrator: make another account an administrator first.",
            name=user.display_name))


def update_account(user: User, actor: User, *, display_name: str, email: str | None, department_id: int | None,
                   roles: list[str], active: bool) -> dict[str, Any]:
    """Change the account's details, roles and active flag; return the changes as {field: [old, new]}.

    Details and roles make one ``account_updated`` event; deactivating or reactivating is its own event.
    """
    _lock_accounts()
    db.session.refresh(user)  # as it is now, after any change that committed while we waited for the lock
    display_name, email = _display_name(display_name), _email(email)
    department, roles = _department(department_id), _roles(roles)
    _keep_an_administrator(user, actor, active=active, roles=roles)
    changes: dict[str, Any] = {}
    if display_name != user.display_name:
        changes["display_name"] = [user.display_name, display_name]
        user.display_name = display_name
    if email != user.email:
        # The trail is append-only and never erased: it says that the address changed, not what it is.
        changes["email"] = {"changed": True}
        user.email = email
    if department.id != user.department_id:
        changes["department"] = [user.department.name, department.name]
        user.department = department
    before = sorted(user.roles)
    if set(roles) != set(before):
        changes["roles"] = [before, sorted(roles)]
        # Row by row: replacing the whole list would insert a kept role before deleting its old row.
        user.role_rows = [row for row in user.role_rows if row.role in roles]
        user.role_rows.extend(UserRole(role=r) for r in roles if r not in before)
    subject = {"user_id": user.id, "username": user.username}
    if changes:
        db.session.flush()
        audit.record("account_updated", actor=actor, payload={**subject, "changes": changes})
    if active != user.active:
        user.active = active
        if not active:
            sign_in.end_sessions(user)
        db.session.flush()
        audit.record("account_reactivated" if active else "account_deactivated", actor=actor, payload=subject)
        changes["active"] = [not active, active]
    return changes


def reset_password(user: User, actor: User | None, password: str) -> None:
    """Give the account a new password and end its sessions; the trail records who reset it, nothing of the
    password. Administrators resetting their own get a new session (the view signs it in). ``actor`` None is
    the console (``flask accounts``)."""
    user.set_password(_password(password, user))
    sign_in.end_sessions(user)
    if actor is not None and actor.id == user.id:
        sign_in.open_session(user)
    db.session.flush()
    audit.record("password_reset", actor=actor, payload={"user_id": user.id, "username": user.username})


def change_own_password(user: User, current_password: str, password: str) -> None:
    """The signed-in person replaces their password (ASVS 2.1.5, 2.1.6): the current one is asked for, the new
    one must pass the policy and differ. Every session of the account ends; this one goes on under a new
    session (the view signs it in)."""
    sign_in.confirm_own_password(user, current_password)
    if password == current_password:
        raise FieldRefused("password", _("Choose a password different from the current one."))
    user.set_password(_password(password, user))
    sign_in.end_sessions(user)
    sign_in.open_session(user)
    db.session.flush()
    audit.record("password_changed", actor=user, payload={"user_id": user.id, "username": user.username})
