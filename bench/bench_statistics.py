"""Benchmark of the openness-assessment figures (services/statistics.py) on an existing database, read only.

    .venv/bin/python -m bench.bench_statistics postgresql://postgres@127.0.0.1:5432/bench_xxx [--repeat 30]

Times, alternating in one run, on the same connection: each figures query (the year by month, by quarter, the
library today, the annual report's table), the whole /statistics page through the test client, and a bare
``SELECT count(*) FROM document`` as the baseline. Prints p50 and p95 of each and the ratio to the baseline's
p50. Not a test: nothing passes or fails on the clock.

The database is never changed. If it predates the ``channel_tally`` migration, the tables are made as
temporary tables of this connection (gone when it closes) and filled by one fold of every comment, which is
timed too (the clock's first fold after the migration); then the session is set read only.
"""
from __future__ import annotations

import argparse
import statistics as stats
import tempfile
import time
from collections.abc import Callable

from sqlalchemy import inspect, text
from sqlalchemy.pool import StaticPool

from consultation import create_app
from consultation.extensions import db
from consultation.models import utcnow
from consultation.services import statistics
from consultation.services.status import SHANGHAI

from .settings import project_config

TEMPORARY = (
    "CREATE TEMPORARY TABLE channel_tally (consultation_id integer NOT NULL, channel varchar(20) NOT NULL, "
    "n integer NOT NULL DEFAULT 0, PRIMARY KEY (consultation_id, channel))",
    "CREATE TEMPORARY TABLE channel_tally_cursor (id integer PRIMARY KEY, after_id integer NOT NULL)",
)


def _ms(run: Callable[[], object]) -> float:
    start = time.perf_counter()
    run()
    return (time.perf_counter() - start) * 1000


def _p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("database_url")
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/12")
    args = parser.parse_args()

    config = project_config(args.database_url, tempfile.mkdtemp(prefix="bench-statistics-"))
    # One connection for the whole run: the temporary tables (if any) live on it.
    config["SQLALCHEMY_ENGINE_OPTIONS"] = {"poolclass": StaticPool}
    config["REDIS_URL"] = args.redis_url
    app = create_app(config)
    with app.app_context():
        if not inspect(db.session.connection()).has_table("channel_tally"):
            for statement in TEMPORARY:
                db.session.execute(text(statement))
            db.session.commit()
            folds: list[tuple[int, float]] = []
            while not folds or folds[-1][0]:
                start = time.perf_counter()
                n = statistics.fold_channels(utcnow() + statistics.FOLD_DELAY)
                folds.append((n, (time.perf_counter() - start) * 1000))
            print(f"channel_tally made as temporary tables; {sum(n for n, _ms in folds):,} comments folded in "
                  f"{len(folds) - 1} sweeps of at most {statistics.FOLD_BATCH:,}: "
                  + ", ".join(f"{ms:.0f}" for n, ms in folds if n) + " ms")
        db.session.commit()
        db.session.execute(text("SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY"))
        db.session.commit()

        documents = db.session.scalar(text("SELECT count(*) FROM document"))
        comments = db.session.scalar(text("SELECT count(*) FROM comment"))
        year = utcnow().astimezone(SHANGHAI).year
        print(f"{documents:,} documents, {comments:,} comments; year {year}; {args.repeat} rounds")
        client = app.test_client()

        def page() -> None:
            assert client.get(f"/statistics?year={year}").status_code == 200

        cases: dict[str, Callable[[], object]] = {
            "baseline: SELECT count(*) FROM document": lambda: db.session.scalar(text("SELECT count(*) FROM document")),
            "figures by month (all departments)": lambda: statistics.report(year, "month"),
            "figures by quarter, last year": lambda: statistics.report(year - 1, "quarter"),
            "library today": statistics.library_figures,
            "annual report table": lambda: statistics.annual_table(year - 1),
            "page /statistics (all of the above)": page,
        }
        times: dict[str, list[float]] = {name: [] for name in cases}
        for _ in range(2):  # warm the caches and the calendar once
            for run in cases.values():
                run()
                db.session.rollback()
        for _ in range(args.repeat):
            for name, run in cases.items():
                times[name].append(_ms(run))
                db.session.rollback()
        base = stats.median(times[next(iter(cases))])
        print(f"{'':40} {'p50 ms':>8} {'p95 ms':>8} {'p50/baseline':>13}")
        for name, values in times.items():
            print(f"{name:40} {stats.median(values):8.1f} {_p95(values):8.1f} {stats.median(values) / base:13.1f}")


if __name__ == "__main__":
    main()
