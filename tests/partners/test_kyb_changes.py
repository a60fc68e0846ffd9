"""The re-review rule as a pure function (the web form asks to confirm with it) and the
reviewer's view of what changed since the last decision."""

import pytest

from partners import selectors, services
from partners.models import AuditAction, BrandStatus
from tests.factories import valid_credit_code

pytestmark = pytest.mark.django_db

NEW_CODE = valid_credit_code(901)


def test_needs_review_names_the_changed_legal_fields_of_an_approved_brand(brand, owner_actor):
    fields = services.brand_update_clean(brand=brand, data={"credit_code": NEW_CODE, "name": "瑞幸"})
    assert services.brand_update_needs_review(actor=owner_actor, brand=brand, fields=fields) == ["credit_code"]
    # pure: nothing was written
    brand.refresh_from_db()
    assert brand.credit_code != NEW_CODE and brand.status == BrandStatus.APPROVED


def test_needs_review_is_empty_for_ordinary_edits_admins_and_brands_in_review(brand, owner_actor, admin_actor):
    ordinary = services.brand_update_clean(brand=brand, data={"name": "瑞幸"})
    assert services.brand_update_needs_review(actor=owner_actor, brand=brand, fields=ordinary) == []
    kyb = services.brand_update_clean(brand=brand, data={"credit_code": NEW_CODE})
    assert services.brand_update_needs_review(actor=admin_actor, brand=brand, fields=kyb) == []
    brand.status = BrandStatus.PENDING
    assert services.brand_update_needs_review(actor=owner_actor, brand=brand, fields=kyb) == []


def test_brand_update_follows_the_same_rule(brand, owner_actor):
    services.brand_update(actor=owner_actor, brand=brand, data={"credit_code": NEW_CODE})
    brand.refresh_from_db()
    assert brand.status == BrandStatus.PENDING


def test_changes_since_the_last_decision_keep_the_first_old_and_the_last_new_value(brand, owner_actor, admin_actor):
    # A legal entity on file (filling an empty one is a plain edit, not a re-review).
    type(brand).objects.filter(pk=brand.pk).update(legal_name="原公司")
    brand.refresh_from_db()
    first = brand.credit_code
    services.brand_update(actor=owner_actor, brand=brand, data={"credit_code": NEW_CODE})
    services.brand_approve(actor=admin_actor, brand=brand)
    services.brand_update(actor=owner_actor, brand=brand, data={"legal_name": "甲公司"})
    services.brand_approve(actor=admin_actor, brand=brand)
    services.brand_update(actor=owner_actor, brand=brand, data={"legal_name": "乙公司"})
    assert selectors.kyb_changes_unreviewed(actor=admin_actor, brand_ids=[brand.pk]) == {
        brand.pk: [("legal_name", "甲公司", "乙公司")]
    }
    assert first != NEW_CODE


def test_a_field_changed_and_changed_back_before_a_review_is_not_shown(brand, owner_actor, admin_actor):
    # Two KYB events without a decision between them (a suspended brand may collect several).
    for old, new in (("A", "B"), ("B", "A")):
        services.audit(
            actor=owner_actor,
            action=AuditAction.BRAND_KYB_CHANGED,
            obj=brand,
            brand=brand,
            data={"changes": {"legal_name": {"from": old, "to": new}, "credit_code": {"from": old, "to": old + new}}},
        )
    assert selectors.kyb_changes_unreviewed(actor=admin_actor, brand_ids=[brand.pk]) == {
        brand.pk: [("credit_code", "A", "BA")]
    }


def test_another_brands_members_see_no_changes(brand, owner_actor, other_actor):
    services.brand_update(actor=owner_actor, brand=brand, data={"credit_code": NEW_CODE})
    assert selectors.kyb_changes_unreviewed(actor=other_actor, brand_ids=[brand.pk]) == {}
    assert brand.pk in selectors.kyb_changes_unreviewed(actor=owner_actor, brand_ids=[brand.pk])
