"""The schema comes from the migrations, which go down and up again with data in place."""
from __future__ import annotations

from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect, text

from consultation import create_app
from consultation.extensions import db


def test_migrations_match_the_models_and_go_down_and_up(tmp_path):
    app = create_app({"TESTING": True, "SECRET_KEY": "x",
                      "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'm.sqlite3'}",
                      "EMBEDDED_REDIS_FILE": str(tmp_path / "r.rdb")})
    with app.app_context():
        upgrade()
        tables = set(inspect(db.engine).get_table_names())
        assert {t.name for t in db.metadata.sorted_tables} <= tables
        db.session.execute(text("INSERT INTO department (name, kind) VALUES ('测试局', 'drafting')"))
        db.session.commit()
        downgrade(revision="base")
        assert set(inspect(db.engine).get_table_names()) <= {"alembic_version"}
        upgrade()
        assert "document" in inspect(db.engine).get_table_names()


def test_no_model_change_is_missing_a_migration(app):
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    with db.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": False}), db.metadata)
    assert diff == []
