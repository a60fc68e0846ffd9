"""Bulk import benchmark: N generated brands through ``manage.py import_brands``' service, against
the naive per-row path (``brand_register``, one brand per transaction) in the same process.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/huiliu_bench .venv/bin/python benchmarks/import_brands.py

With a PostgreSQL URL the script DROPS and re-creates that database (it refuses unless the name
contains "bench"), migrates it, and drops it again at the end (``--keep`` keeps it). With a
SQLite URL it uses a fresh temporary file. Prints wall time, rows/s and peak RSS of the bulk
import, the per-row baseline extrapolated from a sample, and their ratio; then re-imports the
same file to time the update path (every slug exists → profile update, channels replaced).
Results are recorded in docs/PERFORMANCE.md.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
TARGET_SECONDS = 120  # issue 2: 100,000 brands in under 2 minutes


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux reports KiB


def _prepare_database(url: str, keep: bool) -> tuple[str, callable]:
    """A fresh, empty database for the run; returns (url, cleanup)."""
    if url.startswith("sqlite"):
        tmp = tempfile.mkdtemp(prefix="huiliu-bench-")
        path = Path(tmp) / "bench.sqlite3"
        return f"sqlite:///{path}", (lambda: None if keep else path.unlink(missing_ok=True))
    from urllib.parse import urlsplit, urlunsplit

    import psycopg

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    if "bench" not in name:
        raise SystemExit(f"refusing to drop database {name!r}: its name must contain 'bench'")
    admin_url = urlunsplit(parts._replace(path="/postgres"))

    def run(sql: str) -> None:
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(sql)

    run(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    run(f'CREATE DATABASE "{name}"')
    return url, (lambda: None if keep else run(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, default=100_000, help="brands to bulk-import (default 100,000)")
    parser.add_argument("--baseline", type=int, default=2_000, help="brands in the per-row sample (default 2,000)")
    parser.add_argument("--keep", action="store_true", help="keep the benchmark database")
    parser.add_argument("--no-update", action="store_true", help="skip the re-import (update path) timing")
    args = parser.parse_args()

    url = os.environ.get("DATABASE_URL") or "postgres://postgres@127.0.0.1:5432/huiliu_bench"
    url, cleanup = _prepare_database(url, args.keep)
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("SECRET_KEY", "benchmark-only")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "huiliu.settings")
    os.environ.setdefault("CELERY_TASK_ALWAYS_EAGER", "1")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from partners.actors import Actor
    from partners.demo_data.generator import generated_brands
    from partners.importer import brands_import
    from partners.models import AuditEvent, Brand, Channel
    from partners.services import brand_register
    from partners.signals import brand_changed, brands_imported

    # Time the partners writes only: receivers other apps hang on these signals (a matcher
    # refresh) would run eagerly here and be measured instead.
    brand_changed.receivers.clear()
    brands_imported.receivers.clear()
    brand_changed.sender_receivers_cache.clear()
    brands_imported.sender_receivers_cache.clear()

    try:
        call_command("migrate", verbosity=0)
        print(
            f"database: {connection.vendor} {connection.settings_dict['NAME']} ({os.cpu_count()} CPUs, "
            f"load average {os.getloadavg()[0]:.2f})"
        )

        started = time.perf_counter()
        with tempfile.NamedTemporaryFile("w", suffix=".jsonl", delete=False, encoding="utf-8") as fh:
            for brand in generated_brands(args.count, seed=7, block_rate=0.01):
                fh.write(json.dumps(brand, ensure_ascii=False) + "\n")
            path = fh.name
        size_mb = Path(path).stat().st_size / 1e6
        print(f"generated {args.count:,} brands → {path} ({size_mb:.1f} MB) in {time.perf_counter() - started:.1f}s")

        rss_before = _rss_mb()
        started = time.perf_counter()
        result = brands_import(path_or_lines=path, approve=True, progress=lambda m: print("  " + m, flush=True))
        bulk = time.perf_counter() - started
        rss_after = _rss_mb()
        assert Brand.objects.count() == args.count, "every brand must be in the database"
        print(
            f"bulk import: {result.brands:,} brands, {result.channels:,} channels, {result.blocks:,} blocks, "
            f"{AuditEvent.objects.count():,} audit events in {bulk:.1f}s "
            f"(validate {result.validate_seconds:.1f}s + write {result.write_seconds:.1f}s) = {result.brands / bulk:,.0f} brands/s; "
            f"peak RSS {rss_after:.0f} MB (before import {rss_before:.0f} MB)"
        )

        # Baseline: the per-row path a naive command would take — brand_register per brand,
        # each in its own transaction (save, channels, audit), on a sample, extrapolated.
        sample = list(generated_brands(args.baseline, seed=8, start=args.count + 1))
        system = Actor.system_actor()
        started = time.perf_counter()
        for data in sample:
            brand_register(actor=system, data=data, require_credit_code=False)
        per_row = (time.perf_counter() - started) / len(sample)
        extrapolated = per_row * args.count
        print(
            f"per-row baseline: {len(sample):,} brands in {per_row * len(sample):.1f}s = {1 / per_row:,.0f} brands/s "
            f"→ {extrapolated:.0f}s for {args.count:,} (extrapolated)"
        )
        print(f"ratio: bulk import is {extrapolated / bulk:.1f}x faster than per-row")

        if not args.no_update:
            channels_before = Channel.objects.count()
            started = time.perf_counter()
            again = brands_import(path_or_lines=path, approve=False)
            update = time.perf_counter() - started
            assert again.updated == args.count and Channel.objects.count() == channels_before
            print(
                f"re-import (update path): {again.updated:,} brands updated, channels replaced in {update:.1f}s "
                f"= {again.updated / update:,.0f} brands/s"
            )

        verdict = "OK" if bulk < TARGET_SECONDS else "OVER TARGET"
        print(
            f"target: {args.count:,} brands < {TARGET_SECONDS}s → {bulk:.1f}s {verdict}; "
            f"load average now {os.getloadavg()[0]:.2f}"
        )
        Path(path).unlink(missing_ok=True)
    finally:
        connection.close()
        cleanup()


if __name__ == "__main__":
    main()
