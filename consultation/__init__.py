"""The consultation service: normative-document pre-disclosure and public consultation.

规范性文件预公开与公开征求意见系统.
"""
from __future__ import annotations

import os
from typing import Any

from flask import Flask


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """Build the application: configuration, extensions, blueprints, error handlers, commands."""
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    app = Flask(
        __name__,
        # CONSULTATION_INSTANCE names another instance folder (a second installation from one checkout).
        instance_path=os.path.abspath(os.environ.get("CONSULTATION_INSTANCE") or os.path.join(root, "instance")),
        instance_relative_config=True,
        template_folder=os.path.join(root, "templates"),
    )
    from . import config

    app.config.from_object(config.DefaultConfig)
    if test_config is None:
        app.config.from_pyfile("config.py", silent=True)
    else:
        app.config.from_mapping(test_config)
    config.finalize(app.config, app.instance_path)

    from . import cli, errorhandlers, extensions, i18n, instance_folder, ratelimit, security, web
    from .workflow import engine

    instance_folder.init_app(app)
    extensions.db.init_app(app)
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        with app.app_context():
            extensions.sqlite_for_several_processes(extensions.db.engine)
    from .models.types import render_item

    extensions.migrate.init_app(
        app, extensions.db, directory=os.path.join(root, "migrations"),
        render_as_batch=True, compare_type=True, render_item=render_item,
    )
    extensions.csrf.init_app(app)
    security.init_app(app)
    ratelimit.init_app(app)
    i18n.init_app(app)
    engine.init_app(app)
    web.init_app(app)
    errorhandlers.init_app(app)
    cli.init_app(app)
    return app
