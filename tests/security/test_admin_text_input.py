"""Django admin forms refuse control, invisible and text-direction characters with a field
error — never a 500 at save time, never a reversed name shown across the product."""

import pytest

from exchange.models import ChannelRate
from partners.models import Category, CompetitionRule
from tests.factories import UserFactory, category

pytestmark = pytest.mark.django_db


def _refused(response):
    assert response.status_code == 200, response.status_code
    assert "errorlist" in response.content.decode()


def test_channel_rate_source_with_a_control_character(admin_client):
    rate = ChannelRate.objects.get(channel_type="sms", format="sms")
    _refused(
        admin_client.post(f"/admin/exchange/channelrate/{rate.pk}/change/", {"rate_cents": "6000", "source": "a\x01b"})
    )
    rate.refresh_from_db()
    assert rate.rate_cents == 5000


def test_competition_rule_note_with_a_control_character(admin_client):
    a, b = category("beverage.coffee"), category("toys.collectibles")
    _refused(
        admin_client.post(
            "/admin/partners/competitionrule/add/", {"category_a": a.pk, "category_b": b.pk, "note": "a\x01b"}
        )
    )
    assert not CompetitionRule.objects.filter(note__contains="a").exists()


def test_category_name_with_a_bidi_override_and_a_bad_code(admin_client):
    parent = category("beverage")
    _refused(
        admin_client.post(
            "/admin/partners/category/add/",
            {
                "code": "beverage.\u202ebad",
                "name_zh": "饮\u202e品",
                "name_en": "x",
                "parent": parent.pk,
                "is_leaf": "on",
            },
        )
    )
    assert not Category.objects.filter(name_en="x").exists()


def test_user_display_name_with_a_bidi_override(admin_client):
    user = UserFactory(username="someone@example.com")
    _refused(
        admin_client.post(
            f"/admin/partners/user/{user.pk}/change/",
            {"display_name": "Evil\u202ename", "language": "", "is_active": "on"},
        )
    )
    user.refresh_from_db()
    assert "\u202e" not in user.display_name
