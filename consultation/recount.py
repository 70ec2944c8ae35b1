"""Recompute what the services keep beside the comments (flags, group counters, tallies) from the rows.

Plain SQL on a connection, for SQLite and PostgreSQL alike: the migration that introduced these columns
runs it, and so does ``flask comments recount`` after a bulk load (COPY) or to repair a drift.
"""
from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.engine import Connection

# Two passes over the comments, whatever their number: the groups' counters from one aggregate, then every
# comment's flags from one join, writing only the rows whose values differ (a bulk load leaves few to fix).
CAMPAIGNS = """
UPDATE comment_campaign SET size = s.size, answered = s.answered, shown_id = s.shown
FROM (SELECT c.campaign_id, count(*) AS size, count(a.id) AS answered,
             min(CASE WHEN c.moderation = 'published' THEN c.id END) AS shown
      FROM comment c LEFT JOIN comment_answer a ON a.comment_id = c.id
      WHERE c.campaign_id IS NOT NULL GROUP BY c.campaign_id) AS s
WHERE s.campaign_id = comment_campaign.id
  AND (comment_campaign.size, comment_campaign.answered) IS DISTINCT FROM (s.size, s.answered)
   OR s.campaign_id = comment_campaign.id AND comment_campaign.shown_id IS DISTINCT FROM s.shown
"""
COMMENTS = """
WITH facts AS (
  SELECT c.id,
         a.decision AS decision,
         COALESCE(c.campaign_id IS NOT NULL AND c.id <> g.representative_id AND c.body = r.body, false) AS is_copy,
         COALESCE(c.moderation = 'published' AND (c.campaign_id IS NULL OR c.id = g.shown_id), false) AS listed,
         COALESCE(c.campaign_id IS NULL OR c.id = g.representative_id
                  OR NOT ((a.id IS NULL AND ra.id IS NULL)
                          OR (a.decision = ra.decision AND a.reason = ra.reason)), true) AS own_row
  FROM comment c
  LEFT JOIN comment_answer a ON a.comment_id = c.id
  LEFT JOIN comment_campaign g ON g.id = c.campaign_id
  LEFT JOIN comment r ON r.id = g.representative_id
  LEFT JOIN comment_answer ra ON ra.comment_id = g.representative_id
)
UPDATE comment SET decision = f.decision, is_copy = f.is_copy, listed = f.listed, own_row = f.own_row
FROM facts AS f
WHERE f.id = comment.id
  AND (comment.decision IS DISTINCT FROM f.decision OR comment.is_copy IS DISTINCT FROM f.is_copy
       OR comment.listed IS DISTINCT FROM f.listed OR comment.own_row IS DISTINCT FROM f.own_row)
"""


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
    conn.execute(text(CAMPAIGNS))
    conn.execute(text(COMMENTS))
    recount_tallies(conn)
