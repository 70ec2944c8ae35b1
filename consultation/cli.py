"""``flask`` commands: demo data, the worker, the audit check, the workflow check."""
from __future__ import annotations

import logging
import os
import sys
import threading
import time

import click
from flask import Flask, current_app

from .extensions import db


def init_app(app: Flask) -> None:
    app.cli.add_command(demo_command)
    app.cli.add_command(worker_command)
    app.cli.add_command(audit_group)
    app.cli.add_command(workflows_group)
    app.cli.add_command(calendar_group)
    app.cli.add_command(comments_group)
    from .search_cli import search_group

    app.cli.add_command(search_group)
    from .accounts_cli import accounts_group

    app.cli.add_command(accounts_group)


@click.command("demo")
@click.option("--password", default="demo1234", show_default=True, help="Password of every demo account.")
def demo_command(password: str) -> None:
    """Create the demo city with one account per role (safe to run again)."""
    from .demo import seed

    created = seed(password)
    db.session.commit()
    from .services import jobs

    jobs.dispatch_committed()
    click.echo(f"Demo data ready ({created}). Accounts use the password '{password}'.")


@click.command("worker")
@click.option("--burst", is_flag=True, help="Stop when the queues are empty.")
def worker_command(burst: bool) -> None:
    """Run an RQ worker with the app context and the outbox sweeper (embedded Redis when REDIS_URL is unset).

    The worker outlives Redis: when Redis goes away, or is away when it starts, it waits with back-off and
    works again once Redis is back, and its sweeper queues again whatever Redis lost. SIGTERM or SIGINT stop
    it after the job at hand (a second one at once).
    """
    from rq import Worker

    from . import queue
    from .services import jobs

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    app = current_app._get_current_object()
    if burst:  # tests and one-off runs: empty the outbox, work until the queues are empty, stop
        sent, lost, recovered = jobs.sweep()
        if sent or lost or recovered:
            click.echo(f"Enqueued {sent} job(s) from the outbox, {lost} lost by Redis, {recovered} of a dead worker.")
        db.session.remove()
        db.engine.dispose()
        Worker(queue.all_queues(), connection=queue.connection()).work(burst=True)
        return
    db.session.remove()
    db.engine.dispose()
    _start_sweeper(app)
    _work_through_outages(app)


def _work_through_outages(app: Flask) -> None:
    """Run RQ workers one after another until a stop is asked for.

    RQ's loop survives a Redis outage only while it waits for a job; a heartbeat, a registry clean-up or a
    death notice that meets a closed connection ends it. Each end that no signal asked for is followed by a
    wait for Redis, with back-off (1 s doubling to WORKER_RECONNECT_MAX_SECONDS), and a new worker. RQ's
    own scheduler is not started: nothing is scheduled in Redis (a Redis that comes back empty would lose
    it); retries are due from the job's row and the sweeper queues them.
    """
    import signal

    from redis.exceptions import RedisError
    from rq import Worker

    from . import queue

    log = logging.getLogger("consultation.worker")
    longest = float(app.config["WORKER_RECONNECT_MAX_SECONDS"])
    delay = 1.0
    while True:
        started, worker = time.monotonic(), None
        try:
            worker = Worker(queue.all_queues(app), connection=queue.connection(app))
            worker.work()
        except RedisError as exc:  # its start or its death notice met a Redis that is away
            log.warning("worker interrupted: Redis unavailable (%s)", exc)
        except Exception:  # noqa: BLE001 - whatever ended it, a new worker takes over after the pause
            log.exception("worker interrupted by an unexpected error")
        stopping = threading.Event()
        for signum in (signal.SIGTERM, signal.SIGINT):  # RQ's handlers belong to the worker that ended
            signal.signal(signum, lambda *_, stop=stopping: stop.set())
        if worker is not None and worker.horse_pid:
            _wait_for_work_horse(worker.horse_pid, log)  # its job ends on its own, as in a warm shutdown
        if worker is not None and worker._shutdown_requested_date is not None:
            return  # stopped by a signal
        if time.monotonic() - started > 60:
            delay = 1.0  # it had worked for a while: this is a new outage
        while True:
            log.info("waiting %.0f s for Redis", delay)
            if stopping.wait(delay):
                return
            delay = min(delay * 2, longest)
            try:
                queue.connection(app).ping()
                break
            except RedisError as exc:
                log.warning("Redis still unavailable: %s", exc)
        if stopping.is_set():  # asked to stop as Redis came back
            return
        log.info("Redis is back: starting a new worker")


def _wait_for_work_horse(pid: int, log: logging.Logger) -> None:
    log.info("waiting for the work-horse %d to finish its job", pid)
    try:
        os.waitpid(pid, 0)
    except ChildProcessError:
        pass


# RQ forks a work-horse for every job. A fork taken while the sweeper thread
# is inside the database driver copies the driver's internal locks (SQLite's memory mutex, seen here) into the
# child locked, with no thread left to release them: the job then waits for ever. So the sweeper works while
# holding SWEEPING, and every fork of the worker process takes SWEEPING first.
SWEEPING = threading.Lock()
_forks_guarded = False


def guard_forks() -> None:
    """Make every later fork of this process wait until the sweeper is out of the database (once)."""
    global _forks_guarded
    if not _forks_guarded:
        os.register_at_fork(before=SWEEPING.acquire, after_in_parent=SWEEPING.release,
                            after_in_child=SWEEPING.release)
        _forks_guarded = True


def _start_sweeper(app: Flask) -> threading.Thread:
    """At once, then every WORKER_SWEEP_SECONDS: jobs.sweep (the outbox and the retries due, the jobs Redis
    lost, those of workers that died). Several workers may sweep; the rows make it safe."""
    from .services import jobs

    guard_forks()

    def sweep_forever() -> None:
        from .errors import is_outage

        log = logging.getLogger("consultation.sweeper")
        while True:
            try:
                with SWEEPING, app.app_context():
                    try:
                        sent, lost, recovered = jobs.sweep()
                        if sent or lost or recovered:
                            log.info("sweep: %d job(s) from the outbox, %d lost by Redis, %d of a dead worker",
                                     sent, lost, recovered)
                    finally:
                        db.session.remove()
            except Exception as exc:  # noqa: BLE001 - the database or Redis away: try again at the next sweep
                if is_outage(exc):
                    log.warning("sweep postponed, the database or Redis is away: %s", exc)
                else:
                    log.exception("sweep failed")
            time.sleep(app.config["WORKER_SWEEP_SECONDS"])

    thread = threading.Thread(target=sweep_forever, name="outbox-sweeper", daemon=True)
    thread.start()
    return thread


@click.group("audit")
def audit_group() -> None:
    """The tamper-evident audit trail."""


@audit_group.command("verify")
@click.option("--against", "copy_file", type=click.Path(exists=True, dir_okay=False),
              help="A copy of the checkpoints kept elsewhere (saved from /api/v1/audit/checkpoints): each must "
                   "be in the database, unchanged.")
def audit_verify(copy_file: str | None) -> None:
    """Walk the hash chain and check every signed checkpoint against it; name the first fault."""
    from .audit import verify_chain

    copies = _checkpoint_copies(copy_file) if copy_file else []
    report = verify_chain(copies)
    if not report.intact:
        if report.checkpoint is None:
            click.echo(f"Audit trail BROKEN at entry {report.first_broken_id}: {report.problem} (the "
                       f"{report.checked} entries before it are intact).", err=True)
        else:  # the change may lie anywhere after the last checkpoint that still matches
            vouched = (f"the entries up to checkpoint {report.checkpoint - 1} match their signatures"
                       if report.checkpoint > 1 else "no earlier checkpoint vouches for any entry")
            click.echo(f"Audit trail BROKEN: {report.problem} (an entry was changed, removed or recomputed "
                       f"after the previous checkpoint; {vouched}).", err=True)
        sys.exit(1)
    click.echo(f"Audit trail intact: {report.checked} entries checked, {report.checkpoints} signed checkpoint(s) "
               f"match{f' and all {len(copies)} of the copy' if copy_file else ''}.")
    last = report.last_checkpoint
    if last is None:
        click.echo("No signed checkpoint yet: until one is taken (flask audit checkpoint), the removal of the newest "
                   "entries, or an edit with every later hash recomputed, cannot be detected.")
    else:
        click.echo(f"The latest, No. {last.seq} of {last.signed_fields()['created_at']}, covers {last.event_count} "
                   f"entries; {report.uncovered} newer entries are covered by no checkpoint yet.")


def _checkpoint_copies(path: str) -> list:
    """Read a copy of checkpoints: API pages ({"items": [...]}), a list, or single checkpoints, one JSON document
    or one per line."""
    import json

    from .audit import Checkpoint

    with open(path, encoding="utf-8") as fh:
        raw = fh.read()
    try:
        documents = [json.loads(raw)]
    except ValueError:
        try:
            documents = [json.loads(line) for line in raw.splitlines() if line.strip()]
        except ValueError as exc:
            raise click.BadParameter(f"{path} is not JSON: {exc}", param_hint="--against") from None
    items = []
    for document in documents:
        found = document.get("items", [document]) if isinstance(document, dict) else document
        items += found if isinstance(found, list) else [found]
    try:
        return [Checkpoint.from_public(item) for item in items]
    except ValueError as exc:
        raise click.BadParameter(f"{path} does not hold checkpoints as the API gives them ({exc})",
                                 param_hint="--against") from None


@audit_group.command("checkpoint")
def audit_checkpoint() -> None:
    """Sign the chain's head now (the worker does it daily and each publication does it)."""
    from .audit import MANUAL, ChainBroken, checkpoint, latest_checkpoint

    try:
        taken = checkpoint(MANUAL)
    except ChainBroken as exc:
        click.echo(f"No checkpoint taken: {exc}", err=True)
        sys.exit(1)
    db.session.commit()
    if taken is None:
        last = latest_checkpoint()
        click.echo(f"Nothing recorded since checkpoint No. {last.seq}." if last else "The audit trail is empty.")
        return
    click.echo(f"Checkpoint No. {taken.seq} signed with key {taken.key_id}: entry {taken.head_event_id} "
               f"(hash {taken.head_hash}) heads {taken.event_count} entries.")


@audit_group.command("rotate-key")
def audit_rotate_key() -> None:
    """Sign the head with the current key, retire it (its public half stays trusted) and sign with a new one."""
    from . import audit, audit_keys

    try:
        audit.checkpoint(audit.KEY_ROTATION)
    except audit.ChainBroken as exc:
        click.echo(f"The key was not rotated: {exc}", err=True)
        sys.exit(1)
    db.session.commit()
    old, new = audit_keys.rotate()
    audit.record("rotate_audit_key", actor=None, payload={"old_key_id": old, "new_key_id": new})
    taken = audit.checkpoint(audit.KEY_ROTATION)
    db.session.commit()
    click.echo(f"Key {old} retired (its public key stays in {audit_keys.retired_dir()}); key {new} signs from now "
               f"on (checkpoint No. {taken.seq}). Copy {audit_keys.key_file()} to every web and worker machine, "
               "and back it up.")


@click.group("workflows")
def workflows_group() -> None:
    """The procedure files in workflows/."""


@workflows_group.command("check")
def workflows_check() -> None:
    """Load and validate every procedure file (start-up already refuses a broken one)."""
    for procedure in current_app.extensions["procedures"].values():
        click.echo(f"{procedure.source.name}: {procedure.id}: {len(procedure.stages)} stages, "
                   f"{len(procedure.transitions)} transitions: OK")


@click.group("calendar")
def calendar_group() -> None:
    """The working-day calendar: statutory holidays and make-up working days (调休)."""


@calendar_group.command("load")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
def calendar_load(path: str) -> None:
    """Load one year's official schedule from a file (see consultation/holiday_calendar.py)."""
    from pathlib import Path

    from .errors import InvalidInput
    from .holiday_calendar import decode, load_year

    try:
        year, days = load_year(decode(Path(path).read_bytes()), None, source=Path(path).name)
    except InvalidInput as exc:
        db.session.rollback()
        raise click.ClickException(exc.message) from None
    db.session.commit()
    click.echo(f"Loaded {year}: {days} special days; the year now counts as officially known.")


@calendar_group.command("show")
@click.argument("year", type=click.IntRange(1900, 2200))
def calendar_show(year: int) -> None:
    """List a year's holidays and make-up working days, and where the data comes from."""
    from datetime import date

    from . import working_days
    from .holiday_calendar import special_days

    source = working_days.current().source(year)
    explained = {"package": "official schedule from the chinesecalendar package",
                 "loaded": "official schedule loaded by an administrator",
                 "estimated": "no official schedule: weekends only are counted (dates are estimated)"}
    days = special_days(year)
    click.echo(f"{year}: {explained[source]}")
    click.echo(f"{working_days.working_days_between(date(year - 1, 12, 31), date(year, 12, 31))} working days, "
               f"{sum(not d.working and d.day.weekday() < 5 for d in days)} holidays on weekdays, "
               f"{sum(d.working for d in days)} make-up working days")
    for day in days:
        mark = " (corrected)" if day.corrected else ""
        click.echo(f"{day.day.isoformat()} {day.day.strftime('%a')} {'workday' if day.working else 'holiday'} "
                   f"{day.name}{mark}".rstrip())


@calendar_group.command("export")
@click.argument("year", type=click.IntRange(1900, 2200))
def calendar_export(year: int) -> None:
    """Print a year in the file format, to correct it and load it again."""
    from .holiday_calendar import export_year

    click.echo(export_year(year), nl=False)


@click.group("comments")
def comments_group() -> None:
    """Counters and sealing of the comments."""


@comments_group.command("recount")
def comments_recount() -> None:
    """Rebuild the comment counters, group sizes and list flags from the rows (after a bulk load)."""
    from .recount import recount_all

    with db.engine.begin() as conn:
        recount_all(conn)
    click.echo("Comment counters, group sizes and list flags rebuilt from the rows.")


@comments_group.command("take-in")
def comments_take_in() -> None:
    """Place the comments received in their campaign groups and seal them into the audit chain (the worker
    does this every few seconds)."""
    from .services.intake import take_in_all

    click.echo(f"{take_in_all()} comment(s) taken in: grouped and sealed into the audit chain.")
