"""Campaign detection (意见群组): identical and near-identical comments grouped as they arrive.

Chinese has no spaces, so a comment is compared by its character 3-grams (after removing punctuation
and white space). A text's MinHash signature is cut into bands that are stored with it; a new comment
looks up the earlier texts sharing a band (locality-sensitive hashing, an indexed lookup) and joins the
group of the most similar one when their exact 3-gram Jaccard similarity is at least ``THRESHOLD``.
Comments are grouped per article (or per whole draft), like the feedback they end up in.
"""
from __future__ import annotations

import hashlib
import unicodedata
from functools import lru_cache

from datasketch import MinHash
from sqlalchemy import func, insert, select, update

from .extensions import db
from .models import Comment, CommentBand, CommentCampaign, Moderation

SHINGLE = 3
NUM_PERM = 128
BANDS, ROWS = 32, 4  # 32 bands of 4 rows: pairs above ~0.5 similarity nearly always meet as candidates
THRESHOLD = 0.8  # the exact similarity that makes two comments one campaign
SEED = 20221
# The stored bands depend on the permutation scheme: pinned, so that a datasketch upgrade that changes
# its default cannot silently stop new comments from meeting the old ones.
SCHEME = "affine32"


def normalise(text: str) -> str:
    """Fold width and case, drop white space, punctuation and symbols: what remains is the wording."""
    text = unicodedata.normalize("NFKC", text).lower()
    return "".join(ch for ch in text if unicodedata.category(ch)[0] not in "PZSC")


def shingles(text: str) -> frozenset[str]:
    words = normalise(text)
    if len(words) <= SHINGLE:
        return frozenset({words}) if words else frozenset()
    return frozenset(words[i:i + SHINGLE] for i in range(len(words) - SHINGLE + 1))


def similarity(a: frozenset[str], b: frozenset[str]) -> float:
    if not a or not b:
        return 0.0
    return len(a & b) / len(a | b)


@lru_cache(maxsize=1)
def _permutations():
    return MinHash(num_perm=NUM_PERM, seed=SEED, scheme=SCHEME).permutations


def bands(grams: frozenset[str]) -> list[str]:
    """The LSH band keys of a set of 3-grams: ``"<band>:<hash>"``."""
    if not grams:
        return []
    signature = MinHash(num_perm=NUM_PERM, seed=SEED, permutations=_permutations(), scheme=SCHEME)
    signature.update_batch([g.encode() for g in sorted(grams)])
    values = signature.hashvalues
    return [
        f"{i}:{hashlib.blake2b(values[i * ROWS:(i + 1) * ROWS].tobytes(), digest_size=10).hexdigest()}"
        for i in range(BANDS)
    ]


# A new comment is compared exactly with at most this many earlier texts: those sharing the most bands.
# Two texts at the threshold share about 13 of the 32 bands, so the best candidates are never cut off.
MAX_CANDIDATES = 8


def place(comment: Comment) -> CommentCampaign | None:
    """Put the comment in the group of the most similar earlier text, if one is similar enough.

    Only the texts that stand for themselves carry bands: comments in no group, and each group's
    representative. A comment that joins a group is compared with, and represented by, its first
    text. The candidates are the few earlier texts sharing the most bands with it (one indexed,
    aggregated query), so the work per comment is bounded whatever the size of the consultation.
    Runs in the clock's step that takes in the comments received (services/intake.py), not on the way
    in: a comment's receipt never waits for it.
    """
    article = Comment.article_id.is_(None) if comment.article_id is None else Comment.article_id == comment.article_id
    # An exact copy (the same wording once white space and punctuation are dropped) is found by one indexed
    # equality on its wording's key, without MinHash: most of a campaign is copies.
    wording = exact_key(comment.body)
    if wording is not None:
        same = db.session.scalar(
            select(func.min(Comment.id)).join(CommentBand, CommentBand.comment_id == Comment.id)
            .where(CommentBand.band == wording, CommentBand.consultation_id == comment.consultation_id,
                   Comment.id != comment.id, article))
        if same is not None:
            return _join(comment, same)
    grams = shingles(comment.body)
    keys = bands(grams)
    if not keys:
        return None
    shared = func.count(CommentBand.band)
    ids = db.session.scalars(
        select(CommentBand.comment_id)
        .where(CommentBand.consultation_id == comment.consultation_id, CommentBand.band.in_(keys),
               CommentBand.comment_id != comment.id)
        .group_by(CommentBand.comment_id).order_by(shared.desc(), CommentBand.comment_id).limit(MAX_CANDIDATES)
    ).all()
    candidates = db.session.execute(select(Comment.id, Comment.body).where(Comment.id.in_(ids), article)).all() \
        if ids else []
    scored = [(similarity(grams, shingles(body)), cid) for cid, body in candidates]
    scored = [(score, cid) for score, cid in scored if score >= THRESHOLD]
    if not scored:
        # One multi-row INSERT, not 33 round trips: the bands, and the key of the exact wording.
        db.session.execute(insert(CommentBand), [{"comment_id": comment.id, "band": key,
                                                  "consultation_id": comment.consultation_id}
                                                 for key in [*keys, wording]])
        return None
    return _join(comment, max(scored, key=lambda pair: (pair[0], -pair[1]))[1])


def exact_key(text: str) -> str | None:
    """The band key of a text's exact wording (white space and punctuation dropped): ``x:<hash>``."""
    words = normalise(text)
    return f"x:{hashlib.blake2b(words.encode(), digest_size=16).hexdigest()}" if words else None


def _join(comment: Comment, best_id: int) -> CommentCampaign:
    """Put the comment in the group of the earlier text ``best_id`` (starting the group if it has none)."""
    # Two copies arriving together must not each start a group around the same first text: lock that
    # comment and read its group again (PostgreSQL; SQLite has one writer at a time anyway).
    best = db.session.scalars(select(Comment).where(Comment.id == best_id).with_for_update()
                              .execution_options(populate_existing=True)).one()
    campaign = best.campaign
    if campaign is None:
        published = best.moderation == Moderation.PUBLISHED.value
        campaign = CommentCampaign(consultation_id=comment.consultation_id, article_id=comment.article_id,
                                   representative=best, created_at=comment.created_at, size=1,
                                   answered=1 if best.decision else 0, shown_id=best.id if published else None)
        db.session.add(campaign)
        best.campaign = campaign
        db.session.flush()
    comment.campaign = campaign
    comment.is_copy = comment.body.strip() == best.body.strip()
    # Folded into the group's row in the feedback while it has the same answer as the first text.
    comment.own_row = _answer_key(comment) != _answer_key(best)
    db.session.flush()
    db.session.execute(update(CommentCampaign).where(CommentCampaign.id == campaign.id)
                       .values(size=CommentCampaign.size + 1,
                               answered=CommentCampaign.answered + (1 if comment.decision else 0)))
    return campaign


def _answer_key(comment: Comment) -> tuple[str, str] | None:
    return (comment.answer.decision, comment.answer.reason) if comment.answer else None
