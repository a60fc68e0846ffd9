"""Hard constraints: never itself, never a competitor (same leaf, admin rule, a block either
way), never a brand that is not approved — at refresh and, for later changes, at read time."""

from __future__ import annotations

import pytest

from matching import exclusions, services
from matching.models import Recommendation
from matching.selectors import recommendation_list
from partners.actors import Actor
from partners.models import Brand, BrandBlock, BrandStatus, CompetitionRule
from partners.selectors import brands_compete, competing_category_map
from tests.factories import BrandFactory, category, make_brand

pytestmark = pytest.mark.django_db


@pytest.fixture
def market():
    me = make_brand("me-coffee", "beverage.coffee")
    CompetitionRule.objects.create(category_a=category("beverage.coffee"), category_b=category("beverage.tea_drinks"))
    forbidden = {
        "same-leaf": make_brand("other-coffee", "beverage.coffee"),
        "admin-rule": make_brand("tea-drinks", "beverage.tea_drinks"),
        "i-blocked": make_brand("blocked-by-me", "food.snacks"),
        "blocked-me": make_brand("blocker-of-me", "food.dairy"),
        "suspended": make_brand("suspended-one", "food.frozen", status=BrandStatus.SUSPENDED),
        "pending": make_brand("pending-one", "toys.kids", status=BrandStatus.PENDING),
        "rejected": make_brand("rejected-one", "pets", status=BrandStatus.REJECTED),
    }
    BrandBlock.objects.create(brand=me, blocked=forbidden["i-blocked"])
    BrandBlock.objects.create(brand=forbidden["blocked-me"], blocked=me)
    allowed = [
        make_brand(f"partner-{i}", code) for i, code in enumerate(["food.bakery", "toys.collectibles", "fitness"])
    ]
    return me, forbidden, allowed


def test_refresh_recommends_only_allowed_partners(market):
    me, forbidden, allowed = market
    services.recommendations_refresh_brand(brand_id=me.pk)
    slugs = set(Recommendation.objects.filter(brand=me).values_list("partner__slug", flat=True))
    assert slugs == {b.slug for b in allowed}
    assert me.slug not in slugs
    for reason, brand in forbidden.items():
        assert brand.slug not in slugs, reason


def test_full_refresh_stores_no_competitor_or_unapproved_pair(market):
    me, forbidden, allowed = market
    stats = services.recommendations_refresh_all()
    assert stats.rows > 0
    cmap = competing_category_map()
    brands = {b.pk: b for b in Brand.objects.all()}
    for brand_id, partner_id in Recommendation.objects.values_list("brand_id", "partner_id"):
        a, b = brands[brand_id], brands[partner_id]
        assert a.pk != b.pk
        assert a.status == b.status == BrandStatus.APPROVED
        assert not brands_compete(a, b, category_map=cmap), (a.slug, b.slug)
    # the unapproved brands get no list of their own either
    for key in ("suspended", "pending", "rejected"):
        assert not Recommendation.objects.filter(brand=forbidden[key]).exists()


def test_blocked_brand_is_excluded_from_the_blockers_list_too(market):
    me, forbidden, allowed = market
    services.recommendations_refresh_brand(brand_id=forbidden["blocked-me"].pk)
    services.recommendations_refresh_brand(brand_id=forbidden["i-blocked"].pk)
    assert not Recommendation.objects.filter(brand=forbidden["blocked-me"], partner=me).exists()
    assert not Recommendation.objects.filter(brand=forbidden["i-blocked"], partner=me).exists()
    assert Recommendation.objects.filter(brand=forbidden["blocked-me"]).exists()


def test_partner_suspended_after_refresh_disappears_at_read_time(market, admin_actor):
    me, _, allowed = market
    services.recommendations_refresh_brand(brand_id=me.pk)
    victim = allowed[0]
    assert victim in [r.partner for r in recommendation_list(actor=admin_actor, brand=me)]
    Brand.objects.filter(pk=victim.pk).update(status=BrandStatus.SUSPENDED)  # no signal, no refresh
    assert Recommendation.objects.filter(brand=me, partner=victim).exists()
    assert victim not in [r.partner for r in recommendation_list(actor=admin_actor, brand=me)]


def test_block_and_new_competition_rule_after_refresh_apply_at_read_time(market, admin_actor):
    me, _, allowed = market
    services.recommendations_refresh_brand(brand_id=me.pk)
    BrandBlock.objects.create(brand=allowed[0], blocked=me)
    CompetitionRule.objects.create(category_a=category("beverage.coffee"), category_b=category("toys.collectibles"))
    shown = {r.partner.slug for r in recommendation_list(actor=admin_actor, brand=me)}
    assert shown == {allowed[2].slug}


def test_suspending_a_brand_through_the_service_removes_it_from_every_list(
    market, admin_actor, django_capture_on_commit_callbacks
):
    from partners.services import brand_suspend

    me, _, allowed = market
    services.recommendations_refresh_all()
    victim = allowed[1]
    assert Recommendation.objects.filter(partner=victim).exists()
    with django_capture_on_commit_callbacks(execute=True):
        brand_suspend(actor=admin_actor, brand=victim, reason="fraud")
    assert not Recommendation.objects.filter(partner=victim).exists()
    assert not Recommendation.objects.filter(brand=victim).exists()


def test_list_is_scoped_to_the_brands_members_and_admins(market, admin_actor, other_actor):
    me, _, _ = market
    services.recommendations_refresh_brand(brand_id=me.pk)
    assert recommendation_list(actor=admin_actor, brand=me).count() == 4  # 3 partners + other_actor's pop-mart
    assert recommendation_list(actor=other_actor, brand=me).count() == 0
    assert recommendation_list(actor=Actor(), brand=me).count() == 0


def test_list_filters_by_score_category_scale_and_region(market, admin_actor):
    me, _, allowed = market
    Brand.objects.filter(pk=allowed[2].pk).update(active_audience=5_000_000, audience={"regions": ["CN-GD"]})
    services.recommendations_refresh_brand(brand_id=me.pk)
    qs = recommendation_list(actor=admin_actor, brand=me, category="toys")
    assert [r.partner.slug for r in qs] == [allowed[1].slug]
    assert [r.partner.slug for r in recommendation_list(actor=admin_actor, brand=me, region="cn-gd")] == [
        allowed[2].slug
    ]
    assert allowed[2].slug not in {
        r.partner.slug for r in recommendation_list(actor=admin_actor, brand=me, scale_max=1_000_000)
    }
    assert recommendation_list(actor=admin_actor, brand=me, min_score=1.01).count() == 0


def test_list_query_count_is_constant_as_it_grows(market, admin_actor):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    me, _, _ = market

    def read() -> tuple[int, int]:
        services.recommendations_refresh_brand(brand_id=me.pk)
        with CaptureQueriesContext(connection) as ctx:
            rows = [
                (r.partner.name, r.partner.category.name_en, r.reasons("en"))
                for r in recommendation_list(actor=admin_actor, brand=me)
            ]
        return len(rows), len(ctx.captured_queries)

    few, queries_few = read()
    for i in range(12):
        make_brand(f"more-{i}", "home.furniture")
    many, queries_many = read()
    assert many == few + 12
    # the rows, plus one read of the pairs negotiating right now (matching.exclusions)
    assert queries_many == queries_few <= 4


@pytest.fixture
def exclusion_sources():
    """Only the excluded-pair sources a test registers (whatever was registered is put back after)."""
    saved = exclusions.clear_excluded_pairs_sources()
    yield exclusions.register_excluded_pairs_source
    exclusions.clear_excluded_pairs_sources()
    for source in saved:
        exclusions.register_excluded_pairs_source(source)


@pytest.fixture
def open_swap(exclusion_sources):
    """A registered source standing in for the exchange's open proposals (no exchange models yet)."""
    me = make_brand("me-coffee", "beverage.coffee")
    in_talks = make_brand("in-talks", "food.bakery")
    other = make_brand("other-partner", "food.snacks")
    exclusion_sources(lambda brand_ids: [(in_talks.pk, me.pk)])
    return me, in_talks, other


def test_without_a_registered_source_no_pair_is_excluded(exclusion_sources, settings):
    settings.MATCHING_EXCLUDE_OPEN_PAIRS = True
    me = make_brand("me-coffee", "beverage.coffee")
    partner = make_brand("a-bakery", "food.bakery")
    assert exclusions.excluded_open_pairs() == set()
    assert exclusions.excluded_open_pairs([me.pk]) == set()
    services.recommendations_refresh_brand(brand_id=me.pk)
    assert Recommendation.objects.filter(brand=me, partner=partner).exists()


def test_a_source_is_registered_once_gets_the_brand_ids_and_counts_both_ways(exclusion_sources, settings):
    settings.MATCHING_EXCLUDE_OPEN_PAIRS = True
    calls = []

    def source(brand_ids):
        calls.append(brand_ids)
        return [(1, 2)]

    exclusion_sources(source)
    exclusion_sources(source)  # AppConfig.ready() may run twice: still one source
    assert exclusions.excluded_open_pairs(iter([5, 6])) == {(1, 2), (2, 1)}
    assert exclusions.excluded_open_pairs() == {(1, 2), (2, 1)}
    assert calls == [[5, 6], None]
    settings.MATCHING_EXCLUDE_OPEN_PAIRS = False
    assert exclusions.excluded_open_pairs() == set()
    assert len(calls) == 2  # not even asked


def test_pair_with_an_open_swap_is_excluded_when_the_setting_is_on(open_swap, settings):
    settings.MATCHING_EXCLUDE_OPEN_PAIRS = True
    me, in_talks, other = open_swap
    services.recommendations_refresh_all()
    assert not Recommendation.objects.filter(brand=me, partner=in_talks).exists()
    assert not Recommendation.objects.filter(brand=in_talks, partner=me).exists()
    assert Recommendation.objects.filter(brand=me, partner=other).exists()


def test_pair_with_an_open_swap_stays_when_the_setting_is_off(open_swap, settings):
    settings.MATCHING_EXCLUDE_OPEN_PAIRS = False
    me, in_talks, _ = open_swap
    services.recommendations_refresh_brand(brand_id=me.pk)
    assert Recommendation.objects.filter(brand=me, partner=in_talks).exists()


def test_brand_deleted_outright_leaves_the_cached_market_and_refresh_still_works(market):
    """Deleting a brand (e.g. from the Django admin) bumps no updated_at; the per-process
    market cache must still drop it, or the next refresh would write a dangling partner."""
    me, _forbidden, allowed = market
    services.recommendations_refresh_brand(brand_id=me.pk)  # warms the per-process cache
    gone = allowed[0]
    gone_id = gone.pk
    gone.delete()
    services.recommendations_refresh_brand(brand_id=me.pk)
    partner_ids = set(Recommendation.objects.filter(brand=me).values_list("partner_id", flat=True))
    assert gone_id not in partner_ids
    assert partner_ids == {b.pk for b in allowed[1:]}


def test_brand_written_around_the_services_is_picked_up_after_the_recount_interval(market, monkeypatch):
    """A write that sends no signal (raw SQL, a script) is still noticed: the approved count
    is re-taken every APPROVED_RECOUNT_SECONDS."""
    from matching import market as market_cache

    me, _, allowed = market
    services.recommendations_refresh_brand(brand_id=me.pk)
    late = BrandFactory(slug="late-arrival", category=category("fitness"), active_audience=100_000)
    later = market_cache._now() + market_cache.APPROVED_RECOUNT_SECONDS + 1
    monkeypatch.setattr(market_cache, "_now", lambda: later)
    services.recommendations_refresh_brand(brand_id=me.pk)
    slugs = set(Recommendation.objects.filter(brand=me).values_list("partner__slug", flat=True))
    assert late.slug in slugs
