"""The bench city: what the services make (accounts, the big draft and its consultation, a small open one
for intake), the rows of a city's documents for COPY, and the big document's publication."""
from __future__ import annotations

import hashlib
import json
import random
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timedelta, timezone

import psycopg

from .corpus import Corpus

CHINESE_DIGITS = "零一二三四五六七八九"


def chinese_number(n: int) -> str:
    """1 → 一, 10 → 十, 21 → 二十一 (enough for the articles of a draft)."""
    tens, ones = divmod(n, 10)
    text = ("" if tens == 0 else "十" if tens == 1 else CHINESE_DIGITS[tens] + "十")
    return text + (CHINESE_DIGITS[ones] if ones else "") if n >= 10 else CHINESE_DIGITS[n]


def draft(title: str, articles: int, corpus: Corpus) -> str:
    """A draft of ``articles`` articles in chapters of ten."""
    lines = [f"{title}（征求意见稿）"]
    for i in range(1, articles + 1):
        if i % 10 == 1:
            lines.append(f"第{chinese_number(i // 10 + 1)}章 第{chinese_number(i // 10 + 1)}部分")
        lines.append(f"第{chinese_number(i)}条 " + corpus.text()[:200])
    return "\n".join(lines) + "\n"


@dataclass
class Seeded:
    """The ids the benchmarks need."""

    big_document_id: int
    big_consultation_id: int
    big_article_ids: list[int]
    intake_document_id: int
    intake_consultation_id: int
    intake_article_ids: list[int]
    users: dict[str, int]
    departments: list[int]
    notes: list[str] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)


def seed_with_services(app, corpus: Corpus) -> Seeded:
    """Accounts, the big draft (closed consultation, 40 articles) and a small open one, through the services."""
    from flask_migrate import upgrade

    from consultation.demo import seed_accounts
    from consultation.extensions import db
    from consultation.models import Department, User
    from consultation.models.types import utcnow
    from consultation.services import consultations
    from consultation.workflow import engine
    from tests import factories

    from .settings import PASSWORD

    with app.app_context():
        upgrade()
        seed_accounts(PASSWORD)
        db.session.commit()
        city = {u.username: u for u in db.session.scalars(db.select(User))}
        big = factories.in_consultation(city, title="华城市住宅小区物业管理办法",
                                        body=draft("华城市住宅小区物业管理办法", 40, corpus),
                                        opens_at=utcnow() - timedelta(days=40), days=35)
        engine.settle(big)
        db.session.commit()
        intake = factories.in_consultation(city, title="华城市住宅小区电动自行车停放充电管理规定",
                                           body=draft("华城市住宅小区电动自行车停放充电管理规定", 8, corpus))
        big_c, intake_c = consultations.consultation_of(big), consultations.consultation_of(intake)
        drafting_departments = [d.id for d in db.session.scalars(
            db.select(Department).where(Department.kind == "drafting").order_by(Department.id))]
        return Seeded(
            big_document_id=big.id, big_consultation_id=big_c.id,
            big_article_ids=[a.id for a in big_c.version.articles],
            intake_document_id=intake.id, intake_consultation_id=intake_c.id,
            intake_article_ids=[a.id for a in intake_c.version.articles],
            users={name: u.id for name, u in city.items()}, departments=drafting_departments,
        )


def city_documents(count: int, seeded: Seeded, first_id: int, first_version: int, rng: random.Random,
                    corpus: Corpus, topics: list[str]) -> tuple[list[dict], list[dict]]:
    """A city's documents: three quarters published (in the library), the others still being drafted."""
    now = datetime.now(timezone.utc)
    documents, versions = [], []
    seqs: dict[tuple[str, int], int] = {}
    for i in range(count):
        doc_id = first_id + i
        published = rng.random() < 0.75
        created = now - timedelta(days=rng.randint(30, 5 * 365))
        dept = rng.choice(seeded.departments)
        author = seeded.users["drafter"] if dept == seeded.departments[0] else seeded.users["drafter2"]
        title = f"华城市{corpus.estate()[:2]}{rng.choice(['管理办法', '实施细则', '工作规范', '暂行规定', '服务标准'])}（第{i + 1}号）"
        row = dict(id=doc_id, title=title, procedure="normative_document", stage="drafting", department_id=dept,
                   affects_public_rights=True, concerns_market_entities=rng.random() < 0.2, created_by_id=author,
                   created_at=created, updated_at=created, stage_entered_at=created, decision=None,
                   decision_date=None, number_prefix=None, number_year=None, number_seq=None, published_at=None,
                   feedback_published_at=None, effective_date=None, valid_until=None, policy_interpretation=None, signed_date=None, topic=None)
        if published:
            when = created + timedelta(days=rng.randint(20, 25))
            prefix = rng.choice(["华政发", "华政办发"])
            year = when.year
            seqs[(prefix, year)] = seqs.get((prefix, year), 0) + 1
            effective = when.date() + timedelta(days=30)
            row.update(stage="published", stage_entered_at=when, updated_at=when, decision="adopted",
                       decision_date=when.date() - timedelta(days=5), number_prefix=prefix, number_year=year,
                       number_seq=seqs[(prefix, year)], published_at=when, feedback_published_at=when,
                       effective_date=effective,
                       valid_until=date(effective.year + 5, effective.month, min(effective.day, 28)),
                       policy_interpretation="一、制定背景。二、主要内容。", signed_date=when.date() - timedelta(days=3),
                       topic=rng.choice(topics))
        documents.append(row)
        body = f"{title}\n第一条 " + corpus.text() + "\n第二条 本办法自发布之日起施行。\n"
        versions.append(dict(id=first_version + i, document_id=doc_id, seq=1,
                             kind="final_text" if published else "consultation_draft", body=body,
                             explanation="一、起草背景。", sha256=hashlib.sha256(body.encode()).hexdigest(),
                             created_by_id=author, created_at=created))
    return documents, versions


def publish_big_document(conn: psycopg.Connection, seeded: Seeded) -> None:
    """Adopted, numbered and published yesterday, with its final text: its adoption feedback is public."""
    doc = seeded.big_document_id
    now = datetime.now(timezone.utc)
    year = now.year
    seq = conn.execute("SELECT coalesce(max(number_seq), 0) + 1 FROM document WHERE number_prefix = '华政办发' "
                       "AND number_year = %s", (year,)).fetchone()[0]
    today = now.date()
    conn.execute(
        "UPDATE document SET stage = 'published', stage_entered_at = %(when)s, decision = 'adopted', "
        "decision_date = %(decided)s, number_prefix = '华政办发', number_year = %(year)s, number_seq = %(seq)s, "
        "published_at = %(when)s, feedback_published_at = %(when)s, effective_date = %(effective)s, valid_until = %(until)s, "
        "policy_interpretation = '一、制定背景。二、主要内容。', signed_date = %(decided)s, topic = '城乡建设、环境保护' "
        "WHERE id = %(doc)s",
        dict(when=now - timedelta(days=1), decided=today - timedelta(days=3), year=year, seq=seq,
             effective=today + timedelta(days=30), until=date(today.year + 5, 1, 1), doc=doc))
    draft_version = conn.execute("SELECT max(id) FROM document_version WHERE document_id = %s", (doc,)).fetchone()[0]
    final = conn.execute(
        "INSERT INTO document_version (document_id, seq, kind, body, explanation, source_filename, sha256, "
        "created_by_id, created_at) SELECT document_id, seq + 1, 'final_text', body, explanation, NULL, sha256, "
        "created_by_id, now() FROM document_version WHERE id = %s RETURNING id", (draft_version,)).fetchone()[0]
    conn.execute("INSERT INTO article (version_id, seq, label, chapter, text) "
                 "SELECT %s, seq, label, chapter, text FROM article WHERE version_id = %s", (final, draft_version))


def save_seeded(database_url: str, seeded: Seeded) -> None:
    """Keep what the load made in the bench database itself, so that ``--reuse`` can bench it again."""
    with psycopg.connect(database_url) as conn:
        conn.execute("CREATE TABLE IF NOT EXISTS bench_meta (data jsonb NOT NULL)")
        conn.execute("DELETE FROM bench_meta")
        conn.execute("INSERT INTO bench_meta (data) VALUES (%s)", (json.dumps(asdict(seeded)),))


def load_seeded(database_url: str) -> Seeded:
    with psycopg.connect(database_url) as conn:
        return Seeded(**conn.execute("SELECT data FROM bench_meta").fetchone()[0])
