"""Benchmark of the public site and the API: a city with many documents and comments, then timings.

    .venv/bin/python -m tests.bench_public_site [--documents 60] [--comments 2000] [--repeat 30]

Runs on a fresh SQLite file and the embedded Redis unless BENCH_DATABASE_URL / BENCH_REDIS_URL are set
(a PostgreSQL URL gets a schema of its own, dropped at the end). Reports medians and 95th percentiles in
milliseconds, in-process through the WSGI app (no network), so that the figures are the app's own work.
Not a test: nothing passes or fails on the clock.
"""
from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
import uuid
from contextlib import contextmanager

from flask_migrate import upgrade
from sqlalchemy import create_engine, text

from consultation import create_app
from consultation.demo import seed_accounts
from consultation.extensions import db
from consultation.models import User
from consultation.services import consultations, moderation

from . import factories

WORDS = ["停车", "充电", "物业", "消防", "垃圾分类", "噪声", "养犬", "绿化", "电梯", "供暖", "排水", "广告牌"]


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))]


def _report(name: str, samples: list[float]) -> None:
    ms = [s * 1000 for s in samples]
    print(f"  {name:<58} median {statistics.median(ms):7.1f} ms   p95 {_percentile(ms, 0.95):7.1f} ms   "
          f"(n={len(ms)})")


@contextmanager
def _database():
    url = os.environ.get("BENCH_DATABASE_URL")
    if not url:
        with tempfile.TemporaryDirectory() as folder:
            yield f"sqlite:///{folder}/bench.sqlite3", {}, folder
        return
    schema = f"bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(url)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        with tempfile.TemporaryDirectory() as folder:
            yield url, {"connect_args": {"options": f"-csearch_path={schema}"}}, folder
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def _seed(documents: int, comments: int) -> dict:
    seed_accounts("bench-pass-123")
    db.session.commit()
    city = {u.username: u for u in db.session.scalars(db.select(User))}
    started = time.perf_counter()
    published = [factories.published(city, title=f"华城市{WORDS[i % len(WORDS)]}管理办法（第{i}号）",
                                     prefix="华政办发" if i % 2 else "华政发")
                 for i in range(documents)]
    print(f"  seeded {documents} published documents in {time.perf_counter() - started:.1f} s")
    opened = [factories.in_consultation(city, title=f"华城市{WORDS[i % len(WORDS)]}服务规范（征求意见稿{i}）")
              for i in range(max(5, documents // 4))]
    target = opened[0]
    consultation = consultations.consultation_of(target)
    articles = [a.id for a in consultation.version.articles]
    intake: list[float] = []
    for i in range(comments):
        # A third are near-identical (a campaign), the rest distinct.
        body = (f"强烈建议取消第{1 + i % 3}条关于{WORDS[i % 4]}收费的规定，保障居民权益。" if i % 3 == 0
                else f"第{i}号意见：关于{WORDS[i % len(WORDS)]}，建议明确责任主体和办理时限{i * 7 % 1000}个工作日。")
        t = time.perf_counter()
        consultations.submit_comment(consultation, body=body, article_id=articles[i % len(articles)] if i % 5 else None,
                                     client_address=f"10.0.{i // 250}.{i % 250}")
        intake.append(time.perf_counter() - t)
    _report(f"comment intake (service, MinHash grouping, commit) x{comments}", intake)
    ids = [c.id for c in consultation.comments]
    moderation.moderate(target, city["openness"], ids[: len(ids) // 2], publish=True)
    db.session.commit()
    return {"published": [d.id for d in published], "consultation": consultation.id,
            "receipt": consultation.comments[0].receipt_number}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--documents", type=int, default=60)
    parser.add_argument("--comments", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=30)
    args = parser.parse_args()
    with _database() as (url, engine_options, folder):
        app = create_app({
            "SECRET_KEY": "bench", "SQLALCHEMY_DATABASE_URI": url, "SQLALCHEMY_ENGINE_OPTIONS": engine_options,
            "REDIS_URL": os.environ.get("BENCH_REDIS_URL"), "EMBEDDED_REDIS_FILE": f"{folder}/redis.rdb",
            "PDF_DIR": f"{folder}/pdf", "MAIL_DIR": f"{folder}/mail", "RQ_QUEUE_PREFIX": f"bench-{uuid.uuid4().hex[:6]}-",
            "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000", "COMMENT_RATE_LIMIT": "1000000 per minute",
            "RECEIPT_LOOKUP_RATE_LIMIT": "1000000 per minute",
            "RATELIMIT_KEY_PREFIX": f"bench-{uuid.uuid4().hex[:6]}", "WTF_CSRF_ENABLED": False,
            "COMMENT_MIN_SECONDS": 0,
        })
        print(f"database: {url.split('@')[-1] if '@' in url else 'SQLite (file)'}")
        with app.app_context():
            upgrade()
            data = _seed(args.documents, args.comments)
        client = app.test_client()
        doc = data["published"][0]
        pages = [
            ("home page", "/"),
            (f"consultation page ({args.comments} comments)", f"/consultations/{data['consultation']}"),
            ("feedback page", f"/feedback/{doc}"),
            ("feedback CSV", f"/feedback/{doc}/feedback.csv"),
            ("library index", "/library"),
            ("library, status filter", "/library?status=not_yet_in_force"),
            ("library document", f"/library/{doc}"),
            ("search: 停车 (two characters)", "/search?q=停车"),
            ("search: 垃圾分类 (four characters)", "/search?q=垃圾分类"),
            ("search: 服务规范 征求意见稿", "/search?q=服务规范+征求意见稿"),
            ("search: 管, one character", "/search?q=管"),
            ("Atom feed", "/feed.atom"),
            ("API: consultations", "/api/v1/consultations"),
            (f"API: consultation detail ({args.comments} comments)", f"/api/v1/consultations/{data['consultation']}"),
            ("API: library, 100 per page", "/api/v1/library?per_page=100"),
            ("API: feedback", f"/api/v1/feedback/{doc}"),
            ("API: receipt", f"/api/v1/receipts/{data['receipt']}"),
        ]
        print(f"timings over {args.repeat} requests each, after one warm-up:")
        for name, url in pages:
            assert client.get(url).status_code == 200, url
            samples = []
            for _ in range(args.repeat):
                t = time.perf_counter()
                response = client.get(url)
                samples.append(time.perf_counter() - t)
                assert response.status_code == 200, (url, response.status_code)
            _report(name, samples)
        samples = []
        for i in range(args.repeat):
            t = time.perf_counter()
            response = client.post(f"/api/v1/consultations/{data['consultation']}/comments",
                                   json={"body": f"接口基准意见{i}：建议第{i}条写明期限。"})
            samples.append(time.perf_counter() - t)
            assert response.status_code == 201
        _report("API: POST a comment (with receipt mail not asked)", samples)


if __name__ == "__main__":
    main()
