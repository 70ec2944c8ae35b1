"""The commands a city's administrator runs."""
from __future__ import annotations

from consultation.extensions import db
from consultation.models import Document, User


def test_demo_creates_the_city_once(app):
    runner = app.test_cli_runner()
    first = runner.invoke(args=["demo"])
    assert first.exit_code == 0, first.output
    users = {u.username: u.roles for u in db.session.scalars(db.select(User))}
    assert set(users) >= {"drafter", "head", "govoffice", "justice", "openness", "admin"}
    stages = sorted((d.procedure, d.stage) for d in db.session.scalars(db.select(Document)))
    assert stages == [("major_decision", "joint_review"), ("normative_document", "consultation"),
                      ("normative_document", "drafting"), ("normative_document", "handling"),
                      ("normative_document", "published")]
    published = db.session.scalars(db.select(Document).where(Document.stage == "published")).one()
    assert published.document_number and published.published_at is not None
    again = runner.invoke(args=["demo"])
    assert again.exit_code == 0 and db.session.scalar(db.select(db.func.count(User.id))) == len(users)


def test_workflows_check_reports_each_file(app):
    result = app.test_cli_runner().invoke(args=["workflows", "check"])
    assert result.exit_code == 0 and "normative_document.toml" in result.output
