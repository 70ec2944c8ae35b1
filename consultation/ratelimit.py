"""Rate limits per client address (Flask-Limiter on the same Redis as the queues).

The comment form and the API share one limit, checked by :func:`comment_allowed` so that a refused
comment keeps its text on the page. Other endpoints use the decorator. The embedded Redis has a socket
path known only once the server runs, so its connections find the socket when they first connect.
Should Redis be away, the limits fall back to each process's memory rather than refusing the public.
"""
from __future__ import annotations

import logging

from flask import Flask, current_app, request
from flask_limiter import Limiter
from limits import parse_many
from redis import ConnectionPool, UnixDomainSocketConnection
from werkzeug.middleware.proxy_fix import ProxyFix

log = logging.getLogger(__name__)


def client_key() -> str:
    """The keyed hash of the client address: limits never store the address itself."""
    from .services.consultations import client_hash

    return client_hash(request.remote_addr) or "unknown"


limiter = Limiter(key_func=client_key)


class _EmbeddedRedisConnection(UnixDomainSocketConnection):
    """A socket connection to the embedded Redis, started (or joined) on first connect."""

    def __init__(self, *, app: Flask, **kwargs):
        self._app = app
        super().__init__(path="", **kwargs)

    def _connect(self):
        from . import queue

        self.path = queue.connection(self._app).connection_pool.connection_kwargs["path"]
        return super()._connect()


def init_app(app: Flask) -> None:
    if app.config.get("PROXY_FIX_X_FOR"):
        hops = int(app.config["PROXY_FIX_X_FOR"])
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)
    if not app.config.get("RATELIMIT_STORAGE_URI"):
        if app.config.get("REDIS_URL"):
            app.config["RATELIMIT_STORAGE_URI"] = app.config["REDIS_URL"]
        else:
            app.config["RATELIMIT_STORAGE_URI"] = "redis://embedded"
            app.config["RATELIMIT_STORAGE_OPTIONS"] = {
                "connection_pool": ConnectionPool(connection_class=_EmbeddedRedisConnection, app=app),
            }
    limiter.init_app(app)


def comment_allowed() -> bool:
    """Count one comment from this client; False once any of the configured windows is full."""
    if not current_app.config.get("RATELIMIT_ENABLED", True):
        return True
    key = client_key()
    try:
        strategy = limiter.limiter
        limits = parse_many(current_app.config["COMMENT_RATE_LIMIT"])
        if not all(strategy.test(item, "comment", key) for item in limits):
            return False
        for item in limits:
            strategy.hit(item, "comment", key)
        return True
    except Exception:  # noqa: BLE001 - Redis away: serve the public; the other checks still apply
        log.warning("rate-limit storage unavailable; comment allowed", exc_info=True)
        return True
