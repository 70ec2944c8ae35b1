"""``flask search``: the public search index."""
from __future__ import annotations

import click
from flask.cli import AppGroup
from sqlalchemy import text

from . import search
from .extensions import db

search_group = AppGroup("search", help="The public search index.")


@search_group.command("reindex")
def reindex_command() -> None:
    """Rebuild the index from the consultations and the published documents."""
    count = search.reindex_all()
    db.session.commit()
    if db.engine.dialect.name == "postgresql":  # fresh statistics, or the planner guesses badly on new rows
        db.session.execute(text("ANALYZE search_entry, search_term"))
        db.session.commit()
    click.echo(f"Search index rebuilt: {count} entries.")
