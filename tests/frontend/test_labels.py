"""Pages show labels, never codes: field names, channel types, key scopes, matcher features,
status words and transition names reach people through labels and i18n (issue 7).

The API, the import and the commands' machine output keep the codes (documented formats)."""

import re

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from matching.models import MatcherModel
from partners import services
from partners.actors import Actor
from partners.models import ApiKeyScope, BrandStatus
from tests.factories import BrandFactory, UserFactory
from tests.frontend.conftest import errors_in
from tests.frontend.test_wizard import PROFILE

pytestmark = pytest.mark.django_db


@pytest.fixture
def english(client):
    client.cookies.load({"django_language": "en"})
    return client


def test_wizard_names_a_missing_field_by_its_label_not_its_code(english):
    english.force_login(UserFactory())
    response = english.post(reverse("frontend:wizard_profile"), {**PROFILE, "name": ""})
    errors = errors_in(response)
    assert "Brand name (Chinese) is required." in errors
    assert "name is required" not in errors


def test_wizard_names_a_missing_field_by_its_label_in_chinese(client):
    client.force_login(UserFactory())
    response = client.post(reverse("frontend:wizard_profile"), {**PROFILE, "name": ""})
    errors = errors_in(response)
    assert "品牌名称（中文） 为必填项。" in errors
    assert "name 为必填项" not in errors


def test_channel_errors_name_the_channel_type_by_its_label(owner_client, brand):
    owner_client.cookies.load({"django_language": "en"})
    response = owner_client.post(
        reverse("frontend:brand_channels", args=[brand.slug]),
        {
            "channel_type": ["wecom", "wecom", ""],
            "channel_label": ["", "", ""],
            "channel_size": ["10", "-3", "5"],
            "channel_active_rate": ["30", "10", "5"],
        },
    )
    errors = errors_in(response)
    assert "WeCom contacts is listed twice" in errors
    assert "Audience size (people) must be ≥ 0 (got -3)." in errors
    assert "Choose a channel type." in errors
    assert not re.search(r"\bwecom\b|\bsize must\b|\(empty\)", errors)


def test_a_forged_channel_type_is_refused_with_the_labels_of_the_real_ones(owner_client, brand):
    owner_client.cookies.load({"django_language": "en"})
    response = owner_client.post(
        reverse("frontend:brand_channels", args=[brand.slug]),
        {"channel_type": ["pigeon"], "channel_label": [""], "channel_size": ["1"], "channel_active_rate": ["1"]},
    )
    errors = errors_in(response)
    assert "WeCom contacts" in errors and "wechat_group" not in errors


def test_api_key_scopes_are_shown_by_their_labels(owner_client, brand, owner):
    services.api_key_create(actor=Actor(user=owner), brand=brand, name="CRM", scopes=["read", "write"])
    html = owner_client.get(reverse("frontend:api_keys", args=[brand.slug])).content.decode()
    assert "读取、写入" in html and "read, write" not in html


def test_an_api_key_without_scopes_is_refused_with_their_labels(owner_client, brand):
    owner_client.cookies.load({"django_language": "en"})
    response = owner_client.post(reverse("frontend:api_keys", args=[brand.slug]), {"name": "CRM"})
    errors = errors_in(response)
    assert "Read, Write" in errors and "read, write" not in errors


def test_matcher_page_names_the_features_people_read(admin_client_):
    admin_client_.cookies.load({"django_language": "en"})
    MatcherModel.objects.create(
        version=1, is_active=True, features=["scale_fit", "category_rate", "heuristic"], metrics={}, artefact=b""
    )
    html = admin_client_.get(reverse("frontend:matcher")).content.decode()
    assert "Scale fit" in html and "Past swap success rate of the category pair" in html
    assert "scale_fit" not in html and "category_rate" not in html


def test_a_refused_transition_names_the_action_by_its_label(admin_client_):
    admin_client_.cookies.load({"django_language": "en"})
    brand = BrandFactory(status=BrandStatus.APPROVED)
    response = admin_client_.post(reverse("frontend:queue_transition", args=[brand.pk, "approve"]), follow=True)
    errors = errors_in(response)
    assert "“Approve” is not possible for a brand that is Approved." in errors


def test_recommend_names_a_brands_status_by_its_label():
    BrandFactory(slug="pending-a", status=BrandStatus.PENDING)
    with pytest.raises(CommandError) as exc:
        call_command("recommend", "pending-a")
    assert "Pending review" in str(exc.value) and "(pending)" not in str(exc.value)


def test_scope_labels_are_translated():
    from django.utils import translation

    with translation.override("en"):
        english = [str(label) for label in ApiKeyScope.labels]
    with translation.override("zh-hans"):
        chinese = [str(label) for label in ApiKeyScope.labels]
    assert english[:2] == ["Read", "Write (profile, proposals)"]
    assert all(zh != en for zh, en in zip(chinese, english, strict=True)), chinese


def test_an_error_names_the_field_as_its_own_form_labels_it(client, brand, owner):
    client.force_login(owner)
    response = client.post(f"/dashboard/brands/{brand.slug}/keys/", {"name": "CRM\x01", "scopes": ["read"]})
    html = response.content.decode()
    assert "Brand name (Chinese)" not in html and "品牌名称" not in html
