"""A credit code already used by another brand: accepted from the registrant without a word
(that would tell them which brand holds it), and flagged to the reviewer in the review queue
and the Django admin, naming the other brands."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from partners.models import Brand, BrandStatus
from tests.api.conftest import session
from tests.factories import BrandFactory, UserFactory, valid_credit_code

pytestmark = pytest.mark.django_db

REGISTER = """mutation($input: RegisterBrandInput!) { registerBrand(input: $input) {
  brand { slug status creditCode } errors { field code message } } }"""


@pytest.fixture
def copier():
    return UserFactory(username="copier@example.com")


@pytest.fixture
def copy(brand, copier):
    """A second registration of the real brand: same name, same credit code."""
    data = session(copier).raw(
        REGISTER,
        {
            "input": {
                "slug": "luckin-coffee-2",
                "name": brand.name,
                "category": "beverage.coffee",
                "creditCode": brand.credit_code,
                "channels": [{"type": "wecom", "size": 1000, "activeRate": 0.5}],
            }
        },
    )
    assert data.status_code == 200
    return data


@pytest.fixture
def staff(admin_user) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(admin_user)
    return client


def test_the_registrant_is_told_nothing_about_the_other_brand(copy, brand, copier):
    body = copy.content.decode()
    assert copy.json()["data"]["registerBrand"] == {
        "brand": {"slug": "luckin-coffee-2", "status": "pending", "creditCode": brand.credit_code},
        "errors": [],
    }
    assert brand.slug + '"' not in body and "Luckin Coffee" not in body
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(copier)
    page = client.get(reverse("frontend:brand_detail", args=["luckin-coffee-2"])).content.decode()
    assert "Luckin Coffee" not in page and f"/{brand.slug}/" not in page
    assert "also used by" not in page.lower()


def test_the_review_queue_flags_a_shared_credit_code_naming_the_other_brand(copy, brand, staff):
    unique = BrandFactory(slug="tide-coffee", name="潮汐咖啡", status=BrandStatus.PENDING)
    html = staff.get(reverse("frontend:queue")).content.decode()
    row = html.split('data-brand="luckin-coffee-2"', 1)[1].split("</article>", 1)[0]
    assert "Credit code also used by" in row
    assert reverse("frontend:brand_detail", args=[brand.slug]) in row and brand.name in row
    row = html.split(f'data-brand="{unique.slug}"', 1)[1].split("</article>", 1)[0]
    assert "Credit code also used by" not in row


def test_the_review_queue_flags_both_sides_and_counts_queries_per_page_not_per_row(
    staff, django_assert_max_num_queries
):
    code = valid_credit_code(5150)
    for n in range(6):
        BrandFactory(slug=f"twin-{n}", credit_code=code, status=BrandStatus.PENDING)
    with django_assert_max_num_queries(12):
        html = staff.get(reverse("frontend:queue")).content.decode()
    assert html.count("Credit code also used by") == 6


def test_the_django_admin_flags_it_in_the_list_and_on_the_brand(copy, brand, staff):
    copy_brand = Brand.objects.get(slug="luckin-coffee-2")
    listing = staff.get("/admin/partners/brand/").content.decode()
    assert "Credit code shared" in listing
    filtered = staff.get("/admin/partners/brand/", {"credit_code_shared": "yes"}).content.decode()
    assert "luckin-coffee-2" in filtered and "pop-mart" not in filtered
    page = staff.get(f"/admin/partners/brand/{copy_brand.pk}/change/").content.decode()
    assert "Credit code also used by" in page
    assert f"/admin/partners/brand/{brand.pk}/change/" in page
