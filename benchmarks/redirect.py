"""The tracking redirect under gunicorn on loopback, against a bare Django view in the same run.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/huiliu_bench_redirect \\
    REDIS_URL=redis://127.0.0.1:6379/9 .venv/bin/python benchmarks/redirect.py [--clients 50] [--seconds 10]

Creates (and finally drops, unless ``--keep``) the PostgreSQL database named in DATABASE_URL
(its name must contain "bench"), migrates it and makes one accepted swap, so one campaign
with tracking links. Starts gunicorn (``--workers`` sync workers, production settings:
DEBUG off) serving the project plus ``/bench/empty`` (``benchmarks/redirect_site.py``, ``redirect_urls.py``: an
empty 200 through the same middleware). A small asyncio client with ``--clients``
concurrent connections then alternates the two targets, ``--rounds`` times each for
``--seconds``: ``GET /bench/empty`` (the baseline) and ``GET /t/<code>`` (no cookie, so
each click hashes a visitor and plants the cookie; the link cached after the first click; each
event appended to the Redis stream). It prints requests/s, p50 and p99 per target, the ratio
(target: the redirect ≥ 80 % of the bare view), then flushes the stream and checks that the
events stored equal the redirects answered.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
TARGET_RATIO = 0.80

from benchmarks.import_brands import _prepare_database  # noqa: E402


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _setup_campaign() -> str:
    """One accepted swap between two approved brands; returns a tracking code."""
    from datetime import timedelta

    from django.utils import timezone

    from exchange import services
    from exchange.models import CampaignPlacement, TrackingLink
    from partners.actors import Actor
    from partners.models import ChannelType, Role
    from tests.factories import BrandFactory, ChannelFactory, MembershipFactory, UserFactory, category

    a = BrandFactory(slug="bench-coffee", category=category("beverage.coffee"), website="https://coffee.example/")
    b = BrandFactory(slug="bench-toys", category=category("toys.collectibles"), website="https://toys.example/")
    wa = ChannelFactory(brand=a, type=ChannelType.WECOM, label="a", size=100_000, active_rate=0.5)
    wb = ChannelFactory(brand=b, type=ChannelType.WECOM, label="b", size=100_000, active_rate=0.5)
    actor_a = Actor(user=MembershipFactory(brand=a, role=Role.OWNER, user=UserFactory(username="a@bench")).user)
    actor_b = Actor(user=MembershipFactory(brand=b, role=Role.OWNER, user=UserFactory(username="b@bench")).user)
    day = timezone.localdate() + timedelta(days=1)
    spec = {"format": "direct_message", "quantity": 1000, "starts_on": day, "ends_on": day}
    proposal = services.proposal_create(
        actor=actor_a, brand=a, counterparty=b, placements=[{**spec, "channel_id": wa.pk}]
    )
    carried = proposal.revisions.get().placements.get()
    services.proposal_counter(
        actor=actor_b,
        proposal=proposal,
        revision=1,
        placements=[{**spec, "based_on_id": carried.pk}, {**spec, "channel_id": wb.pk}],
    )
    services.proposal_accept(actor=actor_a, proposal=proposal, revision=2)
    link = TrackingLink.objects.first()
    now = timezone.now()  # a window running now: clicks count as inside it
    CampaignPlacement.objects.filter(pk=link.placement_id).update(
        starts_at=now - timedelta(days=1), ends_at=now + timedelta(days=1)
    )
    return link.code


async def _load(port: int, path: str, clients: int, seconds: float) -> tuple[int, int, list[float]]:
    """``clients`` connections requesting ``path`` back to back for ``seconds`` (sync gunicorn
    workers close each connection, so every request opens one, as a phone's first click does).
    Returns (answers with the expected status, others, latencies in seconds)."""
    request = f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: Mozilla/5.0 (iPhone) Mobile\r\n\r\n".encode()
    expected = b"302" if "/t/" in path else b"200"
    ok = bad = 0
    latencies: list[float] = []
    stop = time.perf_counter() + seconds

    async def client() -> None:
        nonlocal ok, bad
        while time.perf_counter() < stop:
            started = time.perf_counter()
            try:
                reader, writer = await asyncio.open_connection("127.0.0.1", port)
                writer.write(request)
                await writer.drain()
                data = await reader.read()  # until the server closes
                writer.close()
            except OSError:
                bad += 1
                continue
            latencies.append(time.perf_counter() - started)
            if data[9:12] == expected:
                ok += 1
            else:
                bad += 1

    await asyncio.gather(*(client() for _ in range(clients)))
    return ok, bad, latencies


def _cpu_seconds(pids: list[int]) -> float:
    """User + system CPU time of these processes so far."""
    total = 0
    for pid in pids:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15 of stat)
    return total / os.sysconf("SC_CLK_TCK")


def _children(pid: int) -> list[int]:
    kids = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            if int(stat.read_text().rsplit(")", 1)[1].split()[1]) == pid:
                kids.append(int(stat.parent.name))
        except (OSError, ValueError, IndexError):
            continue
    return kids


def _redis_cpu() -> float:
    import redis

    info = redis.Redis.from_url(os.environ["REDIS_URL"]).info("cpu")
    return info["used_cpu_sys"] + info["used_cpu_user"]


def _pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * p / 100))] * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=10.0, help="per round and target")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn sync workers")
    parser.add_argument("--keep", action="store_true", help="keep the benchmark database")
    args = parser.parse_args()

    url = os.environ.get("DATABASE_URL") or "postgres://postgres@127.0.0.1:5432/huiliu_bench_redirect"
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
        "EXCHANGE_EVENTS_STREAM": f"bench:clicks:{os.getpid()}",
        # The setup's side tasks (notifications, a matcher refresh) run inline, mailing nobody,
        # rather than waiting in the broker for a worker that never comes.
        "CELERY_TASK_ALWAYS_EAGER": "1",
        "EMAIL_BACKEND": "django.core.mail.backends.dummy.EmailBackend",
        "LOG_LEVEL": "WARNING",
    }
    os.environ.update(env)
    import django

    django.setup()
    from django.core.management import call_command

    server = None
    try:
        call_command("migrate", verbosity=0)
        code = _setup_campaign()
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
            ],
            cwd=ROOT,
            env=env,
        )
        deadline = time.time() + 30
        while time.time() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.2)
        asyncio.run(_load(port, "/bench/empty", 4, 1.0))  # warm-up: imports, connections
        asyncio.run(_load(port, f"/t/{code}", 4, 1.0))
        asyncio.run(_load(port, f"/bench/t/{code}", 4, 1.0))
        from exchange.services import clicks

        clicks.events_flush()  # the warm-up's clicks: not counted below
        from exchange.models import ClickEvent

        before = ClickEvent.objects.count()
        load = os.getloadavg()
        targets = (("bare", "/bench/empty"), ("redirect", f"/t/{code}"), ("via Django", f"/bench/t/{code}"))
        results: dict[str, list[tuple[int, int, list[float]]]] = {name: [] for name, _path in targets}
        cpu = {name: [0.0, 0.0] for name, _path in targets}  # gunicorn workers, redis-server
        workers = _children(server.pid)
        for _ in range(args.rounds):
            for name, path in targets:
                before_cpu, before_redis = _cpu_seconds(workers), _redis_cpu()
                results[name].append(asyncio.run(_load(port, path, args.clients, args.seconds)))
                cpu[name][0] += _cpu_seconds(workers) - before_cpu
                cpu[name][1] += _redis_cpu() - before_redis

        print(
            f"gunicorn {args.workers} sync workers, {args.clients} clients, {args.rounds} × {args.seconds:.0f} s per "
            f"target, alternating; {os.cpu_count()} CPUs shared with the client; load average before "
            f"{load[0]:.2f} {load[1]:.2f} {load[2]:.2f}"
        )
        rates = {}
        for name, runs in results.items():
            ok = sum(r[0] for r in runs)
            bad = sum(r[1] for r in runs)
            lat = [x for r in runs for x in r[2]]
            per_round = [r[0] / args.seconds for r in runs]
            rates[name] = statistics.mean(per_round)
            print(
                f"{name:10s} {rates[name]:8,.0f} req/s (rounds: {', '.join(f'{x:,.0f}' for x in per_round)}), "
                f"p50 {_pct(lat, 50):6.1f} ms, p99 {_pct(lat, 99):6.1f} ms, {ok:,} answered, {bad} failed; "
                f"CPU per request: gunicorn {cpu[name][0] / ok * 1e6:,.0f} µs, redis {cpu[name][1] / ok * 1e6:,.0f} µs"
            )
        ratio = rates["redirect"] / rates["bare"]
        print(f"redirect / bare view: {ratio:.1%} " + ("OK" if ratio >= TARGET_RATIO else "UNDER TARGET") + " (≥ 80 %)")
        print(
            f"before the fast path (the view through Django's middleware) / bare view: {rates['via Django'] / rates['bare']:.1%}"
        )

        answered = sum(r[0] for r in results["redirect"]) + sum(r[0] for r in results["via Django"])
        flushed = clicks.events_flush()
        stored = ClickEvent.objects.count() - before
        print(
            f"events: {answered:,} redirects answered, {stored:,} stored after the flush "
            f"({flushed.read:,} read from the stream in {flushed.seconds:.2f} s) — "
            + ("OK" if stored == answered else "MISMATCH")
        )
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=20)
        from django.db import connections

        connections.close_all()
        import redis

        redis.Redis.from_url(env["REDIS_URL"]).delete(env["EXCHANGE_EVENTS_STREAM"])
        cleanup()


if __name__ == "__main__":
    main()
