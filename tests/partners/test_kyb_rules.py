"""Legal identity (KYB) edits: a suspended brand stays suspended whatever its members or keys
edit (only an admin's reinstatement ends a suspension), and filling in a missing legal entity
on a brand whose credit code was reviewed is a plain edit, not a re-review."""

from __future__ import annotations

import pytest
from django.core import mail
from django.core.exceptions import ValidationError

from partners import services
from partners.actors import Actor
from partners.errors import PartnersError as E
from partners.models import ApiKeyScope, AuditAction, AuditEvent, Brand, BrandStatus
from tests.api.conftest import gid, with_key
from tests.factories import valid_credit_code

REASON = "刷量：虚报企微好友数"


@pytest.fixture
def suspended(brand, admin_actor):
    Brand.objects.filter(pk=brand.pk).update(legal_name="瑞幸咖啡（中国）有限公司")
    return services.brand_suspend(actor=admin_actor, brand=brand, reason=REASON)


def kyb_events(brand) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(brand=brand, action=AuditAction.BRAND_KYB_CHANGED))


# --- a suspended brand stays suspended ------------------------------------------------------------
@pytest.mark.parametrize("field, value", [("credit_code", valid_credit_code(9001)), ("legal_name", "另一家公司")])
def test_a_members_kyb_edit_keeps_a_suspended_brand_suspended_with_its_reason(
    suspended, owner_actor, django_capture_on_commit_callbacks, field, value
):
    suspended_at = suspended.status_changed_at
    old = getattr(suspended, field)
    with django_capture_on_commit_callbacks(execute=True):
        services.brand_update(actor=owner_actor, brand=suspended, data={field: value})
    suspended.refresh_from_db()
    assert suspended.status == BrandStatus.SUSPENDED
    assert suspended.status_reason == REASON and suspended.status_changed_at == suspended_at
    assert getattr(suspended, field) == value.upper()
    # Recorded for the reviewer who decides on the reinstatement: what changed, old → new.
    (event,) = kyb_events(suspended)
    assert event.data == {
        "from": BrandStatus.SUSPENDED,
        "to": BrandStatus.SUSPENDED,
        "changes": {field: {"from": old, "to": value.upper()}},
    }
    # No status changed, so no "your brand is now …" e-mail.
    assert mail.outbox == []


def test_after_a_kyb_edit_only_a_reinstatement_ends_the_suspension(suspended, owner_actor, admin_actor):
    services.brand_update(actor=owner_actor, brand=suspended, data={"credit_code": valid_credit_code(9002)})
    with pytest.raises(ValidationError) as exc:
        services.brand_approve(actor=admin_actor, brand=suspended)
    assert exc.value.error_dict["status"][0].code == E.INVALID_TRANSITION
    services.brand_reinstate(actor=admin_actor, brand=suspended)
    suspended.refresh_from_db()
    assert suspended.status == BrandStatus.APPROVED


def test_a_write_key_changing_the_credit_code_cannot_lift_a_suspension(suspended, owner):
    _key, raw = services.api_key_create(
        actor=Actor(user=owner), brand=suspended, name="crm", scopes=[ApiKeyScope.READ, ApiKeyScope.WRITE]
    )
    as_write_key = with_key(raw)
    mutation = """mutation($b: ID!, $input: UpdateBrandProfileInput!) {
      updateBrandProfile(brand: $b, input: $input) { brand { status statusReason creditCode } errors { code } } }"""
    code = valid_credit_code(9003)
    data = as_write_key(mutation, {"b": gid("Brand", suspended.pk), "input": {"creditCode": code}})
    assert data["updateBrandProfile"] == {
        "brand": {"status": "suspended", "statusReason": REASON, "creditCode": code},
        "errors": [],
    }
    suspended.refresh_from_db()
    assert suspended.status == BrandStatus.SUSPENDED and suspended.status_reason == REASON
    assert len(kyb_events(suspended)) == 1


def test_a_suspended_brands_other_edits_keep_it_suspended_too(suspended, owner_actor):
    services.brand_update(actor=owner_actor, brand=suspended, data={"description": "新描述", "price_tier": 2})
    suspended.refresh_from_db()
    assert suspended.status == BrandStatus.SUSPENDED and suspended.status_reason == REASON
    assert kyb_events(suspended) == []


# --- filling in a missing legal entity ------------------------------------------------------------
def test_filling_an_empty_legal_entity_of_a_reviewed_brand_is_a_plain_edit(brand, owner_actor):
    assert brand.legal_name == "" and brand.credit_code and brand.status == BrandStatus.APPROVED
    services.brand_update(actor=owner_actor, brand=brand, data={"legal_name": "瑞幸咖啡（中国）有限公司"})
    brand.refresh_from_db()
    assert brand.status == BrandStatus.APPROVED and brand.legal_name == "瑞幸咖啡（中国）有限公司"
    assert kyb_events(brand) == []
    # Still traceable: the profile update records the legal entity's old and new value.
    event = AuditEvent.objects.get(brand=brand, action=AuditAction.BRAND_UPDATED)
    assert event.data["legal_name"] == {"from": "", "to": "瑞幸咖啡（中国）有限公司"}


def test_filling_the_legal_entity_of_a_brand_without_a_credit_code_is_reviewed(brand, owner_actor):
    Brand.objects.filter(pk=brand.pk).update(credit_code="")
    services.brand_update(actor=owner_actor, brand=brand, data={"legal_name": "瑞幸咖啡（中国）有限公司"})
    brand.refresh_from_db()
    assert brand.status == BrandStatus.PENDING
    assert len(kyb_events(brand)) == 1


def test_filling_the_legal_entity_together_with_a_new_credit_code_is_reviewed(brand, owner_actor):
    code = valid_credit_code(9004)
    services.brand_update(actor=owner_actor, brand=brand, data={"legal_name": "另一家公司", "credit_code": code})
    brand.refresh_from_db()
    assert brand.status == BrandStatus.PENDING
    (event,) = kyb_events(brand)
    assert set(event.data["changes"]) == {"legal_name", "credit_code"}


def test_changing_a_legal_entity_on_file_is_still_reviewed(brand, owner_actor):
    Brand.objects.filter(pk=brand.pk).update(legal_name="瑞幸咖啡（中国）有限公司")
    services.brand_update(actor=owner_actor, brand=brand, data={"legal_name": "另一家公司"})
    brand.refresh_from_db()
    assert brand.status == BrandStatus.PENDING
    (event,) = kyb_events(brand)
    assert event.data["changes"] == {"legal_name": {"from": "瑞幸咖啡（中国）有限公司", "to": "另一家公司"}}
