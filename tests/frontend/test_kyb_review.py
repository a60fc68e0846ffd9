"""The back-to-review trap (issue 7): before a change of the legal entity or credit code
sends an approved brand back to review, the edit form says so and asks to confirm; after it,
the brand page says why the brand is in review, and the review queue shows the reviewer
what changed (old → new). And the edit form shows every error at once."""

import pytest
from django.urls import reverse

from partners import services
from partners.actors import Actor
from partners.models import AuditAction, AuditEvent, BrandStatus
from tests.factories import valid_credit_code
from tests.frontend.conftest import errors_in
from tests.frontend.test_brand_pages import profile_post

pytestmark = pytest.mark.django_db

NEW_CODE = valid_credit_code(777)


@pytest.fixture
def english(owner_client):
    owner_client.cookies.load({"django_language": "en"})
    return owner_client


def edit(client, brand, **changes):
    return client.post(reverse("frontend:brand_edit", args=[brand.slug]), profile_post(brand, **changes))


def test_edit_form_shows_every_error_in_one_round(english, brand):
    response = edit(english, brand, stores="many", credit_code="91310000000000000X", website="ftp://x.example")
    errors = errors_in(response)
    assert "Enter a whole number." in errors  # the form's own check (stores)
    assert "check digit is wrong" in errors  # the shared validator's, in the same round
    assert "website must be a full http:// or https:// address" in errors
    brand.refresh_from_db()
    assert brand.store_count == 0 and not AuditEvent.objects.exists()


def test_a_field_the_form_refused_gets_no_second_error_from_the_validator(english, brand):
    errors = errors_in(edit(english, brand, name="x" * 121))
    assert "at most 120 characters" in errors
    assert "is required" not in errors


def test_changing_the_credit_code_of_an_approved_brand_asks_to_confirm_first(english, brand):
    response = edit(english, brand, credit_code=NEW_CODE, legal_name="上海瑞幸咖啡有限公司")
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="kyb-confirm"' in html
    assert "Saving this change sends your brand back to review" in html
    assert f"{brand.credit_code}</del> → <ins>{NEW_CODE}" in html
    assert 'name="confirm_review" value="1"' in html
    # The form keeps what was typed, and nothing is saved yet.
    assert f'value="{NEW_CODE}"' in html
    brand.refresh_from_db()
    assert brand.status == BrandStatus.APPROVED and brand.credit_code != NEW_CODE
    assert not AuditEvent.objects.exists()


def test_confirming_saves_and_the_brand_page_says_why_it_is_in_review(english, brand):
    old = brand.credit_code
    response = english.post(
        reverse("frontend:brand_edit", args=[brand.slug]),
        {**profile_post(brand, credit_code=NEW_CODE), "confirm_review": "1"},
        follow=True,
    )
    brand.refresh_from_db()
    assert brand.status == BrandStatus.PENDING and brand.credit_code == NEW_CODE
    html = response.content.decode()
    assert 'class="flash flash-warning">The brand profile was saved. Because its legal entity' in html  # says why
    assert 'id="review-reason"' in html
    assert "Your brand is back in review because its legal identity changed." in html
    assert f"{old}</del> → <ins>{NEW_CODE}" in html
    assert AuditEvent.objects.filter(brand=brand, action=AuditAction.BRAND_KYB_CHANGED).count() == 1


def test_an_ordinary_edit_of_an_approved_brand_saves_without_asking(english, brand):
    response = edit(english, brand, name="瑞幸")
    assert response.status_code == 302
    brand.refresh_from_db()
    assert brand.name == "瑞幸" and brand.status == BrandStatus.APPROVED


def test_a_pending_brand_changes_its_credit_code_without_a_confirmation(english, brand):
    brand.status = BrandStatus.PENDING
    brand.save()
    assert edit(english, brand, credit_code=NEW_CODE).status_code == 302
    brand.refresh_from_db()
    assert brand.credit_code == NEW_CODE


def test_review_queue_shows_the_reviewer_what_changed(admin_client_, brand, owner):
    old_code, old_name = brand.credit_code, brand.legal_name
    services.brand_update(
        actor=Actor(user=owner), brand=brand, data={"credit_code": NEW_CODE, "legal_name": "上海瑞幸咖啡有限公司"}
    )
    admin_client_.cookies.load({"django_language": "en"})
    html = admin_client_.get(reverse("frontend:queue")).content.decode()
    assert "data-kyb-changes" in html
    assert "Changed since the last review" in html
    assert f"{old_code}</del> → <ins>{NEW_CODE}" in html
    assert f"{old_name or '—'}</del> → <ins>上海瑞幸咖啡有限公司" in html


def test_an_approval_clears_the_changes_shown_in_the_queue(admin_client_, admin_user, brand, owner):
    services.brand_update(actor=Actor(user=owner), brand=brand, data={"credit_code": NEW_CODE})
    services.brand_approve(actor=Actor(user=admin_user), brand=brand)
    html = admin_client_.get(reverse("frontend:queue"), {"status": "approved"}).content.decode()
    assert "data-kyb-changes" not in html
