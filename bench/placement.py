"""Campaign grouping of a new comment at N: ``campaigns.place`` timed alone, rolled back after each call."""
from __future__ import annotations

import random
import statistics
import time

from sqlalchemy import func, select

from .corpus import Corpus


def measure_placement(app, consultation_id: int, article_ids: list[int], count: int) -> dict:
    """Time ``place`` for new comments: half copies of existing campaign texts, half distinct texts."""
    from consultation import campaigns
    from consultation.extensions import db
    from consultation.models import Comment, CommentBand, CommentCampaign
    from consultation.models.types import utcnow
    from consultation.receipts import new_receipt_number

    rng = random.Random(56)
    corpus = Corpus(78)
    timings: dict[str, list[float]] = {"copy of a campaign": [], "distinct": []}
    candidates: dict[str, list[int]] = {"copy of a campaign": [], "distinct": []}
    grouped = {"copy of a campaign": 0, "distinct": 0}
    with app.app_context():
        largest = db.session.execute(
            select(CommentCampaign.representative_id, CommentCampaign.article_id)
            .join(Comment, Comment.campaign_id == CommentCampaign.id)
            .where(CommentCampaign.consultation_id == consultation_id)
            .group_by(CommentCampaign.id).order_by(func.count(Comment.id).desc()).limit(20)).all()
        representatives = [(db.session.get(Comment, rid).body, article) for rid, article in largest]
        for i in range(count + 1):  # the first call warms the caches and is not counted
            kind = "copy of a campaign" if i % 2 and representatives else "distinct"
            if kind == "distinct":
                body, article = corpus.text(), rng.choice(article_ids + [None])
            else:
                text, article = rng.choice(representatives)
                body = corpus.copy_of(text)
            comment = Comment(consultation_id=consultation_id, article_id=article, receipt_number=new_receipt_number(),
                              body=body, channel="web", created_at=utcnow(), moderation="pending")
            db.session.add(comment)
            db.session.flush()
            keys = campaigns.bands(campaigns.shingles(body))
            started = time.perf_counter()
            campaign = campaigns.place(comment)
            took = time.perf_counter() - started
            found = db.session.scalar(select(func.count(func.distinct(CommentBand.comment_id))).where(
                CommentBand.consultation_id == consultation_id, CommentBand.band.in_(keys),
                CommentBand.comment_id != comment.id))
            db.session.rollback()
            if i == 0:
                continue
            timings[kind].append(took * 1000)
            candidates[kind].append(found or 0)
            grouped[kind] += campaign is not None
    return {kind: _figures(timings[kind], candidates[kind], grouped[kind]) for kind in timings}


def _figures(samples: list[float], candidates: list[int], grouped: int) -> dict:
    if not samples:
        return {"n": 0}
    ordered = sorted(samples)
    return {"n": len(samples), "p50_ms": statistics.median(ordered),
            "p95_ms": ordered[min(len(ordered) - 1, int(round(0.95 * (len(ordered) - 1))))],
            "max_ms": ordered[-1], "mean_candidates": statistics.mean(candidates), "max_candidates": max(candidates),
            "grouped": grouped}
