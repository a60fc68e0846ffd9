"""A sustained load on the tracking redirect with the flush running beside it: are the events
stored exactly the redirects answered?

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/huiliu_bench_load \\
    REDIS_URL=redis://127.0.0.1:6379/13 .venv/bin/python benchmarks/redirect_load.py [--clients 100] [--seconds 60]

Creates (and finally drops, unless ``--keep``) the PostgreSQL database named in DATABASE_URL
(its name must contain "bench"), migrates it and makes one accepted swap. Starts gunicorn
(``--workers`` sync workers, production settings) and a flusher (``manage.py flush_events
--follow``: the stream into PostgreSQL every second, as the beat task does every five), then
``--clients`` asyncio connections click the swap's links back to back for ``--seconds`` (new
visitors, a few returning; each answer's ``hl_click`` kept). Baseline in the same run: the
same clients on a bare Django view for ``--baseline-seconds``. After the load it waits for the
flusher to drain the stream and prints redirects answered, events stored, lost (answered, not
stored), duplicated (stored twice), stored without an answer (the client gave up first) — the
first two must be 0 — and whether the rollups agree with a recount.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.import_brands import _prepare_database  # noqa: E402
from benchmarks.redirect import _free_port, _pct, _setup_campaign  # noqa: E402

AGENTS = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148 MicroMessenger/8.0.49",
    "Mozilla/5.0 (Linux; Android 14; V2309A) AppleWebKit/537.36 Chrome/120.0 Mobile Safari/537.36 XWEB/1160117",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36",
)


async def _load(port: int, paths: list[str], clients: int, seconds: float) -> dict:
    """``clients`` connections requesting ``paths`` (at random) back to back for ``seconds``.
    Every request opens a connection (sync gunicorn workers close each one)."""
    rng = random.Random(7)
    answered: list[str] = []  # the hl_click of every 302
    stats = {"ok": 0, "bad": 0, "latencies": [], "answered": answered}
    stop = time.perf_counter() + seconds
    returning = [f"{rng.getrandbits(128):032x}" for _ in range(2000)]

    async def client(n: int) -> None:
        i = 0
        while time.perf_counter() < stop:
            i += 1
            path = rng.choice(paths)
            agent = f"{rng.choice(AGENTS)} v/{n}-{i}"  # a new visitor per click (the hash of ip + agent)
            cookie = f"Cookie: hl_vid={rng.choice(returning)}\r\n" if rng.random() < 0.3 else ""
            request = f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: {agent}\r\n{cookie}\r\n".encode()
            started = time.perf_counter()
            try:
                reader, writer = await asyncio.open_connection("127.0.0.1", port)
                writer.write(request)
                await writer.drain()
                data = await asyncio.wait_for(reader.read(), timeout=30)
                writer.close()
            except (TimeoutError, OSError):
                stats["bad"] += 1
                continue
            stats["latencies"].append(time.perf_counter() - started)
            status = data[9:12]
            if status == b"302":
                head = data.split(b"\r\n\r\n", 1)[0].decode("latin-1")
                location = next(line for line in head.split("\r\n") if line.lower().startswith("location:"))
                answered.append(location.rsplit("hl_click=", 1)[1][:32])
                stats["ok"] += 1
            elif status == b"200":
                stats["ok"] += 1
            else:
                stats["bad"] += 1

    await asyncio.gather(*(client(n) for n in range(clients)))
    return stats


def _wait_port(port: int, timeout: float = 30) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"nothing listens on {port}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clients", type=int, default=100)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--baseline-seconds", type=float, default=10.0)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn sync workers")
    parser.add_argument("--keep", action="store_true", help="keep the benchmark database")
    args = parser.parse_args()

    url = os.environ.get("DATABASE_URL") or "postgres://postgres@127.0.0.1:5432/huiliu_bench_load"
    if url.startswith("sqlite") or not os.environ.get("REDIS_URL"):
        raise SystemExit("needs PostgreSQL (DATABASE_URL) and Redis (REDIS_URL)")
    url, cleanup = _prepare_database(url, args.keep)
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "SECRET_KEY": os.environ.get("SECRET_KEY", "benchmark-only"),
        "DJANGO_SETTINGS_MODULE": "benchmarks.redirect_site",
        "ALLOWED_HOSTS": "127.0.0.1",
        "SECURE_SSL_REDIRECT": "0",
        "EXCHANGE_EVENTS_STREAM": f"bench:load:{os.getpid()}",
        "CELERY_TASK_ALWAYS_EAGER": "1",
        "EMAIL_BACKEND": "django.core.mail.backends.dummy.EmailBackend",
        "LOG_LEVEL": "WARNING",
    }
    os.environ.update(env)
    import django

    django.setup()
    from django.core.management import call_command

    server = flusher = None
    try:
        call_command("migrate", verbosity=0)
        _setup_campaign()
        from django.db.models import Count

        from exchange import streams
        from exchange.models import ClickEvent, TrackingLink
        from exchange.services.rollup_check import rollups_recount

        paths = [f"/t/{code}" for code in TrackingLink.objects.values_list("code", flat=True)]
        port = _free_port()
        server = subprocess.Popen(
            [
                str(Path(sys.executable).with_name("gunicorn")),
                "huiliu.wsgi:application",
                "--workers",
                str(args.workers),
                "--bind",
                f"127.0.0.1:{port}",
                "--backlog",
                "2048",
                "--log-level",
                "warning",
            ],  # fmt: skip
            cwd=ROOT,
            env=env,
        )
        flusher = subprocess.Popen(
            [sys.executable, "manage.py", "flush_events", "--follow"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
        )
        _wait_port(port)
        asyncio.run(_load(port, ["/bench/empty"], 4, 1.0))  # warm-up (no click)
        load = os.getloadavg()
        bare = asyncio.run(_load(port, ["/bench/empty"], args.clients, args.baseline_seconds))
        started = time.perf_counter()
        stats = asyncio.run(_load(port, paths, args.clients, args.seconds))
        elapsed = time.perf_counter() - started

        deadline = time.time() + 120
        while time.time() < deadline and streams.backlog().length:
            time.sleep(0.5)
        drained = time.perf_counter() - started - elapsed
        time.sleep(1.5)  # the flusher's last batch commits
        flusher.terminate()
        flusher.wait(timeout=30)
        flusher = None

        answered = stats["answered"]
        stored = {c.hex: n for c, n in ClickEvent.objects.values_list("click_id").annotate(n=Count("id"))}
        lost = sum(1 for c in answered if c not in stored)
        duplicated = sum(n - 1 for n in stored.values() if n > 1)
        unanswered = len(set(stored) - set(answered))
        differences = rollups_recount()
        backlog = streams.backlog()

        print(
            f"gunicorn {args.workers} sync workers + a flusher, {args.clients} clients, {args.seconds:.0f} s; "
            f"{os.cpu_count()} CPUs shared with the client; load average before {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}"
        )
        rate = len(answered) / elapsed
        print(
            f"redirects {rate:8,.0f} /s, p50 {_pct(stats['latencies'], 50):6.1f} ms, p99 {_pct(stats['latencies'], 99):6.1f} ms, "
            f"{len(answered):,} answered, {stats['bad']} failed"
        )
        bare_rate = bare["ok"] / args.baseline_seconds
        print(
            f"bare view {bare_rate:8,.0f} /s, p50 {_pct(bare['latencies'], 50):6.1f} ms, "
            f"p99 {_pct(bare['latencies'], 99):6.1f} ms ({args.baseline_seconds:.0f} s, same clients); "
            f"redirect / bare view {rate / bare_rate:.1%} (with the flusher's load beside it)"
        )
        print(f"stream drained {drained:.1f} s after the load; {backlog.length} left, {backlog.pending} pending")
        print(
            f"events: {len(answered):,} redirects answered, {sum(stored.values()):,} stored, lost {lost}, "
            f"duplicated {duplicated}, stored without an answer (client gave up) {unanswered}; "
            f"rollup differences from a recount {len(differences)} — "
            + ("OK" if lost == duplicated == 0 and not differences else "MISMATCH")
        )
    finally:
        for proc in (flusher, server):
            if proc is not None:
                proc.terminate()
                proc.wait(timeout=30)
        from django.db import connections

        connections.close_all()
        import redis

        redis.Redis.from_url(env["REDIS_URL"]).delete(env["EXCHANGE_EVENTS_STREAM"])
        cleanup()


if __name__ == "__main__":
    main()
