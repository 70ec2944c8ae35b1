"""Browser fixtures: Debian's Chromium driven by Playwright (pytest-playwright) against the real app on a
localhost port, with a real `flask worker` process on the same database and Redis.

Every test that takes ``page`` runs twice: on a desktop window and on a 360x740 phone. Screenshots go to
the folder named by ``--screenshots`` (``./manage.sh screenshots`` points it at the README's folder), or to
the test's temporary folder.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from flask import Flask
from werkzeug.serving import make_server

from consultation.demo import seed
from consultation.extensions import db
from consultation.models import BackgroundJob
from consultation.services import jobs

from ..conftest import PASSWORD, ROOT

HERE = Path(__file__).resolve().parent
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
AXE = HERE / "node_modules" / "axe-core" / "axe.min.js"

VIEWPORTS = {
    "desktop": {"viewport": {"width": 1280, "height": 800}},
    "phone": {"viewport": {"width": 360, "height": 740}, "is_mobile": True, "has_touch": True,
              "device_scale_factor": 2},
}


def pytest_addoption(parser):
    parser.addoption("--screenshots", metavar="DIR", default=None,
                     help="save the browser tests' screenshots in DIR (default: a temporary folder)")


def pytest_collection_modifyitems(items):
    for item in items:
        if HERE in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.browser)


# --- the browser ------------------------------------------------------------------------------------

@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(f"Chromium is missing at {CHROMIUM}: install Debian's chromium package "
                    "(./manage.sh test does) or set CHROMIUM to a Chromium executable.")
    # As root there is no sandbox; the network flags keep Chromium from calling home on a closed network.
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": [
        "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage",
    ]}


@pytest.fixture(scope="session")
def browser(launch_browser):
    """Playwright's browser (the suite's own ``browser`` fixture is the Flask test client)."""
    launched = launch_browser()
    yield launched
    launched.close()


@pytest.fixture(params=list(VIEWPORTS))
def viewport(request) -> str:
    return request.param


@pytest.fixture
def browser_context_args(browser_context_args, viewport):
    return {**browser_context_args, **VIEWPORTS[viewport], "locale": "zh-CN", "timezone_id": "Asia/Shanghai",
            "accept_downloads": True}


@pytest.fixture(autouse=True)
def _short_timeouts(request):
    if "page" in request.fixturenames:
        page = request.getfixturevalue("page")
        page.set_default_timeout(15_000)  # a journey step that waits longer than this is broken


# --- the service under test ---------------------------------------------------------------------------

@pytest.fixture(scope="session")
def base_url(app: Flask) -> str:
    """The app served over HTTP on a free localhost port, for the whole session."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="browser-live-server", daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=10)
    server.server_close()


@pytest.fixture(scope="package")
def worker(app: Flask, tmp_path_factory):
    """One real `flask worker` process (RQ worker, scheduler, outbox sweeper) for the browser tests; it stops
    after them, so that it takes no job from the tests that run their own worker (tests/test_mail.py …)."""
    config = {k: v for k, v in app.config.items() if k in (
        "TESTING", "SECRET_KEY", "SQLALCHEMY_DATABASE_URI", "SQLALCHEMY_ENGINE_OPTIONS", "REDIS_URL",
        "EMBEDDED_REDIS_FILE", "PDF_DIR", "MAIL_DIR", "RQ_QUEUE_PREFIX", "PASSWORD_HASH_METHOD")}
    config.update(WORKER_SWEEP_SECONDS=1, JOB_HEARTBEAT_SECONDS=1)
    log_path = tmp_path_factory.mktemp("worker") / "worker.log"
    with open(log_path, "w") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "tests.worker_process"], cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
            env={**os.environ, "CONSULTATION_TEST_CONFIG": json.dumps(config)},
        )
    yield log_path
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()


@pytest.fixture
def demo(app: Flask, worker) -> dict:
    """The demo city (华城市): accounts with PASSWORD, and documents at every stage; its jobs queued."""
    seed(PASSWORD)
    db.session.commit()
    jobs.dispatch_committed()
    return {"password": PASSWORD}


def wait_for_jobs(kind: str | None = None, timeout: float = 60) -> list[BackgroundJob]:
    """Wait until the worker has finished every job (of a kind); fail with the errors if one failed."""
    deadline = time.monotonic() + timeout
    while True:
        db.session.rollback()  # a fresh snapshot of what the worker wrote
        query = db.select(BackgroundJob)
        if kind:
            query = query.where(BackgroundJob.kind == kind)
        found = db.session.scalars(query).all()
        failed = [f"{j.kind} #{j.id}: {j.error}" for j in found if j.state == "failed"]
        assert not failed, failed
        if found and all(j.state == "done" for j in found):
            return found
        if time.monotonic() > deadline:
            raise AssertionError(f"jobs not done after {timeout} s: {[(j.kind, j.state) for j in found]}")
        time.sleep(0.3)


# --- screenshots --------------------------------------------------------------------------------------

@pytest.fixture(scope="session")
def screenshot_dir(pytestconfig, tmp_path_factory) -> Path:
    chosen = pytestconfig.getoption("--screenshots")
    folder = Path(chosen).resolve() if chosen else tmp_path_factory.mktemp("screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture
def shoot(screenshot_dir: Path, viewport: str):
    """Save a screenshot as <name>.png (desktop: the whole page) or <name>-phone.png (what the phone's screen
    shows at that moment, as its user sees it); return its path."""
    def take(page, name: str) -> Path:
        suffix = "" if viewport == "desktop" else f"-{viewport}"
        path = screenshot_dir / f"{name}{suffix}.png"
        page.screenshot(path=str(path), full_page=viewport == "desktop", animations="disabled")
        assert path.stat().st_size > 1000
        return path
    return take


# --- accessibility --------------------------------------------------------------------------------------

@pytest.fixture(scope="session")
def axe_source() -> str:
    if not AXE.exists():
        pytest.fail(f"axe-core is missing ({AXE}): run `npm ci --prefix tests/browser` (./manage.sh test does).")
    return AXE.read_text()


@pytest.fixture
def axe(axe_source: str):
    """Run axe-core in the page (WCAG 2.1 A/AA rules and best practices); return serious/critical violations."""
    def check(page) -> list[dict]:
        if not page.evaluate("() => typeof window.axe !== 'undefined'"):
            page.evaluate(axe_source)  # evaluated by the DevTools protocol: the page's CSP does not apply
        result = page.evaluate("""async () => {
            const r = await axe.run(document, {resultTypes: ['violations']});
            return r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
                nodes: v.nodes.map(n => n.target.join(' ') + ' :: ' + n.failureSummary).slice(0, 5)}));
        }""")
        return [v for v in result if v["impact"] in ("serious", "critical")]
    return check


def assert_accessible(axe, page) -> None:
    bad = axe(page)
    assert not bad, f"{page.url}: " + json.dumps(bad, ensure_ascii=False, indent=1)


def pdf_page_png(pdf: Path, png: Path, *, dpi: int = 70) -> Path:
    """Render the first page of a PDF to PNG with poppler's pdftoppm (for the README)."""
    tool = shutil.which("pdftoppm")
    assert tool, "pdftoppm (Debian's poppler-utils) is missing"
    subprocess.run([tool, "-png", "-r", str(dpi), "-f", "1", "-l", "1", "-singlefile", str(pdf),
                    str(png.with_suffix(""))], check=True)
    return png
