"""Replaying a conversions batch through a real HTTP server counts it once.

The same 500-row batch (clicks, coupons and tracking codes) is posted three times, all at once
from three threads (with coupons, their row locks make the batches wait for each other; without,
the batches race into the unique constraint and the losers find their rows stored), to a live server with a write key: between them every row is stored once,
the rollups count it once, each coupon is redeemed once, and every response accounts for every
row (new in exactly one of them, ``duplicate`` in the others).
"""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
import requests
from django.db import connection
from django.db.models import Sum
from django.utils import timezone

from exchange.models import ClickEvent, Coupon, Ingest, LegDayMetrics, ReportedEvent, UaClass, VisitorKind
from exchange.services import coupon_batch_generate
from partners.actors import Actor
from partners.services import api_key_create
from tests.api.conftest import gid
from tests.fixtures_reported import placement_of

pytestmark = [pytest.mark.reliability, pytest.mark.django_db(transaction=True)]

REPORT = """
mutation($brand: ID!, $rows: [ConversionInput!]!) {
  reportConversions(brand: $brand, rows: $rows) {
    newCount accepted { index duplicate } rejected { index code } errors { code }
  }
}"""


def _batch(leg, toys_actor, with_coupons: bool) -> list[dict]:
    cp = placement_of(leg)
    coupon_batch_generate(actor=toys_actor, placement=cp, size=100)
    coupons = list(Coupon.objects.order_by("id").values_list("code", flat=True))
    now = timezone.now()
    clicks = ClickEvent.objects.bulk_create(
        [
            ClickEvent(
                event_id=uuid.uuid4(),
                occurred_at=now - timedelta(hours=2),
                code=cp.link.code,
                link_id=cp.link.pk,
                leg_id=leg.pk,
                click_id=uuid.uuid4(),
                visitor_id=f"v{i}",
                visitor_kind=VisitorKind.COOKIE,
                ua_class=UaClass.MOBILE,
                ingest=Ingest.DIRECT,
            )
            for i in range(200)
        ]
    )
    at = (now - timedelta(minutes=20)).isoformat()
    rows = []
    for i in range(500):
        row = {"externalId": f"ORD-{i:05d}", "amountCents": 1_000 + i, "currency": "CNY", "occurredAt": at}
        if i < 200:
            row["clickId"] = clicks[i].click_id.hex
        elif i < 300 and with_coupons:
            row["couponCode"] = coupons[i - 200]
        else:
            row["trackingCode"] = cp.link.code
        rows.append(row)
    return rows


@pytest.mark.parametrize(
    "with_coupons",
    [
        pytest.param(True, id="coupons-serialise-the-batches"),
        pytest.param(False, id="batches-race-into-the-unique-constraint"),
    ],
)
def test_a_500_row_batch_sent_three_times_at_once_is_counted_once(
    live_server, toys_leg, toys, toys_owner, toys_actor, with_coupons
):
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL (make test)")
    _key, raw = api_key_create(
        actor=Actor(user=toys_owner), brand=toys, name="shop system", scopes=["read", "events:write"]
    )
    body = {
        "query": REPORT,
        "variables": {"brand": gid("Brand", toys.pk), "rows": _batch(toys_leg, toys_actor, with_coupons)},
    }

    def send(_n):
        response = requests.post(
            f"{live_server.url}/graphql/", json=body, headers={"Authorization": f"Bearer {raw}"}, timeout=60
        )
        assert response.status_code == 200, response.text[:500]
        return response.json()["data"]["reportConversions"]

    with ThreadPoolExecutor(max_workers=3) as pool:
        answers = list(pool.map(send, range(3)))

    for answer in answers:
        assert answer["errors"] == [] and answer["rejected"] == []
        assert sorted(a["index"] for a in answer["accepted"]) == list(range(500))
    assert sum(a["newCount"] for a in answers) == 500
    new_in = [{a["index"] for a in answer["accepted"] if not a["duplicate"]} for answer in answers]
    assert set().union(*new_in) == set(range(500)) and sum(map(len, new_in)) == 500  # each row new exactly once

    assert ReportedEvent.objects.count() == 500
    totals = LegDayMetrics.objects.filter(leg=toys_leg).aggregate(c=Sum("conversions"), g=Sum("gmv_cents"))
    assert totals == {"c": 500, "g": sum(1_000 + i for i in range(500))}
    redeemed = 100 if with_coupons else 0
    assert Coupon.objects.filter(redeemed_at__isnull=False).count() == redeemed
    assert Coupon.objects.filter(redeemed_by__isnull=False).values("redeemed_by").distinct().count() == redeemed

    # A fourth, later replay: all duplicates, nothing moves.
    late = send(3)
    assert late["newCount"] == 0 and all(a["duplicate"] for a in late["accepted"])
    assert ReportedEvent.objects.count() == 500
    assert LegDayMetrics.objects.filter(leg=toys_leg).aggregate(c=Sum("conversions"))["c"] == 500
