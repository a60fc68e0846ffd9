"""Competition is answered in one place and scoping hides what a caller may not see."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from partners import selectors, services
from partners.actors import Actor
from partners.models import BrandStatus
from tests.factories import BrandFactory, category


@pytest.fixture
def coffee(db):
    return BrandFactory(slug="coffee-a", category=category("beverage.coffee"))


def test_same_leaf_competes_symmetrically(coffee):
    rival = BrandFactory(slug="coffee-b", category=category("beverage.coffee"))
    assert selectors.brands_compete(coffee, rival) and selectors.brands_compete(rival, coffee)


def test_different_leaves_do_not_compete_by_default(coffee):
    bakery = BrandFactory(category=category("food.bakery"))
    assert not selectors.brands_compete(coffee, bakery)


def test_admin_rule_between_groups_covers_their_leaves_both_ways(coffee, admin_actor):
    tea = BrandFactory(category=category("beverage.tea_drinks"))
    fast_food = BrandFactory(category=category("restaurant.fast_food"))
    services.competition_rule_create(actor=admin_actor, category_a="restaurant", category_b="beverage.coffee")
    assert selectors.brands_compete(coffee, fast_food) and selectors.brands_compete(fast_food, coffee)
    assert not selectors.brands_compete(tea, fast_food)


def test_competition_rule_needs_an_admin(coffee):
    with pytest.raises(ValidationError, match="Only platform admins"):
        services.competition_rule_create(actor=Actor(), category_a="food", category_b="beverage")


def test_block_either_way_makes_brands_compete(coffee, admin_actor):
    bakery = BrandFactory(category=category("food.bakery"))
    services.brand_block(actor=admin_actor, brand=bakery, blocked_slug=coffee.slug)
    assert selectors.brands_compete(coffee, bakery) and selectors.brands_compete(bakery, coffee)
    excluded = set(type(coffee).objects.filter(selectors.competitor_exclusion(coffee)).values_list("slug", flat=True))
    assert bakery.slug in excluded and coffee.slug in excluded


def test_marketplace_shows_only_approved_brands(db):
    visible = BrandFactory(slug="ok", status=BrandStatus.APPROVED)
    for status in (BrandStatus.PENDING, BrandStatus.REJECTED, BrandStatus.SUSPENDED):
        BrandFactory(slug=f"hidden-{status}", status=status)
    assert list(selectors.brand_marketplace(actor=Actor())) == [visible]


def test_a_slug_is_taken_by_a_brand_in_any_status(db):
    BrandFactory(slug="hidden-rejected", status=BrandStatus.REJECTED)
    assert selectors.brand_slug_taken(slug="hidden-rejected")
    assert not selectors.brand_slug_taken(slug="free-slug")


def test_own_pending_brand_is_visible_to_its_members_only(owner_actor, brand, other_actor):
    brand.status = BrandStatus.PENDING
    brand.save()
    assert selectors.brand_get(actor=owner_actor, slug=brand.slug) == brand
    assert selectors.brand_get(actor=other_actor, slug=brand.slug) is None
    assert selectors.brand_get(actor=Actor(), slug=brand.slug) is None


def test_private_reads_are_empty_for_other_brands(owner_actor, brand, other_actor):
    services.brand_update(actor=owner_actor, brand=brand, data={"price_tier": 2})
    services.brand_channels_set(actor=owner_actor, brand=brand, channels=[{"type": "sms", "size": 1, "active_rate": 1}])
    assert selectors.audit_history(actor=owner_actor, brand=brand).count() == 2
    assert selectors.audit_history(actor=other_actor, brand=brand).count() == 0
    assert selectors.channel_list(actor=other_actor, brand=brand).count() == 0
    assert selectors.api_key_list(actor=other_actor, brand=brand).count() == 0


def test_approval_queue_is_admin_only_and_searchable(admin_actor, owner_actor):
    BrandFactory(slug="waiting", name="等待审核", status=BrandStatus.PENDING)
    assert [b.slug for b in selectors.approval_queue(actor=admin_actor, search="等待")] == ["waiting"]
    with pytest.raises(PermissionDenied):
        selectors.approval_queue(actor=owner_actor)
