"""Recompute what the services keep beside the comments (flags, group counters, tallies) from the rows.

Plain SQL on a connection, for SQLite and PostgreSQL alike: the migration that introduced these columns
runs it, and so does ``flask comments recount`` after a bulk load (COPY) or to repair a drift.
"""
from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.engine import Connection

STATEMENTS = (
    # Group counters and the first published member of each group.
    """UPDATE comment_campaign SET
         size = (SELECT count(*) FROM comment m WHERE m.campaign_id = comment_campaign.id),
         answered = (SELECT count(*) FROM comment m WHERE m.campaign_id = comment_campaign.id
                     AND m.decision IS NOT NULL),
         shown_id = (SELECT min(m.id) FROM comment m WHERE m.campaign_id = comment_campaign.id
                     AND m.moderation = 'published')""",
    # An exact copy of its group's first text.
    """UPDATE comment SET is_copy = CASE WHEN campaign_id IS NULL THEN false ELSE EXISTS (
         SELECT 1 FROM comment_campaign g JOIN comment r ON r.id = g.representative_id
         WHERE g.id = comment.campaign_id AND r.id <> comment.id AND r.body = comment.body) END""",
    # Published, and the text that stands for its group on the public page.
    """UPDATE comment SET listed = CASE WHEN moderation <> 'published' THEN false
         WHEN campaign_id IS NULL THEN true
         ELSE EXISTS (SELECT 1 FROM comment_campaign g WHERE g.id = comment.campaign_id AND g.shown_id = comment.id)
         END""",
    # A row of its own in the feedback: not in a group, the group's first text, or answered otherwise than it.
    """UPDATE comment SET own_row = CASE WHEN campaign_id IS NULL THEN true ELSE NOT EXISTS (
         SELECT 1 FROM comment_campaign g JOIN comment r ON r.id = g.representative_id
         LEFT JOIN comment_answer ra ON ra.comment_id = r.id
         LEFT JOIN comment_answer ma ON ma.comment_id = comment.id
         WHERE g.id = comment.campaign_id AND r.id <> comment.id
           AND ((ra.id IS NULL AND ma.id IS NULL)
                OR (ra.decision = ma.decision AND ra.reason = ma.reason))) END""",
)


def recount_tallies(conn: Connection, consultation_id: int | None = None) -> None:
    where = "WHERE consultation_id = :cid" if consultation_id is not None else ""
    params = {"cid": consultation_id} if consultation_id is not None else {}
    conn.execute(text(f"DELETE FROM comment_tally {where}"), params)
    conn.execute(text(f"""
        INSERT INTO comment_tally (consultation_id, article_key, moderation, hidden_reason, decision, slot, n)
        SELECT consultation_id, COALESCE(article_id, 0), moderation,
               CASE WHEN moderation = 'hidden' THEN COALESCE(hidden_reason, '') ELSE '' END,
               COALESCE(decision, ''), 0, count(*)
        FROM comment {where}
        GROUP BY consultation_id, COALESCE(article_id, 0), moderation,
                 CASE WHEN moderation = 'hidden' THEN COALESCE(hidden_reason, '') ELSE '' END, COALESCE(decision, '')
    """), params)


def recount_all(conn: Connection) -> None:
    """Every flag, group counter and tally, from the comment rows (linear in the number of comments)."""
    conn.execute(text("UPDATE comment SET decision = (SELECT decision FROM comment_answer "
                      "WHERE comment_answer.comment_id = comment.id)"))
    for statement in STATEMENTS:
        conn.execute(text(statement))
    recount_tallies(conn)
