"""How often signing in may fail (OWASP ASVS 2.2.1), counted in the rate-limit storage (Redis).

Two counts of wrong passwords, keyed by keyed hashes (never the address or the username in clear):

- per account and client address (``SIGN_IN_ACCOUNT_LIMIT``): past it, that address may not try that account
  again until the window ends. Only that address is locked out of that account, so an attacker cannot keep
  staff out of their own account from elsewhere;
- per client address, whatever the username (``SIGN_IN_ADDRESS_LIMIT``): against one password tried on many
  accounts.

An attempt takes its place in every count before its password is checked (one atomic increment each), so that
attempts sent together cannot all pass; a right password gives back its own place and nothing more: a sign-in
never clears the failures of others at the same address. Unknown usernames count exactly like real ones.
Should Redis be away, each process counts in its own memory until it is back.
"""
from __future__ import annotations

import hashlib
import hmac
import logging
import math
import time
from dataclasses import dataclass, field

from flask import Flask, current_app
from flask_babel import gettext as _
from limits import RateLimitItem, parse_many
from limits.storage import MemoryStorage, Storage
from redis.exceptions import RedisError

from .ratelimit import client_key

log = logging.getLogger(__name__)

SETTINGS = ("SIGN_IN_ACCOUNT_LIMIT", "SIGN_IN_ADDRESS_LIMIT")


class Throttled(Exception):
    """Too many wrong passwords: wait ``retry_after`` seconds. ``account`` says whether the account's own
    count (for this address) is full rather than the address's."""

    def __init__(self, retry_after: int, *, account: bool) -> None:
        super().__init__(f"sign-in throttled for {retry_after} s")
        self.retry_after = retry_after
        self.account = account

    @property
    def message(self) -> str:
        minutes = max(1, math.ceil(self.retry_after / 60))
        if self.account:
            return _("Too many wrong passwords for this account from your network. Try again in %(n)d minute(s), "
                     "or ask an administrator to set a new password.", n=minutes)
        return _("Too many failed sign-ins from your network. Try again in %(n)d minute(s).", n=minutes)


def check_settings(app: Flask) -> None:
    """Refuse a setting that does not parse at start-up, rather than throttle nothing."""
    for name in SETTINGS:
        try:
            parse_many(app.config[name])
        except (KeyError, ValueError, TypeError) as exc:
            raise ValueError(f"{name} = {app.config.get(name)!r} is not a rate limit such as "
                             f"'5 per 15 minutes': {exc}") from None


def account_failures() -> int:
    """How many wrong passwords lock an account for one address (the smallest of its limits)."""
    return min(item.amount for item in parse_many(current_app.config["SIGN_IN_ACCOUNT_LIMIT"]))


def account_window_minutes() -> int:
    """How long the account's longest count lasts."""
    return max(item.get_expiry() for item in parse_many(current_app.config["SIGN_IN_ACCOUNT_LIMIT"])) // 60


def _keyed(value: str) -> str:
    return hmac.new(current_app.config["SECRET_KEY"].encode(), value.encode(), hashlib.sha256).hexdigest()


@dataclass
class _Count:
    key: str
    item: RateLimitItem
    account: bool
    value: int = 0


@dataclass
class Attempt:
    """One sign-in attempt's places in the counts, taken by :func:`begin`."""

    counts: list[_Count]
    storage: Storage | None = field(default=None, repr=False)

    def succeeded(self) -> None:
        """The password was right: give back this attempt's places (never more)."""
        _give_back(self.storage, self.counts)

    def failed(self) -> bool:
        """The password was wrong: the places stay taken. True when this failure filled the account's count, so
        that the account is now locked for this address (the audit trail records that once)."""
        return any(c.account and c.value == c.item.amount for c in self.counts)


def _storage() -> Storage:
    return current_app.extensions["rate_limiter"].storage


def _fallback() -> Storage:
    return current_app.extensions.setdefault("sign_in_memory_counts", MemoryStorage())


def _counts(username: str) -> list[_Count]:
    prefix = current_app.config["RATELIMIT_KEY_PREFIX"]
    account = _keyed(f"sign-in-account:{username.strip().lower()}")
    address = client_key()
    counts = []
    for setting, ident, is_account in (("SIGN_IN_ACCOUNT_LIMIT", f"{account}/{address}", True),
                                       ("SIGN_IN_ADDRESS_LIMIT", address, False)):
        for item in parse_many(current_app.config[setting]):
            key = f"{prefix}/sign-in/{'account' if is_account else 'address'}/{ident}/{item.amount}/{item.get_expiry()}"
            counts.append(_Count(key, item, is_account))
    return counts


def _give_back(storage: Storage | None, counts: list[_Count]) -> None:
    if storage is None:
        return
    try:
        for count in counts:
            if count.value and storage.incr(count.key, count.item.get_expiry(), amount=-1) < 0:
                storage.clear(count.key)  # the window ended meanwhile: nothing to give back
    except (RedisError, OSError):
        log.warning("sign-in counts unavailable; a place was not given back", exc_info=True)


def begin(username: str) -> Attempt:
    """Take this attempt's place in every count, or raise :class:`Throttled` (taking none)."""
    counts = _counts(username)
    if not current_app.config.get("RATELIMIT_ENABLED", True):
        return Attempt([])
    storage = _storage()
    try:
        return _take(storage, counts)
    except (RedisError, OSError):
        log.warning("sign-in counts unavailable; counting in this process until Redis is back", exc_info=True)
        return _take(_fallback(), _counts(username))


def _take(storage: Storage, counts: list[_Count]) -> Attempt:
    for count in counts:
        count.value = storage.incr(count.key, count.item.get_expiry())
    full = [c for c in counts if c.value > c.item.amount]
    if not full:
        return Attempt(counts, storage)
    _give_back(storage, counts)
    retry_after = max(max(1, math.ceil(storage.get_expiry(c.key) - time.time())) for c in full)
    raise Throttled(retry_after, account=any(c.account for c in full))
