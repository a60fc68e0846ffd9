"""The brand registration wizard: each step validates with the shared validators, shows the
errors next to the fields, and nothing is written until the final submit."""

import pytest
from django.urls import reverse

from partners.models import AuditEvent, Brand, BrandStatus, Membership, Role
from tests.factories import UserFactory, valid_credit_code
from tests.frontend.conftest import errors_in

pytestmark = pytest.mark.django_db

PROFILE = {
    "name": "潮汐咖啡",
    "name_en": "Tide Coffee",
    "slug": "tide-coffee",
    "category": "beverage.coffee",
    "legal_name": "上海潮汐餐饮管理有限公司",
    "credit_code": valid_credit_code(4242),
    "price_tier": "3",
    "stores": "42",
    "tone": "年轻, urban",
    "description": "精品咖啡",
    "website": "",
}
AUDIENCE = {"gender_0": "60", "gender_1": "40", "age_1": "50", "age_2": "50", "regions": ["CN-SH", "CN-ZJ"]}
CHANNELS = {
    "channel_type": ["wecom", "miniprogram", ""],
    "channel_label": ["门店企微", "", ""],
    "channel_size": ["120,000", "80000", ""],
    "channel_active_rate": ["35", "20", ""],
}


@pytest.fixture
def marketer_client(client):
    client.force_login(UserFactory(username="mei@example.com"))
    client.cookies.load({"django_language": "en"})
    return client


def post(client, step, data):
    return client.post(reverse(f"frontend:wizard_{step}"), data)


def test_profile_errors_are_shown_per_field_and_nothing_is_kept(marketer_client):
    bad = {**PROFILE, "name": "", "slug": "Tide Coffee", "credit_code": "91310000ABC", "category": "beverage"}
    response = post(marketer_client, "profile", bad)
    assert response.status_code == 200
    errors = errors_in(response)
    assert "Brand name (Chinese) is required." in errors
    assert "slug must be lowercase letters" in errors
    assert "must be 18 characters (got 11)" in errors
    assert "is a category group; choose one of its leaves." in errors
    assert "brand_wizard" not in marketer_client.session
    assert Brand.objects.count() == 0


def test_profile_with_a_taken_slug_is_refused(marketer_client, brand):
    response = post(marketer_client, "profile", {**PROFILE, "slug": brand.slug})
    assert "This slug is already taken." in errors_in(response)
    assert "brand_wizard" not in marketer_client.session


def test_steps_cannot_be_skipped(marketer_client):
    assert marketer_client.get(reverse("frontend:wizard_audience"))["Location"] == reverse("frontend:wizard_profile")
    assert marketer_client.get(reverse("frontend:wizard_channels"))["Location"] == reverse("frontend:wizard_profile")
    assert marketer_client.get(reverse("frontend:wizard_review"))["Location"] == reverse("frontend:wizard_start")


def test_audience_percentages_must_add_up_to_100(marketer_client):
    post(marketer_client, "profile", PROFILE)
    response = post(marketer_client, "audience", {"gender_0": "70", "gender_1": "20"})
    assert "Gender percentages must add up to 100 (they add up to 90)." in errors_in(response)
    assert "audience" not in marketer_client.session["brand_wizard"]


def test_audience_rejects_an_unknown_region_and_out_of_range_numbers(marketer_client):
    post(marketer_client, "profile", PROFILE)
    response = post(marketer_client, "audience", {"age_0": "150", "regions": ["CN-XX"]})
    errors = errors_in(response)
    assert "less than or equal to 100" in errors
    assert "CN-XX is not one of the available choices" in errors
    assert "audience" not in marketer_client.session["brand_wizard"]


def test_channel_errors_are_shown_on_their_row(marketer_client):
    post(marketer_client, "profile", PROFILE)
    post(marketer_client, "audience", AUDIENCE)
    response = post(
        marketer_client,
        "channels",
        {
            "channel_type": ["wecom", "wecom", "pigeon"],
            "channel_label": ["", "", ""],
            "channel_size": ["many", "10", "10"],
            "channel_active_rate": ["35", "130", "1"],
        },
    )
    errors = errors_in(response)
    assert "Enter a whole number of people" in errors
    assert "The active rate is a percentage between 0 and 100." in errors
    assert "channels" not in marketer_client.session["brand_wizard"]
    # Numbers fine, but a duplicate and an unknown type: the shared validator's messages.
    response = post(
        marketer_client,
        "channels",
        {
            "channel_type": ["wecom", "wecom", "pigeon"],
            "channel_label": ["", "", ""],
            "channel_size": ["1", "10", "10"],
            "channel_active_rate": ["35", "30", "1"],
        },
    )
    errors = errors_in(response)
    assert "channel WeCom contacts is listed twice" in errors
    assert "unknown channel type pigeon; one of: WeCom contacts, WeChat groups" in errors
    assert Brand.objects.count() == 0


def test_full_wizard_registers_one_pending_brand_owned_by_the_user(marketer_client):
    assert post(marketer_client, "profile", PROFILE)["Location"] == reverse("frontend:wizard_audience")
    assert post(marketer_client, "audience", AUDIENCE)["Location"] == reverse("frontend:wizard_channels")
    assert post(marketer_client, "channels", CHANNELS)["Location"] == reverse("frontend:wizard_review")
    review = marketer_client.get(reverse("frontend:wizard_review"))
    assert "58K" in review.content.decode()  # 120000×35% + 80000×20%
    assert Brand.objects.count() == 0

    response = marketer_client.post(reverse("frontend:wizard_review"))
    brand = Brand.objects.get(slug="tide-coffee")
    assert response["Location"] == reverse("frontend:brand_detail", args=["tide-coffee"])
    assert brand.status == BrandStatus.PENDING
    assert brand.active_audience == 58000
    assert brand.audience["gender"] == {"female": 0.6, "male": 0.4}
    assert brand.audience["regions"] == ["CN-SH", "CN-ZJ"]
    assert brand.tone_tags == ["young", "urban"]
    assert brand.store_count == 42
    assert sorted(brand.channels.values_list("type", flat=True)) == ["miniprogram", "wecom"]
    assert Membership.objects.get(brand=brand).role == Role.OWNER
    assert AuditEvent.objects.filter(brand=brand, action="brand.registered").count() == 1
    assert "brand_wizard" not in marketer_client.session
    # Submitting again does nothing: the wizard state is gone.
    marketer_client.post(reverse("frontend:wizard_review"))
    assert Brand.objects.count() == 1


def test_submit_refused_by_the_service_shows_the_error_and_writes_nothing(marketer_client):
    post(marketer_client, "profile", PROFILE)
    post(marketer_client, "audience", AUDIENCE)
    post(marketer_client, "channels", CHANNELS)
    from tests.factories import BrandFactory

    BrandFactory(slug="tide-coffee")  # someone else took the slug meanwhile
    response = marketer_client.post(reverse("frontend:wizard_review"))
    assert response.status_code == 200
    assert "This slug is already taken." in errors_in(response)
    assert Brand.objects.filter(slug="tide-coffee").count() == 1
    assert not Membership.objects.filter(user__username="mei@example.com").exists()


def test_discarding_the_wizard_clears_it(marketer_client):
    post(marketer_client, "profile", PROFILE)
    marketer_client.post(reverse("frontend:wizard_cancel"))
    assert "brand_wizard" not in marketer_client.session
