"""Page timings over HTTP: each page requested repeatedly, time to the last byte, bytes, status codes.

A page that fails or 404s is reported as such; a page slower than the time budget is requested fewer
times (at least once), and one slower than the request timeout is reported as a timeout.
"""
from __future__ import annotations

import html
import re
import time
from collections import Counter
from dataclasses import dataclass, field

import psutil
import requests

KEEP_BODY = 20 * 1024 * 1024  # bodies larger than this are counted, not kept


@dataclass
class PageResult:
    page: str
    url: str
    samples_ms: list[float] = field(default_factory=list)
    max_bytes: int = 0
    statuses: Counter = field(default_factory=Counter)
    last_body: bytes | None = None

    def percentile(self, share: float) -> float | None:
        if not self.samples_ms:
            return None
        ordered = sorted(self.samples_ms)
        return ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))]

    def summary(self) -> dict:
        return {"page": self.page, "url": self.url, "n": len(self.samples_ms), "p50_ms": self.percentile(0.5),
                "p95_ms": self.percentile(0.95), "max_ms": max(self.samples_ms, default=None),
                "max_bytes": self.max_bytes, "statuses": dict(self.statuses)}


def fetch(session: requests.Session, url: str, timeout: float) -> tuple[str, float, int, bytes | None]:
    """One request read to its last byte: (status, seconds, bytes, body if small)."""
    started = time.perf_counter()
    try:
        with session.get(url, stream=True, timeout=timeout, allow_redirects=False) as response:
            size, parts = 0, []
            for chunk in response.iter_content(65536):
                size += len(chunk)
                if size <= KEEP_BODY:
                    parts.append(chunk)
                if time.perf_counter() - started > timeout:
                    return "timeout", time.perf_counter() - started, size, None
            return (str(response.status_code), time.perf_counter() - started, size,
                    b"".join(parts) if size <= KEEP_BODY else None)
    except requests.Timeout:
        return "timeout", time.perf_counter() - started, 0, None
    except requests.RequestException as exc:
        return f"error:{type(exc).__name__}", time.perf_counter() - started, 0, None


def measure(session: requests.Session, base: str, page: str, path: str, repeat: int, budget: float,
            timeout: float, log=print) -> PageResult:
    result = PageResult(page, path)
    spent = 0.0
    for _ in range(repeat):
        status, seconds, size, body = fetch(session, base + path, timeout)
        result.statuses[status] += 1
        result.max_bytes = max(result.max_bytes, size)
        if status[0] in "23":
            result.samples_ms.append(seconds * 1000)
        if body is not None:
            result.last_body = body
        spent += seconds
        if spent > budget or status == "timeout" or status.startswith("error"):
            break
    p50 = result.percentile(0.5)
    log(f"    {page:<34} n={len(result.samples_ms):<3} p50 {p50 if p50 is not None else float('nan'):9.1f} ms  "
        f"{result.max_bytes:>12,} B  {dict(result.statuses)}")
    return result


NEXT_LINK = re.compile(rb'<a\b[^>]*\brel="next"[^>]*>|<a\b[^>]*href="[^"]*[?&](?:after|cursor)=[^"]*"[^>]*>')
HREF = re.compile(rb'href="([^"]+)"')


def next_link(body: bytes | None, current: str) -> str | None:
    """The ``next`` link of a keyset-paged HTML list, if the page has one."""
    if not body:
        return None
    for tag in NEXT_LINK.finditer(body):
        if href := HREF.search(tag.group(0)):
            target = html.unescape(href.group(1).decode())
            if target.startswith("?"):
                return current.split("?")[0] + target
            if target.startswith("/"):
                return target
            if target.startswith("http"):
                return "/" + target.split("/", 3)[3]
    return None


def next_cursor(body: bytes | None, current: str) -> str | None:
    """The next page of a JSON list: a ``next`` URL, or a cursor to pass as ``after``."""
    import json

    try:
        data = json.loads(body or b"")
    except ValueError:
        return None
    if not isinstance(data, dict):
        return None
    links = data.get("links")
    target = data.get("next") or (links.get("next") if isinstance(links, dict) else None)
    if isinstance(target, str) and target:
        if target.startswith("http"):
            return "/" + target.split("/", 3)[3]
        if target.startswith("/"):
            return target
        return f"{current}{'&' if '?' in current else '?'}after={target}"
    if isinstance(target, int):
        return f"{current}{'&' if '?' in current else '?'}after={target}"
    return None


CSRF = re.compile(rb'name="csrf_token" type="hidden" value="([^"]+)"|name="csrf_token" value="([^"]+)"')


def login(base: str, username: str, password: str) -> tuple[requests.Session, str]:
    """Sign in through the login form with its CSRF token; return the session and what happened."""
    session = requests.Session()
    page = session.get(base + "/auth/login", timeout=60)
    match = CSRF.search(page.content)
    if not match:
        return session, f"no csrf_token on /auth/login ({page.status_code})"
    token = (match.group(1) or match.group(2)).decode()
    answer = session.post(base + "/auth/login", data={"username": username, "password": password,
                                                      "csrf_token": token}, allow_redirects=False, timeout=60)
    return session, f"login as {username}: {answer.status_code}"


def peak_memory(master_pid: int) -> dict[str, int]:
    """VmHWM (peak resident set) in kB of a gunicorn master and each of its workers."""
    found = {}
    try:
        master = psutil.Process(master_pid)
    except psutil.NoSuchProcess:
        return found
    for process in [master] + master.children(recursive=True):
        try:
            with open(f"/proc/{process.pid}/status") as fh:
                for line in fh:
                    if line.startswith("VmHWM:"):
                        found[f"{'master' if process.pid == master_pid else 'worker'} {process.pid}"] = int(
                            line.split()[1])
        except OSError:
            continue
    return found
