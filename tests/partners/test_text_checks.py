"""Services that take text not covered through the API tests: the e-mail of a new team member
and of a sign-up. A NUL (which PostgreSQL cannot hold) or an unpaired surrogate is a field
error, never a database error; nothing is written."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from partners.actors import Actor
from partners.models import CompetitionRule, Membership, Role, User
from partners.services import competition_rule_create, membership_add, user_signup

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("email", ["a\x00@example.com", "\ud800@example.com", "a\x07@example.com"])
def test_adding_a_member_by_an_email_with_control_characters_is_a_field_error(owner, brand, email):
    before = Membership.objects.count()
    with pytest.raises(ValidationError) as exc:
        membership_add(actor=Actor(user=owner), brand=brand, email=email, role=Role.VIEWER)
    assert exc.value.error_dict["email"][0].code == "invalid"
    assert Membership.objects.count() == before


@pytest.mark.parametrize("email", ["a\x00@example.com", "\ud800@example.com", "x" * 150 + "@example.com"])
def test_signing_up_with_a_bad_email_is_a_field_error(email):
    with pytest.raises(ValidationError) as exc:
        user_signup(email=email, password="Tide-Pool-Lantern-42")
    assert exc.value.error_dict["email"][0].code == "invalid"
    assert not User.objects.exists()


@pytest.mark.parametrize("name", ["Mei\u202e", "Mei\nLi", "\u200b", "名" * 81])
def test_signing_up_with_a_bad_display_name_is_a_field_error(name):
    with pytest.raises(ValidationError) as exc:
        user_signup(email="mei@example.com", password="Tide-Pool-Lantern-42", display_name=name)
    assert "display_name" in exc.value.error_dict
    assert not User.objects.exists()


@pytest.mark.parametrize(
    "args, field",
    [
        ({"category_a": "beverage.coffee\x00", "category_b": "food.bakery"}, "category_a"),
        ({"category_a": "beverage.coffee", "category_b": "food.bakery", "note": "a\x00"}, "note"),
        ({"category_a": "beverage.coffee", "category_b": "food.bakery", "note": "n" * 201}, "note"),
    ],
)
def test_a_competition_rule_with_bad_text_is_a_field_error(admin_actor, args, field):
    with pytest.raises(ValidationError) as exc:
        competition_rule_create(actor=admin_actor, **args)
    assert field in exc.value.error_dict
    assert not CompetitionRule.objects.exists()
