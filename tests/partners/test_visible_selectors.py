"""The ``<noun>_visible(*, actor)`` selectors: the one answer to "which rows may this caller
see?" for every partners model the API and the web pages show. Each is checked for another
brand's member (sees nothing of ours), a platform admin (sees all), the brand's own API key
and an anonymous caller."""

from __future__ import annotations

import pytest

from partners import selectors, services
from partners.actors import Actor
from partners.models import ApiKey, AuditEvent, Brand, BrandStatus, Category, Channel, Membership, Role, User
from tests.factories import ChannelFactory, MembershipFactory, UserFactory


@pytest.fixture
def world(brand, owner, owner_actor, other_brand, other_owner, other_actor):
    """Two brands, each with a channel, an API key (whose creation is an audit record) and a
    viewer; the first brand's key is returned as an actor too."""
    ChannelFactory(brand=brand, label="ours")
    ChannelFactory(brand=other_brand, label="theirs")
    key, _raw = services.api_key_create(actor=owner_actor, brand=brand, name="ours", scopes=["read", "write"])
    services.api_key_create(actor=other_actor, brand=other_brand, name="theirs", scopes=["read"])
    viewer = MembershipFactory(brand=brand, role=Role.VIEWER, user=UserFactory(username="viewer@example.com")).user
    return {"key": key, "key_actor": Actor(api_key=key), "viewer": Actor(user=viewer)}


def _brands(qs) -> set[int]:
    return set(qs.values_list("brand_id", flat=True))


# --- brands ------------------------------------------------------------------------------------------
def test_brand_visible_hides_other_brands_pending_profile(brand, other_brand, other_actor, admin_actor):
    brand.status = BrandStatus.PENDING
    brand.save()
    assert set(selectors.brand_visible(actor=other_actor)) == {other_brand}
    assert set(selectors.brand_visible(actor=Actor())) == {other_brand}
    assert set(selectors.brand_visible(actor=admin_actor)) == set(Brand.objects.all())


# --- channels ----------------------------------------------------------------------------------------
def test_channel_visible_to_own_brand_and_admins_only(world, brand, other_brand, other_actor, owner_actor, admin_actor):
    assert _brands(selectors.channel_visible(actor=owner_actor)) == {brand.pk}
    assert _brands(selectors.channel_visible(actor=world["key_actor"])) == {brand.pk}
    assert _brands(selectors.channel_visible(actor=other_actor)) == {other_brand.pk}
    assert not selectors.channel_visible(actor=Actor()).exists()
    assert selectors.channel_visible(actor=admin_actor).count() == Channel.objects.count() == 2


def test_channel_list_of_another_brand_is_empty(world, brand, other_actor):
    assert not selectors.channel_list(actor=other_actor, brand=brand).exists()


# --- API keys ----------------------------------------------------------------------------------------
def test_api_key_visible_to_owners_and_admins(world, brand, other_brand, owner_actor, other_actor, admin_actor):
    assert _brands(selectors.api_key_visible(actor=owner_actor)) == {brand.pk}
    assert _brands(selectors.api_key_visible(actor=other_actor)) == {other_brand.pk}
    assert selectors.api_key_visible(actor=admin_actor).count() == ApiKey.objects.count() == 2


def test_api_key_sees_no_api_keys_not_even_its_own(world, brand):
    assert world["key_actor"].can_see_api_keys is False
    assert not selectors.api_key_visible(actor=world["key_actor"]).exists()
    assert not selectors.api_key_list(actor=world["key_actor"], brand=brand).exists()
    assert not world["key_actor"].can_manage_keys(brand.pk)


def test_api_keys_hidden_from_viewers_and_anonymous(world, brand):
    assert not selectors.api_key_visible(actor=world["viewer"]).exists()
    assert not selectors.api_key_visible(actor=Actor()).exists()
    assert not selectors.api_key_list(actor=world["viewer"], brand=brand).exists()


# --- audit records -----------------------------------------------------------------------------------
def test_audit_event_visible_to_own_brand_and_admins_only(
    world, brand, other_brand, owner_actor, other_actor, admin_actor
):
    assert _brands(selectors.audit_event_visible(actor=owner_actor)) == {brand.pk}
    assert _brands(selectors.audit_event_visible(actor=world["key_actor"])) == {brand.pk}
    assert _brands(selectors.audit_event_visible(actor=other_actor)) == {other_brand.pk}
    assert not selectors.audit_event_visible(actor=Actor()).exists()
    assert selectors.audit_event_visible(actor=admin_actor).count() == AuditEvent.objects.count() >= 2
    assert not selectors.audit_history(actor=other_actor, brand=brand).exists()


# --- people ------------------------------------------------------------------------------------------
def test_user_visible_is_oneself(world, owner, owner_actor, other_actor, admin_actor):
    assert list(selectors.user_visible(actor=owner_actor)) == [owner]
    assert owner not in selectors.user_visible(actor=other_actor)
    assert not selectors.user_visible(actor=world["key_actor"]).exists()
    assert not selectors.user_visible(actor=Actor()).exists()
    assert selectors.user_visible(actor=admin_actor).count() == User.objects.count()


def test_membership_visible_is_ones_own(world, brand, owner, owner_actor, other_actor, admin_actor):
    assert set(selectors.membership_visible(actor=owner_actor)) == set(Membership.objects.filter(user=owner))
    assert not selectors.membership_visible(actor=other_actor).filter(brand=brand).exists()
    assert not selectors.membership_visible(actor=world["key_actor"]).exists()
    assert not selectors.membership_visible(actor=Actor()).exists()
    assert selectors.membership_visible(actor=admin_actor).count() == Membership.objects.count()


# --- taxonomy ----------------------------------------------------------------------------------------
def test_category_visible_is_public(db, other_actor):
    everything = Category.objects.count()
    assert everything > 0
    assert selectors.category_visible(actor=Actor()).count() == everything
    assert selectors.category_visible(actor=other_actor).count() == everything
