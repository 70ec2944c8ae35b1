"""Subscriptions to new consultations (seed item 十八): subscribe, confirm by link, end by link.

Nobody is mailed about consultations before confirming the address; every announcement carries the link
that ends the subscription. The answer to a subscription request is the same whether the address was
known or not, so that the form tells nobody who subscribes.
"""
from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from flask_babel import gettext as _
from sqlalchemy import func, select

from .. import audit
from ..errors import InvalidInput, NotFound
from ..extensions import db
from ..models import Department, Subscription, utcnow
from .notifications import link, mail_once


# One confirmation mail per address and choice a day, and at most three a day per address whatever the
# choice: the form cannot be used to flood someone's inbox.
CONFIRMATION_INTERVAL = timedelta(days=1)
CONFIRMATIONS_PER_ADDRESS_PER_DAY = 3


def subscribe(email: str, department_id: int | None, now: datetime | None = None) -> Subscription | None:
    """Record the request and mail the confirmation link; nothing is announced before it is confirmed.

    Asked again for the same address and choice within a day, it mails nothing and keeps the first
    request (its link still works); the page says the same either way, so it tells nobody whether an
    address is subscribed.
    """
    now = now or utcnow()
    email = email.strip()
    if department_id is not None and db.session.get(Department, department_id) is None:
        raise InvalidInput(_("Choose a department from the list."))
    recent = db.session.scalars(select(Subscription).where(
        func.lower(Subscription.email) == email.lower(),
        Subscription.department_id.is_(None) if department_id is None else Subscription.department_id == department_id,
        Subscription.ended_at.is_(None), Subscription.created_at > now - CONFIRMATION_INTERVAL,
    ).order_by(Subscription.id.desc())).first()
    if recent is not None:
        return recent
    asked_today = db.session.scalar(select(func.count(Subscription.id)).where(
        func.lower(Subscription.email) == email.lower(), Subscription.created_at > now - CONFIRMATION_INTERVAL))
    if asked_today >= CONFIRMATIONS_PER_ADDRESS_PER_DAY:
        return None  # enough mail to this address today, whatever the choice; the page says the same
    subscription = Subscription(email=email, department_id=department_id, token=secrets.token_urlsafe(32),
                                created_at=now)
    db.session.add(subscription)
    db.session.flush()
    scope = subscription.department.name if subscription.department else "全部部门"
    mail_once(f"subscribe:{subscription.id}", "subscription_confirm", email, "【请确认订阅】新的公开征求意见通知",
          f"您（或他人使用您的邮箱）申请订阅{scope}新的公开征求意见通知。\n"
          f"确认订阅请打开：{link(f'/subscribe/confirm/{subscription.token}')}\n"
          f"如非本人操作，请忽略本邮件，不会再收到通知。\n")
    audit.record("subscription_requested", actor=None, actor_label="public",
                 payload={"subscription_id": subscription.id, "department_id": department_id})
    return subscription


def _by_token(token: str) -> Subscription:
    subscription = db.session.scalars(select(Subscription).where(Subscription.token == token)).first()
    if subscription is None:
        raise NotFound(_("This link is not valid."))
    return subscription


def _stamp(token: str, column: str, action: str) -> Subscription:
    """Set the subscription's time stamp once (a link opened twice changes nothing) and log it."""
    subscription = _by_token(token)
    if getattr(subscription, column) is None:
        setattr(subscription, column, utcnow())
        audit.record(action, actor=None, actor_label="public", payload={"subscription_id": subscription.id})
    return subscription


def confirm(token: str) -> Subscription:
    return _stamp(token, "confirmed_at", "subscription_confirmed")


def end(token: str) -> Subscription:
    return _stamp(token, "ended_at", "subscription_ended")
