"""Running the service: ./manage.sh serve with real processes (web server on IPv4 and IPv6, a supervised worker,
the embedded Redis), stopped together on every way out; the production gunicorn settings and systemd units."""
from __future__ import annotations

import configparser
import email
import email.policy
import os
import re
import shutil
import signal
import socket
import stat
import subprocess
import time
from pathlib import Path

import psutil
import pytest
import requests

from consultation.config import finalize, site_url

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = ROOT / ".venv" / "bin"


def has_ipv6_loopback() -> bool:
    try:
        with socket.socket(socket.AF_INET6) as probe:
            probe.bind(("::1", 0))
        return True
    except OSError:
        return False


IPV6 = has_ipv6_loopback()
needs_ipv6 = pytest.mark.skipif(not IPV6, reason="this machine has no IPv6 loopback (::1)")


def free_port() -> int:
    """A port free on 127.0.0.1 and, where there is one, on ::1."""
    while True:
        with socket.socket() as v4:
            v4.bind(("127.0.0.1", 0))
            port = v4.getsockname()[1]
            if not IPV6:
                return port
            with socket.socket(socket.AF_INET6) as v6:
                try:
                    v6.bind(("::1", port))
                    return port
                except OSError:
                    continue


def processes_of(instance: Path) -> list[psutil.Process]:
    """Every process working for this instance folder: named in its command line (the Redis server) or in its
    environment (manage.sh, its supervise loops, gunicorn and its workers, the RQ worker and its children)."""
    found = []
    for process in psutil.process_iter(["cmdline", "environ"]):
        try:
            cmdline = " ".join(process.info["cmdline"] or [])
            environ = process.info["environ"] or {}
        except psutil.Error:
            continue
        if str(instance) in cmdline or environ.get("CONSULTATION_INSTANCE") == str(instance):
            found.append(process)
    return found


def wait_for(condition, timeout: float, what: str, log: Path | None = None):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if result := condition():
            return result
        time.sleep(0.2)
    tail = "\n".join(log.read_text(errors="replace").splitlines()[-40:]) if log else ""
    raise AssertionError(f"{what}: not within {timeout} s\n{tail}")


class Serve:
    """``./manage.sh serve`` in a session of its own on a temporary instance folder, as a user starts it."""

    def __init__(self, tmp_path: Path, **env: str) -> None:
        self.instance = tmp_path / "instance"
        self.log = tmp_path / "serve.log"
        self.port = int(env.pop("PORT", 0)) or free_port()
        environment = {k: v for k, v in os.environ.items()
                       if k not in ("HOST", "PORT", "SITE_URL", "REDIS_URL", "DATABASE_URL", "SECRET_KEY")}
        environment.update({"CONSULTATION_INSTANCE": str(self.instance), "PORT": str(self.port), "SKIP_DEMO": "1",
                            "STOP_SECONDS": "10", **env})
        with open(self.log, "wb") as out:
            self.process = subprocess.Popen([str(ROOT / "manage.sh"), "serve"], cwd=ROOT, env=environment,
                                            stdout=out, stderr=subprocess.STDOUT, start_new_session=True)

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def wait_serving(self) -> None:
        def answers() -> bool:
            assert self.process.poll() is None, f"manage.sh ended early:\n{self.output()[-3000:]}"
            try:
                return requests.get(f"http://127.0.0.1:{self.port}/", timeout=10).status_code == 200
            except requests.RequestException:
                return False
        wait_for(answers, 120, "the site answering on 127.0.0.1", self.log)

    def wait_exit(self, timeout: float = 60) -> int:
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            raise AssertionError(f"manage.sh did not end:\n{self.output()[-3000:]}") from None

    def worker_pids(self) -> set[int]:
        """The RQ worker: the leader of its process group (its scheduler and work horses are its children)."""
        pids = set()
        for p in processes_of(self.instance):
            try:
                if "worker" in (p.info["cmdline"] or []) and os.getpgid(p.pid) == p.pid:
                    pids.add(p.pid)
            except ProcessLookupError:
                pass
        return pids

    def cleanup(self) -> None:
        """Whatever a failed test left behind: these processes are ours (the instance folder is unique)."""
        for process in processes_of(self.instance):
            try:
                process.kill()
            except psutil.Error:
                pass


@pytest.fixture
def serve(tmp_path):
    started: list[Serve] = []

    def start(**env: str) -> Serve:
        started.append(Serve(tmp_path, **env))
        return started[-1]

    yield start
    for s in started:
        s.cleanup()


def subscribe(base: str, address: str) -> None:
    """Ask for the subscription mail through the public form, as a browser does."""
    session = requests.Session()
    page = session.get(f"{base}/subscribe", timeout=10)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page.text).group(1)
    answer = session.post(f"{base}/subscribe", data={"csrf_token": token, "email": address, "department": "0"},
                          timeout=10)
    assert answer.status_code == 200, answer.text[-2000:]


def mail_to(instance: Path, address: str) -> email.message.EmailMessage | None:
    for path in sorted((instance / "mail").glob("*.eml")):
        message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        if message["To"] == address:
            return message
    return None


# --- SITE_URL ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("host, port, expected", [
    ("", "", "http://127.0.0.1:5000"),
    ("", "5101", "http://127.0.0.1:5101"),
    ("127.0.0.1 ::1", "5101", "http://127.0.0.1:5101"),
    ("::1", "5000", "http://[::1]:5000"),
    ("[::1]", "5000", "http://[::1]:5000"),
    ("::1,127.0.0.1", "8080", "http://[::1]:8080"),
    ("::", "5000", f"http://{socket.gethostname()}:5000"),
    ("0.0.0.0", "5000", f"http://{socket.gethostname()}:5000"),
])
def test_the_links_in_mails_follow_host_and_port_by_default(host, port, expected):
    assert site_url(host, port) == expected


def test_a_site_url_set_wins_over_host_and_port(monkeypatch, tmp_path):
    monkeypatch.setenv("PORT", "5101")
    monkeypatch.delenv("HOST", raising=False)
    monkeypatch.delenv("SITE_URL", raising=False)
    derived = {"SECRET_KEY": "x"}
    finalize(derived, str(tmp_path))
    assert derived["SITE_URL"] == "http://127.0.0.1:5101"
    configured = {"SECRET_KEY": "x", "SITE_URL": "https://zqyj.huacheng.gov.cn"}
    finalize(configured, str(tmp_path))
    assert configured["SITE_URL"] == "https://zqyj.huacheng.gov.cn"


# --- ./manage.sh serve --------------------------------------------------------------------------------------

def test_serve_answers_on_ipv4_and_ipv6_mails_links_to_its_port_restarts_a_dead_worker_and_stops_everything(
        serve):
    s = serve()
    s.wait_serving()
    base = f"http://127.0.0.1:{s.port}"
    if IPV6:
        assert requests.get(f"http://[::1]:{s.port}/", timeout=5).status_code == 200

    # The worker sends the mail; its link carries the port the server was started on.
    subscribe(base, "first@example.com")
    message = wait_for(lambda: mail_to(s.instance, "first@example.com"), 60, "the first mail", s.log)
    assert f"{base}/subscribe/confirm/" in message.get_content()

    # A worker killed outright is started again, and the new one does the work.
    [worker] = wait_for(s.worker_pids, 30, "one worker", s.log)
    os.kill(worker, signal.SIGKILL)
    [restarted] = wait_for(lambda: s.worker_pids() - {worker}, 30, "a new worker", s.log)
    assert re.search(r"The worker stopped \(status 137\): starting it again", s.output())
    subscribe(base, "second@example.com")
    wait_for(lambda: mail_to(s.instance, "second@example.com"), 60, "the mail after the restart", s.log)
    assert psutil.pid_exists(restarted)

    # Ctrl-C (SIGINT to the terminal's foreground group) stops web, worker and Redis; Redis saves as it stops.
    os.killpg(s.process.pid, signal.SIGINT)
    s.wait_exit()
    assert processes_of(s.instance) == []
    assert "unbound variable" not in s.output()
    dump = s.instance / "redis.rdb"
    assert dump.exists() and not stat.S_IMODE(dump.stat().st_mode) & 0o077
    assert [p.name for p in s.instance.rglob("*") if stat.S_IMODE(p.lstat().st_mode) & 0o077] == []


def test_serve_stops_worker_and_redis_when_the_port_is_taken(serve):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        s = serve(PORT=str(taken.getsockname()[1]), HOST="127.0.0.1")
        status = s.wait_exit(120)
    assert status != 0
    assert "The web server stopped" in s.output()
    assert processes_of(s.instance) == []
    assert "unbound variable" not in s.output()


def test_serve_stopped_by_term_leaves_nothing_running(serve):
    s = serve()
    s.wait_serving()
    wait_for(s.worker_pids, 30, "the worker", s.log)
    s.process.terminate()
    assert s.wait_exit() == 143
    assert processes_of(s.instance) == []
    assert "unbound variable" not in s.output()


def test_serve_stopped_during_a_job_leaves_no_work_horse_behind(serve):
    """RQ moves its work horse to a process group of its own: the stop must still reach it."""
    with socket.socket() as silent:  # an SMTP server that accepts and never greets: the mail job hangs
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        s = serve(MAIL_SERVER="127.0.0.1", MAIL_PORT=str(silent.getsockname()[1]), STOP_SECONDS="3")
        s.wait_serving()
        subscribe(f"http://127.0.0.1:{s.port}", "waiting@example.com")

        def horse() -> list[psutil.Process]:
            workers = s.worker_pids()
            return [p for p in processes_of(s.instance) if p.pid not in workers and "worker" in
                    " ".join(p.info["cmdline"] or []) and os.getpgid(p.pid) == p.pid] if workers else []
        wait_for(horse, 60, "a work horse with the mail job", s.log)
        s.process.terminate()
        assert s.wait_exit() == 143
    assert processes_of(s.instance) == []
    assert "did not stop in 3 s: killing" in s.output()


# --- production: gunicorn settings and systemd units ---------------------------------------------------------

@needs_ipv6
def test_the_production_gunicorn_settings_listen_on_ipv4_and_ipv6(tmp_path):
    """deploy/gunicorn.conf.py with its default addresses, on a free port: the real gunicorn, both families."""
    port = free_port()
    conf = (ROOT / "deploy" / "gunicorn.conf.py").read_text()
    assert 'CONSULTATION_BIND", "127.0.0.1:5000 [::1]:5000"' in conf  # the default, tried below on a free port
    env = {**os.environ, "CONSULTATION_INSTANCE": str(tmp_path / "instance"),
           "CONSULTATION_BIND": f"127.0.0.1:{port} [::1]:{port}", "WEB_CONCURRENCY": "1"}
    log = tmp_path / "gunicorn.log"
    with open(log, "wb") as out:
        server = subprocess.Popen([str(VENV_BIN / "gunicorn"), "--config", "deploy/gunicorn.conf.py", "app:app"],
                                  cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        def answers(host: str) -> bool:
            try:
                # A page that needs no database: this one is not migrated.
                return requests.get(f"http://{host}:{port}/static/site.css", timeout=10).status_code == 200
            except requests.RequestException:
                assert server.poll() is None, log.read_text()
                return False
        wait_for(lambda: answers("127.0.0.1"), 60, "gunicorn on 127.0.0.1", log)
        assert answers("[::1]")
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(30)


UNITS = ROOT / "deploy" / "systemd"
HARDENING = {"NoNewPrivileges": "yes", "ProtectSystem": "strict", "PrivateTmp": "yes", "ProtectHome": "yes",
             "UMask": "0077", "ReadWritePaths": "/var/lib/consultation", "Restart": "always"}


def unit(name: str) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(interpolation=None, strict=False)
    parser.optionxform = str
    parser.read(UNITS / name)
    return parser


@pytest.mark.parametrize("name", ["consultation-web.service", "consultation-worker@.service"])
def test_each_unit_restarts_its_process_runs_it_owner_only_and_hardened(name):
    service = unit(name)
    assert {key: service["Service"].get(key) for key in HARDENING} == HARDENING
    assert int(service["Service"]["RestartSec"]) > 0
    assert int(service["Unit"]["StartLimitIntervalSec"]) > 0 and int(service["Unit"]["StartLimitBurst"]) > 1
    assert service["Service"]["User"] == "consultation"
    assert service["Service"]["EnvironmentFile"] == "/etc/consultation/consultation.env"
    assert service["Unit"]["PartOf"] == "consultation.target"
    command = service["Service"]["ExecStart"].split()
    assert command[0].startswith("/opt/consultation/.venv/bin/")
    assert (VENV_BIN / Path(command[0]).name).exists()  # the same program in this checkout's virtualenv
    if name.startswith("consultation-web"):
        assert command[1:] == ["--config", "/opt/consultation/deploy/gunicorn.conf.py", "app:app"]
    else:
        assert command[1:] == ["--app", "app", "worker"]


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze is not installed")
def test_systemd_accepts_the_units(tmp_path):
    """systemd's own check, on copies pointing at this checkout (it checks that the programs exist)."""
    for source in UNITS.iterdir():
        (tmp_path / source.name).write_text(source.read_text().replace("/opt/consultation", str(ROOT)))
    shutil.copy(tmp_path / "consultation-worker@.service", tmp_path / "consultation-worker@1.service")
    result = subprocess.run(["systemd-analyze", "verify", "--man=no", "consultation-web.service",
                             "consultation-worker@1.service", "consultation.target"],
                            cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0 and result.stderr == "" and result.stdout == "", result.stderr + result.stdout
