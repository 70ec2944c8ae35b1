"""Scale benchmark (issue 12): a consultation of N comments on PostgreSQL, the project beside a bare baseline.

    .venv/bin/python -m bench.scale [--comments 1000000] [--documents 10000] [--quick] [--keep]

Run from the repository root, with PostgreSQL on 127.0.0.1:5432 (user postgres, trust) and Redis on
127.0.0.1:6379 (database 14 is used). Not a test: nothing passes or fails on time. The machine may be
small and shared, so read the ratios to the bare baseline measured in the same run, not the absolute times.

What it does and prints:

1. Creates a database ``bench_<random>``, runs the migrations, seeds the demo accounts and, through the
   services, a draft of 40 articles whose consultation has closed (published via SQL afterwards, so its
   adoption feedback is public) and a small open consultation for intake. Then COPY loads a city of
   documents (three quarters published) and N comments on the big draft: varied Chinese texts of 30-600
   characters, a third of them copies in campaigns (the largest 100,000 at N = 1,000,000), most answered,
   all published, with their campaign bands. Runs ``flask comments recount`` afterwards when it exists.
2. Intake: the project (``POST /api/v1/consultations/<id>/comments``) and the bare app
   (``bench/bare_app.py``, ``POST /comments``) under the same gunicorn settings, at 16 and 64 connections
   (wrk), distinct texts per request: requests/s, p50/p95/p99, errors, the ratio project/bare, and
   "acknowledged N, missing M": every 201's receipt number is looked up in the database.
3. Pages at N: p50/p95 time to the last byte, largest response and status codes of the public pages, the API
   and the staff pages (signed in through the login form), beside the bare keyset page of 50 rows.
4. Peak memory (VmHWM) of every gunicorn process of both apps after the page runs.
5. ``campaigns.place`` for new comments at N (copies of campaign texts and distinct texts), with the number
   of candidate texts the band lookup returns.

The report is printed and written as JSON to ``bench/results/<timestamp>.json``. The database is dropped at
the end unless ``--keep``.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from datetime import datetime

import requests

from . import city, intake, loader, pages
from .corpus import Corpus
from .placement import measure_placement
from .settings import PASSWORD, REDIS_URL, SECRET_KEY, project_config

HERE = os.path.dirname(os.path.abspath(__file__))
GUNICORN = ["--workers", "4", "--worker-class", "gthread", "--threads", "4", "--timeout", "900",
            "--graceful-timeout", "5", "--keep-alive", "5"]
PROJECT_PORT, BARE_PORT = 18431, 18432


def start_server(module: str, port: int, env: dict[str, str], workdir: str) -> subprocess.Popen:
    gunicorn = os.path.join(os.path.dirname(sys.executable), "gunicorn")
    log = open(os.path.join(workdir, f"gunicorn-{port}.log"), "w")
    return subprocess.Popen([gunicorn, *GUNICORN, "--bind", f"127.0.0.1:{port}", module], cwd=loader.ROOT,
                            env=env, stdout=log, stderr=subprocess.STDOUT)


def wait_ready(url: str, process: subprocess.Popen, seconds: float = 120) -> None:
    deadline = time.time() + seconds
    while time.time() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"gunicorn for {url} exited with {process.returncode}")
        try:
            requests.get(url, timeout=30)
            return
        except requests.RequestException:
            time.sleep(0.5)
    raise RuntimeError(f"{url} did not answer in {seconds} s")


def stop_server(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def server_errors(log_path: str) -> list[str]:
    """The exceptions a gunicorn log shows, once per path: where in the project code, and what."""
    try:
        with open(log_path, errors="replace") as fh:
            lines = fh.read().splitlines()
    except OSError:
        return []
    found: dict[str, str] = {}
    for i, line in enumerate(lines):
        marker = next((m for m in ("Exception on ", "Error handling request") if m in line), None)
        if marker is None:
            continue
        where = line.split(marker, 1)[1].strip() or "a streamed response"
        place = ""
        for follow in lines[i + 1:i + 500]:
            if follow.strip().startswith("File ") and "/consultation/" in follow:
                place = follow.strip().split("/consultation/", 1)[1].replace('", line ', ":")
            elif follow and not follow.startswith((" ", "Traceback", "During handling", "The above")):
                found.setdefault(where, f"{where}: {follow.strip()[:200]} (consultation/{place})")
                break
    return list(found.values())


def ratio(a: float | None, b: float | None) -> str:
    return f"{a / b:.2f}" if a is not None and b else "-"


def fmt(value: float | None, width: int = 9) -> str:
    return f"{value:{width}.1f}" if value is not None else f"{'-':>{width}}"


def run_intake(args, seeded, database_url, workdir, log) -> list[dict]:
    wrk = intake.wrk_binary()
    log(f"  client: {'wrk ' + wrk if wrk else 'asyncio fallback (wrk not available)'}")
    results = []
    project_url = (f"http://127.0.0.1:{PROJECT_PORT}/api/v1/consultations/{seeded.intake_consultation_id}"
                   f"/comments")
    bare_url = f"http://127.0.0.1:{BARE_PORT}/comments"
    for connections in (16, 64):
        bodies = os.path.join(workdir, f"bodies-{connections}.jsonl")
        intake.write_bodies(bodies, 40_000 if not args.quick else 15_000, seeded.intake_article_ids, connections)
        for target, url, table in (("bare", bare_url, "bare_comment"), ("project", project_url, "comment")):
            result, receipts = intake.load(url, bodies, connections, args.duration, workdir,
                                           f"{target}-{connections}", wrk)
            result.missing = intake.missing_receipts(database_url, table, receipts)
            log(f"    {target:<8} c={connections:<3} {result.rps:8.1f} req/s  p50 {result.p50_ms:7.1f}  "
                f"p95 {result.p95_ms:7.1f}  p99 {result.p99_ms:7.1f} ms  errors {result.errors}  "
                f"acknowledged {result.acknowledged}, missing {result.missing}")
            results.append(intake.as_dict(result))
    return results


def staff_pages(seeded, comment_id: int) -> list[tuple[str, str]]:
    doc = seeded.big_document_id
    return [("staff dashboard", "/staff/"), ("staff document", f"/staff/documents/{doc}"),
            ("staff moderation queue", f"/staff/documents/{doc}/moderation"),
            ("staff moderation (published)", f"/staff/documents/{doc}/moderation?show=published"),
            ("staff campaigns", f"/staff/documents/{doc}/campaigns"),
            ("staff answer page", f"/staff/documents/{doc}/comments/{comment_id}")]


def run_pages(args, seeded, database_url, log) -> tuple[list[dict], list[dict], list[str]]:
    base = f"http://127.0.0.1:{PROJECT_PORT}"
    bare = f"http://127.0.0.1:{BARE_PORT}"
    repeat, budget, timeout = args.repeat, args.page_budget, args.page_timeout
    consultation, doc = seeded.big_consultation_id, seeded.big_document_id
    article = seeded.big_article_ids[0]  # the busiest article of the load
    notes = []
    import psycopg

    with psycopg.connect(database_url) as conn:
        comment_id = conn.execute("SELECT max(id) FROM comment WHERE consultation_id = %s",
                                  (consultation,)).fetchone()[0]
    public = [
        ("public consultation", f"/consultations/{consultation}"),
        ("public consultation, one article", f"/consultations/{consultation}?article={article}"),
        ("API consultation detail", f"/api/v1/consultations/{consultation}"),
        ("API comment list", f"/api/v1/consultations/{consultation}/comments?limit=50"),
        ("API consultation list", "/api/v1/consultations"),
        ("public feedback", f"/feedback/{doc}"),
        ("feedback CSV", f"/feedback/{doc}/feedback.csv"),
        ("API feedback", f"/api/v1/feedback/{doc}"),
        ("public library", "/library"),
        ("public home", "/"),
    ]
    results: list[pages.PageResult] = []
    session = requests.Session()
    for name, path in public:
        result = pages.measure(session, base, name, path, repeat, budget, timeout, log)
        results.append(result)
        follow = None
        if name == "public consultation, one article":
            follow = pages.next_link(result.last_body, path)
            if follow is None:
                notes.append(f"{path}: no next link in the HTML")
        elif name == "API comment list" and result.statuses.get("200"):
            follow = pages.next_cursor(result.last_body, path)
            if follow is None:
                notes.append(f"{path}: no next cursor in the JSON")
        if follow:
            results.append(pages.measure(session, base, name + " (next)", follow, repeat, budget, timeout, log))
        result.last_body = None
    for username, wanted in (("drafter", None), ("openness", ("staff moderation queue", "staff moderation (published)",
                                                              "staff dashboard"))):
        staff, outcome = pages.login(base, username, PASSWORD)
        notes.append(outcome)
        for name, path in staff_pages(seeded, comment_id):
            if wanted is None or name in wanted:
                results.append(pages.measure(staff, base, f"{name} [{username}]", path, repeat, budget, timeout,
                                             log))
                results[-1].last_body = None
    baseline = [pages.measure(session, bare, "bare keyset page (50 rows)", f"/comments?article={article}",
                              repeat, budget, timeout, log)]
    follow = pages.next_link(baseline[0].last_body, f"/comments?article={article}")
    if follow:
        baseline.append(pages.measure(session, bare, "bare keyset page (next)", follow, repeat, budget, timeout,
                                      log))
    return [r.summary() for r in results], [r.summary() for r in baseline], notes


def report(data: dict) -> str:
    lines = [f"Scale benchmark, {data['started']}: {data['comments']:,} comments, {data['documents']:,} documents "
             f"({'quick' if data['quick'] else 'full'}{', database reused' if data.get('reused') else ''})", ""]
    lines.append("1. Load")
    for key, value in data["load"]["counts"].items():
        lines.append(f"   {key:<20} {value:,}")
    lines.append(f"   load time            {data['load']['seconds']:.1f} s (plan, COPY, bands, index rebuild)")
    lines.append(f"   VACUUM ANALYZE       {data['load']['vacuum_seconds']:.1f} s (after the recount)")
    for note in data["load"]["notes"]:
        lines.append(f"   note: {note}")
    lines += ["", f"2. Intake ({data['server']}, {data['intake_seconds']} s per run, client {data['client']})",
              f"   {'target':<8} {'conn':>4} {'req/s':>9} {'p50 ms':>9} {'p95 ms':>9} {'p99 ms':>9} {'errors':>7} "
              f"{'acked':>7} {'missing':>7}"]
    by = {(r["target"].split("-")[0], r["connections"]): r for r in data["intake"]}
    for (target, connections), r in by.items():
        lines.append(f"   {target:<8} {connections:>4} {r['rps']:9.1f} {r['p50_ms']:9.1f} {r['p95_ms']:9.1f} "
                     f"{r['p99_ms']:9.1f} {r['errors']:>7} {r['acknowledged']:>7} {r['missing']:>7}")
    for connections in (16, 64):
        p, b = by.get(("project", connections)), by.get(("bare", connections))
        if p and b:
            lines.append(f"   project/bare at {connections}: req/s {ratio(p['rps'], b['rps'])}, "
                         f"p50 {ratio(p['p50_ms'], b['p50_ms'])}, p95 {ratio(p['p95_ms'], b['p95_ms'])}, "
                         f"p99 {ratio(p['p99_ms'], b['p99_ms'])}")
    for r in data["intake"]:
        lines.append(f"   {r['target']}: acknowledged {r['acknowledged']}, missing {r['missing']}")
    bare_p50 = data["bare_pages"][0]["p50_ms"] if data["bare_pages"] else None
    bare_p95 = data["bare_pages"][0]["p95_ms"] if data["bare_pages"] else None
    lines += ["", f"3. Pages at {data['comments']:,} comments (time to last byte; ratios to the bare keyset page)",
              f"   {'page':<48} {'n':>3} {'p50 ms':>9} {'p95 ms':>9} {'max bytes':>13} {'x bare p50':>10}  statuses"]
    for r in data["bare_pages"] + data["pages"]:
        lines.append(f"   {r['page']:<48} {r['n']:>3} {fmt(r['p50_ms'])} {fmt(r['p95_ms'])} {r['max_bytes']:>13,} "
                     f"{ratio(r['p50_ms'], bare_p50):>10}  {r['statuses']}")
    lines.append(f"   bare keyset page: p50 {fmt(bare_p50, 1)} ms, p95 {fmt(bare_p95, 1)} ms")
    for note in data["page_notes"]:
        lines.append(f"   note: {note}")
    lines += ["", "4. Peak memory (VmHWM) of the web processes after the page runs"]
    for app_name in ("project", "bare"):
        memory = data["memory"][app_name]
        for process, kb in memory.items():
            lines.append(f"   {app_name:<8} {process:<16} {kb / 1024:9.1f} MB")
        lines.append(f"   {app_name:<8} max              {max(memory.values(), default=0) / 1024:9.1f} MB")
    lines += ["", f"5. campaigns.place of a new comment at {data['comments']:,} comments"]
    for kind, figures in data["placement"].items():
        if figures.get("n"):
            lines.append(f"   {kind:<20} n={figures['n']:<4} p50 {figures['p50_ms']:8.1f} ms  p95 "
                         f"{figures['p95_ms']:8.1f} ms  max {figures['max_ms']:8.1f} ms  candidates mean "
                         f"{figures['mean_candidates']:.1f} max {figures['max_candidates']}  "
                         f"grouped {figures['grouped']}")
    return "\n".join(lines)


def load_database(app, database_url: str, env: dict[str, str], args, log) -> city.Seeded:
    """Section 1: migrate and seed through the services, COPY the volume, recount, vacuum, fill the bare table."""
    log("1. seeding through the services, then COPY")
    seeded = city.seed_with_services(app, Corpus(99))
    loader.load(database_url, seeded, args.comments, args.documents, app.config["LIBRARY_TOPICS"], log)
    seeded.notes.append(loader.run_recount(database_url, env))
    log(f"  {seeded.notes[-1]}")
    from . import bare_app

    bare = bare_app.create_app(database_url)
    with bare.app_context():
        bare_app.db.create_all()
    seeded.counts["bare_rows"] = loader.fill_bare_table(database_url)
    seeded.timings["vacuum_s"] = loader.vacuum(database_url)
    log(f"  VACUUM ANALYZE in {seeded.timings['vacuum_s']:.1f} s (after the recount, which rewrites every row)")
    city.save_seeded(database_url, seeded)
    return seeded


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--comments", type=int, default=1_000_000)
    parser.add_argument("--documents", type=int, default=10_000)
    parser.add_argument("--quick", action="store_true", help="shorter runs: 5 s of load, 10 repeats per page")
    parser.add_argument("--keep", action="store_true", help="keep the bench database at the end")
    parser.add_argument("--reuse", metavar="DATABASE", help="bench a database kept by --keep again, without loading")
    args = parser.parse_args(argv)
    args.duration = 5 if args.quick else 20
    args.repeat = 10 if args.quick else 30
    args.page_budget = 20.0 if args.quick else 60.0  # seconds of requests per page before it stops repeating
    args.page_timeout = 600.0
    placements = 40 if args.quick else 200

    def log(text: str) -> None:
        print(text, flush=True)

    started = datetime.now()
    workdir = tempfile.mkdtemp(prefix="bench-scale-")
    if args.reuse:
        name, database_url = args.reuse, f"postgresql://postgres@127.0.0.1:5432/{args.reuse}"
    else:
        name, database_url = loader.create_database()
    log(f"database {name}, work folder {workdir}")
    env = {**os.environ, "BENCH_DATABASE_URL": database_url, "BENCH_WORKDIR": workdir, "SECRET_KEY": SECRET_KEY,
           "REDIS_URL": REDIS_URL}
    servers: list[subprocess.Popen] = []
    data: dict = {"started": started.isoformat(timespec="seconds"), "comments": args.comments,
                  "documents": args.documents, "quick": args.quick, "database": name,
                  "server": "gunicorn " + " ".join(GUNICORN[:6]), "intake_seconds": args.duration}
    try:
        from consultation import create_app

        app = create_app(project_config(database_url, workdir))
        if args.reuse:
            seeded = city.load_seeded(database_url)
            log(f"1. reusing the loaded database {name}")
        else:
            seeded = load_database(app, database_url, env, args, log)
        data["comments"], data["reused"] = seeded.counts["comments"], bool(args.reuse)
        data["load"] = {"counts": seeded.counts, "seconds": seeded.timings["load_s"], "notes": seeded.notes,
                        "vacuum_seconds": seeded.timings["vacuum_s"]}

        servers = [start_server("bench.project_app:app", PROJECT_PORT, env, workdir),
                   start_server("bench.bare_app:app", BARE_PORT, env, workdir)]
        wait_ready(f"http://127.0.0.1:{PROJECT_PORT}/api/v1/departments", servers[0])
        wait_ready(f"http://127.0.0.1:{BARE_PORT}/comments?after=999999999", servers[1])
        log(f"2. intake ({data['server']})")
        data["client"] = "wrk" if intake.wrk_binary() else "asyncio"
        data["intake"] = run_intake(args, seeded, database_url, workdir, log)
        log("3. pages")
        data["pages"], data["bare_pages"], data["page_notes"] = run_pages(args, seeded, database_url, log)
        data["page_notes"] += server_errors(os.path.join(workdir, f"gunicorn-{PROJECT_PORT}.log"))
        data["memory"] = {"project": pages.peak_memory(servers[0].pid), "bare": pages.peak_memory(servers[1].pid)}
        log("5. campaigns.place")
        data["placement"] = measure_placement(app, seeded.big_consultation_id, seeded.big_article_ids, placements)
    finally:
        for server in servers:
            stop_server(server)
        os.makedirs(os.path.join(HERE, "results"), exist_ok=True)
        for port in (PROJECT_PORT, BARE_PORT):  # kept beside the JSON: the tracebacks of pages that failed
            log_path = os.path.join(workdir, f"gunicorn-{port}.log")
            if os.path.exists(log_path):
                shutil.copy(log_path, os.path.join(HERE, "results", started.strftime(f"%Y%m%d-%H%M%S-gunicorn-{port}.log")))
        if args.keep or args.reuse:
            log(f"kept database {name} ({database_url}); bench it again with --reuse {name}")
        else:
            loader.drop_database(name)
        loader.clean_workdir(workdir)
    text = report(data)
    print("\n" + text)
    path = os.path.join(HERE, "results", started.strftime("%Y%m%d-%H%M%S") + ".json")
    with open(path, "w", encoding="utf-8") as fh:
        json.dump(data, fh, ensure_ascii=False, indent=1, default=str)
    print(f"\nwritten to {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
