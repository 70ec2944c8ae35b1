"""Intake under load: the same client posts distinct comments to the project and to the bare app.

The client is wrk with ``bench/wrk_comments.lua`` (installed with apt-get when missing), or, where wrk
cannot be had, a small asyncio HTTP/1.1 client with keep-alive. Every 201's receipt number is recorded so
that the database can be asked for each one afterwards.
"""
from __future__ import annotations

import asyncio
import glob
import json
import os
import random
import shutil
import statistics
import subprocess
import time
from dataclasses import asdict, dataclass

import psycopg

from .corpus import Corpus

HERE = os.path.dirname(os.path.abspath(__file__))
CAMPAIGN_SHARE = 1 / 3  # of the posted comments, copies of a few texts (as a campaign sends them)


@dataclass
class LoadResult:
    target: str
    connections: int
    requests: int
    seconds: float
    rps: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    errors: int
    acknowledged: int
    missing: int | None = None


def wrk_binary() -> str | None:
    """wrk, installed from the distribution if missing (this is a Debian machine); None if it cannot be."""
    found = shutil.which("wrk")
    if found or os.geteuid() != 0 or not shutil.which("apt-get"):
        return found
    subprocess.run(["apt-get", "install", "-y", "wrk"], capture_output=True)
    return shutil.which("wrk")


def write_bodies(path: str, count: int, article_ids: list[int], seed: int) -> None:
    """One JSON comment per line: mostly distinct texts, a third copies of a dozen campaign texts."""
    corpus = Corpus(seed)
    rng = random.Random(seed)
    campaigns = [(corpus.text(), rng.choice(article_ids + [None])) for _ in range(12)]
    with open(path, "w", encoding="utf-8") as fh:
        for _ in range(count):
            if rng.random() < CAMPAIGN_SHARE:
                text, article = rng.choice(campaigns)
                body = corpus.copy_of(text)
            else:
                body, article = corpus.text(), rng.choice(article_ids + [None])
            fh.write(json.dumps({"body": body, "article_id": article}, ensure_ascii=False) + "\n")


def run_wrk(wrk: str, url: str, bodies: str, connections: int, seconds: int, workdir: str, tag: str,
            threads: int = 2) -> tuple[dict[str, float], list[str]]:
    prefix = os.path.join(workdir, f"acks-{tag}")
    summary = os.path.join(workdir, f"wrk-{tag}.txt")
    subprocess.run([wrk, "-t", str(threads), "-c", str(connections), "-d", f"{seconds}s", "--timeout", "60s",
                    "-s", os.path.join(HERE, "wrk_comments.lua"), url, "--", bodies, str(threads), prefix],
                   env={**os.environ, "WRK_SUMMARY": summary}, capture_output=True, check=True)
    figures = {}
    with open(summary) as fh:
        for line in fh:
            key, value = line.split()
            figures[key] = float(value)
    receipts = []
    for name in glob.glob(prefix + ".*"):
        with open(name) as fh:
            receipts += [line.strip() for line in fh if line.strip()]
    return figures, receipts


async def _client(host: str, port: int, path: str, lines: list[str], start: int, stride: int, until: float,
                  latencies: list[float], receipts: list[str], errors: list[int]) -> None:
    reader, writer = await asyncio.open_connection(host, port)
    index = start
    while time.perf_counter() < until:
        body = lines[index % len(lines)].encode()
        index += stride
        head = (f"POST {path} HTTP/1.1\r\nHost: {host}:{port}\r\nContent-Type: application/json\r\n"
                f"Content-Length: {len(body)}\r\n\r\n").encode()
        started = time.perf_counter()
        try:
            writer.write(head + body)
            status_line = await reader.readline()
            length, close = 0, False
            while (line := await reader.readline()) not in (b"\r\n", b""):
                name, _, value = line.decode("latin-1").partition(":")
                if name.lower() == "content-length":
                    length = int(value)
                elif name.lower() == "connection" and value.strip().lower() == "close":
                    close = True
            payload = await reader.readexactly(length)
        except (OSError, asyncio.IncompleteReadError):
            errors.append(1)
            writer.close()
            reader, writer = await asyncio.open_connection(host, port)
            continue
        latencies.append(time.perf_counter() - started)
        status = int(status_line.split()[1])
        if status == 201:
            receipts.append(json.loads(payload)["receipt_number"])
        else:
            errors.append(1)
        if close:
            writer.close()
            reader, writer = await asyncio.open_connection(host, port)
    writer.close()


def run_asyncio(url: str, bodies: str, connections: int, seconds: int) -> tuple[dict[str, float], list[str]]:
    """The fallback client: one keep-alive connection per task, the same bodies as wrk would send."""
    host_port, _, path = url.removeprefix("http://").partition("/")
    host, _, port = host_port.partition(":")
    with open(bodies, encoding="utf-8") as fh:
        lines = fh.read().splitlines()
    latencies: list[float] = []
    receipts: list[str] = []
    errors: list[int] = []

    async def main() -> None:
        until = time.perf_counter() + seconds
        await asyncio.gather(*(_client(host, int(port), "/" + path, lines, i, connections, until, latencies,
                                       receipts, errors) for i in range(connections)))

    started = time.perf_counter()
    asyncio.run(main())
    took = time.perf_counter() - started
    cuts = statistics.quantiles(latencies, n=100) if len(latencies) > 1 else [0.0] * 99
    return ({"requests": len(latencies), "duration_us": took * 1e6, "status": len(errors), "connect": 0,
             "read": 0, "write": 0, "timeout": 0, "p50_us": cuts[49] * 1e6, "p95_us": cuts[94] * 1e6,
             "p99_us": cuts[98] * 1e6}, receipts)


def load(url: str, bodies: str, connections: int, seconds: int, workdir: str, tag: str,
         wrk: str | None) -> tuple[LoadResult, list[str]]:
    figures, receipts = (run_wrk(wrk, url, bodies, connections, seconds, workdir, tag) if wrk
                         else run_asyncio(url, bodies, connections, seconds))
    took = figures["duration_us"] / 1e6
    errors = int(sum(figures[k] for k in ("connect", "read", "write", "status", "timeout")))
    return LoadResult(target=tag, connections=connections, requests=int(figures["requests"]), seconds=took,
                      rps=figures["requests"] / took if took else 0.0, p50_ms=figures["p50_us"] / 1000,
                      p95_ms=figures["p95_us"] / 1000, p99_ms=figures["p99_us"] / 1000, errors=errors,
                      acknowledged=len(receipts)), receipts


def missing_receipts(database_url: str, table: str, receipts: list[str]) -> int:
    """How many acknowledged receipt numbers the database does not hold."""
    if not receipts:
        return 0
    with psycopg.connect(database_url) as conn:
        found = conn.execute(f"SELECT count(DISTINCT receipt_number) FROM {table} WHERE receipt_number = ANY(%s)",
                             (receipts,)).fetchone()[0]
    return len(set(receipts)) - found


def as_dict(result: LoadResult) -> dict:
    return asdict(result)
