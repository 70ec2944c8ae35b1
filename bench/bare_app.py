"""The bare baseline: the least a Flask app must do to take a comment and to list fifty of them.

One model mirroring the comment row's main columns (its own table, ``bare_comment``), ``POST /comments``
taking the project's JSON and inserting one row, and ``GET /comments`` rendering fifty rows by keyset.
Served by gunicorn with the same settings as the project: ``gunicorn bench.bare_app:app``.
"""
from __future__ import annotations

import os
from datetime import datetime, timezone

from flask import Flask, abort, jsonify, render_template_string, request
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import DateTime, Index, String, Text, select
from sqlalchemy.orm import Mapped, mapped_column

from consultation.receipts import new_receipt_number

db = SQLAlchemy()
PAGE = 50


class BareComment(db.Model):
    __tablename__ = "bare_comment"
    __table_args__ = (Index("ix_bare_comment_article_id", "article_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    consultation_id: Mapped[int | None]
    article_id: Mapped[int | None]
    receipt_number: Mapped[str] = mapped_column(String(20), unique=True)
    body: Mapped[str] = mapped_column(Text)
    channel: Mapped[str] = mapped_column(String(20), default="web")
    name: Mapped[str | None] = mapped_column(String(100))
    email: Mapped[str | None] = mapped_column(String(200))
    moderation: Mapped[str] = mapped_column(String(20), default="pending")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


PAGE_TEMPLATE = """<!doctype html><html lang="zh-Hans"><head><meta charset="utf-8"><title>意见</title></head><body>
<ol>{% for c in comments %}<li id="c{{ c.id }}"><p>{{ c.body }}</p>
<small>{{ c.created_at.strftime("%Y-%m-%d %H:%M") }}</small></li>{% endfor %}</ol>
{% if next_after %}<a rel="next" href="?article={{ article or '' }}&amp;after={{ next_after }}">下一页</a>{% endif %}
</body></html>"""


def create_app(database_url: str | None = None) -> Flask:
    app = Flask(__name__)
    url = database_url or os.environ["BENCH_DATABASE_URL"]
    app.config["SQLALCHEMY_DATABASE_URI"] = url.replace("postgresql://", "postgresql+psycopg://", 1)
    db.init_app(app)

    @app.post("/comments")
    def create():
        data = request.get_json(silent=True)
        if not isinstance(data, dict) or not isinstance(data.get("body"), str) or not data["body"].strip():
            abort(422)
        article_id = data.get("article_id")
        if article_id is not None and not isinstance(article_id, int):
            abort(422)
        comment = BareComment(consultation_id=None, article_id=article_id, receipt_number=new_receipt_number(),
                              body=data["body"].strip(), moderation="pending", created_at=datetime.now(timezone.utc))
        db.session.add(comment)
        db.session.commit()
        return jsonify(id=comment.id, receipt_number=comment.receipt_number), 201

    @app.get("/comments")
    def page():
        after = request.args.get("after", 0, type=int)
        article = request.args.get("article", type=int)
        query = select(BareComment).where(BareComment.id > after, BareComment.moderation == "published")
        if article:
            query = query.where(BareComment.article_id == article)
        comments = db.session.scalars(query.order_by(BareComment.id).limit(PAGE)).all()
        next_after = comments[-1].id if len(comments) == PAGE else None
        return render_template_string(PAGE_TEMPLATE, comments=comments, next_after=next_after, article=article)

    return app


if os.environ.get("BENCH_DATABASE_URL"):
    app = create_app()
