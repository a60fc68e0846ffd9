"""Coupon batches: the promoted brand generates N single-use codes per placement; the two
parties download them as CSV."""

from __future__ import annotations

import csv
import io

import pytest
from django.core.exceptions import ValidationError

from exchange.errors import ExchangeError as E
from exchange.models import Coupon, CouponBatch
from exchange.services import coupon_batch_generate, coupons_csv
from exchange.services.coupons import CODE_ALPHABET, CODE_LENGTH
from exchange.states import CampaignState
from partners.actors import Actor
from partners.models import AuditAction, AuditEvent
from tests.factories import BrandFactory, MembershipFactory, UserFactory
from tests.fixtures_reported import placement_of

pytestmark = pytest.mark.django_db


def _code(exc: ValidationError) -> str:
    return next(iter(exc.error_dict.values()))[0].code


def test_promoted_brand_generates_unique_readable_codes(toys_leg, toys_actor):
    cp = placement_of(toys_leg)
    batch = coupon_batch_generate(actor=toys_actor, placement=cp, size=300)
    codes = list(Coupon.objects.filter(batch=batch).values_list("code", flat=True))
    assert len(codes) == len(set(codes)) == 300 == batch.size
    assert all(len(c) == CODE_LENGTH and set(c) <= set(CODE_ALPHABET) for c in codes)
    assert not set("0O1I") & set("".join(codes))
    assert AuditEvent.objects.filter(action=AuditAction.COUPONS_GENERATED, brand=toys_leg.promoted).count() == 1


def test_regenerating_larger_adds_codes_and_keeps_the_issued_ones(toys_leg, toys_actor):
    cp = placement_of(toys_leg)
    coupon_batch_generate(actor=toys_actor, placement=cp, size=50)
    first = set(Coupon.objects.values_list("code", flat=True))
    batch = coupon_batch_generate(actor=toys_actor, placement=cp, size=120)
    now = set(Coupon.objects.filter(batch=batch).values_list("code", flat=True))
    assert first < now and len(now) == 120
    assert CouponBatch.objects.count() == 1


def test_shrinking_a_batch_is_refused_and_changes_nothing(toys_leg, toys_actor):
    cp = placement_of(toys_leg)
    coupon_batch_generate(actor=toys_actor, placement=cp, size=40)
    with pytest.raises(ValidationError) as exc:
        coupon_batch_generate(actor=toys_actor, placement=cp, size=10)
    assert _code(exc.value) == E.COUPON_BATCH_SHRINK
    assert Coupon.objects.count() == 40 and CouponBatch.objects.get().size == 40


@pytest.mark.parametrize("size", [0, -5, 5_001, True])
def test_size_outside_the_cap_is_refused(toys_leg, toys_actor, size):
    with pytest.raises(ValidationError) as exc:
        coupon_batch_generate(actor=toys_actor, placement=placement_of(toys_leg), size=size)
    assert _code(exc.value) == E.COUPON_BATCH_SIZE
    assert not CouponBatch.objects.exists() and not Coupon.objects.exists()


def test_cap_follows_the_setting(toys_leg, toys_actor, settings):
    settings.EXCHANGE_COUPON_BATCH_MAX = 20
    with pytest.raises(ValidationError):
        coupon_batch_generate(actor=toys_actor, placement=placement_of(toys_leg), size=21)
    assert coupon_batch_generate(actor=toys_actor, placement=placement_of(toys_leg), size=20).size == 20


def test_promoter_cannot_generate_the_promoted_brands_coupons(toys_leg, coffee_actor):
    with pytest.raises(ValidationError) as exc:
        coupon_batch_generate(actor=coffee_actor, placement=placement_of(toys_leg), size=10)
    assert _code(exc.value) == E.PERMISSION_DENIED
    assert not Coupon.objects.exists()


def test_viewer_and_admin_cannot_generate(toys_leg, toys, admin_actor):
    viewer = MembershipFactory(brand=toys, role="viewer", user=UserFactory()).user
    for actor in (Actor(user=viewer), admin_actor):
        with pytest.raises(ValidationError) as exc:
            coupon_batch_generate(actor=actor, placement=placement_of(toys_leg), size=10)
        assert _code(exc.value) == E.PERMISSION_DENIED


def test_completed_campaign_issues_no_more_coupons(toys_leg, toys_actor):
    toys_leg.campaign.state = CampaignState.COMPLETED
    toys_leg.campaign.save(update_fields=["state"])
    with pytest.raises(ValidationError) as exc:
        coupon_batch_generate(actor=toys_actor, placement=placement_of(toys_leg), size=10)
    assert _code(exc.value) == E.CAMPAIGN_CLOSED


def test_csv_lists_every_code_for_both_parties(toys_leg, toys_actor, coffee_actor):
    cp = placement_of(toys_leg)
    coupon_batch_generate(actor=toys_actor, placement=cp, size=25)
    for actor in (toys_actor, coffee_actor):
        rows = list(csv.reader(io.StringIO("".join(coupons_csv(actor=actor, placement=cp)))))
        assert rows[0] == ["code", "campaign", "placement", "status", "redeemed_at (Asia/Shanghai)"]
        assert len(rows) == 26
        assert {r[0] for r in rows[1:]} == set(Coupon.objects.values_list("code", flat=True))
        assert {(r[1], r[2], r[3], r[4]) for r in rows[1:]} == {(str(toys_leg.campaign_id), str(cp.pk), "unused", "")}


def test_csv_is_refused_to_another_brand_and_to_admins(toys_leg, toys_actor, admin_actor):
    cp = placement_of(toys_leg)
    coupon_batch_generate(actor=toys_actor, placement=cp, size=5)
    stranger = MembershipFactory(brand=BrandFactory(), role="owner", user=UserFactory()).user
    for actor in (Actor(user=stranger), admin_actor):
        with pytest.raises(ValidationError) as exc:
            coupons_csv(actor=actor, placement=cp)
        assert _code(exc.value) == E.PERMISSION_DENIED


def test_csv_shows_a_redeemed_code_with_its_time_in_shanghai(toys_leg, toys, toys_actor):
    from datetime import UTC, datetime

    from exchange.services import conversions_report
    from tests.fixtures_reported import order

    cp = placement_of(toys_leg)
    coupon_batch_generate(actor=toys_actor, placement=cp, size=2)
    code = Coupon.objects.order_by("id").first().code
    conversions_report(actor=toys_actor, brand=toys, rows=[order("CSV-1", coupon_code=code)])
    Coupon.objects.filter(code=code).update(redeemed_at=datetime(2026, 12, 1, 16, 30, tzinfo=UTC))
    rows = {r[0]: r for r in csv.reader(io.StringIO("".join(coupons_csv(actor=toys_actor, placement=cp))))}
    assert rows[code][3:] == ["redeemed", "2026-12-02 00:30:00"]
