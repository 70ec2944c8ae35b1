"""A bench database: created fresh, then filled with COPY (``bench.city`` seeds it through the services first).

COPY makes the volume (a city of documents, N comments with campaigns, answers and the
campaign bands). Every column list COPY writes is in ``COLUMNS``: a new column is one entry there and one
value in the row builder.
"""
from __future__ import annotations

import hashlib
import multiprocessing
import os
import random
import secrets
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import timedelta

import psycopg

from .city import Seeded, city_documents, publish_big_document
from .corpus import Corpus

ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

COLUMNS: dict[str, tuple[str, ...]] = {
    "document": ("id", "title", "procedure", "stage", "department_id", "affects_public_rights",
                 "concerns_market_entities", "created_by_id", "created_at", "updated_at", "stage_entered_at",
                 "decision", "decision_date", "number_prefix", "number_year", "number_seq", "published_at",
                 "feedback_published_at", "effective_date", "valid_until", "policy_interpretation", "signed_date", "topic"),
    "document_version": ("id", "document_id", "seq", "kind", "body", "explanation", "sha256", "created_by_id",
                         "created_at"),
    "comment": ("id", "consultation_id", "document_id", "article_id", "receipt_number", "body", "channel", "name",
                "organisation", "phone", "email", "show_masked_name", "client_hash", "created_at", "logged_by_id", "moderation",
                "hidden_reason", "moderation_note", "moderated_by_id", "moderated_at", "campaign_id", "decision"),
    "comment_campaign": ("id", "consultation_id", "article_id", "representative_id", "created_at"),
    "comment_answer": ("id", "comment_id", "decision", "reason", "answered_by_id", "answered_at"),
    "comment_band": ("comment_id", "band", "consultation_id"),
}
# Secondary indexes of these tables are dropped for the COPY and built again after it.
BULK_TABLES = ("document", "document_version", "comment", "comment_campaign", "comment_answer", "comment_band")

# The big campaigns of a 1,000,000-comment consultation; scaled down with N.
BIG_CAMPAIGNS = (100_000, 50_000, 30_000, 20_000, 10_000, 5_000)
DECISIONS = ("adopted", "partly_adopted", "not_adopted", "explained")
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华"
RECEIPT_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"


# --- the database --------------------------------------------------------------------------------------

def create_database() -> tuple[str, str]:
    """Create an empty database of our own; return its name and URL."""
    name = f"bench_{secrets.token_hex(4)}"
    with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return name, f"postgresql://postgres@127.0.0.1:5432/{name}"


def drop_database(name: str) -> None:
    with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def run_recount(database_url: str, env: dict[str, str]) -> str:
    """Run the project's post-load step ``flask comments recount`` if it exists; say what happened."""
    flask = os.path.join(os.path.dirname(sys.executable), "flask")
    env = {**env, "DATABASE_URL": database_url}
    probe = subprocess.run([flask, "--app", "app", "comments", "--help"], cwd=ROOT, env=env,
                           capture_output=True, text=True)
    if probe.returncode != 0:
        return "no `flask comments recount` command yet: counters and flags not recomputed"
    started = time.perf_counter()
    done = subprocess.run([flask, "--app", "app", "comments", "recount"], cwd=ROOT, env=env,
                          capture_output=True, text=True)
    took = time.perf_counter() - started
    if done.returncode != 0:
        return f"`flask comments recount` failed ({done.returncode}) after {took:.1f} s: {done.stderr.strip()[-300:]}"
    return f"`flask comments recount` ran in {took:.1f} s"


# --- what COPY makes -----------------------------------------------------------------------------------

def receipt(n: int) -> str:
    """A unique 12-character receipt number for row n (a bijection, so never a collision)."""
    value = (n * 7_919_423_717) % 31 ** 12
    chars = []
    for _ in range(12):
        value, digit = divmod(value, 31)
        chars.append(RECEIPT_ALPHABET[digit])
    return "".join(chars)


def campaign_sizes(n: int, rng: random.Random) -> list[int]:
    """A third of the comments are copies in campaigns: a few large ones (up to 100,000), many small."""
    copies = n // 3
    sizes = [max(2, s * n // 1_000_000) for s in BIG_CAMPAIGNS]
    while sum(sizes) > copies * 0.65 and sizes:
        sizes.pop(0)
    left = copies - sum(sizes)
    while left >= 2:
        size = min(left, 500, max(2, int(2 * rng.paretovariate(1.1))))
        sizes.append(size)
        left -= size
    return sizes


def bands_block(items: list[tuple[int, str]], consultation_id: int) -> bytes:
    """COPY text lines of comment_band for some comments (run in a worker process)."""
    from consultation import campaigns

    lines = []
    for comment_id, body in items:
        for key in campaigns.bands(campaigns.shingles(body)):
            lines.append(f"{comment_id}\t{key}\t{consultation_id}\n")
    return "".join(lines).encode()


def _next_id(conn: psycopg.Connection, table: str) -> int:
    return conn.execute(f"SELECT coalesce(max(id), 0) + 1 FROM {table}").fetchone()[0]


def _set_sequences(conn: psycopg.Connection) -> None:
    for table in ("document", "document_version", "comment", "comment_campaign", "comment_answer"):
        conn.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                     f"(SELECT coalesce(max(id), 1) FROM {table}))")


def _secondary_indexes(conn: psycopg.Connection) -> list[tuple[str, str]]:
    """The indexes of the bulk tables that no constraint owns: (name, definition)."""
    return conn.execute(
        "SELECT i.indexname, i.indexdef FROM pg_indexes i WHERE i.schemaname = 'public' AND i.tablename = ANY(%s) "
        "AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)",
        (list(BULK_TABLES),)).fetchall()


def _copy(conn: psycopg.Connection, table: str, rows: Iterator[dict]) -> int:
    columns = COLUMNS[table]
    count = 0
    with conn.cursor().copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row([row[c] for c in columns])
            count += 1
    return count


def load(database_url: str, seeded: Seeded, comments: int, documents: int, topics: list[str],
         log=print) -> None:
    """Fill the bench database: documents, N comments with campaigns, answers and bands; then publish the
    big document (so that its adoption feedback is public) and analyse."""
    rng = random.Random(12)
    corpus = Corpus(34)
    t0 = time.perf_counter()
    with psycopg.connect(database_url) as conn:
        consultation = conn.execute("SELECT opens_at, closes_at FROM consultation WHERE id = %s",
                                    (seeded.big_consultation_id,)).fetchone()
        opens_at, closes_at = consultation
        # The plan: which comment belongs to which campaign, in arrival order.
        sizes = campaign_sizes(comments, rng)
        slots = [-1] * (comments - sum(sizes))
        for k, size in enumerate(sizes):
            slots.extend([k] * size)
        rng.shuffle(slots)
        first_comment = _next_id(conn, "comment")
        articles = seeded.big_article_ids
        hot = [1.0 / (1 + (i % 13)) for i in range(len(articles))]  # some articles draw far more comments
        campaign_article = [None if rng.random() < 0.15 else rng.choices(articles, hot)[0] for _ in sizes]
        campaign_text: list[str | None] = [None] * len(sizes)
        campaign_first: list[int] = [0] * len(sizes)
        campaign_answer = [(rng.choice(DECISIONS), corpus.answer_reason()) if rng.random() < 0.9 else None
                           for _ in sizes]
        # Most comments are answered; a campaign's members share one answer.
        answers = [campaign_answer[k] if k >= 0 else
                   (rng.choice(DECISIONS), corpus.answer_reason()) if rng.random() < 0.85 else None for k in slots]
        bodies: list[str] = []
        banded: list[tuple[int, str]] = []  # comments that stand for themselves: they carry bands
        for i, k in enumerate(slots):
            cid = first_comment + i
            if k < 0:
                bodies.append(corpus.text())
                banded.append((cid, bodies[-1]))
            elif campaign_text[k] is None:
                campaign_text[k], campaign_first[k] = corpus.text(), cid
                bodies.append(campaign_text[k])
                banded.append((cid, bodies[-1]))
            else:
                bodies.append(corpus.copy_of(campaign_text[k]))
        log(f"  planned {comments} comments ({len(sizes)} campaigns, largest {max(sizes, default=0)}) "
            f"in {time.perf_counter() - t0:.1f} s")
        seeded.counts.update(comments=comments, campaigns=len(sizes), campaign_copies=sum(sizes),
                             largest_campaign=max(sizes, default=0), banded_comments=len(banded))

        # The campaign bands are the slow part: two worker processes compute them while COPY runs.
        pool = multiprocessing.get_context("spawn").Pool(2)
        chunk = 2000
        blocks = pool.imap(_bands_job, ((banded[j:j + chunk], seeded.big_consultation_id)
                                        for j in range(0, len(banded), chunk)))

        t1 = time.perf_counter()
        dropped = _secondary_indexes(conn)
        for name, _definition in dropped:
            conn.execute(f'DROP INDEX "{name}"')
        # No FK triggers: campaigns and comments refer to each other.
        conn.execute("SET session_replication_role = replica")
        conn.execute("SET synchronous_commit = off")
        first_doc, first_version = _next_id(conn, "document"), _next_id(conn, "document_version")
        docs, versions = city_documents(documents, seeded, first_doc, first_version, rng, corpus, topics)
        _copy(conn, "document", iter(docs))
        _copy(conn, "document_version", iter(versions))
        log(f"  COPY {documents} documents in {time.perf_counter() - t1:.1f} s")

        t2 = time.perf_counter()
        users = seeded.users
        span = (closes_at - opens_at).total_seconds()
        first_campaign = _next_id(conn, "comment_campaign")

        def comment_rows() -> Iterator[dict]:
            for i, k in enumerate(slots):
                cid = first_comment + i
                created = opens_at + timedelta(seconds=span * (i + rng.random()) / comments)
                named = rng.random() < 0.3
                offline = rng.random() < 0.03
                name = rng.choice(SURNAMES) + rng.choice(GIVEN) + (rng.choice(GIVEN) if rng.random() < 0.6 else "")
                yield dict(
                    id=cid, consultation_id=seeded.big_consultation_id, document_id=seeded.big_document_id,
                    article_id=(campaign_article[k] if k >= 0 else
                                None if rng.random() < 0.15 else rng.choices(articles, hot)[0]),
                    receipt_number=receipt(cid), body=bodies[i],
                    channel=rng.choice(["letter", "email"]) if offline else "web",
                    name=name if named else None, organisation=None,
                    phone=f"138{rng.randint(0, 99_999_999):08d}" if rng.random() < 0.1 else None,
                    email=f"user{cid}@example.com" if rng.random() < 0.1 else None,
                    show_masked_name=named and rng.random() < 0.5,
                    client_hash=hashlib.sha256(str(cid).encode()).hexdigest(), created_at=created,
                    logged_by_id=users["drafter"] if offline else None, moderation="published",
                    hidden_reason=None, moderation_note=None, moderated_by_id=users["openness"],
                    moderated_at=created + timedelta(days=1),
                    campaign_id=first_campaign + k if k >= 0 else None,
                    decision=answers[i][0] if answers[i] else None,
                )

        _copy(conn, "comment", comment_rows())
        log(f"  COPY {comments} comments in {time.perf_counter() - t2:.1f} s")
        _copy(conn, "comment_campaign", (dict(
            id=first_campaign + k, consultation_id=seeded.big_consultation_id, article_id=campaign_article[k],
            representative_id=campaign_first[k],
            created_at=opens_at + timedelta(seconds=span * (campaign_first[k] - first_comment) / comments),
        ) for k in range(len(sizes))))

        t3 = time.perf_counter()
        first_answer = _next_id(conn, "comment_answer")

        def answer_rows() -> Iterator[dict]:
            n = 0
            for i, decision in enumerate(answers):
                if decision is None:
                    continue
                yield dict(id=first_answer + n, comment_id=first_comment + i, decision=decision[0],
                           reason=decision[1], answered_by_id=users["drafter"],
                           answered_at=closes_at + timedelta(days=2))
                n += 1

        answered = _copy(conn, "comment_answer", answer_rows())
        seeded.counts["answers"] = answered
        log(f"  COPY {answered} answers in {time.perf_counter() - t3:.1f} s")

        t4 = time.perf_counter()
        band_rows = 0
        with conn.cursor().copy(f"COPY comment_band ({', '.join(COLUMNS['comment_band'])}) FROM STDIN") as copy:
            for block in blocks:
                copy.write(block)
                band_rows += block.count(b"\n")
        pool.close()
        pool.join()
        seeded.counts["band_rows"] = band_rows
        log(f"  COPY {band_rows} campaign bands of {len(banded)} texts in {time.perf_counter() - t4:.1f} s "
            f"(computed alongside)")

        _set_sequences(conn)
        publish_big_document(conn, seeded)
        conn.execute("SET session_replication_role = DEFAULT")
        conn.commit()

        t5 = time.perf_counter()
        conn.execute("SET maintenance_work_mem = '1GB'")
        for _name, definition in dropped:
            conn.execute(definition)
        conn.commit()
        log(f"  rebuilt {len(dropped)} secondary indexes in {time.perf_counter() - t5:.1f} s")
    seeded.timings["load_s"] = time.perf_counter() - t0


def vacuum(database_url: str) -> float:
    """VACUUM ANALYZE the whole database (after the load and the recount, which rewrites rows); seconds taken."""
    started = time.perf_counter()
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("VACUUM (ANALYZE)")
    return time.perf_counter() - started


def _bands_job(args: tuple[list[tuple[int, str]], int]) -> bytes:
    return bands_block(*args)


def fill_bare_table(database_url: str) -> int:
    """The bare baseline's table holds the same comments (its own copy), for the page baseline."""
    with psycopg.connect(database_url) as conn:
        conn.execute("INSERT INTO bare_comment (consultation_id, article_id, receipt_number, body, channel, name, "
                     "email, moderation, created_at) SELECT consultation_id, article_id, receipt_number, body, "
                     "channel, name, email, moderation, created_at FROM comment ORDER BY id")
        count = conn.execute("SELECT count(*) FROM bare_comment").fetchone()[0]
        conn.commit()
    return count


def clean_workdir(path: str) -> None:
    shutil.rmtree(path, ignore_errors=True)
