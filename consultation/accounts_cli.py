"""``flask accounts``: what an operator does from the console, when no administrator can sign in yet (a new
installation) or any more (a forgotten password). The same rules and password policy as the pages; the
audit trail names the system as the actor."""
from __future__ import annotations

import click
from sqlalchemy import func, select

from .errors import DomainError
from .extensions import db
from .models import Department, DepartmentKind, Role, User
from .services import accounts


@click.group("accounts")
def accounts_group() -> None:
    """Staff accounts from the console."""


def _commit(action) -> None:
    """Run a service call and commit, or say why it was refused and exit with status 1."""
    try:
        action()
    except DomainError as exc:
        db.session.rollback()
        raise click.ClickException(exc.message) from None
    db.session.commit()


@accounts_group.command("create-admin")
@click.argument("username")
@click.option("--name", "display_name", required=True, help="The name shown to colleagues.")
@click.option("--department", required=True,
              help="The administrator's department; created as a government office when missing.")
@click.option("--email", default=None, help="Where notifications go (optional).")
@click.password_option(help="Asked twice when not given; the password policy applies.")
def create_admin_command(username: str, display_name: str, department: str, email: str | None,
                         password: str) -> None:
    """Create an administrator account (the first one of a new installation)."""
    def create() -> None:
        found = db.session.scalar(select(Department).where(func.lower(Department.name) == department.strip().lower()))
        found = found or accounts.create_department(None, name=department, kind=DepartmentKind.GOVERNMENT_OFFICE.value)
        accounts.create_account(None, username=username, display_name=display_name, email=email,
                                department_id=found.id, roles=[Role.ADMIN.value], password=password)

    _commit(create)
    click.echo(f"Administrator {username} created.")


@accounts_group.command("set-password")
@click.argument("username")
@click.password_option(help="Asked twice when not given; the password policy applies.")
def set_password_command(username: str, password: str) -> None:
    """Give an account a new password and end all its sessions."""
    user = db.session.scalar(select(User).where(func.lower(User.username) == username.strip().lower()))
    if user is None:
        raise click.ClickException(f"No account named {username}.")
    _commit(lambda: accounts.reset_password(user, None, password))
    click.echo(f"New password set for {user.username}; its sessions have ended.")
