"""The audit trail: every transition recorded, chained by SHA-256, its head signed in checkpoints; tampering
found, the newest entries removed or the chain recomputed included."""
from __future__ import annotations

import json
import re
import stat
from datetime import timedelta

import pytest
from pypdf import PdfReader
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from consultation import audit, audit_keys
from consultation.audit import verify_chain
from consultation.extensions import db
from consultation.models import AuditEvent, Document, utcnow
from consultation.models.audit import AuditCheckpoint
from consultation.services import jobs

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


# --- signed checkpoints: truncation and recomputation show ---------------------------------------------

API = "/api/v1"
SIGNED_FIELDS = ("seq", "head_event_id", "head_hash", "event_count", "created_at", "reason", "key_id")


def _cli(app, *args: str):
    return app.test_cli_runner().invoke(args=["audit", *args])


def _newest_ids(n: int) -> list[int]:
    return db.session.scalars(db.select(AuditEvent.id).order_by(AuditEvent.id.desc()).limit(n)).all()


def _edit_and_recompute(event_id: int, note: str) -> None:
    """What someone with the database but not the key can do: edit an entry, then recompute every later link
    and hash with the project's own (public) hashing, so that the chain alone verifies again."""
    _as_tamperer()
    previous = db.session.scalar(db.select(AuditEvent.hash).where(AuditEvent.id < event_id)
                                 .order_by(AuditEvent.id.desc()).limit(1)) or audit.GENESIS
    for event in db.session.scalars(db.select(AuditEvent).where(AuditEvent.id >= event_id).order_by(AuditEvent.id)):
        if event.id == event_id:
            event.note = note
        event.prev_hash = previous
        event.hash = previous = audit._content_hash(event)
    db.session.commit()


def _genuine(item: dict, keys: dict[str, str]) -> bool:
    """A third party's check of a published checkpoint, with nothing but the API's answers and an Ed25519 library."""
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.serialization import load_pem_public_key

    message = json.dumps({k: item[k] for k in SIGNED_FIELDS}, sort_keys=True, separators=(",", ":")).encode()
    try:
        load_pem_public_key(keys[item["key_id"]].encode()).verify(bytes.fromhex(item["signature"]), message)
    except InvalidSignature:
        return False
    return True


def _public_keys(browser) -> dict[str, str]:
    return {k["key_id"]: k["public_key"] for k in browser.client.get(f"{API}/audit/keys").get_json()["items"]}


def test_a_publication_signs_the_head_with_a_key_kept_outside_the_database(app, city, browser):
    doc = factories.published(city)
    publish = db.session.scalars(db.select(AuditEvent).where(AuditEvent.document_id == doc.id,
                                                             AuditEvent.action == "publish")
                                 .order_by(AuditEvent.id.desc())).first()
    [row] = db.session.scalars(db.select(AuditCheckpoint)).all()
    assert (row.seq, row.reason, row.head_event_id, row.head_hash) == (1, "publication", publish.id, publish.hash)
    assert row.event_count == db.session.scalar(db.select(db.func.count()).select_from(AuditEvent))
    key_file = audit_keys.key_file()
    assert key_file.exists() and stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert key_file.read_bytes() not in repr(row.__dict__).encode()
    latest = browser.client.get(f"{API}/audit/checkpoints/latest").get_json()
    assert latest["seq"] == 1 and latest["algorithm"] == "Ed25519" and _genuine(latest, _public_keys(browser))
    assert not _genuine({**latest, "head_hash": "0" * 64}, _public_keys(browser))
    result = _cli(app, "verify")
    assert result.exit_code == 0, result.output
    assert "1 signed checkpoint(s) match" in result.output and "0 newer entries" in result.output


def test_the_clock_signs_the_head_once_a_day_and_only_when_something_was_recorded(app, city):
    doc = factories.in_handling(city)
    start = utcnow()
    first = audit.checkpoint_if_due(start)
    assert first is not None and first.reason == "daily" and first.head_event_id == _newest_ids(1)[0]
    assert audit.checkpoint_if_due(start + timedelta(hours=1)) is None  # signed an hour ago
    audit.record("note", actor=city["drafter"], document=doc, note="后来的记录")
    db.session.commit()
    assert audit.checkpoint_if_due(start + timedelta(hours=23)) is None  # not a day yet
    second = audit.checkpoint_if_due(start + timedelta(hours=25))
    assert second.seq == 2 and second.event_count == first.event_count + 1
    assert audit.checkpoint_if_due(start + timedelta(days=3)) is None  # nothing new since
    jobs.sweep()  # the worker's sweep does the same by the real clock: nothing is due
    assert db.session.scalar(db.select(db.func.count()).select_from(AuditCheckpoint)) == 2


def test_the_worker_sweep_takes_the_first_checkpoint(app, city):
    factories.in_handling(city)
    jobs.sweep()
    [row] = db.session.scalars(db.select(AuditCheckpoint)).all()
    assert row.reason == "daily" and row.head_event_id == _newest_ids(1)[0]


def test_removing_the_newest_entries_fails_at_the_checkpoint_that_signed_them(app, city):
    factories.in_handling(city)
    assert _cli(app, "checkpoint").exit_code == 0
    head = _newest_ids(1)[0]
    _as_tamperer()
    db.session.execute(text("DELETE FROM audit_event WHERE id >= :id"), {"id": _newest_ids(2)[-1]})
    db.session.commit()
    assert audit.verify_chain().first_broken_id == head  # the missing head of checkpoint 1
    result = _cli(app, "verify")
    assert result.exit_code == 1
    assert "checkpoint 1 signed entry" in result.output and f"entry {head}" in result.output
    assert "removed" in result.output and "cut short" in result.output


def test_an_edit_with_the_chain_recomputed_fails_at_the_checkpoint(app, city):
    factories.in_handling(city)
    victim = _newest_ids(5)[-1]
    _edit_and_recompute(victim, "forged")  # before any checkpoint: the chain alone cannot tell
    assert _cli(app, "verify").exit_code == 0
    assert _cli(app, "checkpoint").exit_code == 0
    db.session.remove()
    head = _newest_ids(1)[0]
    _edit_and_recompute(_newest_ids(3)[-1], "forged again")
    result = _cli(app, "verify")
    assert result.exit_code == 1
    assert f"checkpoint 1 does not match entry {head}" in result.output and "recomputed" in result.output
    # The signer will not extend a trail that no longer continues its last checkpoint.
    audit.record("note", actor=None, note="after the forgery")
    db.session.commit()
    refused = _cli(app, "checkpoint")
    assert refused.exit_code == 1 and "no longer continues checkpoint 1" in refused.output


def test_a_checkpoint_rewritten_without_the_key_fails(app, city):
    factories.in_handling(city)
    assert _cli(app, "checkpoint").exit_code == 0
    _edit_and_recompute(_newest_ids(3)[-1], "forged")
    _as_tamperer()
    head = db.session.scalar(db.select(AuditEvent.hash).order_by(AuditEvent.id.desc()).limit(1))
    db.session.execute(text("UPDATE audit_checkpoint SET head_hash = :h"), {"h": head})
    db.session.commit()
    result = _cli(app, "verify")
    assert result.exit_code == 1 and "checkpoint 1: its signature does not match" in result.output


def test_a_checkpoint_signed_with_another_key_fails(app, city):
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    factories.in_handling(city)
    taken = audit.checkpoint(audit.MANUAL)
    forger = Ed25519PrivateKey.generate()
    forged = audit.replace(taken, key_id=audit_keys.key_id(forger.public_key()))
    _as_tamperer()
    db.session.execute(text("UPDATE audit_checkpoint SET key_id = :k, signature = :s"),
                       {"k": forged.key_id, "s": forger.sign(forged.message()).hex()})
    db.session.commit()
    result = _cli(app, "verify")
    assert result.exit_code == 1 and f"signed with key {forged.key_id}, which is not a trusted key" in result.output


def test_a_copy_of_the_checkpoints_shows_a_checkpoint_table_cut_short(app, city, browser, tmp_path):
    factories.in_handling(city)
    assert _cli(app, "checkpoint").exit_code == 0
    audit.record("note", actor=None, note="second")
    db.session.commit()
    assert _cli(app, "checkpoint").exit_code == 0
    copy = tmp_path / "checkpoints.json"
    copy.write_text(browser.client.get(f"{API}/audit/checkpoints").get_data(as_text=True), encoding="utf-8")
    assert _cli(app, "verify", "--against", str(copy)).exit_code == 0
    # Someone with the database removes the newest checkpoint and the entries it covered, recomputes nothing:
    # the database alone verifies, the copy does not.
    first_count = db.session.scalar(db.select(AuditCheckpoint.event_count).where(AuditCheckpoint.seq == 1))
    _as_tamperer()
    db.session.execute(text("DELETE FROM audit_checkpoint WHERE seq = 2"))
    cut = db.session.scalars(db.select(AuditEvent.id).order_by(AuditEvent.id).offset(first_count)).all()
    db.session.execute(db.delete(AuditEvent).where(AuditEvent.id.in_(cut)))
    db.session.commit()
    assert _cli(app, "verify").exit_code == 0
    result = _cli(app, "verify", "--against", str(copy))
    assert result.exit_code == 1
    assert "checkpoint 2 of the copy is missing from the database" in result.output
    # A checkpoint in the middle cannot be removed unseen even without a copy.
    audit.record("note", actor=None, note="third")
    db.session.commit()
    assert _cli(app, "checkpoint").exit_code == 0
    _as_tamperer()
    db.session.execute(text("DELETE FROM audit_checkpoint WHERE seq = 1"))
    db.session.commit()
    result = _cli(app, "verify")
    assert result.exit_code == 1 and "checkpoint 1 is missing" in result.output


def test_a_copy_that_is_not_genuine_is_named(app, city, browser, tmp_path):
    factories.in_handling(city)
    assert _cli(app, "checkpoint").exit_code == 0
    item = browser.client.get(f"{API}/audit/checkpoints/latest").get_json()
    copy = tmp_path / "latest.json"
    copy.write_text(json.dumps({**item, "event_count": item["event_count"] + 1}), encoding="utf-8")
    result = _cli(app, "verify", "--against", str(copy))
    assert result.exit_code == 1 and "checkpoint 1 of the copy is not genuine" in result.output
    copy.write_text("not json", encoding="utf-8")
    assert _cli(app, "verify", "--against", str(copy)).exit_code == 2


def test_entries_newer_than_the_last_checkpoint_are_reported_as_not_yet_covered(app, city):
    factories.in_handling(city)
    result = _cli(app, "verify")
    assert result.exit_code == 0 and "No signed checkpoint yet" in result.output
    assert _cli(app, "checkpoint").exit_code == 0
    for note in ("一", "二"):
        audit.record("note", actor=None, note=note)
    db.session.commit()
    result = _cli(app, "verify")
    assert result.exit_code == 0 and "2 newer entries are covered by no checkpoint yet" in result.output


def test_a_rotated_key_still_vouches_for_the_checkpoints_it_signed(app, city, browser, tmp_path, monkeypatch):
    monkeypatch.setitem(app.config, "AUDIT_SIGNING_KEY_FILE", str(tmp_path / "keys" / "audit_signing_key.pem"))
    factories.in_handling(city)
    assert _cli(app, "checkpoint").exit_code == 0
    old = audit.latest_checkpoint().key_id
    result = _cli(app, "rotate-key")
    assert result.exit_code == 0, result.output
    new = audit.latest_checkpoint()
    assert new.key_id != old and new.reason == "key_rotation"
    rotation = db.session.scalar(db.select(AuditEvent).where(AuditEvent.action == "rotate_audit_key"))
    assert new.head_event_id == rotation.id and old in rotation.payload
    keys = browser.client.get(f"{API}/audit/keys").get_json()["items"]
    assert [(k["key_id"], k["current"]) for k in keys] == [(new.key_id, True), (old, False)]
    items = browser.client.get(f"{API}/audit/checkpoints").get_json()["items"]
    assert all(_genuine(item, _public_keys(browser)) for item in items)
    assert _cli(app, "verify").exit_code == 0
    (audit_keys.retired_dir() / f"{old}.pem").unlink()  # an old key no longer trusted: its checkpoints fail
    result = _cli(app, "verify")
    assert result.exit_code == 1 and f"checkpoint 1: it is signed with key {old}" in result.output


def test_postgresql_refuses_to_change_or_remove_checkpoints(app, city):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("the append-only trigger exists on PostgreSQL; SQLite relies on the signatures")
    factories.in_handling(city)
    audit.checkpoint(audit.MANUAL)
    db.session.commit()
    for statement in ("UPDATE audit_checkpoint SET reason = 'forged'", "DELETE FROM audit_checkpoint"):
        with pytest.raises(DBAPIError, match="append-only"):
            db.session.execute(text(statement))
        db.session.rollback()


def test_the_api_pages_the_checkpoints_and_serves_the_latest(app, city, browser):
    assert browser.client.get(f"{API}/audit/checkpoints/latest").status_code == 404
    assert browser.client.get(f"{API}/audit/checkpoints").get_json() == {"items": [], "next_after": None,
                                                                         "next": None}
    factories.in_handling(city)
    for i in range(3):
        audit.record("note", actor=None, note=f"第{i}条")
        audit.checkpoint(audit.MANUAL)
    db.session.commit()
    page = browser.client.get(f"{API}/audit/checkpoints?limit=2").get_json()
    assert [c["seq"] for c in page["items"]] == [1, 2] and page["next_after"] == 2
    rest = browser.client.get(page["next"]).get_json()
    assert [c["seq"] for c in rest["items"]] == [3] and rest["next"] is None
    assert browser.client.get(f"{API}/audit/checkpoints?after=1").get_json()["items"][0]["seq"] == 2
    latest = browser.client.get(f"{API}/audit/checkpoints/latest").get_json()
    assert latest == rest["items"][0] and latest["created_at"].endswith("+08:00")
    assert browser.client.get(f"{API}/audit/checkpoints?limit=0").status_code == 400


def test_the_feed_the_feedback_page_and_its_pdf_show_the_checkpoint(app, city, browser):
    from .test_pdf_job import _run_worker

    doc = factories.published(city)
    cp = audit.publication_checkpoint(doc)
    assert cp is not None and cp.reason == "publication"
    page = browser.get(f"/feedback/{doc.id}").get_data(as_text=True)
    assert 'id="audit-checkpoint"' in page and cp.head_hash[:16] in page and cp.signature[:16] in page
    assert f"/api/v1/audit/checkpoints?after={cp.seq - 1}&amp;limit=1" in page
    feed = browser.get("/feed.atom").get_data(as_text=True)
    assert f"【审计检查点】第{cp.seq}号" in feed and cp.head_hash in feed and cp.signature in feed
    # A later checkpoint does not change which one covers the publication.
    audit.record("note", actor=None, note="later")
    audit.checkpoint(audit.MANUAL)
    db.session.commit()
    assert audit.publication_checkpoint(doc) == cp

    doc_id = doc.id
    # The publication's PDF job goes to Redis: from this session, or already from a web request's outbox
    # sweep (now and then, after a request); either way the worker below makes it.
    jobs.dispatch_committed()
    jobs.dispatch_pending()
    _run_worker(app)
    job = jobs.current_feedback_pdf(db.session.get(Document, doc_id))
    assert job is not None
    text_of_pdf = "".join(p.extract_text() for p in PdfReader(job.file_path).pages)
    squeezed = re.sub(r"\s+", "", text_of_pdf)
    assert f"第{cp.seq}号检查点" in squeezed and cp.head_hash in squeezed and cp.signature in squeezed
