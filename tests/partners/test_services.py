"""Partners services: registration, profile, channels, approval workflow, blocks, API keys."""

import pytest
from django.core import mail
from django.core.exceptions import ValidationError

from partners import services
from partners.actors import Actor
from partners.errors import PartnersError as E
from partners.models import (
    ApiKey,
    AuditAction,
    AuditEvent,
    Brand,
    BrandBlock,
    BrandStatus,
    Channel,
    CompetitionRule,
    Membership,
    Role,
)
from tests.factories import BrandFactory, ChannelFactory, MembershipFactory, UserFactory, valid_credit_code


def payload(**overrides):
    data = {
        "slug": "panda-cake",
        "name": "熊猫不走蛋糕",
        "name_en": "Panda Cake",
        "category": "food.bakery",
        "price_tier": 2,
        "tone": ["young", "家庭"],
        "credit_code": valid_credit_code(4242),
        "stores": 0,
        "audience": {"gender": {"female": 0.7, "male": 0.3}, "regions": ["CN-GD"]},
        "channels": [
            {"type": "wecom", "size": 1_000_000, "active_rate": 0.4},
            {"type": "wechat_group", "size": 200_000, "active_rate": 0.25},
        ],
    }
    data.update(overrides)
    return data


def error_codes(exc):
    return {field: [e.code for e in errs] for field, errs in exc.value.error_dict.items()}


@pytest.fixture
def signed_in(db):
    return Actor(user=UserFactory(username="marketer@example.com"))


def test_register_creates_pending_brand_with_owner_channels_scale_and_audit(signed_in):
    brand = services.brand_register(actor=signed_in, data=payload())
    assert brand.status == BrandStatus.PENDING
    assert brand.active_audience == 1_000_000 * 0.4 + 200_000 * 0.25
    assert brand.tone_tags == ["young", "family"]
    assert Membership.objects.get(brand=brand).role == Role.OWNER
    assert Channel.objects.filter(brand=brand).count() == 2
    assert AuditEvent.objects.filter(brand=brand, action="brand.registered", actor=signed_in.user).exists()


def test_self_registration_requires_a_credit_code(signed_in):
    with pytest.raises(ValidationError) as exc:
        services.brand_register(actor=signed_in, data=payload(credit_code=""))
    assert error_codes(exc)["credit_code"] == [E.REQUIRED]
    assert not Brand.objects.exists()


@pytest.mark.parametrize(
    "overrides, field, code",
    [
        ({"credit_code": "91350100M000100Y44"}, "credit_code", E.INVALID_CREDIT_CODE),
        ({"category": "food"}, "category", E.NOT_A_LEAF),
        ({"category": "food.cheese"}, "category", E.UNKNOWN_CATEGORY),
        ({"price_tier": 9}, "price_tier", E.OUT_OF_RANGE),
        ({"slug": "Bad Slug"}, "slug", E.INVALID),
        ({"audience": {"age": {"18-24": 0.5}}}, "audience.age", E.INVALID_DISTRIBUTION),
        ({"channels": [{"type": "wecom", "size": 5, "active_rate": 2}]}, "channels[0].active_rate", E.OUT_OF_RANGE),
    ],
)
def test_bad_registration_is_refused_and_writes_nothing(signed_in, overrides, field, code):
    with pytest.raises(ValidationError) as exc:
        services.brand_register(actor=signed_in, data=payload(**overrides))
    assert code in error_codes(exc)[field]
    assert Brand.objects.count() == 0
    assert Channel.objects.count() == 0 and Membership.objects.count() == 0 and AuditEvent.objects.count() == 0


def test_taken_slug_is_refused(signed_in):
    BrandFactory(slug="panda-cake")
    with pytest.raises(ValidationError) as exc:
        services.brand_register(actor=signed_in, data=payload())
    assert error_codes(exc)["slug"] == [E.SLUG_TAKEN]


def test_anonymous_cannot_register(db):
    with pytest.raises(ValidationError) as exc:
        services.brand_register(actor=Actor(), data=payload())
    assert error_codes(exc)["__all__"] == [E.PERMISSION_DENIED]


def test_update_is_partial_audited_and_only_for_editors(brand, owner_actor, other_actor):
    services.brand_update(actor=owner_actor, brand=brand, data={"price_tier": 4, "tone": ["Premium"]})
    brand.refresh_from_db()
    assert (brand.price_tier, brand.tone_tags) == (4, ["premium"])
    event = AuditEvent.objects.get(brand=brand, action="brand.updated")
    assert event.data["fields"] == ["price_tier", "tone_tags"]
    with pytest.raises(ValidationError) as exc:
        services.brand_update(actor=other_actor, brand=brand, data={"price_tier": 1})
    assert error_codes(exc)["__all__"] == [E.PERMISSION_DENIED]
    brand.refresh_from_db()
    assert brand.price_tier == 4


def test_viewer_cannot_edit(brand):
    viewer = MembershipFactory(brand=brand, role=Role.VIEWER).user
    with pytest.raises(ValidationError):
        services.brand_update(actor=Actor(user=viewer), brand=brand, data={"price_tier": 1})


def test_channels_replace_and_recompute_scale(brand, owner_actor):
    ChannelFactory(brand=brand, type="sms", size=10, active_rate=1)
    services.brand_channels_set(
        actor=owner_actor, brand=brand, channels=[{"type": "miniprogram", "size": 20_000_000, "active_rate": 0.1}]
    )
    brand.refresh_from_db()
    assert list(brand.channels.values_list("type", flat=True)) == ["miniprogram"]
    assert brand.active_audience == 2_000_000


def test_bad_channels_leave_existing_ones_untouched(brand, owner_actor):
    ChannelFactory(brand=brand, type="sms", size=10, active_rate=1)
    with pytest.raises(ValidationError):
        services.brand_channels_set(actor=owner_actor, brand=brand, channels=[{"type": "fax", "size": 1}])
    assert list(brand.channels.values_list("type", flat=True)) == ["sms"]


# --- approval workflow ----------------------------------------------------------------------
@pytest.fixture
def pending(db):
    brand = BrandFactory(status=BrandStatus.PENDING)
    MembershipFactory(brand=brand, user=UserFactory(username="pending-owner@example.com"))
    return brand


def test_admin_approves_pending_brand_with_audit_and_email(pending, admin_actor, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        services.brand_approve(actor=admin_actor, brand=pending)
    pending.refresh_from_db()
    assert pending.status == BrandStatus.APPROVED
    event = AuditEvent.objects.get(brand=pending, action=AuditAction.BRAND_APPROVED)
    assert (event.actor, event.data) == (admin_actor.user, {"from": "pending", "to": "approved"})
    assert event.notified_at is not None
    assert mail.outbox[0].to == ["pending-owner@example.com"]


def test_reject_requires_a_reason_and_changes_nothing_without_one(pending, admin_actor):
    with pytest.raises(ValidationError) as exc:
        services.brand_reject(actor=admin_actor, brand=pending, reason="  ")
    assert error_codes(exc)["reason"] == [E.REASON_REQUIRED]
    pending.refresh_from_db()
    assert pending.status == BrandStatus.PENDING and not AuditEvent.objects.exists()


def test_non_admin_cannot_approve_even_own_brand(pending):
    owner = Actor(user=pending.memberships.get().user)
    with pytest.raises(ValidationError) as exc:
        services.brand_approve(actor=owner, brand=pending)
    assert error_codes(exc)["__all__"] == [E.PERMISSION_DENIED]


def test_full_lifecycle_reject_resubmit_approve_suspend_reinstate(pending, admin_actor):
    owner = Actor(user=pending.memberships.get().user)
    services.brand_reject(actor=admin_actor, brand=pending, reason="证照模糊")
    services.brand_update(actor=owner, brand=pending, data={"description": "补充资料"})
    services.brand_resubmit(actor=owner, brand=pending)
    services.brand_approve(actor=admin_actor, brand=pending)
    services.brand_suspend(actor=admin_actor, brand=pending, reason="刷量")
    services.brand_reinstate(actor=admin_actor, brand=pending)
    pending.refresh_from_db()
    assert pending.status == BrandStatus.APPROVED
    actions = list(AuditEvent.objects.filter(brand=pending).order_by("id").values_list("action", "reason"))
    assert actions == [
        (AuditAction.BRAND_REJECTED, "证照模糊"),
        ("brand.updated", ""),
        (AuditAction.BRAND_RESUBMITTED, ""),
        (AuditAction.BRAND_APPROVED, ""),
        (AuditAction.BRAND_SUSPENDED, "刷量"),
        (AuditAction.BRAND_REINSTATED, ""),
    ]


@pytest.mark.parametrize(
    "status, action",
    [
        (BrandStatus.APPROVED, "approve"),
        (BrandStatus.REJECTED, "reject"),
        (BrandStatus.PENDING, "suspend"),
        (BrandStatus.APPROVED, "reinstate"),
        (BrandStatus.SUSPENDED, "reject"),
        (BrandStatus.PENDING, "resubmit"),
    ],
)
def test_invalid_transitions_are_refused(admin_actor, status, action):
    brand = BrandFactory(status=status)
    with pytest.raises(ValidationError) as exc:
        services.brand_transition(actor=admin_actor, brand=brand, action=action, reason="x")
    assert error_codes(exc)["status"] == [E.INVALID_TRANSITION]
    brand.refresh_from_db()
    assert brand.status == status


# --- blocks, keys -----------------------------------------------------------------------------
def test_block_is_recorded_and_self_or_unknown_blocks_are_refused(brand, owner_actor, other_brand):
    services.brand_block(actor=owner_actor, brand=brand, blocked_slug=other_brand.slug)
    assert BrandBlock.objects.filter(brand=brand, blocked=other_brand).exists()
    with pytest.raises(ValidationError) as exc:
        services.brand_block(actor=owner_actor, brand=brand, blocked_slug=brand.slug)
    assert error_codes(exc)["blocked"] == [E.SELF_BLOCK]
    with pytest.raises(ValidationError) as exc:
        services.brand_block(actor=owner_actor, brand=brand, blocked_slug="nobody")
    assert error_codes(exc)["blocked"] == [E.UNKNOWN_BRAND]


def test_api_key_is_shown_once_stored_hashed_and_authenticates_until_revoked(brand, owner_actor):
    key, raw = services.api_key_create(actor=owner_actor, brand=brand, name="CRM", scopes=["read"])
    assert raw.startswith(f"hl_{key.prefix}_")
    secret = raw.split("_", 2)[2]
    stored = ApiKey.objects.get(pk=key.pk)
    assert secret not in stored.key_hash and len(stored.key_hash) == 64
    assert services.api_key_authenticate(raw) == key
    assert services.api_key_authenticate(raw + "x") is None
    assert ApiKey.objects.get(pk=key.pk).last_used_at is not None
    services.api_key_revoke(actor=owner_actor, api_key=key)
    assert services.api_key_authenticate(raw) is None
    with pytest.raises(ValidationError) as exc:
        services.api_key_revoke(actor=owner_actor, api_key=key)
    assert error_codes(exc)["id"] == [E.ALREADY_REVOKED]


def test_only_owner_creates_keys_and_scopes_are_checked(brand, owner_actor):
    marketer = Actor(user=MembershipFactory(brand=brand, role=Role.MARKETER).user)
    with pytest.raises(ValidationError) as exc:
        services.api_key_create(actor=marketer, brand=brand, name="x", scopes=["read"])
    assert error_codes(exc)["__all__"] == [E.PERMISSION_DENIED]
    with pytest.raises(ValidationError) as exc:
        services.api_key_create(actor=owner_actor, brand=brand, name="", scopes=["admin"])
    assert set(error_codes(exc)) == {"name", "scopes"}
    assert not ApiKey.objects.exists()


def test_api_key_actor_is_scoped_to_its_brand_and_scope(brand, owner_actor, other_brand):
    key, _ = services.api_key_create(actor=owner_actor, brand=brand, name="CRM", scopes=["read"])
    reader = Actor(api_key=key)
    assert reader.can_view_private(brand.pk) and not reader.can_view_private(other_brand.pk)
    assert not reader.can_edit(brand.pk) and not reader.is_admin
    writer_key, _ = services.api_key_create(actor=owner_actor, brand=brand, name="W", scopes=["read", "write"])
    assert Actor(api_key=writer_key).can_edit(brand.pk)
    assert not Actor(api_key=writer_key).can_manage_keys(brand.pk)


def test_signup_refuses_duplicate_email_and_weak_password(db):
    services.user_signup(email="A@Example.com", password="a-long-enough-passphrase", display_name="A")
    with pytest.raises(ValidationError) as exc:
        services.user_signup(email="a@example.com", password="123")
    assert set(error_codes(exc)) == {"email", "password"}


# --- channel verification (only the platform vouches for a channel) ---------------------------
def test_a_member_cannot_declare_a_channel_verified(brand, owner_actor):
    ChannelFactory(brand=brand, type="sms", size=10, active_rate=1)
    with pytest.raises(ValidationError) as exc:
        services.brand_channels_set(
            actor=owner_actor,
            brand=brand,
            channels=[{"type": "wecom", "size": 10**9, "active_rate": 1, "verification": "audited"}],
        )
    assert error_codes(exc) == {"channels[0].verification": [E.PERMISSION_DENIED]}
    assert list(brand.channels.values_list("type", "verification")) == [("sms", "self_reported")]


def test_a_write_api_key_cannot_declare_a_channel_verified(brand, owner_actor):
    key, _ = services.api_key_create(actor=owner_actor, brand=brand, name="W", scopes=["write"])
    with pytest.raises(ValidationError) as exc:
        services.brand_channels_set(
            actor=Actor(api_key=key),
            brand=brand,
            channels=[{"type": "wecom", "size": 10, "active_rate": 1, "verification": "api"}],
        )
    assert error_codes(exc) == {"channels[0].verification": [E.PERMISSION_DENIED]}
    assert not brand.channels.exists()


def test_registration_by_a_member_cannot_declare_verified_channels(signed_in):
    channels = [{"type": "wecom", "size": 1000, "active_rate": 0.4, "verification": "audited"}]
    with pytest.raises(ValidationError) as exc:
        services.brand_register(actor=signed_in, data=payload(channels=channels))
    assert error_codes(exc) == {"channels[0].verification": [E.PERMISSION_DENIED]}
    assert not Brand.objects.exists()


def test_editing_channels_keeps_verification_of_unchanged_ones_and_resets_changed_ones(brand, owner_actor):
    from django.utils import timezone

    verified_at = timezone.now() - timezone.timedelta(days=30)
    ChannelFactory(
        brand=brand, type="wecom", size=1000, active_rate=0.5, verification="audited", verified_at=verified_at
    )
    ChannelFactory(brand=brand, type="app", size=500, active_rate=0.2, verification="api", verified_at=verified_at)
    services.brand_channels_set(
        actor=owner_actor,
        brand=brand,
        channels=[
            {"type": "wecom", "size": 1000, "active_rate": 0.5, "verification": "audited"},  # echoed back: kept
            {"type": "app", "size": 900, "active_rate": 0.2},  # size changed: back to self-reported
            {"type": "sms", "size": 10, "active_rate": 1},
        ],
    )
    got = {c.type: (c.verification, c.verified_at) for c in brand.channels.all()}
    assert got == {
        "wecom": ("audited", verified_at),
        "app": ("self_reported", None),
        "sms": ("self_reported", None),
    }
    event = AuditEvent.objects.get(brand=brand, action="brand.channels_set")
    assert event.data["verification_reset"] == [{"type": "app", "label": "", "from": "api"}]


def test_an_admin_sets_a_channels_verification_with_the_time(brand, admin_actor):
    ChannelFactory(brand=brand, type="wecom", size=1000, active_rate=0.5)
    services.brand_channels_set(
        actor=admin_actor,
        brand=brand,
        channels=[
            {"type": "wecom", "size": 1000, "active_rate": 0.5, "verification": "audited"},
        ],
    )
    channel = brand.channels.get()
    assert channel.verification == "audited" and channel.verified_at is not None


# --- re-review when the legal identity changes (suspended brands: tests/partners/test_kyb_rules.py)
@pytest.mark.parametrize("field, value", [("credit_code", valid_credit_code(9001)), ("legal_name", "另一家公司")])
def test_changing_the_legal_identity_of_an_approved_brand_sends_it_back_to_review(
    brand, owner_actor, django_capture_on_commit_callbacks, field, value
):
    status = BrandStatus.APPROVED
    Brand.objects.filter(pk=brand.pk).update(legal_name="瑞幸咖啡（中国）有限公司")
    brand.refresh_from_db()
    old = getattr(brand, field)
    with django_capture_on_commit_callbacks(execute=True):
        services.brand_update(actor=owner_actor, brand=brand, data={field: value})
    brand.refresh_from_db()
    assert brand.status == BrandStatus.PENDING and getattr(brand, field) == value.upper()
    assert "back in review" in brand.status_reason
    event = AuditEvent.objects.get(brand=brand, action="brand.kyb_changed")
    assert event.data == {"from": status, "to": "pending", "changes": {field: {"from": old, "to": value.upper()}}}
    assert event.notified_at is not None and mail.outbox[0].to == ["owner@example.com"]


def test_an_admin_correcting_the_legal_identity_does_not_trigger_a_review(brand, owner, admin_actor):
    services.brand_update(actor=admin_actor, brand=brand, data={"legal_name": "瑞幸咖啡（中国）有限公司"})
    brand.refresh_from_db()
    assert brand.status == BrandStatus.APPROVED and brand.legal_name == "瑞幸咖啡（中国）有限公司"
    assert not AuditEvent.objects.filter(action="brand.kyb_changed").exists()


def test_other_profile_edits_and_category_changes_keep_an_approved_brand_approved_but_are_audited(brand, owner_actor):
    old_category = brand.category.code
    services.brand_update(actor=owner_actor, brand=brand, data={"category": "food.bakery", "price_tier": 5})
    brand.refresh_from_db()
    assert brand.status == BrandStatus.APPROVED
    event = AuditEvent.objects.get(brand=brand, action="brand.updated")
    assert event.data["category"] == {"from": old_category, "to": "food.bakery"}


# --- blocks: hidden brands, both sides notified ------------------------------------------------
@pytest.mark.parametrize("status", [BrandStatus.PENDING, BrandStatus.REJECTED, BrandStatus.SUSPENDED])
def test_blocking_a_hidden_brand_says_unknown_brand_like_a_missing_one(brand, owner_actor, status):
    hidden = BrandFactory(slug="hidden-brand", status=status)
    with pytest.raises(ValidationError) as exc:
        services.brand_block(actor=owner_actor, brand=brand, blocked_slug=hidden.slug)
    assert error_codes(exc)["blocked"] == [E.UNKNOWN_BRAND]
    assert exc.value.error_dict["blocked"][0].messages == ["No brand with this slug."]
    assert not BrandBlock.objects.exists()


def test_an_admin_may_block_a_hidden_brand_on_a_members_behalf(brand, admin_actor):
    hidden = BrandFactory(slug="hidden-brand", status=BrandStatus.SUSPENDED)
    services.brand_block(actor=admin_actor, brand=brand, blocked_slug=hidden.slug)
    assert BrandBlock.objects.filter(brand=brand, blocked=hidden).exists()


def test_unblocking_refreshes_both_brands(brand, owner_actor, other_brand, django_capture_on_commit_callbacks):
    from partners.signals import brand_changed

    services.brand_block(actor=owner_actor, brand=brand, blocked_slug=other_brand.slug)
    seen = []

    def receiver(sender, brand_id, change, **kwargs):
        seen.append((brand_id, change))

    brand_changed.connect(receiver)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            services.brand_unblock(actor=owner_actor, brand=brand, blocked_slug=other_brand.slug)
    finally:
        brand_changed.disconnect(receiver)
    assert sorted(seen) == sorted([(brand.pk, "blocks"), (other_brand.pk, "blocks")])


# --- competition rules notify every brand under either subtree ------------------------------------
def _capture(signal):
    seen = []

    def receiver(sender, **kwargs):
        seen.append(kwargs)

    signal.connect(receiver, weak=False)
    return seen, lambda: signal.disconnect(receiver)


def test_a_rule_on_category_groups_refreshes_every_brand_under_them(admin_actor, django_capture_on_commit_callbacks):
    from partners.signals import brand_changed
    from tests.factories import category

    coffee = BrandFactory(category=category("beverage.coffee"))
    tea = BrandFactory(category=category("beverage.tea_drinks"))
    bakery = BrandFactory(category=category("food.bakery"))
    unrelated = BrandFactory(category=category("pets"))
    seen, stop = _capture(brand_changed)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            services.competition_rule_create(actor=admin_actor, category_a="beverage", category_b="food")
    finally:
        stop()
    refreshed = {s["brand_id"] for s in seen if s["change"] == "competition"}
    assert refreshed == {coffee.pk, tea.pk, bakery.pk}
    assert unrelated.pk not in refreshed


def test_a_rule_touching_many_brands_sends_one_bulk_signal(
    admin_actor, django_capture_on_commit_callbacks, monkeypatch
):
    from partners.services import competition
    from partners.signals import brand_changed, brands_imported
    from tests.factories import category

    monkeypatch.setattr(competition, "COMPETITION_NOTIFY_EACH_MAX", 2)
    ids = {BrandFactory(category=category("beverage.coffee")).pk for _ in range(3)}
    BrandFactory(category=category("pets"))
    each, stop_each = _capture(brand_changed)
    bulk, stop_bulk = _capture(brands_imported)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            services.competition_rule_create(actor=admin_actor, category_a="beverage", category_b="toys")
    finally:
        stop_each()
        stop_bulk()
    assert [set(b["brand_ids"]) for b in bulk] == [ids]
    assert not [s for s in each if s["change"] == "competition"]


def test_deleting_a_rule_is_audited_and_refreshes_the_brands_on_either_side(
    admin_actor, django_capture_on_commit_callbacks
):
    from partners.signals import brand_changed
    from tests.factories import category

    coffee = BrandFactory(category=category("beverage.coffee"))
    toy = BrandFactory(category=category("toys.collectibles"))
    BrandFactory(category=category("pets"))
    rule = services.competition_rule_create(actor=admin_actor, category_a="beverage", category_b="toys")
    seen, stop = _capture(brand_changed)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            services.competition_rule_delete(actor=admin_actor, rule=rule)
    finally:
        stop()
    assert not CompetitionRule.objects.exists()
    event = AuditEvent.objects.get(action=AuditAction.COMPETITION_RULE_DELETED)
    assert event.data == {"a": "beverage", "b": "toys"} and event.actor == admin_actor.user
    assert {s["brand_id"] for s in seen if s["change"] == "competition"} == {coffee.pk, toy.pk}


def test_only_admins_delete_a_rule(admin_actor, owner_actor):
    rule = services.competition_rule_create(actor=admin_actor, category_a="beverage", category_b="toys")
    with pytest.raises(ValidationError) as exc:
        services.competition_rule_delete(actor=owner_actor, rule=rule)
    assert error_codes(exc)["__all__"] == [E.PERMISSION_DENIED]
    assert CompetitionRule.objects.filter(pk=rule.pk).exists()


def test_membership_set_by_an_admin_or_the_owner_is_audited(brand, owner_actor, admin_actor):
    person = UserFactory()
    membership = services.membership_set(actor=admin_actor, brand=brand, user=person, role=Role.VIEWER)
    services.membership_set(actor=owner_actor, brand=brand, user=person, role=Role.MARKETER)
    membership.refresh_from_db()
    assert membership.role == Role.MARKETER
    events = AuditEvent.objects.filter(brand=brand, action=AuditAction.MEMBERSHIP_SET).order_by("id")
    assert [(e.actor, e.data) for e in events] == [
        (admin_actor.user, {"user": person.username, "role": Role.VIEWER}),
        (owner_actor.user, {"user": person.username, "role": Role.MARKETER}),
    ]


def test_membership_set_is_refused_to_others_and_for_an_unknown_role(brand, owner_actor, other_actor):
    person = UserFactory()
    with pytest.raises(ValidationError) as exc:
        services.membership_set(actor=other_actor, brand=brand, user=person, role=Role.VIEWER)
    assert error_codes(exc)["__all__"] == [E.PERMISSION_DENIED]
    with pytest.raises(ValidationError) as exc:
        services.membership_set(actor=owner_actor, brand=brand, user=person, role="boss")
    assert error_codes(exc)["role"] == [E.INVALID]
    assert not Membership.objects.filter(user=person).exists()


def test_a_key_created_with_write_scope_is_stored_with_read_too(brand, owner_actor):
    key, _ = services.api_key_create(actor=owner_actor, brand=brand, name="W", scopes=["write"])
    assert ApiKey.objects.get(pk=key.pk).scopes == ["read", "write"]
    event = AuditEvent.objects.get(action="api_key.created")
    assert event.data["scopes"] == ["read", "write"]
    reader, _ = services.api_key_create(actor=owner_actor, brand=brand, name="R", scopes=["read"])
    assert ApiKey.objects.get(pk=reader.pk).scopes == ["read"]
