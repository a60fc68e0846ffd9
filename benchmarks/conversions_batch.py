"""A 500-row ``reportConversions`` batch end to end through GraphQL on PostgreSQL: p50 / p95.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/huiliu_events REDIS_URL=redis://127.0.0.1:6379/11 \\
    .venv/bin/python benchmarks/conversions_batch.py [--runs 30] [--rows 500]

Runs on Django's test database of DATABASE_URL (``test_<name>``, created, migrated and dropped
again, as pytest does), DEBUG off, with the project's WSGI application served over loopback
HTTP (wsgiref, one thread: requests one at a time, as a partner's shop system sends them) and
called with ``requests`` and a write key's bearer token. Setup: one accepted swap running now,
a coupon batch and 200 × runs click events on its leg.

Each timed run is a fresh batch of ``--rows`` orders (40% by click id, 20% by coupon, 40% by
tracking code, all accepted and stored), then the same batch replayed (all ``duplicate``). The
baseline, in the same run and server: ``{ __typename }`` with the same key — the fixed cost of
a request (authentication, throttling, middleware) that every GraphQL call pays.
Target: p95 ≤ 300 ms for the fresh batch.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
TARGET_P95_MS = 300.0

REPORT = """
mutation($brand: ID!, $rows: [ConversionInput!]!) {
  reportConversions(brand: $brand, rows: $rows) {
    newCount accepted { index duplicate event { id state } } rejected { index code } errors { code }
  }
}"""


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    k = (len(ordered) - 1) * p / 100
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return (ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)) * 1000


def _setup(runs: int, rows: int):
    """An accepted swap running now; returns (brand gid, write key, per-run attribution pools)."""
    import uuid
    from datetime import timedelta

    from django.utils import timezone
    from graphql_relay import to_global_id

    from exchange import services
    from exchange.models import CampaignPlacement, ClickEvent, Coupon, Ingest, UaClass, VisitorKind
    from partners.actors import Actor
    from partners.models import ChannelType, Role
    from partners.services import api_key_create
    from tests.factories import BrandFactory, ChannelFactory, MembershipFactory, UserFactory, category

    a = BrandFactory(slug="bench-coffee", category=category("beverage.coffee"), website="https://coffee.example/")
    b = BrandFactory(slug="bench-toys", category=category("toys.collectibles"), website="https://toys.example/")
    wa = ChannelFactory(brand=a, type=ChannelType.WECOM, label="a", size=100_000, active_rate=0.5)
    wb = ChannelFactory(brand=b, type=ChannelType.WECOM, label="b", size=100_000, active_rate=0.5)
    actor_a = Actor(user=MembershipFactory(brand=a, role=Role.OWNER, user=UserFactory(username="a@bench")).user)
    owner_b = MembershipFactory(brand=b, role=Role.OWNER, user=UserFactory(username="b@bench")).user
    actor_b = Actor(user=owner_b)
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
    now = timezone.now()
    CampaignPlacement.objects.update(starts_at=now - timedelta(days=3), ends_at=now + timedelta(days=3))
    cp = CampaignPlacement.objects.select_related("leg", "link").get(leg__promoted=b)  # a's placement promotes b
    n_click, n_coupon = rows * 2 // 5, rows // 5
    services.coupon_batch_generate(actor=actor_b, placement=cp, size=min(5000, n_coupon * (runs + 2)))
    coupons = list(Coupon.objects.order_by("id").values_list("code", flat=True))
    clicks = ClickEvent.objects.bulk_create(
        [
            ClickEvent(
                event_id=uuid.uuid4(),
                occurred_at=now - timedelta(hours=5),
                code=cp.link.code,
                link_id=cp.link.pk,
                leg_id=cp.leg_id,
                click_id=uuid.uuid4(),
                visitor_id=f"v{i}",
                visitor_kind=VisitorKind.COOKIE,
                ua_class=UaClass.MOBILE,
                ingest=Ingest.DIRECT,
            )
            for i in range(n_click * (runs + 2))
        ],
        batch_size=2000,
    )
    _key, raw = api_key_create(actor=actor_b, brand=b, name="bench", scopes=["read", "events:write"])
    at = (now - timedelta(hours=1)).isoformat()

    def batch(run: int) -> list[dict]:
        out = []
        for i in range(rows):
            row = {
                "externalId": f"BENCH-{run:03d}-{i:04d}",
                "amountCents": 990 + i,
                "currency": "CNY",
                "occurredAt": at,
            }
            if i < n_click:
                row["clickId"] = clicks[run * n_click + i].click_id.hex
            elif i < n_click + n_coupon and (run + 1) * n_coupon <= len(coupons):
                row["couponCode"] = coupons[run * n_coupon + i - n_click]
            else:
                row["trackingCode"] = cp.link.code
            out.append(row)
        return out

    return to_global_id("Brand", b.pk), raw, batch


def _serve():
    from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

    from django.core.wsgi import get_wsgi_application

    class Quiet(WSGIRequestHandler):
        def log_message(self, *args):
            pass

    server = make_server("127.0.0.1", 0, get_wsgi_application(), server_class=WSGIServer, handler_class=Quiet)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--rows", type=int, default=500)
    args = parser.parse_args()
    if not (os.environ.get("DATABASE_URL") or "").startswith("postgres"):
        raise SystemExit("needs PostgreSQL (DATABASE_URL)")
    os.environ.update(
        {
            "DJANGO_SETTINGS_MODULE": "huiliu.settings",
            "SECRET_KEY": os.environ.get("SECRET_KEY", "benchmark-only"),
            "ALLOWED_HOSTS": "127.0.0.1",
            "SECURE_SSL_REDIRECT": "0",
            "CELERY_TASK_ALWAYS_EAGER": "1",
            "EMAIL_BACKEND": "django.core.mail.backends.dummy.EmailBackend",
            "LOG_LEVEL": "WARNING",
        }
    )
    os.environ.pop("DEBUG", None)
    import django

    django.setup()
    import requests
    from django.db import connection

    old_name = connection.settings_dict["NAME"]
    connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)
    server = None
    try:
        brand, raw, batch = _setup(args.runs, args.rows)
        server = _serve()
        url = f"http://127.0.0.1:{server.server_port}/graphql/"
        session = requests.Session()
        session.headers["Authorization"] = f"Bearer {raw}"
        load = os.getloadavg()

        def post(body) -> tuple[float, dict]:
            t = time.perf_counter()
            response = session.post(url, json=body, timeout=60)
            elapsed = time.perf_counter() - t
            assert response.status_code == 200, response.text[:300]
            return elapsed, response.json()

        for _ in range(3):  # warm-up: imports, connections, plan caches
            post({"query": "{ __typename }"})
        fresh, replay, base = [], [], []
        for run in range(args.runs + 1):
            rows = batch(run)
            body = {"query": REPORT, "variables": {"brand": brand, "rows": rows}}
            elapsed, data = post(body)
            out = data["data"]["reportConversions"]
            assert out["errors"] == [] and out["rejected"] == [] and out["newCount"] == args.rows, out["rejected"][:3]
            again, data = post(body)
            assert data["data"]["reportConversions"]["newCount"] == 0
            b, _ = post({"query": "{ __typename }"})
            if run:  # run 0 is a warm-up of the mutation path
                fresh.append(elapsed)
                replay.append(again)
                base.append(b)
        print(f"load average before: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} (2 cores, shared)")
        print(
            f"reportConversions, {args.rows} new rows, {args.runs} runs: p50 {pct(fresh, 50):.0f} ms, "
            f"p95 {pct(fresh, 95):.0f} ms, max {max(fresh) * 1000:.0f} ms"
        )
        print(f"same batch replayed (all duplicate): p50 {pct(replay, 50):.0f} ms, p95 {pct(replay, 95):.0f} ms")
        print(
            f"baseline {{ __typename }} with the same key: p50 {pct(base, 50):.1f} ms, p95 {pct(base, 95):.1f} ms "
            f"(per row, the batch costs {statistics.median(fresh) / args.rows * 1000:.2f} ms)"
        )
        print(("OK" if pct(fresh, 95) <= TARGET_P95_MS else "OVER TARGET") + f": target p95 ≤ {TARGET_P95_MS:.0f} ms")
    finally:
        if server is not None:
            server.shutdown()
        connection.creation.destroy_test_db(old_name, verbosity=0)


if __name__ == "__main__":
    main()
