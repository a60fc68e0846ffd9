"""A member's brand pages: dashboard, profile and channel editors, resubmission, API keys;
the public marketplace. Non-members get 404 for everything private."""

import pytest
from django.urls import reverse

from partners import services
from partners.actors import Actor
from partners.models import ApiKey, AuditEvent, Brand, BrandStatus, Channel
from tests.factories import BrandFactory, ChannelFactory, UserFactory, category
from tests.frontend.conftest import errors_in

pytestmark = pytest.mark.django_db

PRIVATE_PAGES = ("brand_detail", "brand_edit", "brand_channels", "api_keys")


def profile_post(brand, **changes):
    data = {
        "name": brand.name,
        "name_en": brand.name_en,
        "category": brand.category.code,
        "legal_name": brand.legal_name,
        "credit_code": brand.credit_code,
        "price_tier": str(brand.price_tier),
        "stores": str(brand.store_count),
        "tone": "young, urban",
        "description": brand.description,
        "website": brand.website,
        "gender_0": "60",
        "gender_1": "40",
        "regions": ["CN-SH"],
    }
    data.update(changes)
    return data


def test_dashboard_lists_only_my_brands(owner_client, brand, other_brand):
    html = owner_client.get(reverse("frontend:dashboard")).content.decode()
    assert brand.name in html
    assert other_brand.name not in html


@pytest.mark.parametrize("page", PRIVATE_PAGES)
def test_another_brands_private_pages_are_404(client, other_owner, brand, page):
    client.force_login(other_owner)
    assert client.get(reverse(f"frontend:{page}", args=[brand.slug])).status_code == 404


@pytest.mark.parametrize("page", PRIVATE_PAGES)
def test_a_pending_brand_is_as_invisible_as_a_missing_one(client, other_owner, page):
    pending = BrandFactory(status=BrandStatus.PENDING)
    client.force_login(other_owner)
    assert client.get(reverse(f"frontend:{page}", args=[pending.slug])).status_code == 404
    assert client.get(reverse(f"frontend:{page}", args=["no-such-brand"])).status_code == 404


def test_posting_to_another_brands_editors_changes_nothing(client, other_owner, brand):
    client.force_login(other_owner)
    before = (brand.name, brand.active_audience)
    assert (
        client.post(reverse("frontend:brand_edit", args=[brand.slug]), profile_post(brand, name="Hacked")).status_code
        == 404
    )
    assert (
        client.post(
            reverse("frontend:brand_channels", args=[brand.slug]),
            {
                "channel_type": ["wecom"],
                "channel_label": [""],
                "channel_size": ["9"],
                "channel_active_rate": ["9"],
            },
        ).status_code
        == 404
    )
    assert (
        client.post(reverse("frontend:api_keys", args=[brand.slug]), {"name": "x", "scopes": ["read"]}).status_code
        == 404
    )
    brand.refresh_from_db()
    assert (brand.name, brand.active_audience) == before
    assert not ApiKey.objects.exists()
    assert not AuditEvent.objects.exists()


def test_a_viewer_sees_the_dashboard_but_cannot_edit(client, viewer, brand):
    client.force_login(viewer)
    detail = client.get(reverse("frontend:brand_detail", args=[brand.slug]))
    assert detail.status_code == 200
    assert reverse("frontend:brand_edit", args=[brand.slug]) not in detail.content.decode()
    assert client.get(reverse("frontend:brand_edit", args=[brand.slug])).status_code == 404
    assert (
        client.post(reverse("frontend:brand_edit", args=[brand.slug]), profile_post(brand, name="X")).status_code == 404
    )
    brand.refresh_from_db()
    assert brand.name == "瑞幸咖啡"


def test_a_marketer_edits_the_profile_but_cannot_manage_keys(client, marketer, brand):
    client.force_login(marketer)
    response = client.post(reverse("frontend:brand_edit", args=[brand.slug]), profile_post(brand, name="瑞幸"))
    assert response["Location"] == reverse("frontend:brand_detail", args=[brand.slug])
    brand.refresh_from_db()
    assert brand.name == "瑞幸"
    assert brand.audience == {"gender": {"female": 0.6, "male": 0.4}, "regions": ["CN-SH"]}
    assert AuditEvent.objects.filter(brand=brand, action="brand.updated").count() == 1
    assert client.get(reverse("frontend:api_keys", args=[brand.slug])).status_code == 404


def test_profile_editor_shows_each_fields_error_and_saves_nothing(owner_client, brand):
    owner_client.cookies.load({"django_language": "en"})
    response = owner_client.post(
        reverse("frontend:brand_edit", args=[brand.slug]),
        profile_post(brand, name="", credit_code="91310000000000000X", price_tier="9", gender_0="90"),
    )
    assert response.status_code == 200
    errors = errors_in(response)
    assert "Gender percentages must add up to 100 (they add up to 130)." in errors
    assert "Select a valid choice. 9 is not one of the available choices." in errors
    # The shared validator's messages come back per field in the same round.
    assert "Brand name (Chinese) is required." in errors
    assert "check digit is wrong" in errors
    brand.refresh_from_db()
    assert brand.name == "瑞幸咖啡"
    assert not AuditEvent.objects.exists()


def test_channel_editor_replaces_channels_and_recomputes_the_scale(owner_client, brand):
    ChannelFactory(brand=brand, size=5, active_rate=1)
    response = owner_client.post(
        reverse("frontend:brand_channels", args=[brand.slug]),
        {
            "channel_type": ["wecom", "douyin", ""],
            "channel_label": ["", "", ""],
            "channel_size": ["100000", "50000", ""],
            "channel_active_rate": ["30", "10", ""],
        },
    )
    assert response.status_code == 302
    brand.refresh_from_db()
    assert brand.active_audience == 35000
    assert sorted(brand.channels.values_list("type", flat=True)) == ["douyin", "wecom"]


def test_channel_editor_errors_keep_the_old_channels(owner_client, brand):
    ChannelFactory(brand=brand, size=5, active_rate=1)
    owner_client.cookies.load({"django_language": "en"})
    response = owner_client.post(
        reverse("frontend:brand_channels", args=[brand.slug]),
        {
            "channel_type": ["wecom", "wecom"],
            "channel_label": ["", ""],
            "channel_size": ["100", "-3"],
            "channel_active_rate": ["30", "10"],
        },
    )
    assert response.status_code == 200
    errors = errors_in(response)
    assert "Audience size (people) must be ≥ 0 (got -3)." in errors
    assert "channel WeCom contacts is listed twice" in errors
    assert list(Channel.objects.filter(brand=brand).values_list("size", flat=True)) == [5]


def test_a_rejected_brand_can_be_resubmitted_by_its_owner(owner_client, brand, admin_user):
    brand.status = BrandStatus.PENDING
    brand.save()
    services.brand_transition(actor=Actor(user=admin_user), brand=brand, action="reject", reason="执照模糊")
    page = owner_client.get(reverse("frontend:brand_detail", args=[brand.slug])).content.decode()
    assert "执照模糊" in page
    assert reverse("frontend:brand_resubmit", args=[brand.slug]) in page
    owner_client.post(reverse("frontend:brand_resubmit", args=[brand.slug]))
    brand.refresh_from_db()
    assert brand.status == BrandStatus.PENDING


def test_resubmitting_a_brand_that_is_not_rejected_shows_the_error(owner_client, brand):
    owner_client.cookies.load({"django_language": "en"})
    response = owner_client.post(reverse("frontend:brand_resubmit", args=[brand.slug]), follow=True)
    assert "“Resubmit for review” is not possible for a brand that is Approved." in errors_in(response)
    brand.refresh_from_db()
    assert brand.status == BrandStatus.APPROVED


def test_api_key_is_shown_once_then_only_its_prefix(owner_client, brand):
    response = owner_client.post(reverse("frontend:api_keys", args=[brand.slug]), {"name": "CRM", "scopes": ["read"]})
    key = ApiKey.objects.get(brand=brand)
    html = response.content.decode()
    assert f'id="new-api-key">hl_{key.prefix}_' in html
    assert response["Cache-Control"] == "no-store"
    raw = html.split('id="new-api-key">')[1].split("<")[0]
    assert services.api_key_authenticate(raw) == key
    again = owner_client.get(reverse("frontend:api_keys", args=[brand.slug])).content.decode()
    assert raw not in again and f"hl_{key.prefix}_…" in again


def test_api_key_without_name_or_scope_is_refused(owner_client, brand):
    owner_client.cookies.load({"django_language": "en"})
    response = owner_client.post(reverse("frontend:api_keys", args=[brand.slug]), {"name": " "})
    errors = errors_in(response)
    assert "Give the key a name." in errors
    assert (
        "Scopes must be one or more of: Read, Write (profile, proposals), Report events (conversions, new members, deliveries), Manage webhooks."
        in errors
    )
    assert not ApiKey.objects.exists()


def test_api_key_revoke_only_for_the_brands_own_keys(owner_client, brand, other_brand, other_owner):
    mine, _ = services.api_key_create(
        actor=Actor(user=brand.memberships.get().user), brand=brand, name="a", scopes=["read"]
    )
    theirs, _ = services.api_key_create(actor=Actor(user=other_owner), brand=other_brand, name="b", scopes=["read"])
    url = reverse("frontend:api_key_revoke", args=[brand.slug, theirs.pk])
    assert owner_client.post(url).status_code == 404
    theirs.refresh_from_db()
    assert theirs.revoked_at is None
    owner_client.post(reverse("frontend:api_key_revoke", args=[brand.slug, mine.pk]))
    mine.refresh_from_db()
    assert mine.revoked_at is not None


def test_marketplace_lists_approved_brands_with_search_and_category(client, brand, other_brand):
    BrandFactory(slug="hidden", name="待审品牌", status=BrandStatus.PENDING)
    html = client.get(reverse("frontend:marketplace")).content.decode()
    assert brand.name in html and other_brand.name in html and "待审品牌" not in html
    html = client.get(reverse("frontend:marketplace"), {"q": "luckin"}).content.decode()
    assert brand.name in html and other_brand.name not in html
    html = client.get(reverse("frontend:marketplace"), {"category": "toys"}).content.decode()
    assert other_brand.name in html and brand.name not in html


def test_marketplace_paginates(client):
    for i in range(14):
        BrandFactory(slug=f"cafe-{i:02d}", name=f"咖啡{i:02d}", category=category("beverage.coffee"))
    first = client.get(reverse("frontend:marketplace")).content.decode()
    second = client.get(reverse("frontend:marketplace"), {"page": 2}).content.decode()
    assert first.count('class="card brand-card"') == 12
    assert second.count('class="card brand-card"') == 2


def test_public_profile_shows_no_private_fields(client, brand):
    brand.legal_name = "瑞幸咖啡（中国）有限公司"
    brand.save()
    ChannelFactory(brand=brand, label="秘密社群")
    html = client.get(reverse("frontend:brand_public", args=[brand.slug])).content.decode()
    assert brand.name in html
    for private in (brand.credit_code, brand.legal_name, "秘密社群"):
        assert private not in html


def test_public_profile_of_an_unapproved_brand_is_404(client):
    pending = BrandFactory(status=BrandStatus.PENDING)
    assert client.get(reverse("frontend:brand_public", args=[pending.slug])).status_code == 404


def test_platform_admin_may_view_and_correct_any_brand_but_not_manage_its_keys(admin_client_, brand):
    assert admin_client_.get(reverse("frontend:brand_detail", args=[brand.slug])).status_code == 200
    assert admin_client_.get(reverse("frontend:brand_edit", args=[brand.slug])).status_code == 200
    assert admin_client_.get(reverse("frontend:api_keys", args=[brand.slug])).status_code == 404


def test_signed_in_user_without_brands_sees_the_invitation(client):
    client.force_login(UserFactory())
    html = client.get(reverse("frontend:dashboard")).content.decode()
    assert reverse("frontend:wizard_start") in html
    assert Brand.objects.count() == 0


def test_public_profile_never_links_a_stored_non_http_website(client, brand):
    # A value stored before the website was validated (or by a raw SQL fix) is not a link.
    Brand.objects.filter(pk=brand.pk).update(website="javascript:alert(document.cookie)")
    html = client.get(reverse("frontend:brand_public", args=[brand.slug])).content.decode()
    assert "javascript:" not in html
    Brand.objects.filter(pk=brand.pk).update(website="https://www.luckincoffee.com")
    html = client.get(reverse("frontend:brand_public", args=[brand.slug])).content.decode()
    assert 'href="https://www.luckincoffee.com"' in html


def test_profile_editor_refuses_a_javascript_website(owner_client, brand):
    owner_client.cookies.load({"django_language": "en"})
    response = owner_client.post(
        reverse("frontend:brand_edit", args=[brand.slug]), profile_post(brand, website="javascript:alert(1)")
    )
    assert response.status_code == 200
    assert "website must be a full http:// or https:// address" in errors_in(response)
    brand.refresh_from_db()
    assert not brand.website.startswith("javascript")


def test_channel_editor_keeps_the_platforms_verification_of_unchanged_channels(owner_client, brand):
    ChannelFactory(brand=brand, type="wecom", label="", size=100000, active_rate=0.3, verification="audited")
    ChannelFactory(brand=brand, type="douyin", label="", size=50000, active_rate=0.1, verification="screenshot")
    response = owner_client.post(
        reverse("frontend:brand_channels", args=[brand.slug]),
        {
            "channel_type": ["wecom", "douyin"],
            "channel_label": ["", ""],
            "channel_size": ["100000", "60000"],
            "channel_active_rate": ["30", "10"],
        },
    )
    assert response.status_code == 302
    assert dict(brand.channels.values_list("type", "verification")) == {
        "wecom": "audited",
        "douyin": "self_reported",
    }


def test_channel_editor_shows_every_error_in_one_round(owner_client, brand):
    owner_client.cookies.load({"django_language": "en"})
    response = owner_client.post(
        reverse("frontend:brand_channels", args=[brand.slug]),
        {
            "channel_type": ["wecom", "bogus"],
            "channel_label": ["", ""],
            "channel_size": ["100", "50"],
            "channel_active_rate": ["300", "10"],
        },
    )
    errors = errors_in(response)
    assert "The active rate is a percentage between 0 and 100." in errors  # the form's own number check
    assert "unknown channel type bogus" in errors  # and, in the same round, the shared validator's
