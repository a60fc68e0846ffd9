"""Moving queued click events from the Redis stream into PostgreSQL, rollups included, beside a
raw COPY of the same rows into a plain table in the same run.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/huiliu_bench_flush \\
    REDIS_URL=redis://127.0.0.1:6379/13 .venv/bin/python benchmarks/events_flush.py [--events 100000]

Creates (and finally drops, unless ``--keep``) the PostgreSQL database named in DATABASE_URL
(its name must contain "bench"), migrates it (the events table partitioned by month) and makes
one accepted swap. Queues ``--events`` clicks into a fresh stream the way the redirect does
(one entry per click: the encoded event and its burst flag; spread over its links and the last
three days, 40 % from returning visitors, 5 % crawlers; not timed), then times
``clicks.events_flush`` — XAUTOCLAIM/XREADGROUP, decode, COPY into a staging table, INSERT … ON
CONFLICT DO NOTHING RETURNING into the partitions, the rollups aggregated in SQL, commit,
XACK + XDEL, per batch — until the stream is empty. Baseline: the same rows (already decoded)
COPYed into a plain table with no index (``CREATE TABLE … (LIKE exchange_clickevent)``) in one
transaction: the floor for writing these bytes. Prints both, the ratio, where the flush's time
went, and checks every event stored once and the rollups equal to a recount (target ≤ 5 s).
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
TARGET_SECONDS = 5.0

from benchmarks.import_brands import _prepare_database  # noqa: E402


def _queue(n: int, seed: int = 9) -> list[dict[str, str]]:
    """``n`` events as the redirect builds them, on the swap's links, queued in the stream."""
    from datetime import timedelta

    import redis
    from django.utils import timezone

    from exchange import conf
    from exchange.models import TrackingLink
    from exchange.services import clicks, tracking

    rng = random.Random(seed)
    entries = [tracking.link_entry(link.code) for link in TrackingLink.objects.all()]
    agents = ["Mozilla/5.0 (iPhone; CPU iPhone OS 17_5) Mobile MicroMessenger/8.0.49"] * 19 + [
        "Mozilla/5.0 (compatible; Baiduspider/2.0)"
    ]
    returning = [f"{rng.getrandbits(128):032x}" for _ in range(max(1, n // 10))]
    now = timezone.now()
    client = redis.Redis.from_url(conf.events_redis_url())
    events = []
    pipe = client.pipeline(transaction=False)
    for i in range(n):
        cookie = rng.choice(returning) if rng.random() < 0.4 else None
        fields, _visitor, _click = clicks.click_event(
            entry=rng.choice(entries),
            method="GET",
            user_agent=rng.choice(agents),
            ip=f"10.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(256)}",
            cookie=cookie,
            referer="https://work.weixin.qq.com/",
            now=now - timedelta(seconds=rng.randrange(3 * 86400)),
        )
        events.append(fields)
        pipe.xadd(conf.events_stream(), {"d": clicks.wire(fields)})
        if i % 2000 == 1999:
            pipe.execute()
    pipe.execute()
    return events


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--batch-size", type=int, default=None, help="default: EXCHANGE_EVENTS_BATCH_SIZE")
    parser.add_argument("--keep", action="store_true", help="keep the benchmark database")
    args = parser.parse_args()

    url = os.environ.get("DATABASE_URL") or "postgres://postgres@127.0.0.1:5432/huiliu_bench_flush"
    if url.startswith("sqlite") or not os.environ.get("REDIS_URL"):
        raise SystemExit("needs PostgreSQL (DATABASE_URL) and Redis (REDIS_URL)")
    url, cleanup = _prepare_database(url, args.keep)
    os.environ.update(
        {
            "DATABASE_URL": url,
            "SECRET_KEY": os.environ.get("SECRET_KEY", "benchmark-only"),
            "DJANGO_SETTINGS_MODULE": "huiliu.settings",
            "EXCHANGE_EVENTS_STREAM": f"bench:flush:{os.getpid()}",
            "CELERY_TASK_ALWAYS_EAGER": "1",
            "EMAIL_BACKEND": "django.core.mail.backends.dummy.EmailBackend",
            "LOG_LEVEL": "WARNING",
        }
    )
    import django

    django.setup()
    import redis
    from django.core.management import call_command
    from django.db import connection, connections, transaction

    from benchmarks.redirect import _setup_campaign
    from exchange import conf, streams
    from exchange.models import ClickEvent, Ingest, LegDayMetrics
    from exchange.services import clicks
    from exchange.services.rollup_check import rollups_recount
    from huiliu import bulk

    try:
        call_command("migrate", verbosity=0)
        _setup_campaign()
        events = _queue(args.events)
        rows = [clicks.event_row(e, Ingest.STREAM) for e in events]
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")
        load = os.getloadavg()

        spent = {"write": 0.0}
        write = clicks._events_write_lines

        def timed_write(batch):
            started = time.perf_counter()
            try:
                return write(batch)
            finally:
                spent["write"] += time.perf_counter() - started

        clicks._events_write_lines = timed_write
        started = time.perf_counter()
        result = clicks.events_flush(batch_size=args.batch_size)
        flush_s = time.perf_counter() - started
        clicks._events_write_lines = write

        with connection.cursor() as cursor:
            cursor.execute(
                f"CREATE TABLE bench_raw_copy (LIKE {ClickEvent._meta.db_table} INCLUDING DEFAULTS INCLUDING IDENTITY)"
            )
        started = time.perf_counter()
        with transaction.atomic():
            bulk.copy_rows("bench_raw_copy", clicks.COLUMNS, rows)
        copy_s = time.perf_counter() - started

        stored = ClickEvent.objects.count()
        distinct = ClickEvent.objects.values("event_id").distinct().count()
        backlog = streams.backlog()
        differences = rollups_recount()
        counted = sum(LegDayMetrics.objects.values_list("clicks", flat=True)) + sum(
            LegDayMetrics.objects.values_list("filtered_clicks", flat=True)
        )
        batch = args.batch_size or conf.events_batch_size()
        print(
            f"{args.events:,} events, batches of {batch:,}; {os.cpu_count()} CPUs; load average before "
            f"{load[0]:.2f} {load[1]:.2f} {load[2]:.2f}"
        )
        print(
            f"flush (stream → partitions + rollups): {flush_s:6.2f} s  {args.events / flush_s:9,.0f} events/s  "
            f"({result.batches} batches; database writes {spent['write']:.2f} s, stream reads + decoding + "
            f"acknowledgements {flush_s - spent['write']:.2f} s) — "
            + ("OK" if flush_s <= TARGET_SECONDS else "OVER TARGET")
            + f" (≤ {TARGET_SECONDS:.0f} s)"
        )
        print(f"raw COPY of the same rows, plain table:  {copy_s:6.2f} s  {args.events / copy_s:9,.0f} rows/s")
        print(f"flush / raw COPY: {flush_s / copy_s:.1f}×")
        print(
            f"stored {stored:,} ({distinct:,} distinct event ids), counted in the rollups {counted:,}, "
            f"left in the stream {backlog.length}, rollup differences from a recount {len(differences)} — "
            + ("OK" if stored == distinct == counted == args.events and not differences else "MISMATCH")
        )
    finally:
        connections.close_all()
        redis.Redis.from_url(os.environ["REDIS_URL"]).delete(os.environ["EXCHANGE_EVENTS_STREAM"])
        cleanup()


if __name__ == "__main__":
    main()
