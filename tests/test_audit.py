"""The audit trail: every transition recorded, chained by SHA-256, tampering found."""
from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from consultation.audit import verify_chain
from consultation.extensions import db
from consultation.models import AuditEvent

from . import factories


def test_every_transition_is_recorded_with_who_when_from_to(city):
    doc = factories.in_joint_review(city)
    events = db.session.scalars(db.select(AuditEvent).where(AuditEvent.document_id == doc.id)
                                .order_by(AuditEvent.id)).all()
    moves = [(e.action, e.from_stage, e.to_stage) for e in events if e.to_stage]
    assert ("request_predisclosure", "drafting", "head_review") in moves
    assert ("close_consultation", "consultation", "handling") in moves
    assert ("head_approve_submission", "head_submission", "joint_review") in moves
    closing = next(e for e in events if e.action == "close_consultation")
    assert closing.actor_id is None and closing.actor_label == "system"
    opening = next(e for e in events if e.action == "open_consultation")
    assert opening.actor_id == city["openness"].id and opening.occurred_at.tzinfo is not None


def test_an_intact_chain_verifies(app, city):
    factories.in_handling(city)
    report = verify_chain()
    assert report.first_broken_id is None and report.checked > 5
    result = app.test_cli_runner().invoke(args=["audit", "verify"])
    assert result.exit_code == 0 and "intact" in result.output


def _as_tamperer() -> None:
    """On PostgreSQL the trigger refuses changes; a superuser who bypasses triggers is the remaining threat."""
    if db.engine.dialect.name == "postgresql":
        db.session.execute(text("SET LOCAL session_replication_role = replica"))


@pytest.mark.parametrize("statement", [
    "UPDATE audit_event SET note = 'forged'",
    "DELETE FROM audit_event",
    "TRUNCATE audit_event CASCADE",
])
def test_postgresql_refuses_to_change_or_remove_audit_entries(app, city, statement):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("the append-only trigger exists on PostgreSQL; SQLite relies on the hash chain")
    factories.document(city)
    before = db.session.scalar(text("SELECT count(*) FROM audit_event"))
    with pytest.raises(DBAPIError, match="append-only"):
        db.session.execute(text(statement))
    db.session.rollback()
    assert db.session.scalar(text("SELECT count(*) FROM audit_event")) == before
    assert verify_chain().first_broken_id is None


def test_an_edited_entry_is_named(app, city):
    factories.in_handling(city)
    victim = db.session.scalars(db.select(AuditEvent).order_by(AuditEvent.id).offset(3)).first()
    _as_tamperer()
    db.session.execute(text("UPDATE audit_event SET note = 'forged' WHERE id = :id"), {"id": victim.id})
    db.session.commit()
    result = app.test_cli_runner().invoke(args=["audit", "verify"])
    assert result.exit_code == 1
    assert f"entry {victim.id}" in result.output and "edited" in result.output


def test_a_deleted_entry_is_named(app, city):
    factories.in_handling(city)
    ids = db.session.scalars(db.select(AuditEvent.id).order_by(AuditEvent.id)).all()
    _as_tamperer()
    db.session.execute(text("DELETE FROM audit_event WHERE id = :id"), {"id": ids[2]})
    db.session.commit()
    report = verify_chain()
    assert report.first_broken_id == ids[3] and "removed" in report.problem
    result = app.test_cli_runner().invoke(args=["audit", "verify"])
    assert result.exit_code == 1 and f"entry {ids[3]}" in result.output
